package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/internal/atomicfile"
)

// storeFile is the name of the store inside the data folder.
const storeFile = "parley.db"

// dataDirFlag adds --data-dir (default $PARLEY_DATA_DIR, else ./data) to fs.
func dataDirFlag(fs *flag.FlagSet) *string {
	return fs.String("data-dir", envOr("PARLEY_DATA_DIR", "data"), "folder of the store `DIR` (env PARLEY_DATA_DIR)")
}

// openExistingStore opens DIR/parley.db for an offline tool; it refuses to
// create a store, and explains what to do when a server holds the file.
func openExistingStore(dir, task string) (*boltdb.DB, error) {
	path := filepath.Join(dir, storeFile)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no store at %s (set --data-dir or PARLEY_DATA_DIR)", path)
		}
		return nil, err
	}
	db, err := boltdb.Open(path, nil)
	if errors.Is(err, crm.ErrInUse) {
		return nil, fmt.Errorf("%w\n(a running \"bot serve\"?) bbolt allows one process per file, so %s must go through that server while it runs, or wait until it is stopped", err, task)
	}
	return db, err
}

func runBackup(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("backup", "--out FILE [--data-dir DIR]",
		"Write a consistent copy of the store (DIR/parley.db) to FILE, then check the copy.\n"+
			"The copy is a complete store: start from it with --data-dir pointing at a folder\n"+
			"holding it as parley.db. While \"bot serve\" holds the store, take the backup\n"+
			"through the running server instead (one process per store file).")
	dir := dataDirFlag(fs)
	out := fs.String("out", "", "write the copy to `FILE` (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fmt.Fprintln(fs.Output(), "--out is required")
		fs.Usage()
		return errUsage
	}
	src, err1 := filepath.Abs(filepath.Join(*dir, storeFile))
	dst, err2 := filepath.Abs(*out)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if src == dst {
		return fmt.Errorf("--out %s is the store itself", *out)
	}
	db, err := openExistingStore(*dir, "the online backup")
	if err != nil {
		return err
	}
	defer db.Close()
	var n int64
	err = atomicfile.Write(*out, func(w io.Writer) error {
		var err error
		n, err = db.Backup(ctx, w)
		return err
	})
	if err != nil {
		return fmt.Errorf("backup to %s: %w", *out, err)
	}
	cp, err := boltdb.Open(*out, nil)
	if err != nil {
		return fmt.Errorf("verify %s: %w", *out, err)
	}
	err = cp.Check(ctx)
	if cerr := cp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("verify %s: %w", *out, err)
	}
	st, err := db.Stats(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "wrote %d bytes to %s and checked it: %d customers, %d conversations, %d messages\n",
		n, *out, st.Customers, st.Conversations, st.Messages)
	return nil
}
