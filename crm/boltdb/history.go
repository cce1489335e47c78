package boltdb

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

// History implements HistoryStore. Every part of it is read from an index
// in reverse and stops at its bound, so its cost does not grow with the
// customer's past, except LifetimeOrders, which counts index keys without
// reading the orders, and the tickets of a past AsOf (see historyTickets).
func (db *DB) History(ctx context.Context, conversationID string, q crm.HistoryQuery) (crm.History, error) {
	asOf := q.AsOf
	if asOf.IsZero() {
		asOf = db.now()
	}
	var h crm.History
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		h = crm.History{}
		if h.Conversation, err = getRecord[crm.Conversation](tx, bucketConversations, "conversation", conversationID); err != nil {
			return err
		}
		if h.Messages, err = historyMessages(tx, &h.Conversation, q); err != nil {
			return err
		}
		id := h.Conversation.CustomerID
		if q.CustomerID != "" {
			id = q.CustomerID
		}
		if id == "" {
			return nil
		}
		var cu crm.Customer
		ok, err := getJSON(tx.Bucket(bucketCustomers), []byte(id), &cu)
		switch {
		case err != nil:
			return err
		case !ok && q.CustomerID != "":
			return fmt.Errorf("customer %q: %w", id, crm.ErrNotFound)
		case !ok:
			return nil // the conversation's customer is unknown: no history
		}
		h.Customer = &cu
		before := timeKey(asOf)
		if h.Orders, h.LifetimeOrders, err = historyOrders(tx, id, before); err != nil {
			return err
		}
		if h.OpenTickets, err = historyTickets(tx, id, asOf, q.AsOf.IsZero()); err != nil {
			return err
		}
		if h.PastHandoffs, err = pastHandoffs(tx, id, conversationID, before); err != nil {
			return err
		}
		h.LastFeedback, err = feedbackBefore(tx, id, before)
		return err
	})
	if err != nil {
		return crm.History{}, fmt.Errorf("history: %w", err)
	}
	return h, nil
}

// historyMessages reads the latest messages of conv up to q.UpToSeq, oldest
// first.
func historyMessages(tx *bolt.Tx, conv *crm.Conversation, q crm.HistoryQuery) ([]crm.Message, error) {
	n := q.Messages
	if n == 0 {
		n = crm.HistoryMessages
	}
	p := prefix(conv.ID)
	end := prefixEnd(p)
	if q.UpToSeq > 0 && q.UpToSeq < conv.LastSeq {
		end = messageKey(conv.ID, q.UpToSeq+1)
	}
	ms := []crm.Message{}
	var err error
	scanPrefixBefore(tx.Bucket(bucketMessages), p, end, func(_, v []byte) bool {
		var m crm.Message
		if err = json.Unmarshal(v, &m); err != nil {
			err = fmt.Errorf("decode message: %w", err)
			return false
		}
		ms = append(ms, m)
		return n < 0 || len(ms) < n
	})
	slices.Reverse(ms)
	return ms, err
}

// historyOrders reads the customer's latest HistoryOrders orders placed
// before the time key, and counts all of them.
func historyOrders(tx *bolt.Tx, customerID, before string) ([]crm.Order, int, error) {
	var (
		os  []crm.Order
		n   int
		err error
	)
	scanPrefixBefore(tx.Bucket(idxOrderCustomer), prefix(customerID), key(customerID, before), func(k, _ []byte) bool {
		n++
		if len(os) < crm.HistoryOrders {
			var o crm.Order
			if o, err = getRecord[crm.Order](tx, bucketOrders, "order", lastPart(k)); err != nil {
				return false
			}
			os = append(os, o)
		}
		return true
	})
	return os, n, err
}

// historyTickets reads the customer's tickets open at asOf: created before
// it, and open now or updated after it. For the present (now) the open
// index holds them all; for a past moment every ticket of the customer is
// read, since closed tickets are indexed by id only.
func historyTickets(tx *bolt.Tx, customerID string, asOf time.Time, now bool) ([]crm.Ticket, error) {
	idx := idxTicketCustomer
	if now {
		idx = idxTicketOpen
	}
	ts, err := ticketsIn(tx, idx, prefix(customerID))
	if err != nil {
		return nil, err
	}
	ts = slices.DeleteFunc(ts, func(t crm.Ticket) bool {
		return !t.CreatedAt.Before(asOf) || !(t.Status.Open() || t.UpdatedAt.After(asOf))
	})
	if len(ts) == 0 {
		return nil, nil
	}
	return ts, nil
}

// pastHandoffs counts, among the customer's latest HistoryConversations
// conversations other than skipID created before the time key, those that
// went to a queue.
func pastHandoffs(tx *bolt.Tx, customerID, skipID, before string) (int, error) {
	var (
		seen, n int
		err     error
	)
	scanPrefixBefore(tx.Bucket(idxConvCustomer), prefix(customerID), key(customerID, before), func(k, _ []byte) bool {
		id := lastPart(k)
		if id == skipID {
			return true
		}
		var c crm.Conversation
		if c, err = getRecord[crm.Conversation](tx, bucketConversations, "conversation", id); err != nil {
			return false
		}
		if c.Queue != "" {
			n++
		}
		seen++
		return seen < crm.HistoryConversations
	})
	return n, err
}

// feedbackBefore returns the customer's newest rating created before the
// time key, or nil.
func feedbackBefore(tx *bolt.Tx, customerID, before string) (*crm.Feedback, error) {
	var (
		f   *crm.Feedback
		err error
	)
	scanPrefixBefore(tx.Bucket(idxFeedbackCustomer), prefix(customerID), key(customerID, before), func(k, _ []byte) bool {
		var fb crm.Feedback
		if fb, err = getRecord[crm.Feedback](tx, bucketFeedback, "feedback", lastPart(k)); err == nil {
			f = &fb
		}
		return false
	})
	return f, err
}
