package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/admin"
)

// adminSocket is the admin channel of "bot serve" in the data folder
// (package internal/admin): the commands that need the store go through it
// while a server holds the store.
const adminSocket = "admin.sock"

// Names of the admin operations, shared by the server side (adminOps) and
// the commands that call them.
const (
	opBackup         = "backup"
	opCustomerGet    = "customer.get"
	opCustomerExport = "customer.export"
	opCustomerErase  = "customer.erase"
)

// startAdmin serves the admin operations on DATA-DIR/admin.sock. The caller
// shuts it down before it closes the store. A store that cannot copy itself
// (PostgreSQL: it is no file) answers backup, and so bot check, with an
// error that names the database's own tools.
func startAdmin(dataDir string, db crm.Store, engine *dialog.Engine, logger *slog.Logger) (*admin.Server, error) {
	backup := noBackupOp(errNotBolt("a database"))
	switch b := db.(type) {
	case crm.Backuper:
		backup = backupOp(b)
	case *serveStore:
		if b.bolt != nil {
			backup = backupOp(b.bolt)
		} else {
			backup = noBackupOp(errNotBolt(b.name))
		}
	}
	ops := append([]admin.Op{backup}, customerOps(db, engine)...)
	ops = append(ops, agentOps(db, releaseByEngine(engine))...)
	srv, err := admin.NewServer(logger, ops...)
	if err != nil {
		return nil, err
	}
	if err := srv.Listen(filepath.Join(dataDir, adminSocket)); err != nil {
		return nil, err
	}
	return srv, nil
}

// storeAccess is the store for a command that works whether or not a server
// holds it: exactly one of db (the file, opened by this process) and server
// (the admin channel of the process that holds it) is set.
type storeAccess struct {
	db     *boltdb.DB
	server *admin.Client
}

// Close closes the store when this process opened it.
func (a storeAccess) Close() error {
	if a.db != nil {
		return a.db.Close()
	}
	return nil
}

// findServer checks that DIR/parley.db exists and asks the admin channel
// whether a server holds it: a server listens only while it holds the
// store, so asking it first spares the second that opening a held file
// waits for its lock. client is nil when no server answers.
//
// Without DIR/parley.db, a server that answers is used all the same: its
// store is elsewhere (serve --store: another file, or PostgreSQL).
func findServer(ctx context.Context, dir string) (path string, client *admin.Client, err error) {
	path = filepath.Join(dir, storeFile)
	if _, err := os.Stat(path); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return path, nil, err
		}
		c := admin.NewClient(filepath.Join(dir, adminSocket))
		if _, err := c.Ops(ctx); err == nil {
			return path, c, nil
		}
		return path, nil, fmt.Errorf("no store at %s (set --data-dir or PARLEY_DATA_DIR)", path)
	}
	c := admin.NewClient(filepath.Join(dir, adminSocket))
	switch _, err := c.Ops(ctx); {
	case err == nil:
		return path, c, nil
	case errors.Is(err, admin.ErrNoServer):
		return path, nil, nil
	default:
		return path, nil, fmt.Errorf("the server of %s: %w", dir, err)
	}
}

// heldWithoutServer explains err (crm.ErrInUse) when the process holding
// the store answers on no admin channel.
func heldWithoutServer(err error, dir string) error {
	return fmt.Errorf("%w, and no server answers on %s.\n"+
		"bbolt allows one process per file, and the one holding it has no admin channel: a \"bot chat\",\n"+
		"or a \"bot serve\" older than this program. Stop it (restart \"bot serve\" with this program to\n"+
		"keep serving), then run this command again", err, filepath.Join(dir, adminSocket))
}

// openStoreOrServer reaches DIR/parley.db for an offline tool: through the
// admin channel of the server that holds it when one answers, or else by
// opening the file (never creating it). When another process holds the file
// and answers on no admin channel, the error says what to do.
func openStoreOrServer(ctx context.Context, dir string) (storeAccess, error) {
	path, client, err := findServer(ctx, dir)
	if err != nil || client != nil {
		return storeAccess{server: client}, err
	}
	db, err := boltdb.Open(path, nil)
	if errors.Is(err, crm.ErrInUse) {
		return storeAccess{}, heldWithoutServer(err, dir)
	}
	if err != nil {
		return storeAccess{}, err
	}
	return storeAccess{db: db}, nil
}
