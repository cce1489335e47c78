package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/crm"
)

// History implements crm.HistoryStore, in one snapshot (readSnapshot).
// Each part is one indexed query that stops at its bound, so its cost does
// not grow with the customer's past, except LifetimeOrders, which counts
// index entries, and the tickets of a past AsOf, which reads the
// customer's tickets updated after it.
func (db *DB) History(ctx context.Context, conversationID string, q crm.HistoryQuery) (crm.History, error) {
	asOf := q.AsOf
	if asOf.IsZero() {
		asOf = db.now()
	}
	var h crm.History
	err := db.readSnapshot(ctx, func(tx pgx.Tx) error {
		h = crm.History{}
		err := tx.QueryRow(ctx, `select doc from conversations where id = $1`, conversationID).Scan(&h.Conversation)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("conversation %q: %w", conversationID, crm.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if h.Messages, err = historyMessages(ctx, tx, conversationID, q); err != nil {
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
		err = tx.QueryRow(ctx, `select doc from customers where id = $1`, id).Scan(&cu)
		switch {
		case errors.Is(err, pgx.ErrNoRows) && q.CustomerID != "":
			return fmt.Errorf("customer %q: %w", id, crm.ErrNotFound)
		case errors.Is(err, pgx.ErrNoRows):
			return nil // the conversation's customer is unknown: no history
		case err != nil:
			return err
		}
		h.Customer = &cu
		if h.Orders, h.LifetimeOrders, err = historyOrders(ctx, tx, id, asOf); err != nil {
			return err
		}
		if h.OpenTickets, err = historyTickets(ctx, tx, id, asOf); err != nil {
			return err
		}
		if h.PastHandoffs, err = historyHandoffs(ctx, tx, id, conversationID, asOf); err != nil {
			return err
		}
		h.LastFeedback, err = historyFeedback(ctx, tx, id, asOf)
		return err
	})
	if err != nil {
		return crm.History{}, fmt.Errorf("history: %w", err)
	}
	return h, nil
}

// historyMessages reads the latest messages of the conversation up to
// q.UpToSeq (0: no bound), at most q.Messages (0: crm.HistoryMessages,
// negative: all), oldest first.
func historyMessages(ctx context.Context, tx pgx.Tx, conversationID string, q crm.HistoryQuery) ([]crm.Message, error) {
	var limit any // null: no limit
	switch {
	case q.Messages == 0:
		limit = crm.HistoryMessages
	case q.Messages > 0:
		limit = q.Messages
	}
	upTo := seqArg(q.UpToSeq)
	if q.UpToSeq == 0 {
		upTo = math.MaxInt64
	}
	rows, err := tx.Query(ctx, `select doc from (
			select doc, seq from messages where conversation_id = $1 and seq <= $2 order by seq desc limit $3
		) latest order by seq`, conversationID, upTo, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[crm.Message])
}

// historyOrders reads the customer's latest crm.HistoryOrders orders
// placed before asOf, newest first, and counts all of them.
func historyOrders(ctx context.Context, tx pgx.Tx, customerID string, asOf time.Time) ([]crm.Order, int, error) {
	var n int
	err := tx.QueryRow(ctx, `select count(*) from orders where customer_id = $1 and placed_ns < $2`, customerID, nanos(asOf)).Scan(&n)
	if err != nil || n == 0 {
		return nil, 0, err
	}
	rows, err := tx.Query(ctx, `select doc from orders where customer_id = $1 and placed_ns < $2
		order by placed_ns desc, id desc limit $3`, customerID, nanos(asOf), crm.HistoryOrders)
	if err != nil {
		return nil, 0, err
	}
	os, err := pgx.CollectRows(rows, pgx.RowTo[crm.Order])
	return os, n, err
}

// historyTickets reads the customer's tickets that were open or pending at
// asOf: created before it, and open now or updated after it; most recently
// updated first, nil for none.
func historyTickets(ctx context.Context, tx pgx.Tx, customerID string, asOf time.Time) ([]crm.Ticket, error) {
	ts, err := queryTickets(ctx, tx, `select doc from tickets where customer_id = $1 and created_ns < $2
		and (`+ticketOpenStatuses+` or updated_ns > $2) order by updated_ns desc, id desc`, customerID, nanos(asOf))
	if len(ts) == 0 {
		return nil, err
	}
	return ts, err
}

// historyHandoffs counts, among the customer's latest
// crm.HistoryConversations conversations other than skipID created before
// asOf, those that went to a queue.
func historyHandoffs(ctx context.Context, tx pgx.Tx, customerID, skipID string, asOf time.Time) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `select count(*) filter (where coalesce(doc->>'queue', '') <> '') from (
			select doc from conversations where customer_id = $1 and id <> $2 and created_ns < $3
			order by created_ns desc, id desc limit $4
		) latest`, customerID, skipID, nanos(asOf), crm.HistoryConversations).Scan(&n)
	return n, err
}

// historyFeedback returns the customer's newest rating created before
// asOf, or nil.
func historyFeedback(ctx context.Context, tx pgx.Tx, customerID string, asOf time.Time) (*crm.Feedback, error) {
	var f crm.Feedback
	err := tx.QueryRow(ctx, `select doc from feedback where customer_id = $1 and created_ns < $2
		order by created_ns desc, id desc limit 1`, customerID, nanos(asOf)).Scan(&f)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &f, nil
}
