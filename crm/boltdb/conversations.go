package boltdb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

func convOpenKey(c *crm.Conversation) []byte { return key(string(c.State), c.Queue, c.ID) }

func convCustomerKey(c *crm.Conversation) []byte {
	return key(c.CustomerID, timeKey(c.CreatedAt), c.ID)
}

// indexConversation adds (add) or removes c's index entries.
func indexConversation(tx *bolt.Tx, c *crm.Conversation, add bool) error {
	return setIndexKeys(tx, add, []indexKey{
		{idxConvOpen, convOpenKey(c), c.Open()},
		{idxConvCustomer, convCustomerKey(c), c.CustomerID != ""},
	})
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
		out, err = db.updateConversationTx(tx, id, fn)
		return err
	})
	if err != nil {
		return crm.Conversation{}, fmt.Errorf("update conversation: %w", err)
	}
	return out, nil
}

// updateConversationTx applies fn to conversation id and stores the result
// with its index entries, as UpdateConversation documents.
func (db *DB) updateConversationTx(tx *bolt.Tx, id string, fn func(*crm.Conversation) error) (crm.Conversation, error) {
	old, cur, err := editRecord(tx, bucketConversations, "conversation", id, fn)
	if err != nil {
		return crm.Conversation{}, err
	}
	cur.ID, cur.LastSeq, cur.LastCustomerSeq, cur.CreatedAt = old.ID, old.LastSeq, old.LastCustomerSeq, old.CreatedAt
	// fn may mark messages answered (an agent handing the conversation
	// back has answered them), but not unanswer any, nor answer a message
	// that is not there.
	cur.AnsweredSeq = max(old.AnsweredSeq, min(cur.AnsweredSeq, old.LastCustomerSeq))
	cur.UpdatedAt = db.now()
	switch {
	case !cur.Open() && old.Open():
		cur.ClosedAt = cur.UpdatedAt
	case cur.Open():
		cur.ClosedAt = time.Time{}
	}
	if err := crm.ValidateConversation(&cur); err != nil {
		return crm.Conversation{}, err
	}
	if cur.CustomerID != old.CustomerID && cur.CustomerID != "" &&
		tx.Bucket(bucketCustomers).Get([]byte(cur.CustomerID)) == nil {
		return crm.Conversation{}, fmt.Errorf("conversation customer %q: %w", cur.CustomerID, crm.ErrNotFound)
	}
	if err := indexConversation(tx, &old, false); err != nil {
		return crm.Conversation{}, err
	}
	if err := indexConversation(tx, &cur, true); err != nil {
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
	var p []byte
	switch {
	case f.State != "" && f.Queue != "":
		p = prefix(string(f.State), f.Queue)
	case f.State != "":
		p = prefix(string(f.State))
	}
	cs := []crm.Conversation{}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		scanPrefix(tx.Bucket(idxConvOpen), p, func(k, _ []byte) bool {
			parts := bytes.Split(k, []byte{0})
			if len(parts) != 3 || (f.Queue != "" && string(parts[1]) != f.Queue) {
				return true
			}
			var c crm.Conversation
			if c, err = getRecord[crm.Conversation](tx, bucketConversations, "conversation", string(parts[2])); err != nil {
				return false
			}
			if f.Unanswered && !c.Unanswered() {
				return true
			}
			cs = append(cs, c)
			return true
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open conversations: %w", err)
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if ri, rj := cs[i].Priority.Rank(), cs[j].Priority.Rank(); ri != rj {
			return ri > rj
		}
		if !cs[i].CreatedAt.Equal(cs[j].CreatedAt) {
			return cs[i].CreatedAt.Before(cs[j].CreatedAt)
		}
		return cs[i].ID < cs[j].ID
	})
	if f.Limit > 0 && len(cs) > f.Limit {
		cs = cs[:f.Limit]
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
