package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/crm"
)

var _ crm.Store = (*DB)(nil)

// Options configures Open. A nil *Options, and zero fields, mean the
// defaults.
type Options struct {
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// MaxMessageBytes is the longest message text AppendMessage accepts, in
	// bytes. Default crm.DefaultMaxMessageBytes.
	MaxMessageBytes int
	// BcryptCost is the cost of agent password hashes. Default
	// crm.DefaultBcryptCost; tests use bcrypt.MinCost.
	BcryptCost int
}

// DB is the PostgreSQL crm.Store. It is safe for concurrent use, also by
// several processes on one database. Make one with Open; Close it when done.
type DB struct {
	pool *pgxpool.Pool
	now  func() time.Time // Options.Now in UTC, rounded to drop the monotonic clock
	// dummyHash is the hash Authenticate compares an unknown login's
	// password with, so that it takes as long as a wrong one.
	dummyHash func() string
	maxMsg    int
	cost      int
	closed    atomic.Bool
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the advisory lock key Open holds while it migrates, so
// that nodes starting together migrate one after the other.
const migrationLock = 0x7061726c6579 // "parley"

// Open connects to the database at url (postgres://...), applies the
// migrations it has not applied yet (under an advisory lock), and returns
// the store. Errors: a bad URL, a database that does not answer,
// crm.ErrSchemaNewer for a database migrated by a newer Parley.
func Open(ctx context.Context, url string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = crm.DefaultMaxMessageBytes
	}
	if o.BcryptCost == 0 {
		o.BcryptCost = crm.DefaultBcryptCost
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default, the CPU count (4 at least), queues a node's
		// store calls behind a few commits waiting on the disk: every turn
		// makes three, mostly waiting on PostgreSQL, not on this CPU.
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	now := o.Now
	db := &DB{pool: pool, maxMsg: o.MaxMessageBytes, cost: o.BcryptCost,
		// UTC without the monotonic reading: times read back compare equal.
		now: func() time.Time { return now().UTC().Round(0) }}
	db.dummyHash = sync.OnceValue(func() string {
		h, _ := crm.HashPassword("parley-dummy-password", db.cost)
		return h
	})
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	return db, nil
}

// DefaultMaxConns is the store's connections per process unless the URL
// sets pool_max_conns: enough that commits waiting on PostgreSQL's disk
// do not queue the turns behind them. With the turn locks' own
// connections (TurnLockConns at most, about one per turn running) a node
// needs up to 32, so three nodes fit PostgreSQL's default max_connections
// of 100; raise it (or set pool_max_conns lower) for more nodes.
const DefaultMaxConns = 16

// Close releases the connections; every method fails with crm.ErrClosed
// after it.
func (db *DB) Close() error {
	if db.closed.Swap(true) {
		return nil
	}
	db.pool.Close()
	return nil
}

// migration is one embedded file, migrations/NNN_name.sql: version NNN.
type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var out []migration
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "migrations/"), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s: want NNN_name.sql", n)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	return out, nil
}

// migrate applies the migrations the database lacks, each in its own
// transaction with its version recorded, under a session advisory lock.
func (db *DB) migrate(ctx context.Context) error {
	steps, err := migrations()
	if err != nil {
		return err
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "select pg_advisory_lock($1)", int64(migrationLock)); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "select pg_advisory_unlock($1)", int64(migrationLock))
	if _, err := conn.Exec(ctx, `create table if not exists schema_migrations (
		version integer primary key, name text not null, applied_at timestamptz not null default now())`); err != nil {
		return err
	}
	var have int
	if err := conn.QueryRow(ctx, "select coalesce(max(version), 0) from schema_migrations").Scan(&have); err != nil {
		return err
	}
	if latest := steps[len(steps)-1].version; have > latest {
		return fmt.Errorf("database schema version %d, this program knows up to %d: %w", have, latest, crm.ErrSchemaNewer)
	}
	for _, s := range steps {
		if s.version <= have {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, s.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "insert into schema_migrations (version, name) values ($1, $2)", s.version, s.name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate to version %d (%s): %w", s.version, s.name, err)
		}
	}
	return nil
}

// SchemaVersion returns the newest migration applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.read(ctx, func(q querier) error {
		return q.QueryRow(ctx, "select coalesce(max(version), 0) from schema_migrations").Scan(&v)
	})
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// querier is what a read or a transaction runs statements on.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// read runs fn on the pool (statements outside a transaction).
func (db *DB) read(ctx context.Context, fn func(q querier) error) error {
	if db.closed.Load() {
		return crm.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return mapErr(fn(db.pool))
}

// readSnapshot runs fn in one read-only repeatable-read transaction: every
// statement of fn sees the same snapshot of the database. Such a
// transaction is never refused for a serialization failure.
func (db *DB) readSnapshot(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return db.read(ctx, func(querier) error {
		return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
	})
}

// queryDocs runs sql, which selects one JSON document per row, and decodes
// each into a T (what names it in errors). A null document (from an outer
// join that found nothing) is skipped but counted in rows: callers use
// rows == 0 to tell "no such conversation" from "none of its records".
// out is never nil.
func queryDocs[T any](ctx context.Context, q querier, what, sql string, args ...any) (out []T, rows int, err error) {
	r, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, 0, err
	}
	docs, err := pgx.CollectRows(r, pgx.RowTo[[]byte])
	if err != nil {
		return nil, 0, err
	}
	out = make([]T, 0, len(docs))
	for _, doc := range docs {
		if doc == nil {
			continue
		}
		var v T
		if err := json.Unmarshal(doc, &v); err != nil {
			return nil, 0, fmt.Errorf("decode %s: %w", what, err)
		}
		out = append(out, v)
	}
	return out, len(docs), nil
}

// write runs fn in one transaction (read committed), committed when fn
// returns nil. A serialization failure or deadlock is retried, up to 5
// times: fn must be safe to run again.
func (db *DB) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if db.closed.Load() {
		return crm.ErrClosed
	}
	var err error
	for range 5 {
		if err = ctx.Err(); err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, db.pool, fn)
		if !retryable(err) {
			break
		}
	}
	return mapErr(err)
}

// retryable reports a serialization failure or a deadlock.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// mapErr turns the database's errors into the contract's: no rows is
// crm.ErrNotFound, a unique violation crm.ErrConflict; errors already of
// the contract pass through.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w", crm.ErrNotFound)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%s: %w", pe.ConstraintName, crm.ErrConflict)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%s: %w", pe.ConstraintName, crm.ErrNotFound)
		}
	}
	return err
}

// Ping checks that the database answers (readiness).
func (db *DB) Ping(ctx context.Context) error {
	if db.closed.Load() {
		return crm.ErrClosed
	}
	return db.pool.Ping(ctx)
}
