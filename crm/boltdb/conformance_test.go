package boltdb_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/crm/crmtest"
)

// TestConformance runs the crm.Store conformance suite, and checks the
// file's invariants after each of its tests (but the one that closes the
// store itself).
func TestConformance(t *testing.T) {
	crmtest.Run(t, func(t *testing.T) crm.Store {
		db, err := boltdb.Open(filepath.Join(t.TempDir(), "t.db"), &boltdb.Options{BcryptCost: bcrypt.MinCost})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := db.Check(context.Background()); err != nil && !errors.Is(err, crm.ErrClosed) {
				t.Errorf("store inconsistent at the end of the test: %v", err)
			}
			if err := db.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
		return db
	})
}
