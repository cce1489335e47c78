package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/crm"
)

// ticketOpenStatuses is the SQL condition of TicketStatus.Open, as the
// partial index tickets_open is declared.
const ticketOpenStatuses = `status in ('open', 'pending')`

// lockCustomerRow checks that the customer exists and locks its row (for
// key share) until the transaction ends, so that an erasure cannot remove
// it under a record being added for it. ErrNotFound, saying what, when
// there is none.
func lockCustomerRow(ctx context.Context, q querier, what, id string) error {
	var one int
	err := q.QueryRow(ctx, `select 1 from customers where id = $1 for key share`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s %q: %w", what, id, crm.ErrNotFound)
	}
	return err
}

// createTicketTx validates t (redacting its free text) and inserts it; its
// ID, defaults and times must be set. ErrConflict for a taken id,
// ErrNotFound for an unknown customer.
func createTicketTx(ctx context.Context, tx pgx.Tx, t *crm.Ticket) error {
	if err := crm.ValidateTicket(t); err != nil {
		return err
	}
	if err := lockCustomerRow(ctx, tx, "ticket customer", t.CustomerID); err != nil {
		return err
	}
	doc, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode ticket %q: %w", t.ID, err)
	}
	tag, err := tx.Exec(ctx, `insert into tickets (id, customer_id, topic, status, created_ns, updated_ns, doc)
		values ($1, $2, $3, $4, $5, $6, $7) on conflict (id) do nothing`,
		t.ID, t.CustomerID, t.Topic, string(t.Status), nanos(t.CreatedAt), nanos(t.UpdatedAt), string(doc))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("ticket %q: %w", t.ID, crm.ErrConflict)
	}
	return nil
}

// CreateTicket implements crm.TicketStore. Subject and history notes are
// redacted like message text (as are they in UpdateTicket).
func (db *DB) CreateTicket(ctx context.Context, t crm.Ticket) (crm.Ticket, error) {
	t.CreatedAt = db.now()
	t.UpdatedAt = t.CreatedAt
	crm.TicketDefaults(&t, t.CreatedAt)
	// ValidateTicket redacts in place: work on a copy of the caller's
	// history so that a retried transaction, and the caller, see the
	// original.
	in := t
	err := db.write(ctx, func(tx pgx.Tx) error {
		t = in
		t.History = slices.Clone(in.History)
		t.Conversations = slices.Clone(in.Conversations)
		return createTicketTx(ctx, tx, &t)
	})
	if err != nil {
		return crm.Ticket{}, fmt.Errorf("create ticket: %w", err)
	}
	return t, nil
}

// UpdateTicket implements crm.TicketStore.
func (db *DB) UpdateTicket(ctx context.Context, id string, fn func(*crm.Ticket) error) (crm.Ticket, error) {
	var out crm.Ticket
	err := db.write(ctx, func(tx pgx.Tx) error {
		cur, err := ticketByID(ctx, tx, id, true)
		if err != nil {
			return err
		}
		customerID, createdAt := cur.CustomerID, cur.CreatedAt
		if err := fn(&cur); err != nil {
			return err
		}
		cur.History = slices.Clone(cur.History) // fn may keep the slices it set
		cur.Conversations = slices.Clone(cur.Conversations)
		cur.ID, cur.CustomerID, cur.CreatedAt = id, customerID, createdAt
		cur.UpdatedAt = db.now()
		if err := crm.ValidateTicket(&cur); err != nil {
			return err
		}
		doc, err := json.Marshal(&cur)
		if err != nil {
			return fmt.Errorf("encode ticket %q: %w", id, err)
		}
		_, err = tx.Exec(ctx, `update tickets set topic = $2, status = $3, updated_ns = $4, doc = $5 where id = $1`,
			id, cur.Topic, string(cur.Status), nanos(cur.UpdatedAt), string(doc))
		out = cur
		return err
	})
	if err != nil {
		return crm.Ticket{}, fmt.Errorf("update ticket: %w", err)
	}
	return out, nil
}

// ticketByID reads one ticket, locking its row for update when lock is
// set; ErrNotFound when there is none.
func ticketByID(ctx context.Context, q querier, id string, lock bool) (crm.Ticket, error) {
	sql := `select doc from tickets where id = $1`
	if lock {
		sql += ` for update`
	}
	var t crm.Ticket
	err := q.QueryRow(ctx, sql, id).Scan(&t)
	if errors.Is(err, pgx.ErrNoRows) {
		return crm.Ticket{}, fmt.Errorf("ticket %q: %w", id, crm.ErrNotFound)
	}
	return t, err
}

// Ticket implements crm.TicketStore.
func (db *DB) Ticket(ctx context.Context, id string) (crm.Ticket, error) {
	var t crm.Ticket
	err := db.read(ctx, func(q querier) error {
		var err error
		t, err = ticketByID(ctx, q, id, false)
		return err
	})
	if err != nil {
		return crm.Ticket{}, fmt.Errorf("get ticket: %w", err)
	}
	return t, nil
}

// queryTickets runs a query selecting ticket documents; none is an empty
// slice.
func queryTickets(ctx context.Context, q querier, sql string, args ...any) ([]crm.Ticket, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[crm.Ticket])
}

// OpenTickets implements crm.TicketStore.
func (db *DB) OpenTickets(ctx context.Context, customerID string) ([]crm.Ticket, error) {
	var ts []crm.Ticket
	err := db.read(ctx, func(q querier) error {
		var err error
		ts, err = queryTickets(ctx, q, `select doc from tickets where customer_id = $1 and `+ticketOpenStatuses+`
			order by updated_ns desc, id desc`, customerID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open tickets: %w", err)
	}
	return ts, nil
}

// OpenTicketByTopic implements crm.TicketStore.
func (db *DB) OpenTicketByTopic(ctx context.Context, customerID, topic string) (crm.Ticket, error) {
	var t crm.Ticket
	err := db.read(ctx, func(q querier) error {
		err := q.QueryRow(ctx, `select doc from tickets where customer_id = $1 and topic = $2 and `+ticketOpenStatuses+`
			order by updated_ns desc, id desc limit 1`, customerID, topic).Scan(&t)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("customer %q, topic %q: %w", customerID, topic, crm.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return crm.Ticket{}, fmt.Errorf("open ticket by topic: %w", err)
	}
	return t, nil
}
