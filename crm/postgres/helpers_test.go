package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/jackc/pgx/v5"
)

// testURL is the database the tests use: PARLEY_TEST_POSTGRES, or the
// machine's own (trust auth on 127.0.0.1, database test).
func testURL() string {
	if u := os.Getenv("PARLEY_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://root@127.0.0.1:5432/test?sslmode=disable"
}

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
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testURL())
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s: %v (CI needs it: .ci/run starts it)", testURL(), err)
		}
		t.Skipf("no PostgreSQL at %s (set PARLEY_TEST_POSTGRES): %v", testURL(), err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "create schema "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), testURL())
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "drop schema "+schema+" cascade"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(testURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	if opts == nil {
		opts = &Options{}
	}
	if opts.BcryptCost == 0 {
		opts.BcryptCost = bcrypt.MinCost
	}
	db, err := Open(ctx, u.String(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, u.String()
}
