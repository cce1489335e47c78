package dialog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/crm"
)

// Defaults of Config.QueueTimeout and Config.AgentTimeout.
const (
	DefaultQueueTimeout = 2 * time.Minute
	DefaultAgentTimeout = 5 * time.Minute
)

// Slots and the ticket topic of a customer's e-mail reply.
const (
	slotContactEmail = "contact_email" // where the customer wants the reply
	topicEmailReply  = "email_reply"
)

// Sweep makes one pass over the conversations waiting for, or held by, an
// agent, and returns how many it changed:
//
//   - one that has waited in its queue for Config.QueueTimeout (at once
//     outside Config.Hours) hears, once per handoff, that nobody is free,
//     with the offer to leave an e-mail address for a reply (event
//     timeout); it stays in its queue, and an agent can still claim it;
//   - one whose agent took it Config.AgentTimeout ago and has not written
//     in it since goes back to its queue with nobody assigned (event
//     requeue), so the consoles alert again;
//   - one the bot holds whose newest customer message has waited
//     Config.StallTimeout unanswered (its node stopped between the
//     acknowledgement and the answer) is answered (see answerStalled).
//
// Each change is made as Claim's are (under the conversation's lock, and
// only if the conversation is still as it was read), so a claim or an
// agent's message that comes first wins. A failure in one conversation is
// logged and the others go on; the error is ctx's or the store's listing.
func (e *Engine) Sweep(ctx context.Context) (int, error) {
	now := e.now()
	limit := e.queueTimeout
	if !e.hours.Open(now) {
		limit = 0
	}
	n := 0
	waiting, err := e.store.OpenConversations(ctx, crm.ConversationFilter{State: crm.StateWaiting})
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	for _, c := range waiting {
		if !queueTimedOut(c, now, limit) {
			continue
		}
		changed, err := e.timeOut(ctx, c.ID, now, limit)
		if err != nil {
			if ctx.Err() != nil {
				return n, fmt.Errorf("sweep: %w", ctx.Err())
			}
			e.log.Error("queue timeout", "conversation", c.ID, "err", err)
		}
		if changed {
			n++
		}
	}
	held, err := e.store.OpenConversations(ctx, crm.ConversationFilter{State: crm.StateAgent})
	if err != nil {
		return n, fmt.Errorf("sweep: %w", err)
	}
	for _, c := range held {
		if !agentTimedOut(c, now, e.agentTimeout) {
			continue
		}
		_, ev, err := e.change(ctx, c.ID, e.requeue(now))
		if err != nil {
			if ctx.Err() != nil {
				return n, fmt.Errorf("sweep: %w", ctx.Err())
			}
			e.log.Error("agent timeout", "conversation", c.ID, "err", err)
		}
		if ev != nil {
			n++
		}
	}
	answered, err := e.answerStalled(ctx, now)
	if err != nil {
		return n + answered, fmt.Errorf("sweep: %w", err)
	}
	return n + answered, nil
}

// RunSweeper calls Sweep every interval (1s at least) until ctx ends,
// logging its errors.
func (e *Engine) RunSweeper(ctx context.Context, every time.Duration) {
	every = max(every, time.Second)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if n, err := e.Sweep(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("sweep timeouts", "err", err)
		} else if n > 0 {
			e.log.Info("sweep timeouts", "changed", n)
		}
	}
}

func queueTimedOut(c crm.Conversation, now time.Time, limit time.Duration) bool {
	return c.State == crm.StateWaiting && c.Slots[keyQueueTimeout] == "" && !now.Before(c.StateSince.Add(limit))
}

func agentTimedOut(c crm.Conversation, now time.Time, limit time.Duration) bool {
	return c.State == crm.StateAgent && !now.Before(c.StateSince.Add(limit)) && c.LastAgentAt.Before(c.StateSince)
}

// timeOut tells the customer of a conversation that has waited too long
// that nobody is free; changed is false when it was claimed (or timed out)
// meanwhile.
func (e *Engine) timeOut(ctx context.Context, id string, now time.Time, limit time.Duration) (changed bool, err error) {
	unlock, err := e.lock(ctx, id)
	if err != nil {
		return false, err
	}
	defer unlock()
	c, ev, err := e.changeLocked(ctx, id, func(c crm.Conversation) (crm.Event, func(*crm.Conversation), error) {
		if !queueTimedOut(c, now, limit) {
			return crm.Event{}, nil, errUnchanged
		}
		ev := crm.Event{Type: crm.EventTimeout, Actor: crm.ActorSystem, Queue: c.Queue,
			Text: fmt.Sprintf("nobody claimed it within %s", max(limit, 0))}
		return ev, func(c *crm.Conversation) {
			c.Slots = maps.Clone(c.Slots)
			if c.Slots == nil {
				c.Slots = make(map[string]string)
			}
			c.Slots[keyQueueTimeout] = now.UTC().Format(time.RFC3339)
		}, nil
	})
	if err != nil || ev == nil {
		return false, err
	}
	m, fresh, err := e.store.AppendMessage(ctx, crm.Message{ConversationID: id, Sender: crm.SenderBot,
		Text: render(pick(e.message("queue_timeout"), c.LastSeq), vars{"queue": c.Queue}), ClientID: "timeout:" + ev.ID})
	if err != nil {
		return true, fmt.Errorf("tell customer: %w", err)
	}
	if fresh {
		e.publishMessage(m)
	}
	return true, nil
}

// requeue decides the return to its queue of a conversation whose agent
// has not written since taking it.
func (e *Engine) requeue(now time.Time) decider {
	return func(c crm.Conversation) (crm.Event, func(*crm.Conversation), error) {
		if !agentTimedOut(c, now, e.agentTimeout) {
			return crm.Event{}, nil, errUnchanged
		}
		q := e.queueOr(c.Queue)
		ev := crm.Event{Type: crm.EventRequeue, Actor: crm.ActorSystem, Queue: q,
			Text: fmt.Sprintf("%s did not answer within %s", c.AssignedAgent, e.agentTimeout)}
		return ev, func(c *crm.Conversation) {
			c.State, c.Queue, c.AssignedAgent = crm.StateWaiting, q, ""
		}, nil
	}
}

// waiting handles a customer message in a conversation waiting for an
// agent: the bot stays silent, except that it takes an e-mail address for
// a reply once it has said nobody is free (Sweep), and lets the customer
// leave the queue with a goodbye (a closing cue the NLU reads as the
// domain's resolve intent or small talk). Only the message this Answer is
// about (out.Inbound) is looked at, once. done is false when another
// process answered it meanwhile.
func (e *Engine) waiting(ctx context.Context, sit Situation, out *Outcome) (done bool, err error) {
	conv, m := sit.Conversation, out.Inbound
	if m.ConversationID != conv.ID || m.Sender != crm.SenderCustomer || m.Seq <= conv.AnsweredSeq {
		out.Actions = append(out.Actions, "silent")
		return true, nil
	}
	var (
		update func(*crm.Conversation)
		text   string
		ev     crm.Event
		parse  []byte
		action string
	)
	email := findEmail(m.Text)
	switch {
	case conv.Slots[keyQueueTimeout] != "" && email != "":
		if err := e.contactTicket(ctx, conv, email); err != nil {
			return true, err
		}
		update = func(c *crm.Conversation) { c.Slots[slotContactEmail] = email }
		text = render(pick(e.message("contact_saved"), m.Seq), vars{"value": email, "queue": conv.Queue})
		ev = crm.Event{Type: crm.EventContact, Actor: crm.ActorBot, Queue: conv.Queue, Text: email}
		action = "contact"
	case e.closingCue(m.Text):
		res, err := e.parser.Parse(ctx, m.Text)
		if err != nil {
			return true, fmt.Errorf("parse: %w", err)
		}
		out.Parse = res
		it := e.domain.Intents[res.Intent]
		if !res.InScope || it == nil || it.Action != ActionResolve && !slices.Contains(smallTalk, it.Name) {
			out.Actions = append(out.Actions, "silent")
			return true, nil
		}
		if parse, err = storedParse(res); err != nil {
			return true, fmt.Errorf("parse: %w", err)
		}
		update = func(c *crm.Conversation) { c.State, c.ActiveForm = crm.StateResolved, "" }
		text = render(pick(e.message("left_queue"), m.Seq), nil)
		ev = crm.Event{Type: crm.EventLeave, Actor: crm.ActorBot, Queue: conv.Queue}
		action = "leave"
	default:
		out.Actions = append(out.Actions, "silent")
		return true, nil
	}
	commit := crm.Turn{ConversationID: conv.ID, Seq: m.Seq, Parse: parse,
		Update: func(c *crm.Conversation) error {
			if c.State != crm.StateWaiting {
				return errTakenOver
			}
			c.Slots = maps.Clone(c.Slots)
			if c.Slots == nil {
				c.Slots = make(map[string]string)
			}
			update(c)
			return nil
		},
		Replies: []crm.Message{{Sender: crm.SenderBot, Text: text, ClientID: fmt.Sprintf("reply:%s:0", m.ID)}},
		Events:  []crm.Event{ev},
	}
	updated, replies, events, err := e.store.CommitTurn(ctx, commit)
	switch {
	case errors.Is(err, errTakenOver):
		out.Actions = append(out.Actions, "taken_over")
		return true, nil
	case errors.Is(err, crm.ErrAnswered):
		return false, nil
	case err != nil:
		return true, fmt.Errorf("store turn: %w", err)
	}
	out.Actions = append(out.Actions, action)
	out.Replies = append(out.Replies, replies...)
	out.Conversation = updated
	for _, r := range replies {
		e.publishMessage(r)
	}
	e.publishState(updated)
	for _, ev := range events {
		e.publishLifecycle(ev)
	}
	return true, nil
}

// contactTicket records, for a known customer, that they want a reply by
// e-mail: a ticket in the conversation's queue, or a note on their open one
// about it.
func (e *Engine) contactTicket(ctx context.Context, conv crm.Conversation, email string) error {
	if conv.CustomerID == "" {
		return nil
	}
	now := e.now()
	note := fmt.Sprintf("customer left %s for a reply by e-mail while waiting in conversation %s", email, conv.ID)
	existing, err := e.store.OpenTicketByTopic(ctx, conv.CustomerID, topicEmailReply)
	switch {
	case err == nil:
		_, err = e.store.UpdateTicket(ctx, existing.ID, func(tk *crm.Ticket) error {
			if !slices.Contains(tk.Conversations, conv.ID) {
				tk.Conversations = append(tk.Conversations, conv.ID)
			}
			tk.History = append(tk.History, crm.TicketEvent{At: now, Actor: crm.ActorBot, Note: note})
			return nil
		})
		return err
	case !errors.Is(err, crm.ErrNotFound):
		return err
	}
	_, err = e.store.CreateTicket(ctx, crm.Ticket{
		CustomerID: conv.CustomerID, Subject: "Reply by e-mail to " + email, Topic: topicEmailReply,
		Queue: e.queueOr(conv.Queue), Priority: conv.Priority, Conversations: []string{conv.ID},
		History: []crm.TicketEvent{{At: now, Actor: crm.ActorBot, Note: note}},
	})
	return err
}

// closingCue reports whether text has one of the domain's closing cues as
// whole words.
func (e *Engine) closingCue(text string) bool {
	s := " " + strings.Join(words(text), " ") + " "
	for _, c := range e.domain.Policy.ClosingCues {
		if strings.Contains(s, " "+c+" ") {
			return true
		}
	}
	return false
}

// findEmail returns the first e-mail address in text, or "": a word with
// one "@" between a local part and a domain with a dot, stripped of the
// punctuation around it ("<ana@example.com>," gives ana@example.com).
func findEmail(text string) string {
	for _, w := range strings.Fields(text) {
		w = strings.Trim(w, "<>()[]{}\"',;:.!?")
		w = strings.TrimPrefix(w, "mailto:")
		local, domain, ok := strings.Cut(w, "@")
		if !ok || local == "" || strings.Contains(domain, "@") || len(w) > crm.MaxKeyPart {
			continue
		}
		dot := strings.LastIndexByte(domain, '.')
		if dot <= 0 || dot == len(domain)-1 || strings.Contains(domain, "..") {
			continue
		}
		return w
	}
	return ""
}
