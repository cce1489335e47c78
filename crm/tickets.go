package crm

import (
	"context"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"
)

var ticketStatuses = map[TicketStatus]bool{TicketOpen: true, TicketPending: true, TicketSolved: true, TicketClosed: true}

const maxTicketHistory = 1000

// redactTicket applies Redact to the free text of t, which often quotes the
// customer.
func redactTicket(t *Ticket) {
	t.Subject = Redact(t.Subject)
	for i := range t.History {
		t.History[i].Note = Redact(t.History[i].Note)
	}
}

func validateTicket(t *Ticket) error {
	redactTicket(t)
	if err := checkPart("ticket id", t.ID); err != nil {
		return err
	}
	if err := checkPart("ticket customer id", t.CustomerID); err != nil {
		return err
	}
	if t.Topic != "" {
		if err := checkPart("topic", t.Topic); err != nil {
			return err
		}
	}
	if !ticketStatuses[t.Status] {
		return fmt.Errorf("ticket status %q: %w", t.Status, ErrInvalid)
	}
	if !priorities[t.Priority] {
		return fmt.Errorf("priority %q: %w", t.Priority, ErrInvalid)
	}
	if err := checkText("subject", t.Subject, maxField); err != nil {
		return err
	}
	if err := checkText("queue", t.Queue, maxKeyPart); err != nil {
		return err
	}
	for _, c := range t.Conversations {
		if err := checkPart("ticket conversation id", c); err != nil {
			return err
		}
	}
	if len(t.History) > maxTicketHistory {
		return fmt.Errorf("%d history entries, at most %d: %w", len(t.History), maxTicketHistory, ErrInvalid)
	}
	for _, h := range t.History {
		if err := checkText("history actor", h.Actor, maxKeyPart); err != nil {
			return err
		}
		if err := checkText("history note", h.Note, maxField); err != nil {
			return err
		}
	}
	return nil
}

// indexTicket adds (add) or removes t's index entries.
func indexTicket(tx *bolt.Tx, t *Ticket, add bool) error {
	return setIndexKeys(tx, add, []indexKey{
		{idxTicketCustomer, key(t.CustomerID, t.ID), true},
		{idxTicketOpen, key(t.CustomerID, t.Topic, t.ID), t.Status.Open()},
	})
}

// createTicketTx stores a new ticket with id, defaults and times set.
func createTicketTx(tx *bolt.Tx, t *Ticket) error {
	if err := validateTicket(t); err != nil {
		return err
	}
	b := tx.Bucket(bucketTickets)
	if b.Get([]byte(t.ID)) != nil {
		return fmt.Errorf("ticket %q: %w", t.ID, ErrConflict)
	}
	if tx.Bucket(bucketCustomers).Get([]byte(t.CustomerID)) == nil {
		return fmt.Errorf("ticket customer %q: %w", t.CustomerID, ErrNotFound)
	}
	if err := indexTicket(tx, t, true); err != nil {
		return err
	}
	return putJSON(b, []byte(t.ID), t)
}

func (db *DB) ticketDefaults(t *Ticket) {
	if t.ID == "" {
		t.ID = newID("tkt")
	}
	if t.Status == "" {
		t.Status = TicketOpen
	}
	if t.Priority == "" {
		t.Priority = PriorityNormal
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = db.now()
	}
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = t.CreatedAt
	}
}

// CreateTicket implements TicketStore. Subject and history notes are
// redacted like message text (as are they in UpdateTicket).
func (db *DB) CreateTicket(ctx context.Context, t Ticket) (Ticket, error) {
	t.CreatedAt = db.now()
	t.UpdatedAt = t.CreatedAt
	db.ticketDefaults(&t)
	if err := db.write(ctx, func(tx *bolt.Tx) error { return createTicketTx(tx, &t) }); err != nil {
		return Ticket{}, fmt.Errorf("create ticket: %w", err)
	}
	return t, nil
}

// UpdateTicket implements TicketStore.
func (db *DB) UpdateTicket(ctx context.Context, id string, fn func(*Ticket) error) (Ticket, error) {
	var out Ticket
	err := db.update(ctx, func(tx *bolt.Tx) error {
		old, cur, err := editRecord(tx, bucketTickets, "ticket", id, fn)
		if err != nil {
			return err
		}
		cur.ID, cur.CustomerID, cur.CreatedAt = old.ID, old.CustomerID, old.CreatedAt
		cur.UpdatedAt = db.now()
		if err := validateTicket(&cur); err != nil {
			return err
		}
		if err := indexTicket(tx, &old, false); err != nil {
			return err
		}
		if err := indexTicket(tx, &cur, true); err != nil {
			return err
		}
		out = cur
		return putJSON(tx.Bucket(bucketTickets), []byte(id), &cur)
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("update ticket: %w", err)
	}
	return out, nil
}

// Ticket implements TicketStore.
func (db *DB) Ticket(ctx context.Context, id string) (Ticket, error) {
	var t Ticket
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		t, err = getRecord[Ticket](tx, bucketTickets, "ticket", id)
		return err
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("get ticket: %w", err)
	}
	return t, nil
}

// ticketsIn reads the tickets whose ids end the keys under p in idx, most
// recently updated first.
func ticketsIn(tx *bolt.Tx, idx, p []byte) ([]Ticket, error) {
	ts := []Ticket{}
	var err error
	scanPrefix(tx.Bucket(idx), p, func(k, _ []byte) bool {
		var t Ticket
		if t, err = getRecord[Ticket](tx, bucketTickets, "ticket", lastPart(k)); err != nil {
			return false
		}
		ts = append(ts, t)
		return true
	})
	sort.SliceStable(ts, func(i, j int) bool {
		if !ts[i].UpdatedAt.Equal(ts[j].UpdatedAt) {
			return ts[i].UpdatedAt.After(ts[j].UpdatedAt)
		}
		return ts[i].ID > ts[j].ID
	})
	return ts, err
}

// OpenTickets implements TicketStore.
func (db *DB) OpenTickets(ctx context.Context, customerID string) ([]Ticket, error) {
	var ts []Ticket
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		ts, err = ticketsIn(tx, idxTicketOpen, prefix(customerID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open tickets: %w", err)
	}
	return ts, nil
}

// OpenTicketByTopic implements TicketStore.
func (db *DB) OpenTicketByTopic(ctx context.Context, customerID, topic string) (Ticket, error) {
	var ts []Ticket
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		ts, err = ticketsIn(tx, idxTicketOpen, prefix(customerID, topic))
		return err
	})
	if err == nil && len(ts) == 0 {
		err = fmt.Errorf("customer %q, topic %q: %w", customerID, topic, ErrNotFound)
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("open ticket by topic: %w", err)
	}
	return ts[0], nil
}
