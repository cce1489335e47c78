package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/internal/admin"
)

func runCheck(ctx context.Context, m *Main, args []string) error {
	f := m.flagSet("check", "[--data-dir DIR]",
		"Check the store DIR/parley.db and print what was found: the file's structure (both meta\n"+
			"pages, that the file holds every page they name, every page of every bucket), bbolt's\n"+
			"page check, and Parley's own rules (every record decodes, references point at records\n"+
			"that exist, messages are numbered without gaps, the indexes match their records).\n"+
			"It only reads the file, so it also works on a store that \"bot serve\" refuses as damaged.\n"+
			"While \"bot serve\" holds the store, it checks a consistent copy taken through the\n"+
			"server's admin socket (DIR/admin.sock), written beside the store and removed after.\n"+
			"Exits 1 when it finds a fault.")
	dir := dataDirFlag(f)
	if err := parseFlags(f, args); err != nil {
		return err
	}
	path, client, err := findServer(ctx, *dir)
	if err != nil {
		return err
	}
	var rep *boltdb.CheckReport
	if client != nil {
		rep, err = checkThroughServer(ctx, client, *dir)
		if err == nil || errors.Is(err, boltdb.ErrDamaged) {
			fmt.Fprintf(m.Stdout, "(a running server holds the store: checked a consistent copy taken through %s)\n", client.Path())
			rep.Path = path
		}
	} else {
		rep, err = boltdb.CheckFile(ctx, path, nil)
	}
	switch {
	case errors.Is(err, crm.ErrInUse):
		return heldWithoutServer(err, *dir)
	case err != nil && !errors.Is(err, boltdb.ErrDamaged):
		return err
	}
	printCheckReport(m.Stdout, rep)
	if n := len(rep.Faults); n > 0 {
		return fmt.Errorf("%s: %d %s: %w; restore it from a backup (\"bot backup\" makes them), or move it away to start with a new store",
			path, n, plural(n, "fault", "faults"), boltdb.ErrDamaged)
	}
	fmt.Fprintln(m.Stdout, "No fault found.")
	return nil
}

// checkThroughServer checks a copy of the store that the server holding it
// writes through its admin channel (a read transaction's consistent view,
// read from the file: a page the file lacks fails the copy, a garbled one
// is in it), in a temporary file beside the store.
func checkThroughServer(ctx context.Context, client *admin.Client, dir string) (*boltdb.CheckReport, error) {
	tmp, err := os.CreateTemp(dir, ".check-*.db")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	_, err = client.Call(ctx, opBackup, nil, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("copy the store through the server: %w", err)
	}
	return boltdb.CheckFile(ctx, tmp.Name(), nil)
}

// printCheckReport writes what CheckFile learned, as far as it got.
func printCheckReport(w io.Writer, r *boltdb.CheckReport) {
	fmt.Fprintf(w, "store %s\n", r.Path)
	fmt.Fprintf(w, "  file        %d bytes", r.Size)
	if r.DataSize > 0 {
		fmt.Fprintf(w, ", %d in use (%d pages of %d bytes), last commit %d", r.DataSize, r.DataSize/int64(r.PageSize), r.PageSize, r.TxID)
	}
	fmt.Fprintln(w)
	if r.PageSize > 0 {
		switch m := r.MetaPages; {
		case m[0] == nil && m[1] == nil:
			fmt.Fprintln(w, "  meta pages  both valid")
		case m[0] != nil && m[1] != nil:
			fmt.Fprintf(w, "  meta pages  neither valid: page 0 %v; page 1 %v\n", m[0], m[1])
		default:
			bad, good := 0, 1
			if m[1] != nil {
				bad, good = 1, 0
			}
			fmt.Fprintf(w, "  meta pages  page %d invalid (%v): bbolt uses page %d, from the last complete commit, and rewrites page %d on the next one\n",
				bad, m[bad], good, bad)
		}
	}
	if r.Pages > 0 {
		fmt.Fprintf(w, "  structure   %d pages read, %d buckets\n", r.Pages, len(r.Buckets))
	}
	if r.SchemaVersion > 0 {
		fmt.Fprintf(w, "  schema      version %d\n", r.SchemaVersion)
	}
	if s := r.Stats; s != nil {
		fmt.Fprintf(w, "  records     %d customers, %d orders, %d conversations, %d messages, %d tickets, %d ratings, %d agents\n",
			s.Customers, s.Orders, s.Conversations, s.Messages, s.Tickets, s.Feedback, s.Agents)
	}
	if len(r.Faults) > 0 {
		fmt.Fprintf(w, "%d %s:\n", len(r.Faults), plural(len(r.Faults), "fault", "faults"))
		for _, f := range r.Faults {
			fmt.Fprintf(w, "  - %s\n", strings.ReplaceAll(f.Error(), "\n", "\n    "))
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
