package crm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	conversationStates = map[ConversationState]bool{StateBot: true, StateWaiting: true, StateAgent: true, StateResolved: true}
	priorities         = map[Priority]bool{PriorityLow: true, PriorityNormal: true, PriorityHigh: true, PriorityUrgent: true}
)

const maxSlots = 256

func validateConversation(c *Conversation) error {
	if err := checkPart("conversation id", c.ID); err != nil {
		return err
	}
	if err := checkPart("channel", string(c.Channel)); err != nil {
		return err
	}
	if !conversationStates[c.State] {
		return fmt.Errorf("conversation state %q: %w", c.State, ErrInvalid)
	}
	if !priorities[c.Priority] {
		return fmt.Errorf("priority %q: %w", c.Priority, ErrInvalid)
	}
	if c.Queue != "" {
		if err := checkPart("queue", c.Queue); err != nil {
			return err
		}
	}
	if c.CustomerID != "" {
		if err := checkPart("conversation customer id", c.CustomerID); err != nil {
			return err
		}
	}
	for _, f := range []struct{ what, s string }{
		{"assigned agent", c.AssignedAgent}, {"active form", c.ActiveForm}, {"routing reason", c.RoutingReason},
	} {
		if err := checkText(f.what, f.s, maxField); err != nil {
			return err
		}
	}
	if len(c.Slots) > maxSlots {
		return fmt.Errorf("%d slots, at most %d: %w", len(c.Slots), maxSlots, ErrInvalid)
	}
	for k, v := range c.Slots {
		if err := checkText("slot name", k, maxKeyPart); err != nil {
			return err
		}
		if err := checkText("slot "+k, v, maxField); err != nil {
			return err
		}
	}
	if math.IsNaN(c.SatisfactionRisk) || c.SatisfactionRisk < 0 || c.SatisfactionRisk > 1 {
		return fmt.Errorf("satisfaction risk %v: %w", c.SatisfactionRisk, ErrInvalid)
	}
	return nil
}

func convOpenKey(c *Conversation) []byte { return key(string(c.State), c.Queue, c.ID) }

func convCustomerKey(c *Conversation) []byte { return key(c.CustomerID, timeKey(c.CreatedAt), c.ID) }

// indexConversation adds (add) or removes c's index entries.
func indexConversation(tx *bolt.Tx, c *Conversation, add bool) error {
	return setIndexKeys(tx, add, []indexKey{
		{idxConvOpen, convOpenKey(c), c.Open()},
		{idxConvCustomer, convCustomerKey(c), c.CustomerID != ""},
	})
}

// createConversationTx stores a new conversation with id, defaults and times set.
func createConversationTx(tx *bolt.Tx, c *Conversation) error {
	if err := validateConversation(c); err != nil {
		return err
	}
	b := tx.Bucket(bucketConversations)
	if b.Get([]byte(c.ID)) != nil {
		return fmt.Errorf("conversation %q: %w", c.ID, ErrConflict)
	}
	if c.CustomerID != "" && tx.Bucket(bucketCustomers).Get([]byte(c.CustomerID)) == nil {
		return fmt.Errorf("conversation customer %q: %w", c.CustomerID, ErrNotFound)
	}
	if err := indexConversation(tx, c, true); err != nil {
		return err
	}
	return putJSON(b, []byte(c.ID), c)
}

func (db *DB) conversationDefaults(c *Conversation) {
	if c.ID == "" {
		c.ID = newID("conv")
	}
	if c.State == "" {
		c.State = StateBot
	}
	if c.Priority == "" {
		c.Priority = PriorityNormal
	}
	now := db.now()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	if c.State == StateResolved && c.ClosedAt.IsZero() {
		c.ClosedAt = c.UpdatedAt
	}
}

// CreateConversation implements ConversationStore.
func (db *DB) CreateConversation(ctx context.Context, c Conversation) (Conversation, error) {
	c.CreatedAt, c.UpdatedAt, c.ClosedAt, c.LastSeq = db.now(), time.Time{}, time.Time{}, 0
	db.conversationDefaults(&c)
	if err := db.write(ctx, func(tx *bolt.Tx) error { return createConversationTx(tx, &c) }); err != nil {
		return Conversation{}, fmt.Errorf("create conversation: %w", err)
	}
	return c, nil
}

// Conversation implements ConversationStore.
func (db *DB) Conversation(ctx context.Context, id string) (Conversation, error) {
	var c Conversation
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		c, err = getRecord[Conversation](tx, bucketConversations, "conversation", id)
		return err
	})
	if err != nil {
		return Conversation{}, fmt.Errorf("get conversation: %w", err)
	}
	return c, nil
}

// UpdateConversation implements ConversationStore.
func (db *DB) UpdateConversation(ctx context.Context, id string, fn func(*Conversation) error) (Conversation, error) {
	var out Conversation
	err := db.write(ctx, func(tx *bolt.Tx) error {
		old, cur, err := editRecord(tx, bucketConversations, "conversation", id, fn)
		if err != nil {
			return err
		}
		cur.ID, cur.LastSeq, cur.CreatedAt = old.ID, old.LastSeq, old.CreatedAt
		cur.UpdatedAt = db.now()
		switch {
		case !cur.Open() && old.Open():
			cur.ClosedAt = cur.UpdatedAt
		case cur.Open():
			cur.ClosedAt = time.Time{}
		}
		if err := validateConversation(&cur); err != nil {
			return err
		}
		if cur.CustomerID != old.CustomerID && cur.CustomerID != "" &&
			tx.Bucket(bucketCustomers).Get([]byte(cur.CustomerID)) == nil {
			return fmt.Errorf("conversation customer %q: %w", cur.CustomerID, ErrNotFound)
		}
		if err := indexConversation(tx, &old, false); err != nil {
			return err
		}
		if err := indexConversation(tx, &cur, true); err != nil {
			return err
		}
		out = cur
		return putJSON(tx.Bucket(bucketConversations), []byte(id), &cur)
	})
	if err != nil {
		return Conversation{}, fmt.Errorf("update conversation: %w", err)
	}
	return out, nil
}

// OpenConversations implements ConversationStore.
func (db *DB) OpenConversations(ctx context.Context, f ConversationFilter) ([]Conversation, error) {
	if f.State == StateResolved || (f.State != "" && !conversationStates[f.State]) {
		return nil, fmt.Errorf("open conversations: state %q: %w", f.State, ErrInvalid)
	}
	var p []byte
	switch {
	case f.State != "" && f.Queue != "":
		p = prefix(string(f.State), f.Queue)
	case f.State != "":
		p = prefix(string(f.State))
	}
	cs := []Conversation{}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		scanPrefix(tx.Bucket(idxConvOpen), p, func(k, _ []byte) bool {
			parts := bytes.Split(k, []byte{0})
			if len(parts) != 3 || (f.Queue != "" && string(parts[1]) != f.Queue) {
				return true
			}
			var c Conversation
			if c, err = getRecord[Conversation](tx, bucketConversations, "conversation", string(parts[2])); err != nil {
				return false
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
func (db *DB) Conversations(ctx context.Context, afterID string, limit int) ([]Conversation, error) {
	out := []Conversation{}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketConversations).Cursor()
		k, v := c.Seek([]byte(afterID))
		if k != nil && string(k) == afterID {
			k, v = c.Next()
		}
		for ; k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			var conv Conversation
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
func (db *DB) ConversationsByCustomer(ctx context.Context, customerID string, limit int) ([]Conversation, error) {
	var cs []Conversation
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

func conversationsOf(tx *bolt.Tx, customerID string, limit int) ([]Conversation, error) {
	cs := []Conversation{}
	var err error
	scanPrefixReverse(tx.Bucket(idxConvCustomer), prefix(customerID), func(k, _ []byte) bool {
		var c Conversation
		if c, err = getRecord[Conversation](tx, bucketConversations, "conversation", lastPart(k)); err != nil {
			return false
		}
		cs = append(cs, c)
		return limit <= 0 || len(cs) < limit
	})
	return cs, err
}
