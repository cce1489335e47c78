package boltdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/parleyhq/parley/crm"
)

// convTimeKey is the key of a conversation in idx_conversation_created and
// idx_conversation_closed: the time (timeKey, 8 bytes) and the id, so that
// the index in key order is in time order. The time has a fixed width, so
// no separator is needed.
func convTimeKey(t time.Time, id string) []byte {
	k := make([]byte, 0, 8+len(id))
	k = append(k, timeKey(t)...)
	return append(k, id...)
}

// closedIndexed reports whether c belongs in idx_conversation_closed: it is
// resolved. A resolved conversation always has ClosedAt (the store sets
// it); a customer message that reopens one keeps ClosedAt until the next
// update but takes it out of the index at once.
func closedIndexed(c *crm.Conversation) bool {
	return c.State == crm.StateResolved && !c.ClosedAt.IsZero()
}

// convTimeIndexKeys are c's entries in the two time indexes, in a fixed
// order (changeIndexKeys pairs them up).
func convTimeIndexKeys(c *crm.Conversation) []indexKey {
	return []indexKey{
		{idxConvCreated, convTimeKey(c.CreatedAt, c.ID), true},
		{idxConvClosed, convTimeKey(c.ClosedAt, c.ID), closedIndexed(c)},
	}
}

// The times timeKey encodes faithfully; a bound outside them is clamped
// (the zero time.Time, a common "from the start", is far before them).
var (
	minKeyTime = time.Unix(0, math.MinInt64)
	maxKeyTime = time.Unix(0, math.MaxInt64)
)

// timeBound is the 8-byte index key prefix for a query bound t.
func timeBound(t time.Time) []byte {
	switch {
	case t.Before(minKeyTime):
		return make([]byte, 8)
	case t.After(maxKeyTime):
		return bytes.Repeat([]byte{0xff}, 8)
	}
	return []byte(timeKey(t))
}

// lifecycleBucket reports whether name is one of the buckets schema
// version 5 added.
func lifecycleBucket(name []byte) bool {
	for _, b := range [][]byte{bucketEvents, bucketCanned, idxConvCreated, idxConvClosed} {
		if bytes.Equal(b, name) {
			return true
		}
	}
	return false
}

// migrateLifecycle is schema step 5: it creates the events and canned
// buckets, builds the two time indexes from the conversations there are,
// and gives each conversation without StateSince its UpdatedAt (the last
// time anything about it changed: the best guess at when its state did).
func migrateLifecycle(tx *bolt.Tx) error {
	for _, name := range v5Records {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	for _, name := range v5Indexes {
		if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return err
		}
		if _, err := tx.CreateBucket(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	b := tx.Bucket(bucketConversations)
	var stale []crm.Conversation
	err := b.ForEach(func(k, v []byte) error {
		var c crm.Conversation
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("decode conversation %q: %w", k, err)
		}
		if c.StateSince.IsZero() {
			stale = append(stale, c)
		}
		return setIndexKeys(tx, true, convTimeIndexKeys(&c))
	})
	if err != nil {
		return err
	}
	// Written after the walk: a bucket must not change under ForEach.
	for _, c := range stale {
		c.StateSince = c.UpdatedAt
		if c.StateSince.IsZero() {
			c.StateSince = c.CreatedAt
		}
		if err := putJSON(b, []byte(c.ID), &c); err != nil {
			return err
		}
	}
	return nil
}

// putEventTx stores ev, already prepared and with its ConversationID set,
// as the conversation's next event, with a new ID and At = now, and
// returns it as stored. The next Seq is read from the last key of the
// conversation's events: erasure removes a conversation's events with it,
// so the sequence never restarts under a live conversation.
func putEventTx(tx *bolt.Tx, ev crm.Event, now time.Time) (crm.Event, error) {
	b := tx.Bucket(bucketEvents)
	ev.Seq = 1
	var err error
	scanPrefixReverse(b, prefix(ev.ConversationID), func(k, _ []byte) bool {
		if len(k) != len(ev.ConversationID)+9 {
			err = fmt.Errorf("event key %q malformed: %w", k, crm.ErrInvalid)
			return false
		}
		ev.Seq = binary.BigEndian.Uint64(k[len(k)-8:]) + 1
		return false
	})
	if err != nil {
		return crm.Event{}, err
	}
	ev.ID = crm.NewID("evt")
	ev.At = now
	if err := putJSON(b, messageKey(ev.ConversationID, ev.Seq), &ev); err != nil {
		return crm.Event{}, err
	}
	return ev, nil
}

// prepareEvents checks and redacts a turn's events before its transaction,
// giving each the turn's conversation.
func prepareEvents(conversationID string, evs []crm.Event) ([]crm.Event, error) {
	out := make([]crm.Event, len(evs))
	for i, ev := range evs {
		ev.ConversationID = conversationID
		p, err := crm.PrepareEvent(ev)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		out[i] = p
	}
	return out, nil
}

// Transition implements crm.LifecycleStore. The event is checked before
// the write; the change and the event share one transaction of the commit
// queue, so a transition shares its fsync with the messages arriving
// meanwhile. Two claims of one conversation are serialised by the
// transaction: the second one's fn sees the first one's change.
func (db *DB) Transition(ctx context.Context, conversationID string, ev crm.Event, fn func(*crm.Conversation) error) (crm.Conversation, crm.Event, error) {
	ev.ConversationID = conversationID
	ev, err := crm.PrepareEvent(ev)
	if err != nil {
		return crm.Conversation{}, crm.Event{}, fmt.Errorf("transition: %w", err)
	}
	var (
		conv   crm.Conversation
		stored crm.Event
	)
	// The write may run twice (see write): it sets conv and stored afresh.
	err = db.write(ctx, func(tx *bolt.Tx) error {
		now := db.now()
		var err error
		if fn != nil {
			conv, err = db.updateConversationTx(tx, conversationID, fn, now)
		} else {
			conv, err = getRecord[crm.Conversation](tx, bucketConversations, "conversation", conversationID)
		}
		if err != nil {
			return err
		}
		stored, err = putEventTx(tx, ev, now)
		return err
	})
	if err != nil {
		return crm.Conversation{}, crm.Event{}, fmt.Errorf("transition: %w", err)
	}
	return conv, stored, nil
}

// Events implements crm.LifecycleStore.
func (db *DB) Events(ctx context.Context, conversationID string, afterSeq uint64, limit int) ([]crm.Event, error) {
	evs := []crm.Event{}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketConversations).Get([]byte(conversationID)) == nil {
			return fmt.Errorf("conversation %q: %w", conversationID, crm.ErrNotFound)
		}
		var err error
		evs, err = eventsOf(tx, conversationID, afterSeq, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return evs, nil
}

// eventsOf reads the conversation's events after afterSeq, at most limit
// (0: all); never nil.
func eventsOf(tx *bolt.Tx, conversationID string, afterSeq uint64, limit int) ([]crm.Event, error) {
	evs := []crm.Event{}
	p := prefix(conversationID)
	c := tx.Bucket(bucketEvents).Cursor()
	for k, v := c.Seek(messageKey(conversationID, afterSeq+1)); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if limit > 0 && len(evs) >= limit {
			break
		}
		var ev crm.Event
		if err := json.Unmarshal(v, &ev); err != nil {
			return nil, fmt.Errorf("decode event %q: %w", k, err)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// CreatedBetween implements crm.LifecycleStore: it reads
// idx_conversation_created from from onwards and decodes only the
// conversations it returns.
func (db *DB) CreatedBetween(ctx context.Context, from, to time.Time, limit int) ([]crm.Conversation, error) {
	out := []crm.Conversation{}
	if !from.Before(to) {
		return out, nil
	}
	lo, hi := timeBound(from), timeBound(to)
	err := db.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(idxConvCreated).Cursor()
		// A key sorts below hi exactly when its time is before to: a key
		// with time to is hi followed by an id, so above hi.
		for k, _ := c.Seek(lo); k != nil && bytes.Compare(k, hi) < 0 && (limit <= 0 || len(out) < limit); k, _ = c.Next() {
			conv, err := timeIndexed(tx, idxConvCreated, k)
			if err != nil {
				return err
			}
			out = append(out, conv)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("conversations created between: %w", err)
	}
	return out, nil
}

// ResolvedBetween implements crm.LifecycleStore: it reads
// idx_conversation_closed backwards from to.
func (db *DB) ResolvedBetween(ctx context.Context, from, to time.Time, limit int) ([]crm.Conversation, error) {
	out := []crm.Conversation{}
	if !from.Before(to) {
		return out, nil
	}
	lo, hi := timeBound(from), timeBound(to)
	err := db.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(idxConvClosed).Cursor()
		k, _ := c.Seek(hi)
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		// A key sorts at or above lo exactly when its time is from or later.
		for ; k != nil && bytes.Compare(k, lo) >= 0 && (limit <= 0 || len(out) < limit); k, _ = c.Prev() {
			conv, err := timeIndexed(tx, idxConvClosed, k)
			if err != nil {
				return err
			}
			out = append(out, conv)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("conversations resolved between: %w", err)
	}
	return out, nil
}

// timeIndexed reads the conversation a time index entry names.
func timeIndexed(tx *bolt.Tx, idx, k []byte) (crm.Conversation, error) {
	if len(k) <= 8 {
		return crm.Conversation{}, fmt.Errorf("%s entry %q malformed: %w", idx, k, crm.ErrInvalid)
	}
	return getRecord[crm.Conversation](tx, bucketConversations, "conversation", string(k[8:]))
}

// checkLifecycle is Check's part for schema version 5: the time indexes
// every conversation calls for (put), events that sit under their own
// conversation and seq, numbered 1, 2, 3, ... with a known type, and
// canned responses that validate under their own shortcut.
func (c *checker) checkLifecycle(convs map[string]*crm.Conversation, put func(bucket, k []byte, v string)) {
	for _, cv := range convs {
		for _, e := range convTimeIndexKeys(cv) {
			if e.want {
				put(e.bucket, e.key, "")
			}
		}
	}
	seen := map[string]uint64{} // conversation -> last event seq seen
	_ = c.tx.Bucket(bucketEvents).ForEach(func(k, data []byte) error {
		if len(k) < 10 || k[len(k)-9] != 0 {
			c.failf("event key %q malformed", k)
			return nil
		}
		conv, seq := string(k[:len(k)-9]), binary.BigEndian.Uint64(k[len(k)-8:])
		var ev crm.Event
		if err := json.Unmarshal(data, &ev); err != nil {
			c.failf("event %q: %v", k, err)
			return nil
		}
		if ev.ConversationID != conv || ev.Seq != seq {
			c.failf("event %s/%d stored under %s/%d", ev.ConversationID, ev.Seq, conv, seq)
		}
		if _, ok := convs[conv]; !ok {
			c.failf("event %s/%d: conversation missing", conv, seq)
		}
		if seq != seen[conv]+1 {
			c.failf("conversation %s: event %d follows %d", conv, seq, seen[conv])
		}
		seen[conv] = seq
		if ev.ID == "" || ev.At.IsZero() {
			c.failf("event %s/%d: no id or time", conv, seq)
		}
		if _, err := crm.PrepareEvent(ev); err != nil {
			c.failf("event %s/%d: %v", conv, seq, err)
		}
		return nil
	})
	forEach(c, bucketCanned, func(k string, cr *crm.CannedResponse) string {
		if err := crm.ValidateCanned(cr); err != nil {
			c.failf("canned response %q: %v", k, err)
		}
		return cr.Shortcut
	})
}
