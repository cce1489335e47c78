package boltdb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/parleyhq/parley/crm"
)

// convOpenKey is the key of an open conversation in idx_conversation_open:
// one urgency byte ('0' for urgent up to '3' for low), the created time
// (timeKey, 8 bytes) and the id, so that the index in key order is the
// order OpenConversations lists in: most urgent first, then oldest, then by
// id. The parts have fixed widths but the last, so no separator is needed.
func convOpenKey(c *crm.Conversation) []byte {
	k := make([]byte, 0, openKeyHead+len(c.ID))
	k = append(k, byte('3'-c.Priority.Rank()))
	k = append(k, timeKey(c.CreatedAt)...)
	return append(k, c.ID...)
}

// openKeyHead is the length of an open key before the conversation id.
const openKeyHead = 1 + 8

// convOpenValue is what the open index holds for c, so that a listing
// filtered by state, queue or unanswered skips an entry without decoding
// the conversation: '1' when it is unanswered (else '0'), the state, a 0
// byte and the queue (ids and queues never contain a 0 byte).
func convOpenValue(c *crm.Conversation) []byte {
	v := make([]byte, 0, 2+len(c.State)+len(c.Queue))
	flag := byte('0')
	if c.Unanswered() {
		flag = '1'
	}
	v = append(v, flag)
	v = append(v, c.State...)
	v = append(v, 0)
	return append(v, c.Queue...)
}

// openEntry is a decoded entry of the open index.
type openEntry struct {
	id         string
	state      crm.ConversationState
	queue      string
	unanswered bool
}

func parseOpenEntry(k, v []byte) (openEntry, bool) {
	if len(k) <= openKeyHead || len(v) < 2 || (v[0] != '0' && v[0] != '1') {
		return openEntry{}, false
	}
	state, queue, ok := bytes.Cut(v[1:], []byte{0})
	if !ok {
		return openEntry{}, false
	}
	return openEntry{id: string(k[openKeyHead:]), state: crm.ConversationState(state), queue: string(queue), unanswered: v[0] == '1'}, true
}

func (e openEntry) match(f crm.ConversationFilter) bool {
	return (f.State == "" || e.state == f.State) && (f.Queue == "" || e.queue == f.Queue) && (!f.Unanswered || e.unanswered)
}

func convCustomerKey(c *crm.Conversation) []byte {
	return key(c.CustomerID, timeKey(c.CreatedAt), c.ID)
}

// indexConversation adds (add) or removes all of c's index entries.
func indexConversation(tx *bolt.Tx, c *crm.Conversation, add bool) error {
	if err := indexConversationLookups(tx, c, add); err != nil {
		return err
	}
	return setIndexKeys(tx, add, convTimeIndexKeys(c))
}

// indexConversationLookups adds (add) or removes c's entries in the
// customer and open indexes.
func indexConversationLookups(tx *bolt.Tx, c *crm.Conversation, add bool) error {
	if err := setIndexKeys(tx, add, []indexKey{{idxConvCustomer, convCustomerKey(c), c.CustomerID != ""}}); err != nil {
		return err
	}
	switch {
	case !c.Open():
		return nil
	case add:
		return tx.Bucket(idxConvOpen).Put(convOpenKey(c), convOpenValue(c))
	default:
		return tx.Bucket(idxConvOpen).Delete(convOpenKey(c))
	}
}

// putConversationTx writes back a conversation whose state, queue or
// answered marks may have changed but whose priority, created time and id
// did not (appends and turns): the record, and the open index's value.
// Changes of the key go through updateConversationTx.
func putConversationTx(tx *bolt.Tx, c *crm.Conversation) error {
	if c.Open() {
		if err := tx.Bucket(idxConvOpen).Put(convOpenKey(c), convOpenValue(c)); err != nil {
			return err
		}
	}
	return putJSON(tx.Bucket(bucketConversations), []byte(c.ID), c)
}

// rebuildOpenIndex empties idx_conversation_open and indexes every open
// conversation afresh (schema version 3).
func rebuildOpenIndex(tx *bolt.Tx) error {
	if err := tx.DeleteBucket(idxConvOpen); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return err
	}
	idx, err := tx.CreateBucket(idxConvOpen)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketConversations).ForEach(func(k, v []byte) error {
		var c crm.Conversation
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("decode conversation %q: %w", k, err)
		}
		if !c.Open() {
			return nil
		}
		return idx.Put(convOpenKey(&c), convOpenValue(&c))
	})
}

// legacyClaim is the slot with which Parley before schema version 4 marked
// a conversation linked on a visitor's unverified claim.
const legacyClaim = "_claimed"

// unlinkClaims removes the customer from every conversation linked on an
// unverified claim, with its index entry (migration step 4).
func unlinkClaims(tx *bolt.Tx) error {
	b := tx.Bucket(bucketConversations)
	var claimed []crm.Conversation
	err := b.ForEach(func(k, v []byte) error {
		var c crm.Conversation
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("decode conversation %q: %w", k, err)
		}
		if c.Slots[legacyClaim] != "" {
			claimed = append(claimed, c)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range claimed {
		if c.CustomerID != "" {
			if err := tx.Bucket(idxConvCustomer).Delete(convCustomerKey(&c)); err != nil {
				return err
			}
		}
		c.CustomerID = ""
		delete(c.Slots, legacyClaim)
		if err := putJSON(b, []byte(c.ID), &c); err != nil {
			return err
		}
	}
	return nil
}

// createConversationTx stores a new conversation with id, defaults and times set.
func createConversationTx(tx *bolt.Tx, c *crm.Conversation) error {
	if err := crm.ValidateConversation(c); err != nil {
		return err
	}
	b := tx.Bucket(bucketConversations)
	if b.Get([]byte(c.ID)) != nil {
		return fmt.Errorf("conversation %q: %w", c.ID, crm.ErrConflict)
	}
	if c.CustomerID != "" && tx.Bucket(bucketCustomers).Get([]byte(c.CustomerID)) == nil {
		return fmt.Errorf("conversation customer %q: %w", c.CustomerID, crm.ErrNotFound)
	}
	if err := indexConversation(tx, c, true); err != nil {
		return err
	}
	return putJSON(b, []byte(c.ID), c)
}

// CreateConversation implements ConversationStore.
func (db *DB) CreateConversation(ctx context.Context, c crm.Conversation) (crm.Conversation, error) {
	c.CreatedAt, c.UpdatedAt, c.ClosedAt = db.now(), time.Time{}, time.Time{}
	c.StateSince, c.LastAgentAt = time.Time{}, time.Time{}
	c.LastSeq, c.LastCustomerSeq, c.AnsweredSeq = 0, 0, 0
	crm.ConversationDefaults(&c, db.now())
	if err := db.write(ctx, func(tx *bolt.Tx) error { return createConversationTx(tx, &c) }); err != nil {
		return crm.Conversation{}, fmt.Errorf("create conversation: %w", err)
	}
	return c, nil
}

// Conversation implements ConversationStore.
func (db *DB) Conversation(ctx context.Context, id string) (crm.Conversation, error) {
	var c crm.Conversation
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		c, err = getRecord[crm.Conversation](tx, bucketConversations, "conversation", id)
		return err
	})
	if err != nil {
		return crm.Conversation{}, fmt.Errorf("get conversation: %w", err)
	}
	return c, nil
}

// UpdateConversation implements ConversationStore.
func (db *DB) UpdateConversation(ctx context.Context, id string, fn func(*crm.Conversation) error) (crm.Conversation, error) {
	var out crm.Conversation
	err := db.write(ctx, func(tx *bolt.Tx) error {
		var err error
		out, err = db.updateConversationTx(tx, id, fn, db.now())
		return err
	})
	if err != nil {
		return crm.Conversation{}, fmt.Errorf("update conversation: %w", err)
	}
	return out, nil
}

// updateConversationTx applies fn to conversation id and stores the result
// with its index entries, as UpdateConversation documents, as of now. The
// time indexes are written only where their keys changed (a resolve, a
// reopen), so an update that leaves them be does not dirty their pages.
func (db *DB) updateConversationTx(tx *bolt.Tx, id string, fn func(*crm.Conversation) error, now time.Time) (crm.Conversation, error) {
	old, cur, err := editRecord(tx, bucketConversations, "conversation", id, fn)
	if err != nil {
		return crm.Conversation{}, err
	}
	if err := crm.UpdatedConversation(old, &cur, now); err != nil {
		return crm.Conversation{}, err
	}
	if cur.CustomerID != old.CustomerID && cur.CustomerID != "" &&
		tx.Bucket(bucketCustomers).Get([]byte(cur.CustomerID)) == nil {
		return crm.Conversation{}, fmt.Errorf("conversation customer %q: %w", cur.CustomerID, crm.ErrNotFound)
	}
	if err := indexConversationLookups(tx, &old, false); err != nil {
		return crm.Conversation{}, err
	}
	if err := indexConversationLookups(tx, &cur, true); err != nil {
		return crm.Conversation{}, err
	}
	if err := changeIndexKeys(tx, convTimeIndexKeys(&old), convTimeIndexKeys(&cur)); err != nil {
		return crm.Conversation{}, err
	}
	return cur, putJSON(tx.Bucket(bucketConversations), []byte(id), &cur)
}

// OpenConversations implements ConversationStore.
func (db *DB) OpenConversations(ctx context.Context, f crm.ConversationFilter) ([]crm.Conversation, error) {
	switch f.State {
	case "", crm.StateBot, crm.StateWaiting, crm.StateAgent:
	default:
		return nil, fmt.Errorf("open conversations: state %q: %w", f.State, crm.ErrInvalid)
	}
	if f.Unanswered {
		// Only conversations the bot holds can be unanswered.
		if f.State != "" && f.State != crm.StateBot {
			return []crm.Conversation{}, nil
		}
		f.State = crm.StateBot
	}
	// The index is in the listing's order: read it from the start, skip
	// what the filter excludes (from the entry's value alone), and stop at
	// the limit.
	cs := []crm.Conversation{}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(idxConvOpen).Cursor()
		for k, v := c.First(); k != nil && (f.Limit <= 0 || len(cs) < f.Limit); k, v = c.Next() {
			e, ok := parseOpenEntry(k, v)
			if !ok {
				return fmt.Errorf("open index entry %q -> %q: %w", k, v, crm.ErrInvalid)
			}
			if !e.match(f) {
				continue
			}
			conv, err := getRecord[crm.Conversation](tx, bucketConversations, "conversation", e.id)
			if err != nil {
				return err
			}
			cs = append(cs, conv)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open conversations: %w", err)
	}
	return cs, nil
}

// Conversations implements ConversationStore.
func (db *DB) Conversations(ctx context.Context, afterID string, limit int) ([]crm.Conversation, error) {
	out := []crm.Conversation{}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketConversations).Cursor()
		k, v := c.Seek([]byte(afterID))
		if k != nil && string(k) == afterID {
			k, v = c.Next()
		}
		for ; k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			var conv crm.Conversation
			if err := json.Unmarshal(v, &conv); err != nil {
				return fmt.Errorf("decode conversation %q: %w", k, err)
			}
			out = append(out, conv)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	return out, nil
}

// ConversationsByCustomer implements ConversationStore.
func (db *DB) ConversationsByCustomer(ctx context.Context, customerID string, limit int) ([]crm.Conversation, error) {
	var cs []crm.Conversation
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		cs, err = conversationsOf(tx, customerID, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("conversations by customer: %w", err)
	}
	return cs, nil
}

func conversationsOf(tx *bolt.Tx, customerID string, limit int) ([]crm.Conversation, error) {
	cs := []crm.Conversation{}
	var err error
	scanPrefixReverse(tx.Bucket(idxConvCustomer), prefix(customerID), func(k, _ []byte) bool {
		var c crm.Conversation
		if c, err = getRecord[crm.Conversation](tx, bucketConversations, "conversation", lastPart(k)); err != nil {
			return false
		}
		cs = append(cs, c)
		return limit <= 0 || len(cs) < limit
	})
	return cs, err
}
