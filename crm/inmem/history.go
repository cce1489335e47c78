package inmem

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley/crm"
)

// History implements crm.HistoryStore, under one read lock.
func (s *Store) History(ctx context.Context, conversationID string, q crm.HistoryQuery) (crm.History, error) {
	asOf := q.AsOf
	if asOf.IsZero() {
		asOf = s.now()
	}
	var h crm.History
	err := s.read(ctx, func(d *data) error {
		c, err := d.conversation(conversationID)
		if err != nil {
			return err
		}
		h.Conversation = cloneConversation(c.c)
		h.Messages = c.historyMessages(q)
		id := c.c.CustomerID
		if q.CustomerID != "" {
			id = q.CustomerID
			if _, ok := d.customers[id]; !ok {
				return fmt.Errorf("customer %q: %w", id, crm.ErrNotFound)
			}
		}
		cu, ok := d.customers[id]
		if id == "" || !ok {
			return nil // an unknown customer has no history
		}
		cu = cloneCustomer(cu)
		h.Customer = &cu
		for _, o := range d.ordersOf(id) {
			if o.PlacedAt.Before(asOf) {
				if h.LifetimeOrders < crm.HistoryOrders {
					h.Orders = append(h.Orders, o)
				}
				h.LifetimeOrders++
			}
		}
		for _, t := range d.ticketsOf(id) {
			if t.CreatedAt.Before(asOf) && (t.Status.Open() || t.UpdatedAt.After(asOf)) {
				h.OpenTickets = append(h.OpenTickets, t)
			}
		}
		h.PastHandoffs = d.pastHandoffs(id, conversationID, asOf)
		if f, ok := d.latestFeedback(func(f crm.Feedback) bool { return f.CustomerID == id && f.CreatedAt.Before(asOf) }); ok {
			h.LastFeedback = &f
		}
		return nil
	})
	if err != nil {
		return crm.History{}, fmt.Errorf("history: %w", err)
	}
	return h, nil
}

// historyMessages returns the latest messages of c up to q.UpToSeq, at
// most q.Messages of them, oldest first.
func (c *conversation) historyMessages(q crm.HistoryQuery) []crm.Message {
	end := len(c.msgs)
	if q.UpToSeq > 0 && q.UpToSeq < uint64(end) {
		end = int(q.UpToSeq)
	}
	n := q.Messages
	if n == 0 {
		n = crm.HistoryMessages
	}
	start := 0
	if n > 0 {
		start = max(end-n, 0)
	}
	return cloneMessages(c.msgs[start:end])
}

// pastHandoffs counts, among the customer's latest HistoryConversations
// conversations other than skipID created before asOf, those that went to
// a queue.
func (d *data) pastHandoffs(customerID, skipID string, asOf time.Time) int {
	seen, n := 0, 0
	for _, c := range d.conversationsOf(customerID) {
		if c.c.ID == skipID || !c.c.CreatedAt.Before(asOf) {
			continue
		}
		if c.c.Queue != "" {
			n++
		}
		if seen++; seen == crm.HistoryConversations {
			break
		}
	}
	return n
}
