package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/internal/shoptest"
)

// demoDataDir returns a data directory holding a store with the demo shop,
// and the bytes the store has in use.
func demoDataDir(t *testing.T) (string, int64) {
	t.Helper()
	dir := t.TempDir()
	db, err := boltdb.Open(filepath.Join(dir, storeFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = shop.EnsureSeeded(context.Background(), db, time.Now())
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := boltdb.CheckFile(context.Background(), filepath.Join(dir, storeFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	return dir, rep.DataSize
}

// damages are the ways the issue found a store broken.
var damages = []struct {
	name   string
	damage func(t *testing.T, path string, data int64)
}{
	{"empty file", func(t *testing.T, path string, _ int64) {
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
	}},
	{"truncated to half its data", func(t *testing.T, path string, data int64) {
		if err := os.Truncate(path, data/2); err != nil {
			t.Fatal(err)
		}
	}},
	{"garbage in the middle", func(t *testing.T, path string, data int64) {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		junk := bytes.Repeat([]byte("garbage!"), int(data/5/8))
		if _, err := f.WriteAt(junk, data*2/5); err != nil {
			t.Fatal(err)
		}
	}},
}

func sum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestServeRefusesDamagedStore: "bot serve" on a damaged store exits 1 with
// a message that says what to do, instead of serving it (or seeding an
// empty file), and leaves the file as it was. "bot check" lists the faults.
func TestServeRefusesDamagedStore(t *testing.T) {
	model := shoptest.ModelDir(t)
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			dir, data := demoDataDir(t)
			path := filepath.Join(dir, storeFile)
			d.damage(t, path, data)
			before := sum(t, path)

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var out, errOut syncBuffer
			code := NewMain(&out, &errOut).Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--model", model})
			if code != 1 || strings.Contains(out.String(), "Parley is serving") {
				t.Fatalf("serve exit %d: %s\n%s", code, out.String(), errOut.String())
			}
			for _, want := range []string{path + " is damaged", "restore it from a backup", "move it away", "bot check --data-dir " + dir} {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("serve's error does not say %q:\n%s", want, errOut.String())
				}
			}
			if strings.Contains(errOut.String(), "loaded the demo shop") {
				t.Error("serve seeded the damaged store")
			}
			if sum(t, path) != before {
				t.Error("serve changed the damaged file")
			}

			code, stdout, stderr := run(t, "", "check", "--data-dir", dir)
			if code != 1 || !strings.Contains(stdout, "fault") || !strings.Contains(stderr, "restore it from a backup") {
				t.Errorf("check exit %d:\n%s\n%s", code, stdout, stderr)
			}
			if sum(t, path) != before {
				t.Error("check changed the damaged file")
			}
		})
	}
}

func TestCheckCommand(t *testing.T) {
	dir, _ := demoDataDir(t)
	code, out, errOut := run(t, "", "check", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("check exit %d: %s %s", code, out, errOut)
	}
	for _, want := range []string{"meta pages  both valid", "32 customers", "No fault found."} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}

	db, err := boltdb.Open(filepath.Join(dir, storeFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut = run(t, "", "check", "--data-dir", dir)
	db.Close()
	if code != 1 || !strings.Contains(errOut, "no server answers on") {
		t.Errorf("check of a store another process holds: exit %d, %s", code, errOut)
	}

	if code, _, errOut := run(t, "", "check", "--data-dir", t.TempDir()); code != 1 || !strings.Contains(errOut, "no store at") {
		t.Errorf("check without a store: exit %d, %s", code, errOut)
	}
}

// TestCheckWhileServing: with "bot serve" holding the store, bot check
// checks a copy taken through the server's admin socket, and leaves no
// copy behind.
func TestCheckWhileServing(t *testing.T) {
	dir, _ := demoDataDir(t)
	startServe(t, "--data-dir", dir, "--model", shoptest.ModelDir(t))
	code, out, errOut := run(t, "", "check", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("check exit %d: %s %s", code, out, errOut)
	}
	for _, want := range []string{"a running server holds the store", "store " + filepath.Join(dir, storeFile), "32 customers", "No fault found."} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".check-*")); len(left) > 0 {
		t.Errorf("copies left behind: %v", left)
	}
}

// TestSeedOnlyNewStore: the demo shop is loaded when the store is created,
// and never again: a store whose customers were all erased stays without
// them after a restart (they all came back before).
func TestSeedOnlyNewStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	model := shoptest.ModelDir(t)
	code, _, errOut := run(t, "", "chat", "--data-dir", dir, "--model", model)
	if code != 0 || !strings.Contains(errOut, "loaded the demo shop (32 customers") {
		t.Fatalf("first chat: exit %d, %s", code, errOut)
	}

	db, err := boltdb.Open(filepath.Join(dir, storeFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := db.CustomerIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := db.EraseCustomer(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	code, _, errOut = run(t, "", "chat", "--data-dir", dir, "--model", model)
	if code != 0 || strings.Contains(errOut, "loaded the demo shop") {
		t.Fatalf("chat after the erasure: exit %d, %s", code, errOut)
	}
	if st := stats(t, dir); st.Customers != 0 || st.Orders != 0 {
		t.Errorf("after erasing every customer and a restart: %d customers, %d orders", st.Customers, st.Orders)
	}
}
