package boltdb

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
)

// clock is a test clock that moves one millisecond on every reading, so
// records written one after the other have distinct, ordered times.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// openTest opens a store in a temporary folder and, when the test ends,
// checks it and closes it.
func openTest(t testing.TB) *DB {
	t.Helper()
	return openTestAt(t, filepath.Join(t.TempDir(), "parley.db"), nil)
}

func openTestAt(t testing.TB, path string, opts *Options) *DB {
	t.Helper()
	if opts == nil {
		opts = &Options{Now: newClock().Now}
	}
	if opts.BcryptCost == 0 {
		opts.BcryptCost = minBcryptCost
	}
	db, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Check(context.Background()); err != nil {
			t.Errorf("store inconsistent at the end of the test: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// mustMessage is must for AppendMessage, whose created flag it drops.
func mustMessage(t testing.TB) func(m crm.Message, created bool, err error) crm.Message {
	return func(m crm.Message, _ bool, err error) crm.Message {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
}
