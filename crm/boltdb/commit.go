package boltdb

import (
	"context"
	"errors"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

// maxGroup is the most calls one commit takes.
const maxGroup = 512

// commitCall is one append or write waiting for the committer. The committer
// sets res and err, then closes done.
type commitCall struct {
	msg crm.Message // the message to append, unless fn is set
	// fn is a write other than an append (see DB.write).
	fn      func(tx *bolt.Tx) error
	res     crm.Message
	created bool // res was stored by this call, not found as a resend
	err     error
	done    chan struct{}
}

// enqueue hands call to the committer, unless the store is closing or ctx
// ends first.
func (db *DB) enqueue(ctx context.Context, call *commitCall) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case db.calls <- call:
		return nil
	case <-db.closing:
		return crm.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// write runs fn in a write transaction shared with the appends and writes
// of other goroutines waiting at the same time, and returns once it is
// committed (with fsync). fn must read what it changes from tx, and may run
// twice: when a call of its group fails, each call is retried alone. An error
// from fn is returned and nothing of fn's is written. Unlike AppendMessage,
// write does not give up waiting when ctx ends after fn was queued.
func (db *DB) write(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	call := &commitCall{fn: fn, done: make(chan struct{})}
	if err := db.enqueue(ctx, call); err != nil {
		return err
	}
	<-call.done
	return call.err
}

// commitLoop is the committer: it runs until Close. It takes every call
// waiting, without waiting for more, and commits them together.
func (db *DB) commitLoop() {
	defer db.wg.Done()
	for {
		select {
		case <-db.closing:
			return
		case c := <-db.calls:
			group := []*commitCall{c}
		more:
			for len(group) < maxGroup {
				select {
				case c := <-db.calls:
					group = append(group, c)
				default:
					break more
				}
			}
			db.commitGroup(group)
			for _, c := range group {
				close(c.done)
			}
		}
	}
}

// errAbort marks a failure after a call has written to the transaction: the
// whole transaction must be rolled back.
type errAbort struct{ err error }

func (e errAbort) Error() string { return e.err.Error() }
func (e errAbort) Unwrap() error { return e.err }

// commitGroup runs every call of group in one transaction. An append that
// fails its checks gets its error and writes nothing; when the transaction
// itself fails (or a write's fn does), each call is retried in a transaction
// of its own, so one bad call cannot fail the others.
func (db *DB) commitGroup(group []*commitCall) {
	// written: every call's work is in the transaction, so an error after
	// it is the commit's own (the file could not be written or synced).
	var writeFailed, written bool
	err := db.boltUpdate(func(tx *bolt.Tx) error {
		convs := make(map[string]*crm.Conversation)
		for _, c := range group {
			if c.fn != nil {
				// Other writes see, and may change, the conversations
				// the appends before them changed.
				if err := putConversations(tx, convs); err != nil {
					return err
				}
				clear(convs)
				if c.err = c.fn(tx); c.err != nil {
					// fn may have written part of its change: only a
					// transaction of its own can undo that.
					writeFailed = true
					return c.err
				}
				continue
			}
			c.res, c.created, c.err = db.appendTx(tx, convs, c.msg)
			var abort errAbort
			if errors.As(c.err, &abort) {
				return abort.err
			}
		}
		if err := putConversations(tx, convs); err != nil {
			return err
		}
		written = true
		return nil
	})
	if err == nil {
		db.commits.Add(1)
		db.health.committed()
		return
	}
	if written {
		db.health.failed(err)
	}
	if len(group) == 1 {
		group[0].res, group[0].created, group[0].err = crm.Message{}, false, closedErr(err)
		return
	}
	if !writeFailed {
		db.log.Warn("group commit failed; retrying its calls one by one", "calls", len(group), "err", err)
	}
	for _, c := range group {
		db.commitGroup([]*commitCall{c})
	}
}

// putConversations writes back the conversations appends changed.
func putConversations(tx *bolt.Tx, convs map[string]*crm.Conversation) error {
	for _, conv := range convs {
		if err := putConversationTx(tx, conv); err != nil {
			return err
		}
	}
	return nil
}
