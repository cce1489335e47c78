package dialog

import (
	"context"
	"fmt"
	"strings"

	"github.com/parleyhq/parley/crm"
)

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

// situation returns the turn's situation as it stands: with the customer
// the turn identified, whose history is read then (one more read, only in
// the turn that identifies them), and with the conversation as the turn has
// changed it so far.
func (t *turn) situation(ctx context.Context) (Situation, error) {
	if c := t.customer; c != nil && (t.sit.Customer == nil || t.sit.Customer.ID != c.ID) {
		h, err := t.e.store.History(ctx, t.conv.ID, crm.HistoryQuery{Messages: 1, CustomerID: c.ID})
		if err != nil {
			return t.sit, fmt.Errorf("situation: %w", err)
		}
		t.sit.setCustomer(h)
	}
	t.sit.Conversation = t.conv
	return t.sit, nil
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
