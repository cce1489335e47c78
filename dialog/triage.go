package dialog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley/crm"
)

// Situation is what the engine knows of a conversation when a Router
// routes its handoff or a Scorer scores it: the conversation, its messages
// so far, the customer and their history with the shop. Training builds the
// same from the CRM's past conversations, so that a model sees at serving
// time what it saw in training.
type Situation struct {
	Conversation crm.Conversation
	Customer     *crm.Customer // nil while the customer is unknown
	// Messages are the conversation's latest messages (at most
	// SituationMessages), oldest first, ending with the customer message
	// being handled. Customer messages carry their NLU result in Parse
	// when one was stored.
	Messages []crm.Message
	History  History // zero while the customer is unknown
	Now      time.Time
}

// SituationMessages is how many of a conversation's latest messages a
// Situation holds.
const SituationMessages = 20

// PastConversations is how many of the customer's latest conversations a
// Situation counts past handoffs in: the engine builds a Situation for every
// message, so its cost must not grow with a long history.
const PastConversations = 100

// History is what the CRM says about a customer at the time of a
// conversation.
type History struct {
	OpenTickets    int // open or pending cases
	PastHandoffs   int // the customer's other conversations that went to a queue (of the latest PastConversations)
	LastRating     int // newest satisfaction rating, 1..5; 0 when never rated
	LifetimeOrders int // orders placed
}

// Routing is a Router's decision: the queue and priority of a conversation
// being handed off, and why, in words an agent reads.
type Routing struct {
	Queue    string
	Priority crm.Priority
	Reason   string
}

// Router chooses the queue and priority of a conversation being handed off
// (dialog/triage trains one from the CRM's history). An error makes the
// engine fall back to its own rules (the topic's queue, priority from tier,
// last rating and frustration); an empty Queue or Priority keeps the rule's.
type Router interface {
	Route(ctx context.Context, s Situation) (Routing, error)
}

// Risk is a Scorer's estimate for a conversation.
type Risk struct {
	// P is the chance (0..1) that the conversation ends with a rating of
	// 1 or 2.
	P float64
	// Escalate says P reached the scorer's threshold: the engine hands the
	// conversation to a person now rather than waiting for it to go wrong.
	Escalate bool
	// Reason says what raises the risk, in words an agent reads (may be
	// empty); the engine adds it to the routing reason when it escalates.
	Reason string
}

// Scorer estimates, after every customer message the bot handles, how
// likely the conversation is to end with a low rating. The engine stores P
// in crm.Conversation.SatisfactionRisk. An error is logged and the turn
// goes on unscored.
type Scorer interface {
	Score(ctx context.Context, s Situation) (Risk, error)
}

// situation gathers the Situation of the turn's conversation once per turn.
func (t *turn) situation(ctx context.Context) (Situation, error) {
	if t.sit != nil {
		return *t.sit, nil
	}
	s := Situation{Conversation: t.conv, Customer: t.customer, Now: t.now}
	msgs, err := t.e.store.RecentMessages(ctx, t.conv.ID, SituationMessages)
	if err != nil {
		return s, fmt.Errorf("situation: %w", err)
	}
	// The message being handled has no stored parse yet (storeParse runs
	// after the turn): give it the parse as it will be stored, without the
	// embedding, which no feature reads and which is most of its size.
	if n := len(msgs); n > 0 && msgs[n-1].Seq == t.seq && len(msgs[n-1].Parse) == 0 {
		slim := *t.res
		slim.Embedding = nil
		if data, err := json.Marshal(&slim); err == nil {
			msgs[n-1].Parse = data
		}
	}
	s.Messages = msgs
	if c := t.customer; c != nil {
		st := t.e.store
		open, err := st.OpenTickets(ctx, c.ID)
		if err != nil {
			return s, fmt.Errorf("situation: %w", err)
		}
		s.History.OpenTickets = len(open)
		convs, err := st.ConversationsByCustomer(ctx, c.ID, PastConversations)
		if err != nil {
			return s, fmt.Errorf("situation: %w", err)
		}
		for _, o := range convs {
			if o.ID != t.conv.ID && o.Queue != "" {
				s.History.PastHandoffs++
			}
		}
		fb, err := st.LatestFeedback(ctx, c.ID)
		switch {
		case err == nil:
			s.History.LastRating = fb.Score
		case !errors.Is(err, crm.ErrNotFound):
			return s, fmt.Errorf("situation: %w", err)
		}
		orders, err := st.OrdersByCustomer(ctx, c.ID, 0)
		if err != nil {
			return s, fmt.Errorf("situation: %w", err)
		}
		s.History.LifetimeOrders = len(orders)
	}
	t.sit = &s
	return s, nil
}

// route asks the Router for the queue and priority of a handoff. ok is
// false when there is no Router or it failed (the failure is logged): the
// rules decide then.
func (t *turn) route(ctx context.Context) (r Routing, ok bool) {
	if t.e.router == nil {
		return r, false
	}
	s, err := t.situation(ctx)
	if err == nil {
		r, err = t.e.router.Route(ctx, s)
	}
	if err != nil {
		t.e.log.Error("route handoff", "conversation", t.conv.ID, "err", err)
		return r, false
	}
	return r, true
}

// score updates the conversation's satisfaction risk after the policy ran,
// and hands off early when the Scorer says so and the bot still holds the
// conversation. Without a Scorer it does nothing; a failing Scorer is
// logged and leaves the risk as it was.
func (t *turn) score(ctx context.Context) error {
	if t.e.scorer == nil {
		return nil
	}
	s, err := t.situation(ctx)
	var r Risk
	if err == nil {
		r, err = t.e.scorer.Score(ctx, s)
	}
	if err == nil && !(r.P >= 0 && r.P <= 1) { // NaN too: it could not be stored
		err = fmt.Errorf("risk %v outside 0..1", r.P)
	}
	if err != nil {
		t.e.log.Error("score satisfaction", "conversation", t.conv.ID, "err", err)
		return nil
	}
	t.conv.SatisfactionRisk = r.P
	if !r.Escalate || t.handed || t.conv.State != crm.StateBot {
		return nil
	}
	why := fmt.Sprintf("likely to be unhappy (risk %.2f)", r.P)
	if r.Reason != "" {
		why += ": " + r.Reason
	}
	return t.handoff(ctx, why, true, "handoff_frustrated")
}

// joinReason appends the router's reason to the handoff's trigger.
func joinReason(why []string, r Routing) string {
	if r.Reason != "" {
		why = append(why, r.Reason)
	}
	return strings.Join(why, "; ")
}
