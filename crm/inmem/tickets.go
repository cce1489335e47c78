package inmem

import (
	"context"
	"fmt"
	"slices"

	"github.com/parleyhq/parley/crm"
)

// createTicket stores a new ticket with id, defaults and times set.
func (d *data) createTicket(t *crm.Ticket) error {
	if err := crm.ValidateTicket(t); err != nil {
		return err
	}
	if _, ok := d.tickets[t.ID]; ok {
		return fmt.Errorf("ticket %q: %w", t.ID, crm.ErrConflict)
	}
	if _, ok := d.customers[t.CustomerID]; !ok {
		return fmt.Errorf("ticket customer %q: %w", t.CustomerID, crm.ErrNotFound)
	}
	d.tickets[t.ID] = cloneTicket(*t)
	return nil
}

// ticketsOf returns the customer's tickets, most recently updated first.
func (d *data) ticketsOf(customerID string) []crm.Ticket {
	ts := []crm.Ticket{}
	for _, t := range d.tickets {
		if t.CustomerID == customerID {
			ts = append(ts, cloneTicket(t))
		}
	}
	slices.SortFunc(ts, func(a, b crm.Ticket) int { return newestFirst(a.UpdatedAt, b.UpdatedAt, a.ID, b.ID) })
	return ts
}

// openTickets returns the customer's open and pending tickets on the topic
// (any topic for all), most recently updated first.
func (d *data) openTickets(customerID, topic string, all bool) []crm.Ticket {
	return slices.DeleteFunc(d.ticketsOf(customerID), func(t crm.Ticket) bool {
		return !t.Status.Open() || (!all && t.Topic != topic)
	})
}

// CreateTicket implements crm.TicketStore. Subject and history notes are
// redacted like message text (as are they in UpdateTicket).
func (s *Store) CreateTicket(ctx context.Context, t crm.Ticket) (crm.Ticket, error) {
	t = cloneTicket(t)
	t.CreatedAt = s.now()
	t.UpdatedAt = t.CreatedAt
	crm.TicketDefaults(&t, t.CreatedAt)
	if err := s.write(ctx, func(d *data) error { return d.createTicket(&t) }); err != nil {
		return crm.Ticket{}, fmt.Errorf("create ticket: %w", err)
	}
	return t, nil
}

// UpdateTicket implements crm.TicketStore.
func (s *Store) UpdateTicket(ctx context.Context, id string, fn func(*crm.Ticket) error) (crm.Ticket, error) {
	var out crm.Ticket
	err := s.write(ctx, func(d *data) error {
		old, ok := d.tickets[id]
		if !ok {
			return fmt.Errorf("ticket %q: %w", id, crm.ErrNotFound)
		}
		cur := cloneTicket(old)
		if err := fn(&cur); err != nil {
			return err
		}
		cur = cloneTicket(cur) // fn may keep the slices it set
		cur.ID, cur.CustomerID, cur.CreatedAt = old.ID, old.CustomerID, old.CreatedAt
		cur.UpdatedAt = s.now()
		if err := crm.ValidateTicket(&cur); err != nil {
			return err
		}
		d.tickets[id] = cur
		out = cloneTicket(cur)
		return nil
	})
	if err != nil {
		return crm.Ticket{}, fmt.Errorf("update ticket: %w", err)
	}
	return out, nil
}

// Ticket implements crm.TicketStore.
func (s *Store) Ticket(ctx context.Context, id string) (crm.Ticket, error) {
	var t crm.Ticket
	err := s.read(ctx, func(d *data) error {
		var ok bool
		if t, ok = d.tickets[id]; !ok {
			return fmt.Errorf("ticket %q: %w", id, crm.ErrNotFound)
		}
		t = cloneTicket(t)
		return nil
	})
	if err != nil {
		return crm.Ticket{}, fmt.Errorf("get ticket: %w", err)
	}
	return t, nil
}

// OpenTickets implements crm.TicketStore.
func (s *Store) OpenTickets(ctx context.Context, customerID string) ([]crm.Ticket, error) {
	var ts []crm.Ticket
	err := s.read(ctx, func(d *data) error {
		ts = d.openTickets(customerID, "", true)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open tickets: %w", err)
	}
	return ts, nil
}

// OpenTicketByTopic implements crm.TicketStore.
func (s *Store) OpenTicketByTopic(ctx context.Context, customerID, topic string) (crm.Ticket, error) {
	var ts []crm.Ticket
	err := s.read(ctx, func(d *data) error {
		ts = d.openTickets(customerID, topic, false)
		return nil
	})
	if err == nil && len(ts) == 0 {
		err = fmt.Errorf("customer %q, topic %q: %w", customerID, topic, crm.ErrNotFound)
	}
	if err != nil {
		return crm.Ticket{}, fmt.Errorf("open ticket by topic: %w", err)
	}
	return ts[0], nil
}

// ---- feedback ----

// addFeedback stores a new rating with id and time set, taking the
// customer from the conversation when f has none. A rating of a
// conversation whose customer is unknown (an anonymous web visitor) has no
// customer.
func (d *data) addFeedback(f *crm.Feedback) error {
	if err := crm.ValidateFeedback(f); err != nil {
		return err
	}
	if f.ConversationID != "" {
		c, err := d.conversation(f.ConversationID)
		if err != nil {
			return err
		}
		if f.CustomerID == "" {
			f.CustomerID = c.c.CustomerID
		}
	}
	if _, ok := d.customers[f.CustomerID]; f.CustomerID != "" && !ok {
		return fmt.Errorf("feedback customer %q: %w", f.CustomerID, crm.ErrNotFound)
	}
	if _, ok := d.feedback[f.ID]; ok {
		return fmt.Errorf("feedback %q: %w", f.ID, crm.ErrConflict)
	}
	d.feedback[f.ID] = *f
	return nil
}

// latestFeedback returns the newest rating that keep accepts.
func (d *data) latestFeedback(keep func(crm.Feedback) bool) (crm.Feedback, bool) {
	var (
		best  crm.Feedback
		found bool
	)
	for _, f := range d.feedback {
		if keep(f) && (!found || newestFirst(f.CreatedAt, best.CreatedAt, f.ID, best.ID) < 0) {
			best, found = f, true
		}
	}
	return best, found
}

// AddFeedback implements crm.FeedbackStore. The comment is redacted like
// message text.
func (s *Store) AddFeedback(ctx context.Context, f crm.Feedback) (crm.Feedback, error) {
	if f.ID == "" {
		f.ID = crm.NewID("fb")
	}
	f.CreatedAt = s.now()
	if err := s.write(ctx, func(d *data) error { return d.addFeedback(&f) }); err != nil {
		return crm.Feedback{}, fmt.Errorf("add feedback: %w", err)
	}
	return f, nil
}

// LatestFeedback implements crm.FeedbackStore.
func (s *Store) LatestFeedback(ctx context.Context, customerID string) (crm.Feedback, error) {
	f, err := s.latest(ctx, "customer", customerID, func(f crm.Feedback) bool { return f.CustomerID == customerID })
	if err != nil {
		return crm.Feedback{}, fmt.Errorf("latest feedback: %w", err)
	}
	return f, nil
}

// ConversationFeedback implements crm.FeedbackStore.
func (s *Store) ConversationFeedback(ctx context.Context, conversationID string) (crm.Feedback, error) {
	f, err := s.latest(ctx, "conversation", conversationID, func(f crm.Feedback) bool { return f.ConversationID == conversationID })
	if err != nil {
		return crm.Feedback{}, fmt.Errorf("conversation feedback: %w", err)
	}
	return f, nil
}

// latest returns the newest rating that keep accepts, for the customer or
// conversation id; ErrNotFound when there is none (or no id).
func (s *Store) latest(ctx context.Context, what, id string, keep func(crm.Feedback) bool) (crm.Feedback, error) {
	if id == "" {
		return crm.Feedback{}, fmt.Errorf("no %s id: %w", what, crm.ErrNotFound)
	}
	var (
		f     crm.Feedback
		found bool
	)
	err := s.read(ctx, func(d *data) error {
		f, found = d.latestFeedback(keep)
		return nil
	})
	if err == nil && !found {
		err = fmt.Errorf("%s %q has none: %w", what, id, crm.ErrNotFound)
	}
	return f, err
}
