package postgres

import (
	"context"
	"testing"

	"github.com/parleyhq/parley/internal/servicetest"
	"golang.org/x/crypto/bcrypt"
)

// openTest opens a store on a schema of its own, dropped when the test
// ends. Without a database it skips, or fails under CI=true.
func openTest(t testing.TB, opts *Options) *DB {
	t.Helper()
	db, _ := openTestURL(t, opts)
	return db
}

// openTestURL is openTest that also returns the URL of the store's schema,
// for a second store on the same data (another node).
func openTestURL(t testing.TB, opts *Options) (*DB, string) {
	t.Helper()
	u := servicetest.Postgres(t)
	if opts == nil {
		opts = &Options{}
	}
	if opts.BcryptCost == 0 {
		opts.BcryptCost = bcrypt.MinCost
	}
	db, err := Open(context.Background(), u, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, u
}
