package slack

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// This file is the customer side's way out: the bot's, agents' and system
// messages of a Slack customer's conversation go to Slack in order, once,
// through a durable cursor per conversation; a resolved conversation asks
// for a rating.

// deliverBatch is how many stored messages one read of the delivery
// cursor takes.
const deliverBatch = 100

// maxCursors is how many conversations' delivery cursors are kept in
// memory before the idle ones are forgotten (they reload from the store).
const maxCursors = 10000

// customerState holds the delivery cursors of Slack customers'
// conversations. The zero value is ready.
type customerState struct {
	mu      sync.Mutex
	cursors map[string]*cursor // by conversation id; guarded by mu
}

// cursor is what was sent of one conversation. Whoever delivers holds mu
// for the whole read-and-queue, so two triggers never queue a message
// twice.
type cursor struct {
	refs int // holders and waiters; guarded by customerState.mu

	mu       sync.Mutex
	loaded   bool   // durable was read from the store; guarded by mu
	queued   uint64 // highest seq handed to the outbox; guarded by mu
	durable  uint64 // highest seq Slack confirmed (linkSent); guarded by mu
	inflight int    // messages queued, Done not called yet; guarded by mu
	// gen counts the erasures of the conversation: a confirmation of a
	// message of an erased conversation moves no cursor. Guarded by mu.
	gen int
}

// acquire returns the conversation's cursor, locked.
func (s *customerState) acquire(id string) *cursor {
	s.mu.Lock()
	if s.cursors == nil {
		s.cursors = make(map[string]*cursor)
	}
	c := s.cursors[id]
	if c == nil {
		if len(s.cursors) >= maxCursors {
			s.sweep()
		}
		c = &cursor{}
		s.cursors[id] = c
	}
	c.refs++
	s.mu.Unlock()
	c.mu.Lock()
	return c
}

// release unlocks a cursor acquire returned.
func (s *customerState) release(c *cursor) {
	c.mu.Unlock()
	s.mu.Lock()
	c.refs--
	s.mu.Unlock()
}

// sweep forgets the cursors nobody holds and nothing is in flight for:
// they reload from the store. s.mu is held.
func (s *customerState) sweep() {
	for id, c := range s.cursors {
		if c.refs > 0 || !c.mu.TryLock() { // refs == 0: nobody holds it, TryLock succeeds
			continue
		}
		if c.inflight == 0 {
			delete(s.cursors, id)
		}
		c.mu.Unlock()
	}
}

// deliverCustomer queues to the outbox the bot's, agents' and system
// messages of conversation id that are stored after its cursor; it does
// nothing for a conversation that is not a Slack customer's. It never
// calls Slack: the cursor is saved as the outbox confirms each post.
func (a *Adapter) deliverCustomer(ctx context.Context, id string) error {
	channel, thread, ok, err := a.destOf(ctx, id)
	if err != nil || !ok {
		return err
	}
	cur := a.cust.acquire(id)
	defer a.cust.release(cur)
	if !cur.loaded {
		if err := a.loadCursor(ctx, id, cur); err != nil {
			return ignoreGone(err)
		}
	}
	for {
		msgs, err := a.store.MessagesAfter(ctx, id, cur.queued, deliverBatch)
		if err != nil {
			return ignoreGone(fmt.Errorf("read messages of %s: %w", id, err))
		}
		for _, m := range msgs {
			cur.queued = max(cur.queued, m.Seq)
			if m.Sender == crm.SenderCustomer || strings.TrimSpace(m.Text) == "" {
				continue
			}
			cur.inflight++
			a.out.send(a.customerMsg(ctx, channel, thread, m, cur.gen))
		}
		if len(msgs) < deliverBatch {
			return nil
		}
	}
}

// ignoreGone drops crm.ErrNotFound: a conversation erased meanwhile has
// nothing to deliver.
func ignoreGone(err error) error {
	if errors.Is(err, crm.ErrNotFound) {
		return nil
	}
	return err
}

// loadCursor reads the durable cursor of conversation id; cur is held.
// A cursor past the conversation's last message belongs to an erased
// conversation whose id was begun anew: it starts from the beginning.
func (a *Adapter) loadCursor(ctx context.Context, id string, cur *cursor) error {
	var durable uint64
	v, err := a.store.Link(ctx, linkSent+id)
	switch {
	case err == nil:
		durable, _ = strconv.ParseUint(v, 10, 64)
	case !errors.Is(err, crm.ErrNotFound):
		return fmt.Errorf("read delivery cursor of %s: %w", id, err)
	}
	if durable > 0 {
		conv, err := a.store.Conversation(ctx, id)
		if err != nil {
			return fmt.Errorf("read conversation %s: %w", id, err)
		}
		if durable > conv.LastSeq {
			durable = 0
		}
	}
	cur.durable, cur.queued, cur.loaded = durable, durable, true
	return nil
}

// forgetCustomer drops what the customer side keeps of an erased
// conversation: its links and its cursor, so that a conversation begun
// anew under the same id starts clean.
func (a *Adapter) forgetCustomer(ctx context.Context, id string) error {
	cur := a.cust.acquire(id)
	defer a.cust.release(cur)
	cur.gen++
	cur.loaded, cur.queued, cur.durable = false, 0, 0
	channel, thread, ok, err := a.destOf(ctx, id)
	if err != nil || !ok {
		return err
	}
	keys := []string{linkDest + id, linkSent + id, linkCSAT + id}
	if thread != "" {
		keys = append(keys, linkThread+channel+":"+thread)
	}
	for _, k := range keys {
		if err := a.store.PutLink(ctx, k, ""); err != nil {
			return fmt.Errorf("forget erased conversation %s: %w", id, err)
		}
	}
	return nil
}

// customerMsg renders a stored message for the customer: escaped, an
// agent's with the agent's name, quick replies as buttons.
func (a *Adapter) customerMsg(ctx context.Context, channel, thread string, m crm.Message, gen int) outMsg {
	prefix := ""
	if m.Sender == crm.SenderAgent {
		name := "Support"
		if ag, err := a.store.Agent(ctx, m.AgentID); err == nil && ag.Name != "" {
			name = ag.Name // never the login: it is the agent's e-mail address
		}
		prefix = "*" + escapeClip(name, 80) + ":* "
	}
	text := prefix + escapeClip(m.Text, maxTextRunes-len([]rune(prefix)))
	msg := outMsg{Channel: channel, ThreadTS: thread, Text: text}
	if len(m.QuickReplies) > 0 {
		msg.Blocks = quickReplyBlocks(text, m.QuickReplies)
	}
	id, seq := m.ConversationID, m.Seq
	msg.Done = func(_ string, err error) { a.customerSent(ctx, id, seq, gen, err) }
	return msg
}

// customerSent is the outbox's word on message seq of conversation id: on
// success the durable cursor moves up to it; a failure (after the outbox's
// retries) is logged and noted on the conversation for the console, and
// the cursor stays, so the next start sends the message again unless a
// later one got through.
func (a *Adapter) customerSent(ctx context.Context, id string, seq uint64, gen int, err error) {
	cur := a.cust.acquire(id)
	cur.inflight--
	if gen != cur.gen { // the conversation was erased meanwhile
		a.cust.release(cur)
		return
	}
	if err == nil && seq > cur.durable {
		cur.durable = seq
		if perr := a.store.PutLink(ctx, linkSent+id, strconv.FormatUint(seq, 10)); perr != nil && ctx.Err() == nil {
			a.log.Error("slack: save the delivery cursor", "conversation", id, "err", perr)
		}
	}
	a.cust.release(cur)
	if err == nil {
		return
	}
	a.log.Error("slack: message to the customer not delivered", "conversation", id, "seq", seq, "err", err)
	note := clipBytes(fmt.Sprintf("Slack delivery failed (message %d): %v", seq, err), crm.MaxEventText)
	if _, nerr := a.engine.Note(ctx, id, dialog.Actor{Login: "slack"}, note); nerr != nil && ctx.Err() == nil {
		a.log.Error("slack: note the failed delivery", "conversation", id, "err", nerr)
	}
}

// customerEvent delivers the new messages of Slack customers'
// conversations and, once a conversation is resolved, asks for a rating.
// It reads the store and queues; it never waits for Slack.
func (a *Adapter) customerEvent(ctx context.Context, ev dialog.Event) {
	var err error
	switch ev.Type {
	case dialog.EventMessage:
		if ev.Message == nil || ev.Message.Sender == crm.SenderCustomer {
			return
		}
		err = a.deliverCustomer(ctx, ev.ConversationID)
	case dialog.EventState:
		if ev.Conversation == nil || ev.Conversation.Channel != crm.ChannelSlack {
			return
		}
		err = a.deliverCustomer(ctx, ev.ConversationID)
		if err == nil && ev.Conversation.State == crm.StateResolved {
			err = a.askRating(ctx, *ev.Conversation)
		}
	case dialog.EventErased:
		err = a.forgetCustomer(ctx, ev.ConversationID)
	default:
		return
	}
	if err != nil && ctx.Err() == nil {
		a.log.Error("slack: customer side", "conversation", ev.ConversationID, "event", ev.Type, "err", err)
	}
}

// askRating posts the CSAT buttons of a resolved conversation, unless it
// was rated or asked before.
func (a *Adapter) askRating(ctx context.Context, conv crm.Conversation) error {
	id := conv.ID
	channel, thread, ok, err := a.destOf(ctx, id)
	if err != nil || !ok {
		return err
	}
	switch rated, err := a.engine.Rated(ctx, id); {
	case err != nil:
		return err
	case rated:
		return nil
	}
	born := conv.CreatedAt.UTC().Format(time.RFC3339Nano)
	switch v, err := a.store.Link(ctx, linkCSAT+id); {
	case err == nil && v == born:
		return nil // asked before
	case err != nil && !errors.Is(err, crm.ErrNotFound):
		return fmt.Errorf("read rating link: %w", err)
	}
	if err := a.store.PutLink(ctx, linkCSAT+id, born); err != nil {
		return fmt.Errorf("save rating link: %w", err)
	}
	a.out.send(outMsg{Channel: channel, ThreadTS: thread, Text: csatQuestion, Blocks: csatBlocks(id)})
	return nil
}

// customerCatchUp delivers what the open Slack customers' conversations
// have and Slack has not been sent (stored while the adapter was stopped,
// or while the engine's event stream had dropped it).
func (a *Adapter) customerCatchUp(ctx context.Context) error {
	convs, err := a.store.OpenConversations(ctx, crm.ConversationFilter{})
	if err != nil {
		return fmt.Errorf("list open conversations: %w", err)
	}
	for _, c := range convs {
		if c.Channel != crm.ChannelSlack {
			continue
		}
		if err := a.deliverCustomer(ctx, c.ID); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			a.log.Error("slack: catch up a conversation", "conversation", c.ID, "err", err)
		}
	}
	return nil
}
