package inmem

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parleyhq/parley/crm"
)

// appendMessage appends m, already prepared, to conversation c, and reports
// whether it stored it (false: a message with its ClientID was there, and
// is returned). It cannot fail.
func (c *conversation) appendMessage(m crm.Message, now time.Time) (crm.Message, bool) {
	if seq, ok := c.clients[m.ClientID]; ok && m.ClientID != "" {
		return cloneMessage(c.msgs[seq-1]), false
	}
	m = cloneMessage(m)
	m.ConversationID = c.c.ID
	m.Seq = c.c.LastSeq + 1
	m.ID = crm.NewID("msg")
	m.CreatedAt = now
	c.msgs = append(c.msgs, m)
	if m.ClientID != "" {
		c.clients[m.ClientID] = m.Seq
	}
	conv := c.c
	if m.Sender == crm.SenderCustomer {
		conv.LastCustomerSeq = m.Seq
		if conv.State == crm.StateResolved {
			// ClosedAt stays until the next update, so that the engine
			// sees the conversation was reopened.
			conv.State, conv.StateSince = crm.StateBot, now
		}
	}
	if m.Sender == crm.SenderAgent {
		conv.LastAgentAt = now
	}
	conv.LastSeq, conv.UpdatedAt = m.Seq, now
	c.c = conv
	return cloneMessage(m), true
}

// importMessage stores m, prepared but with the snapshot's ID, Seq and
// CreatedAt, as the next message of its conversation.
func (d *data) importMessage(m crm.Message, now time.Time) error {
	c, err := d.conversation(m.ConversationID)
	if err != nil {
		return err
	}
	if m.Seq != 0 && m.Seq != c.c.LastSeq+1 {
		return fmt.Errorf("message seq %d in conversation %q after %d: %w", m.Seq, m.ConversationID, c.c.LastSeq, crm.ErrInvalid)
	}
	m.Seq = c.c.LastSeq + 1
	if m.ID == "" {
		m.ID = crm.NewID("msg")
	} else if err := crm.CheckKeyPart("message id", m.ID); err != nil {
		return err
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	if m.ClientID != "" {
		if _, ok := c.clients[m.ClientID]; ok {
			return fmt.Errorf("message client id %q: %w", m.ClientID, crm.ErrConflict)
		}
		c.clients[m.ClientID] = m.Seq
	}
	c.msgs = append(c.msgs, m)
	conv := c.c
	conv.LastSeq = m.Seq
	if m.Sender == crm.SenderCustomer {
		// Imported history counts as answered: a restored backup is not
		// answered again.
		conv.LastCustomerSeq, conv.AnsweredSeq = m.Seq, m.Seq
	}
	if m.Sender == crm.SenderAgent && conv.LastAgentAt.Before(m.CreatedAt) {
		conv.LastAgentAt = m.CreatedAt
	}
	if conv.UpdatedAt.Before(m.CreatedAt) {
		conv.UpdatedAt = m.CreatedAt
	}
	c.c = conv
	return nil
}

// AppendMessage implements crm.ConversationStore. The message is "committed"
// when it is in memory: nothing is durable.
func (s *Store) AppendMessage(ctx context.Context, m crm.Message) (crm.Message, bool, error) {
	m, err := crm.PrepareMessage(m, s.maxMsg)
	if err != nil {
		return crm.Message{}, false, fmt.Errorf("append message: %w", err)
	}
	var (
		out     crm.Message
		created bool
	)
	err = s.write(ctx, func(d *data) error {
		c, err := d.conversation(m.ConversationID)
		if err != nil {
			return err
		}
		out, created = c.appendMessage(m, s.now())
		return nil
	})
	if err != nil {
		return crm.Message{}, false, fmt.Errorf("append message: %w", err)
	}
	return out, created, nil
}

// message checks that message seq of c is stored.
func (c *conversation) message(seq uint64) error {
	if seq == 0 || seq > uint64(len(c.msgs)) {
		return fmt.Errorf("message %d of conversation %q: %w", seq, c.c.ID, crm.ErrNotFound)
	}
	return nil
}

// setParse attaches a prepared parse to message seq, which is stored.
func (c *conversation) setParse(seq uint64, parse json.RawMessage) {
	m := c.msgs[seq-1]
	m.Parse = parse
	c.msgs[seq-1] = m
}

// SetMessageParse implements crm.ConversationStore.
func (s *Store) SetMessageParse(ctx context.Context, conversationID string, seq uint64, parse json.RawMessage) error {
	redacted, err := crm.PrepareParse(parse)
	if err != nil {
		return fmt.Errorf("set message parse: %w", err)
	}
	err = s.write(ctx, func(d *data) error {
		c, err := d.conversation(conversationID)
		if err != nil {
			return fmt.Errorf("message %d of conversation %q: %w", seq, conversationID, crm.ErrNotFound)
		}
		if err := c.message(seq); err != nil {
			return err
		}
		c.setParse(seq, redacted)
		return nil
	})
	if err != nil {
		return fmt.Errorf("set message parse: %w", err)
	}
	return nil
}

// CommitTurn implements crm.ConversationStore. Everything that can fail is
// checked before anything is changed, so a failed turn writes nothing.
func (s *Store) CommitTurn(ctx context.Context, t crm.Turn) (crm.Conversation, []crm.Message, []crm.Event, error) {
	conv, replies, events, err := s.commitTurn(ctx, t)
	if err != nil {
		return crm.Conversation{}, nil, nil, fmt.Errorf("commit turn: %w", err)
	}
	return conv, replies, events, nil
}

func (s *Store) commitTurn(ctx context.Context, t crm.Turn) (crm.Conversation, []crm.Message, []crm.Event, error) {
	parse, prepared, err := crm.PrepareTurn(t, s.maxMsg)
	if err != nil {
		return crm.Conversation{}, nil, nil, err
	}
	events, err := prepareEvents(t.Events)
	if err != nil {
		return crm.Conversation{}, nil, nil, err
	}
	var (
		out       crm.Conversation
		stored    = make([]crm.Message, 0, len(prepared))
		storedEvs = make([]crm.Event, 0, len(events))
	)
	err = s.write(ctx, func(d *data) error {
		c, err := d.conversation(t.ConversationID)
		if err != nil {
			return err
		}
		if err := crm.CheckTurn(c.c, t.Seq); err != nil {
			return err
		}
		if err := c.message(t.Seq); err != nil {
			return err
		}
		now := s.now()
		cur := c.c
		if t.Update != nil {
			if cur, err = d.updated(c.c, t.Update, now); err != nil {
				return err
			}
		}
		// Nothing below fails.
		c.c = cur
		if parse != nil {
			c.setParse(t.Seq, parse)
		}
		for _, r := range prepared {
			m, _ := c.appendMessage(r, now)
			stored = append(stored, m)
		}
		for _, ev := range events {
			storedEvs = append(storedEvs, c.addEvent(ev, now))
		}
		crm.FinishTurn(&c.c, t.Seq, now)
		out = cloneConversation(c.c)
		return nil
	})
	if err != nil {
		return crm.Conversation{}, nil, nil, err
	}
	return out, stored, storedEvs, nil
}

// MessagesAfter implements crm.ConversationStore.
func (s *Store) MessagesAfter(ctx context.Context, conversationID string, afterSeq uint64, limit int) ([]crm.Message, error) {
	var ms []crm.Message
	err := s.read(ctx, func(d *data) error {
		c, err := d.conversation(conversationID)
		if err != nil {
			return err
		}
		after := c.msgs[min(afterSeq, uint64(len(c.msgs))):]
		ms = cloneMessages(firstN(after, limit))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("messages after: %w", err)
	}
	return ms, nil
}

// RecentMessages implements crm.ConversationStore.
func (s *Store) RecentMessages(ctx context.Context, conversationID string, n int) ([]crm.Message, error) {
	if n <= 0 {
		return nil, fmt.Errorf("recent messages: n = %d: %w", n, crm.ErrInvalid)
	}
	var ms []crm.Message
	err := s.read(ctx, func(d *data) error {
		c, err := d.conversation(conversationID)
		if err != nil {
			return err
		}
		ms = cloneMessages(c.msgs[max(len(c.msgs)-n, 0):])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recent messages: %w", err)
	}
	return ms, nil
}
