package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm/boltdb"
)

func TestBackup(t *testing.T) {
	dir, id := seedStore(t)
	out := filepath.Join(t.TempDir(), "copy.db")
	code, stdout, stderr := run(t, "", "backup", "--data-dir", dir, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "and checked it: 2 customers, 1 conversations, 2 messages") {
		t.Errorf("stdout %q", stdout)
	}
	cp, err := boltdb.Open(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if c, err := cp.Customer(context.Background(), id); err != nil || c.Email != "ada@example.com" {
		t.Fatalf("copy lacks the customer: %v", err)
	}

	for _, tt := range []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no --out", []string{"backup", "--data-dir", dir}, 2, "--out is required"},
		{"onto the store", []string{"backup", "--data-dir", dir, "--out", filepath.Join(dir, "parley.db")}, 1, "is the store itself"},
		{"no store", []string{"backup", "--data-dir", t.TempDir(), "--out", out}, 1, "no store at"},
		{"stray argument", []string{"backup", "--data-dir", dir, "--out", out, "now"}, 2, "unexpected argument"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, "", tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tt.wantCode, stderr, tt.wantErr)
			}
		})
	}
}

// TestBackupStoreInUse holds the store the way a process without an admin
// socket does ("bot chat", or an older "bot serve"): the backup command says
// what to do, and leaves nothing behind.
func TestBackupStoreInUse(t *testing.T) {
	dir, _ := seedStore(t)
	held, err := boltdb.Open(filepath.Join(dir, storeFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	out := filepath.Join(t.TempDir(), "copy.db")
	code, _, stderr := run(t, "", "backup", "--data-dir", dir, "--out", out)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{"is in use by another process", "no server answers on " + filepath.Join(dir, adminSocket),
		"one process per file", "Stop it", "run this command again"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not say %q", stderr, want)
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "*")); len(matches) != 0 {
		t.Errorf("left files behind: %v", matches)
	}
}
