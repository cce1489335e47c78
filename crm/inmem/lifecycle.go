package inmem

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley/crm"
)

// addEvent stores ev, already prepared, as the next event of c, at now.
// It cannot fail.
func (c *conversation) addEvent(ev crm.Event, now time.Time) crm.Event {
	ev.ID = crm.NewID("evt")
	ev.ConversationID = c.c.ID
	ev.Seq = uint64(len(c.events)) + 1
	ev.At = now
	c.events = append(c.events, ev)
	return ev
}

// prepareEvents checks and redacts the events of a turn before the lock is
// taken; an error says which event.
func prepareEvents(evs []crm.Event) ([]crm.Event, error) {
	out := make([]crm.Event, len(evs))
	for i, ev := range evs {
		p, err := crm.PrepareEvent(ev)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		out[i] = p
	}
	return out, nil
}

// Transition implements crm.LifecycleStore. The event is checked before
// the lock is taken, and fn (when not nil) is applied to a copy, so that a
// failure at either step changes nothing.
func (s *Store) Transition(ctx context.Context, conversationID string, ev crm.Event, fn func(*crm.Conversation) error) (crm.Conversation, crm.Event, error) {
	ev, err := crm.PrepareEvent(ev)
	if err != nil {
		return crm.Conversation{}, crm.Event{}, fmt.Errorf("transition: %w", err)
	}
	var (
		out    crm.Conversation
		stored crm.Event
	)
	err = s.write(ctx, func(d *data) error {
		c, err := d.conversation(conversationID)
		if err != nil {
			return err
		}
		now := s.now()
		cur := c.c
		if fn != nil {
			if cur, err = d.updated(c.c, fn, now); err != nil {
				return err
			}
		}
		// Nothing below fails.
		c.c = cur
		stored = c.addEvent(ev, now)
		out = cloneConversation(cur)
		return nil
	})
	if err != nil {
		return crm.Conversation{}, crm.Event{}, fmt.Errorf("transition: %w", err)
	}
	return out, stored, nil
}

// Events implements crm.LifecycleStore.
func (s *Store) Events(ctx context.Context, conversationID string, afterSeq uint64, limit int) ([]crm.Event, error) {
	var evs []crm.Event
	err := s.read(ctx, func(d *data) error {
		c, err := d.conversation(conversationID)
		if err != nil {
			return err
		}
		after := c.events[min(afterSeq, uint64(len(c.events))):]
		evs = slices.Clone(firstN(after, limit))
		if evs == nil {
			evs = []crm.Event{}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return evs, nil
}

// CreatedBetween implements crm.LifecycleStore. It scans every
// conversation: the in-memory store has no index.
func (s *Store) CreatedBetween(ctx context.Context, from, to time.Time, limit int) ([]crm.Conversation, error) {
	out := []crm.Conversation{}
	err := s.read(ctx, func(d *data) error {
		for _, c := range d.convs {
			if inRange(c.c.CreatedAt, from, to) {
				out = append(out, cloneConversation(c.c))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("created between: %w", err)
	}
	slices.SortFunc(out, func(a, b crm.Conversation) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return firstN(out, limit), nil
}

// ResolvedBetween implements crm.LifecycleStore. A conversation reopened
// by a customer message keeps its ClosedAt until its next update but is no
// longer resolved, so it is not listed.
func (s *Store) ResolvedBetween(ctx context.Context, from, to time.Time, limit int) ([]crm.Conversation, error) {
	out := []crm.Conversation{}
	err := s.read(ctx, func(d *data) error {
		for _, c := range d.convs {
			if c.c.State == crm.StateResolved && inRange(c.c.ClosedAt, from, to) {
				out = append(out, cloneConversation(c.c))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("resolved between: %w", err)
	}
	slices.SortFunc(out, func(a, b crm.Conversation) int { return newestFirst(a.ClosedAt, b.ClosedAt, a.ID, b.ID) })
	return firstN(out, limit), nil
}

// inRange reports whether t is in [from, to).
func inRange(t, from, to time.Time) bool {
	return !t.Before(from) && t.Before(to)
}
