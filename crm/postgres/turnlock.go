package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TurnLockConns is the most connections a TurnLocker opens: one per key
// held or waited for at once by this process. A Lock beyond it waits for a
// connection (or for ctx).
const TurnLockConns = 16

// turnUnlockTimeout bounds an unlock; a connection that does not answer in
// time is closed, which drops its lock too.
const turnUnlockTimeout = 5 * time.Second

// TurnLocker is a lock per key that every process on the database honours:
// a PostgreSQL session advisory lock, held on a connection of its own for
// as long as the key is locked. It has the method set of dialog.Locker (the
// engine's turn lock for several nodes); the engine takes it after its
// in-process lock, so a process holds one connection per conversation in a
// turn, not one per waiting message.
//
// The connections come from a pool of the locker's own (at most
// TurnLockConns), not from the store's: work done under the lock needs the
// store's connections, and held locks must not be able to use them all up.
// A dialog.Engine's Erase holds one lock per conversation of the customer
// plus one: a customer with TurnLockConns conversations or more cannot be
// erased through a shared lock (Erase waits until its ctx ends).
//
// Keys are hashed to the 64-bit advisory lock key with FNV-1a, together
// with the store's search_path, so that stores on different schemas of one
// database do not lock each other. Two keys whose hashes collide (about one
// chance in 2^64 per pair) share a lock: their work is serialised, never
// run together, so a collision costs some waiting and nothing else.
//
// A lock lives as long as its connection: when the connection breaks, the
// server drops the lock and another process may take it while the first
// still works. The store's rules (each message answered once, exactly one
// winning claim) do not depend on the lock, only the order of turns does.
type TurnLocker struct {
	pool *pgxpool.Pool // nil when err is not
	err  error         // why there is no pool
	ns   string        // the hash's prefix: a name and the store's search_path
}

// TurnLocker returns a new TurnLocker on the store's database. It connects
// when first used; Close it when done (closing the store does not).
// Errors of a bad configuration come back from Lock.
func (db *DB) TurnLocker() *TurnLocker {
	cfg := db.pool.Config()
	cfg.MaxConns = TurnLockConns
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = time.Minute
	// A cancelled ctx cancels the waiting pg_advisory_lock on the server
	// (rather than only closing the socket, which leaves the server's
	// backend waiting for the lock until it is granted): Lock then closes
	// the connection, which the server sees at once.
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 5 * time.Second}
	}
	l := &TurnLocker{ns: "parley turn\x00" + cfg.ConnConfig.RuntimeParams["search_path"] + "\x00"}
	// NewWithConfig connects nothing yet, and its checks passed for the
	// store's own pool: an error here is kept for Lock to report.
	l.pool, l.err = pgxpool.NewWithConfig(context.Background(), cfg)
	return l
}

// key is the advisory lock key of s.
func (l *TurnLocker) key(s string) int64 {
	h := fnv.New64a()
	h.Write([]byte(l.ns))
	h.Write([]byte(s))
	return int64(h.Sum64())
}

// Lock waits until no other holder of key remains, in this process or in
// any other on the database, and returns the function that releases it
// (safe to call more than once; only the first call counts).
//
// Errors: ctx's (errors.Is) when ctx ends while Lock waits for a connection
// or for the lock, in which case nothing is held; the database's.
func (l *TurnLocker) Lock(ctx context.Context, key string) (func(), error) {
	if l.err != nil {
		return nil, fmt.Errorf("turn lock: %w", l.err)
	}
	k := l.key(key)
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("turn lock: %w", err)
	}
	if _, err := conn.Exec(ctx, "select pg_advisory_lock($1)", k); err != nil {
		// The lock may have been granted just before the error (a cancel
		// that came late): closing the connection drops it whatever
		// happened.
		closeConn(conn)
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("turn lock: %w", err)
	}
	var once sync.Once
	return func() {
		once.Do(func() { l.unlock(conn, k) })
	}, nil
}

// unlock releases the lock k that conn holds and returns conn to the pool,
// or closes conn when the unlock fails, so that the server drops the lock.
func (l *TurnLocker) unlock(conn *pgxpool.Conn, k int64) {
	ctx, cancel := context.WithTimeout(context.Background(), turnUnlockTimeout)
	defer cancel()
	var released bool
	if err := conn.QueryRow(ctx, "select pg_advisory_unlock($1)", k).Scan(&released); err != nil || !released {
		closeConn(conn)
		return
	}
	conn.Release()
}

// closeConn closes conn and gives its place in the pool back.
func closeConn(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn.Hijack().Close(ctx)
}

// Close closes the locker's connections, after waiting for the locks still
// held to be unlocked. Lock fails after it.
func (l *TurnLocker) Close() {
	if l.pool != nil {
		l.pool.Close()
	}
}
