package inmem

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley/crm"
)

// createConversation stores a new conversation with id, defaults and times
// set.
func (d *data) createConversation(c *crm.Conversation) error {
	if err := crm.ValidateConversation(c); err != nil {
		return err
	}
	if _, ok := d.convs[c.ID]; ok {
		return fmt.Errorf("conversation %q: %w", c.ID, crm.ErrConflict)
	}
	if _, ok := d.customers[c.CustomerID]; c.CustomerID != "" && !ok {
		return fmt.Errorf("conversation customer %q: %w", c.CustomerID, crm.ErrNotFound)
	}
	d.convs[c.ID] = &conversation{c: cloneConversation(*c), clients: map[string]uint64{}}
	return nil
}

// conversation returns the conversation with the id, or ErrNotFound.
func (d *data) conversation(id string) (*conversation, error) {
	c, ok := d.convs[id]
	if !ok {
		return nil, fmt.Errorf("conversation %q: %w", id, crm.ErrNotFound)
	}
	return c, nil
}

// updated applies fn to a copy of old and returns what UpdateConversation
// stores, without storing it.
func (d *data) updated(old crm.Conversation, fn func(*crm.Conversation) error, now time.Time) (crm.Conversation, error) {
	cur := cloneConversation(old)
	if err := fn(&cur); err != nil {
		return crm.Conversation{}, err
	}
	cur = cloneConversation(cur) // fn may keep the map it set
	if err := crm.UpdatedConversation(old, &cur, now); err != nil {
		return crm.Conversation{}, err
	}
	if _, ok := d.customers[cur.CustomerID]; cur.CustomerID != old.CustomerID && cur.CustomerID != "" && !ok {
		return crm.Conversation{}, fmt.Errorf("conversation customer %q: %w", cur.CustomerID, crm.ErrNotFound)
	}
	return cur, nil
}

// CreateConversation implements crm.ConversationStore.
func (s *Store) CreateConversation(ctx context.Context, c crm.Conversation) (crm.Conversation, error) {
	c = cloneConversation(c)
	now := s.now()
	c.CreatedAt, c.UpdatedAt, c.ClosedAt = now, time.Time{}, time.Time{}
	c.LastSeq, c.LastCustomerSeq, c.AnsweredSeq = 0, 0, 0
	crm.ConversationDefaults(&c, now)
	if err := s.write(ctx, func(d *data) error { return d.createConversation(&c) }); err != nil {
		return crm.Conversation{}, fmt.Errorf("create conversation: %w", err)
	}
	return c, nil
}

// Conversation implements crm.ConversationStore.
func (s *Store) Conversation(ctx context.Context, id string) (crm.Conversation, error) {
	var out crm.Conversation
	err := s.read(ctx, func(d *data) error {
		c, err := d.conversation(id)
		if err != nil {
			return err
		}
		out = cloneConversation(c.c)
		return nil
	})
	if err != nil {
		return crm.Conversation{}, fmt.Errorf("get conversation: %w", err)
	}
	return out, nil
}

// UpdateConversation implements crm.ConversationStore.
func (s *Store) UpdateConversation(ctx context.Context, id string, fn func(*crm.Conversation) error) (crm.Conversation, error) {
	var out crm.Conversation
	err := s.write(ctx, func(d *data) error {
		c, err := d.conversation(id)
		if err != nil {
			return err
		}
		cur, err := d.updated(c.c, fn, s.now())
		if err != nil {
			return err
		}
		c.c = cur
		out = cloneConversation(cur)
		return nil
	})
	if err != nil {
		return crm.Conversation{}, fmt.Errorf("update conversation: %w", err)
	}
	return out, nil
}

// OpenConversations implements crm.ConversationStore.
func (s *Store) OpenConversations(ctx context.Context, f crm.ConversationFilter) ([]crm.Conversation, error) {
	switch f.State {
	case "", crm.StateBot, crm.StateWaiting, crm.StateAgent:
	default:
		return nil, fmt.Errorf("open conversations: state %q: %w", f.State, crm.ErrInvalid)
	}
	cs := []crm.Conversation{}
	err := s.read(ctx, func(d *data) error {
		for _, c := range d.convs {
			if !c.c.Open() || (f.State != "" && c.c.State != f.State) || (f.Queue != "" && c.c.Queue != f.Queue) ||
				(f.Unanswered && !c.c.Unanswered()) {
				continue
			}
			cs = append(cs, cloneConversation(c.c))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open conversations: %w", err)
	}
	slices.SortFunc(cs, func(a, b crm.Conversation) int {
		if c := cmp.Compare(b.Priority.Rank(), a.Priority.Rank()); c != 0 {
			return c
		}
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return firstN(cs, f.Limit), nil
}

// Conversations implements crm.ConversationStore.
func (s *Store) Conversations(ctx context.Context, afterID string, limit int) ([]crm.Conversation, error) {
	out := []crm.Conversation{}
	err := s.read(ctx, func(d *data) error {
		for _, c := range d.convs {
			if c.c.ID > afterID {
				out = append(out, cloneConversation(c.c))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	slices.SortFunc(out, func(a, b crm.Conversation) int { return cmp.Compare(a.ID, b.ID) })
	return firstN(out, limit), nil
}

// conversationsOf returns the customer's conversations, newest first.
func (d *data) conversationsOf(customerID string) []*conversation {
	var cs []*conversation
	for _, c := range d.convs {
		if c.c.CustomerID == customerID && customerID != "" {
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, func(a, b *conversation) int { return newestFirst(a.c.CreatedAt, b.c.CreatedAt, a.c.ID, b.c.ID) })
	return cs
}

// ConversationsByCustomer implements crm.ConversationStore.
func (s *Store) ConversationsByCustomer(ctx context.Context, customerID string, limit int) ([]crm.Conversation, error) {
	out := []crm.Conversation{}
	err := s.read(ctx, func(d *data) error {
		for _, c := range firstN(d.conversationsOf(customerID), limit) {
			out = append(out, cloneConversation(c.c))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("conversations by customer: %w", err)
	}
	return out, nil
}
