package boltdb

import (
	"context"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

// indexTicket adds (add) or removes t's index entries.
func indexTicket(tx *bolt.Tx, t *crm.Ticket, add bool) error {
	return setIndexKeys(tx, add, []indexKey{
		{idxTicketCustomer, key(t.CustomerID, t.ID), true},
		{idxTicketOpen, key(t.CustomerID, t.Topic, t.ID), t.Status.Open()},
	})
}

// createTicketTx stores a new ticket with id, defaults and times set.
func createTicketTx(tx *bolt.Tx, t *crm.Ticket) error {
	if err := crm.ValidateTicket(t); err != nil {
		return err
	}
	b := tx.Bucket(bucketTickets)
	if b.Get([]byte(t.ID)) != nil {
		return fmt.Errorf("ticket %q: %w", t.ID, crm.ErrConflict)
	}
	if tx.Bucket(bucketCustomers).Get([]byte(t.CustomerID)) == nil {
		return fmt.Errorf("ticket customer %q: %w", t.CustomerID, crm.ErrNotFound)
	}
	if err := indexTicket(tx, t, true); err != nil {
		return err
	}
	return putJSON(b, []byte(t.ID), t)
}

// CreateTicket implements TicketStore. Subject and history notes are
// redacted like message text (as are they in UpdateTicket).
func (db *DB) CreateTicket(ctx context.Context, t crm.Ticket) (crm.Ticket, error) {
	t.CreatedAt = db.now()
	t.UpdatedAt = t.CreatedAt
	crm.TicketDefaults(&t, t.CreatedAt)
	if err := db.write(ctx, func(tx *bolt.Tx) error { return createTicketTx(tx, &t) }); err != nil {
		return crm.Ticket{}, fmt.Errorf("create ticket: %w", err)
	}
	return t, nil
}

// UpdateTicket implements TicketStore.
func (db *DB) UpdateTicket(ctx context.Context, id string, fn func(*crm.Ticket) error) (crm.Ticket, error) {
	var out crm.Ticket
	err := db.update(ctx, func(tx *bolt.Tx) error {
		old, cur, err := editRecord(tx, bucketTickets, "ticket", id, fn)
		if err != nil {
			return err
		}
		cur.ID, cur.CustomerID, cur.CreatedAt = old.ID, old.CustomerID, old.CreatedAt
		cur.UpdatedAt = db.now()
		if err := crm.ValidateTicket(&cur); err != nil {
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
		return crm.Ticket{}, fmt.Errorf("update ticket: %w", err)
	}
	return out, nil
}

// Ticket implements TicketStore.
func (db *DB) Ticket(ctx context.Context, id string) (crm.Ticket, error) {
	var t crm.Ticket
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		t, err = getRecord[crm.Ticket](tx, bucketTickets, "ticket", id)
		return err
	})
	if err != nil {
		return crm.Ticket{}, fmt.Errorf("get ticket: %w", err)
	}
	return t, nil
}

// ticketsIn reads the tickets whose ids end the keys under p in idx, most
// recently updated first.
func ticketsIn(tx *bolt.Tx, idx, p []byte) ([]crm.Ticket, error) {
	ts := []crm.Ticket{}
	var err error
	scanPrefix(tx.Bucket(idx), p, func(k, _ []byte) bool {
		var t crm.Ticket
		if t, err = getRecord[crm.Ticket](tx, bucketTickets, "ticket", lastPart(k)); err != nil {
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
func (db *DB) OpenTickets(ctx context.Context, customerID string) ([]crm.Ticket, error) {
	var ts []crm.Ticket
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
func (db *DB) OpenTicketByTopic(ctx context.Context, customerID, topic string) (crm.Ticket, error) {
	var ts []crm.Ticket
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		ts, err = ticketsIn(tx, idxTicketOpen, prefix(customerID, topic))
		return err
	})
	if err == nil && len(ts) == 0 {
		err = fmt.Errorf("customer %q, topic %q: %w", customerID, topic, crm.ErrNotFound)
	}
	if err != nil {
		return crm.Ticket{}, fmt.Errorf("open ticket by topic: %w", err)
	}
	return ts[0], nil
}
