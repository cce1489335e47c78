package shop

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parleyhq/parley/crm"
)

// seedFile is seed.json: a crm.Snapshot plus the moment its times were
// written relative to.
type seedFile struct {
	Anchor time.Time `json:"anchor"`
	crm.Snapshot
}

// Seed returns the demo shop's CRM data (customers with orders, a few past
// conversations, tickets and ratings; invented people at example.com) with
// every time moved so that the file's anchor falls on now: an order that
// shipped the day before the anchor shipped yesterday. It fails only if the
// embedded file is broken, which the package's tests rule out.
func Seed(now time.Time) (crm.Snapshot, error) {
	var f seedFile
	if err := json.Unmarshal([]byte(seed), &f); err != nil {
		return crm.Snapshot{}, fmt.Errorf("read seed: %w", err)
	}
	d := now.Sub(f.Anchor)
	shift := func(t *time.Time) {
		if !t.IsZero() {
			*t = t.Add(d).UTC()
		}
	}
	s := f.Snapshot
	for i := range s.Customers {
		shift(&s.Customers[i].CreatedAt)
		shift(&s.Customers[i].UpdatedAt)
	}
	for i := range s.Orders {
		o := &s.Orders[i]
		for _, t := range []*time.Time{&o.PlacedAt, &o.ShippedAt, &o.DeliveredAt, &o.UpdatedAt} {
			shift(t)
		}
	}
	for i := range s.Conversations {
		c := &s.Conversations[i]
		for _, t := range []*time.Time{&c.CreatedAt, &c.UpdatedAt, &c.ClosedAt} {
			shift(t)
		}
	}
	for i := range s.Messages {
		shift(&s.Messages[i].CreatedAt)
	}
	for i := range s.Tickets {
		tk := &s.Tickets[i]
		shift(&tk.CreatedAt)
		shift(&tk.UpdatedAt)
		for j := range tk.History {
			shift(&tk.History[j].At)
		}
	}
	for i := range s.Feedback {
		shift(&s.Feedback[i].CreatedAt)
	}
	for i := range s.Canned {
		shift(&s.Canned[i].UpdatedAt)
	}
	return s, nil
}

// Seeder is the part of a store that EnsureSeeded uses; *boltdb.DB
// implements it.
type Seeder interface {
	// Created reports whether the Open that returned the store made it
	// (the file did not exist): only such a store is seeded.
	Created() bool
	// CustomerIDs tells whether the store was seeded already since that
	// Open; it reads the customers' keys only.
	CustomerIDs(ctx context.Context) ([]string, error)
	Import(ctx context.Context, s crm.Snapshot) error
}

// EnsureSeeded loads Seed(now) and the synthetic History(now) into a store
// that its Open created, so that a fresh demo has people to talk about and a
// past to train the routing and satisfaction models on, and reports whether
// it did. A store that existed before is left alone, also when it holds no
// customers (its owner erased them all: they must not come back), and so is
// one seeded already. Errors come from the store (CustomerIDs, Import;
// Import loads all or nothing).
func EnsureSeeded(ctx context.Context, s Seeder, now time.Time) (bool, error) {
	if !s.Created() {
		return false, nil
	}
	ids, err := s.CustomerIDs(ctx)
	if err != nil {
		return false, fmt.Errorf("seed store: %w", err)
	}
	if len(ids) > 0 {
		return false, nil
	}
	snap, err := Seed(now)
	if err != nil {
		return false, err
	}
	h := history(snap, now)
	snap.Conversations = append(snap.Conversations, h.Conversations...)
	snap.Messages = append(snap.Messages, h.Messages...)
	snap.Tickets = append(snap.Tickets, h.Tickets...)
	snap.Feedback = append(snap.Feedback, h.Feedback...)
	if err := s.Import(ctx, snap); err != nil {
		return false, fmt.Errorf("seed store: %w", err)
	}
	return true, nil
}
