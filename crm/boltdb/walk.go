package boltdb

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

// Records reads every record of the store as it is stored, for copying it
// into another store (bot migrate): nothing is filled in, renumbered or
// re-hashed, unlike what crm.Store's listings and Import do. It lives
// inside one read transaction (ReadAll), so that everything it returns is
// of one moment of the store, and it is valid only during ReadAll's fn.
type Records struct {
	ctx context.Context
	tx  *bolt.Tx
}

// RecordCounts counts what Records walks: the records crm.Stats counts and
// the channel state (crm.ChannelStateStore) beside them.
type RecordCounts struct {
	crm.Stats
	Seen  int `json:"seen"`  // keys of channel events taken (MarkSeen)
	Links int `json:"links"` // channel links (PutLink)
}

// ReadAll runs fn with a Records of the whole store, in one read
// transaction. The transaction stays open as long as fn runs: it keeps
// freed pages from being reused, which a store nobody writes to (a copy
// taken while no server holds the file) does not mind. fn's error is
// returned as is; a cancelled ctx stops a walk under way with ctx's error.
func (db *DB) ReadAll(ctx context.Context, fn func(r *Records) error) error {
	return db.view(ctx, func(tx *bolt.Tx) error { return fn(&Records{ctx: ctx, tx: tx}) })
}

// Counts counts the records of every kind (it walks every bucket's pages).
func (r *Records) Counts() RecordCounts {
	var c RecordCounts
	for _, b := range []struct {
		bucket []byte
		n      *int
	}{
		{bucketCustomers, &c.Customers}, {bucketOrders, &c.Orders}, {bucketConversations, &c.Conversations},
		{bucketMessages, &c.Messages}, {bucketTickets, &c.Tickets}, {bucketFeedback, &c.Feedback},
		{bucketAgents, &c.Agents}, {bucketEvents, &c.Events}, {bucketCanned, &c.Canned},
		{bucketSeen, &c.Seen}, {bucketLinks, &c.Links},
	} {
		if bk := r.tx.Bucket(b.bucket); bk != nil {
			*b.n = bk.Stats().KeyN
		}
	}
	return c
}

// eachRecord decodes every value of bucket, in key order, into a T and
// calls fn with it. It stops at fn's first error, returned as is, and
// checks ctx between records.
func eachRecord[T any](r *Records, bucket []byte, what string, fn func(T) error) error {
	b := r.tx.Bucket(bucket)
	if b == nil {
		return fmt.Errorf("read %s: bucket %s missing: %w", what, bucket, crm.ErrInvalid)
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		var rec T
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("read %s %q: %w", what, k, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// Customers calls fn with every customer, in id order.
func (r *Records) Customers(fn func(crm.Customer) error) error {
	return eachRecord(r, bucketCustomers, "customer", fn)
}

// Orders calls fn with every order, in id order.
func (r *Records) Orders(fn func(crm.Order) error) error {
	return eachRecord(r, bucketOrders, "order", fn)
}

// Conversations calls fn with every conversation, in id order.
func (r *Records) Conversations(fn func(crm.Conversation) error) error {
	return eachRecord(r, bucketConversations, "conversation", fn)
}

// Messages calls fn with every message, by conversation id and then Seq.
func (r *Records) Messages(fn func(crm.Message) error) error {
	return eachRecord(r, bucketMessages, "message", fn)
}

// Events calls fn with every event, by conversation id and then Seq.
func (r *Records) Events(fn func(crm.Event) error) error {
	return eachRecord(r, bucketEvents, "event", fn)
}

// Tickets calls fn with every ticket, in id order.
func (r *Records) Tickets(fn func(crm.Ticket) error) error {
	return eachRecord(r, bucketTickets, "ticket", fn)
}

// Feedback calls fn with every rating, in id order.
func (r *Records) Feedback(fn func(crm.Feedback) error) error {
	return eachRecord(r, bucketFeedback, "feedback", fn)
}

// Agents calls fn with every agent, by login, with the password hash as
// stored.
func (r *Records) Agents(fn func(crm.Agent) error) error {
	return eachRecord(r, bucketAgents, "agent", fn)
}

// Canned calls fn with every canned response, by shortcut.
func (r *Records) Canned(fn func(crm.CannedResponse) error) error {
	return eachRecord(r, bucketCanned, "canned response", fn)
}

// Seen calls fn with every channel event key MarkSeen recorded and the
// time it was seen at (UTC), in key order.
func (r *Records) Seen(fn func(key string, at time.Time) error) error {
	b := r.tx.Bucket(bucketSeen)
	if b == nil {
		return fmt.Errorf("read seen keys: bucket %s missing: %w", bucketSeen, crm.ErrInvalid)
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if len(v) != 8 {
			return fmt.Errorf("read seen key %q: time of %d bytes: %w", k, len(v), crm.ErrInvalid)
		}
		// timeKey's encoding: Unix nanoseconds with the sign bit flipped.
		at := time.Unix(0, int64(binary.BigEndian.Uint64(v)^(1<<63))).UTC()
		if err := fn(string(k), at); err != nil {
			return err
		}
	}
	return nil
}

// Links calls fn with every channel link, in key order.
func (r *Records) Links(fn func(key, value string) error) error {
	b := r.tx.Bucket(bucketLinks)
	if b == nil {
		return fmt.Errorf("read links: bucket %s missing: %w", bucketLinks, crm.ErrInvalid)
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if err := fn(string(k), string(v)); err != nil {
			return err
		}
	}
	return nil
}
