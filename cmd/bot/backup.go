package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/internal/admin"
	"github.com/parleyhq/parley/internal/atomicfile"
)

// storeFile is the name of the store inside the data folder.
const storeFile = "parley.db"

// dataDirFlag adds --data-dir (default $PARLEY_DATA_DIR, else ./data) to fs.
func dataDirFlag(fs *flag.FlagSet) *string {
	return fs.String("data-dir", envOr("PARLEY_DATA_DIR", "data"), "folder of the store `DIR` (env PARLEY_DATA_DIR)")
}

func runBackup(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("backup", "--out FILE [--data-dir DIR]",
		"Write a consistent copy of the store (DIR/parley.db) to FILE, then check the copy.\n"+
			"The copy is a complete store: start from it with --data-dir pointing at a folder\n"+
			"holding it as parley.db. While \"bot serve\" holds the store, the copy is taken\n"+
			"through the server's admin socket (DIR/admin.sock), with the same result.")
	dir := dataDirFlag(fs)
	out := fs.String("out", "", "write the copy to `FILE` (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "out", *out); err != nil {
		return err
	}
	src, err1 := filepath.Abs(filepath.Join(*dir, storeFile))
	dst, err2 := filepath.Abs(*out)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if src == dst {
		return fmt.Errorf("--out %s is the store itself", *out)
	}
	store, err := openStoreOrServer(ctx, *dir)
	if err != nil {
		return err
	}
	defer store.Close()
	var n int64
	err = atomicfile.Write(*out, func(w io.Writer) error {
		var err error
		n, err = store.backup(ctx, w)
		return err
	})
	if err != nil {
		return fmt.Errorf("backup to %s: %w", *out, err)
	}
	st, err := checkBackup(ctx, *out)
	if err != nil {
		return fmt.Errorf("verify %s: %w", *out, err)
	}
	fmt.Fprintf(m.Stdout, "wrote %d bytes to %s and checked it: %d customers, %d conversations, %d messages\n",
		n, *out, st.Customers, st.Conversations, st.Messages)
	return nil
}

// backup writes a consistent copy of the store to w.
func (a storeAccess) backup(ctx context.Context, w io.Writer) (int64, error) {
	if a.db != nil {
		return a.db.Backup(ctx, w)
	}
	return a.server.Call(ctx, opBackup, nil, w)
}

// checkBackup opens the copy at path, checks it whole, and counts what it
// holds.
func checkBackup(ctx context.Context, path string) (crm.Stats, error) {
	cp, err := boltdb.Open(path, nil)
	if err != nil {
		return crm.Stats{}, err
	}
	err = cp.Check(ctx)
	var st crm.Stats
	if err == nil {
		st, err = cp.Stats(ctx)
	}
	if cerr := cp.Close(); err == nil {
		err = cerr
	}
	return st, err
}

// noBackupOp is the admin operation "backup" of a store that cannot copy
// itself: it answers err.
func noBackupOp(err error) admin.Op {
	return admin.NewOp(opBackup, func(context.Context, struct{}, io.Writer) error { return err })
}

// backupOp is the admin operation "backup": a consistent copy of the
// serving store, streamed.
func backupOp(db crm.Backuper) admin.Op {
	return admin.NewOp(opBackup, func(ctx context.Context, _ struct{}, w io.Writer) error {
		_, err := db.Backup(ctx, w)
		return err
	})
}
