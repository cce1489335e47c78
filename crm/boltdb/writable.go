package boltdb

import (
	"context"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// probeEvery is how often Writable, while the last commit failed, tries a
// commit of its own.
const probeEvery = 5 * time.Second

// keyWriteProbe is the meta key Writable's probe writes and deletes again.
var keyWriteProbe = []byte("write_probe")

// commitHealth remembers whether the committer's last commit failed.
type commitHealth struct {
	mu        sync.Mutex
	err       error     // guarded by mu: the last commit's error; nil after a commit that succeeded
	lastProbe time.Time // guarded by mu: when Writable last tried a probe
	eager     bool      // guarded by mu: probe on every call (tests)
}

func (h *commitHealth) committed() {
	h.mu.Lock()
	h.err = nil
	h.mu.Unlock()
}

func (h *commitHealth) failed(err error) {
	h.mu.Lock()
	h.err = err
	h.mu.Unlock()
}

func (h *commitHealth) last() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// state returns the last commit's error and whether it is time for a probe
// (then it counts the probe as begun).
func (h *commitHealth) state(now time.Time) (error, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		return nil, false
	}
	if !h.eager && now.Sub(h.lastProbe) < probeEvery {
		return h.err, false
	}
	h.lastProbe = now
	return h.err, true
}

// Writable reports whether the store can commit. It returns nil until a
// commit fails because the file could not be written or synced (a full
// disk, an I/O error; not a write refused by the store's rules), and from
// then on an error that wraps that failure, until a commit succeeds again.
// So that a store nobody writes to recovers once the cause is gone, a
// failing Writable tries a small commit of its own (it writes nothing that
// stays) at most once every 5 seconds, and waits for it until ctx ends. A
// healthy store answers without any I/O: Writable is cheap enough for a
// readiness probe.
func (db *DB) Writable(ctx context.Context) error {
	last, probe := db.health.state(time.Now())
	if last == nil {
		return nil
	}
	if probe {
		if err := db.probe(ctx); err == nil {
			return nil
		}
		if last = db.health.last(); last == nil {
			return nil // another commit succeeded meanwhile
		}
	}
	return fmt.Errorf("store cannot write: the last commit failed: %w", last)
}

// probe commits a write that leaves nothing behind, through the committer,
// so that its outcome updates health like any other commit.
func (db *DB) probe(ctx context.Context) error {
	call := &commitCall{fn: func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keyWriteProbe, []byte{1}); err != nil {
			return err
		}
		return meta.Delete(keyWriteProbe)
	}, done: make(chan struct{})}
	if err := db.enqueue(ctx, call); err != nil {
		return err
	}
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
