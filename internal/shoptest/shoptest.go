// Package shoptest gives tests of other packages the demo shop's trained NLU
// model, its intents, its dialog domain and a seeded store. Training takes seconds (much
// longer under -race), so it happens once per test binary and every test
// shares the read-only model.
package shoptest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/nlp"
	"github.com/parleyhq/parley/nlp/dataset"
)

var trained = sync.OnceValues(func() (*nlp.Model, error) {
	ds, err := dataset.Parse("shop/nlu.yml", shop.NLU(), dataset.FormatParley)
	if err != nil {
		return nil, err
	}
	return nlp.Train(context.Background(), ds, nlp.TrainOptions{Seed: 1, Typos: shop.Typos})
})

// Model returns the demo shop's model, trained with seed 1 on first use.
func Model(tb testing.TB) *nlp.Model {
	tb.Helper()
	m, err := trained()
	if err != nil {
		tb.Fatalf("train the shop model: %v", err)
	}
	return m
}

var saved = sync.OnceValues(func() (string, error) {
	m, err := trained()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "parley-shop-model-")
	if err != nil {
		return "", err
	}
	return dir, m.Save(dir)
})

// ModelDir returns a directory holding the saved shop model, written once per
// test binary. Tests must not change it; it is left in the system's temporary
// directory (a few MB) because no test can know it is the last user.
func ModelDir(tb testing.TB) string {
	tb.Helper()
	dir, err := saved()
	if err != nil {
		tb.Fatalf("save the shop model: %v", err)
	}
	return dir
}

var labels = sync.OnceValues(func() ([]string, error) {
	ds, err := dataset.Parse("shop/nlu.yml", shop.NLU(), dataset.FormatParley)
	if err != nil {
		return nil, err
	}
	return ds.Intents(), nil
})

// Labels returns the intents of the demo shop's NLU data (what its model
// knows), without training a model.
func Labels(tb testing.TB) []string {
	tb.Helper()
	l, err := labels()
	if err != nil {
		tb.Fatalf("read the shop's NLU data: %v", err)
	}
	return l
}

// Domain returns the demo shop's dialog domain, checked against Labels.
func Domain(tb testing.TB) *dialog.Domain {
	tb.Helper()
	d, err := dialog.ParseDomain("shop/domain.yml", shop.Domain(), Labels(tb))
	if err != nil {
		tb.Fatalf("parse the shop's domain: %v", err)
	}
	return d
}

// Store returns a store in tb.TempDir(), closed when the test ends, whose
// clock stands at now, seeded with the demo shop's customers, orders and
// history relative to now.
func Store(tb testing.TB, now time.Time) *boltdb.DB {
	tb.Helper()
	db, err := boltdb.Open(filepath.Join(tb.TempDir(), "parley.db"), &boltdb.Options{Now: func() time.Time { return now }})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := shop.EnsureSeeded(context.Background(), db, now); err != nil {
		tb.Fatal(err)
	}
	return db
}
