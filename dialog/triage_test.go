package dialog_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shoptest"
)

// fakeRouter answers with a fixed routing, or fails, and keeps the
// situations it was asked about.
type fakeRouter struct {
	mu   sync.Mutex
	r    dialog.Routing
	err  error
	seen []dialog.Situation // guarded by mu
}

func (f *fakeRouter) Route(_ context.Context, s dialog.Situation) (dialog.Routing, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, s)
	return f.r, f.err
}

// fakeScorer answers the risks in order (the last one again when they run
// out), or fails, and keeps the situations.
type fakeScorer struct {
	mu        sync.Mutex
	risks     []float64 // guarded by mu
	threshold float64
	err       error
	seen      []dialog.Situation // guarded by mu
}

func (f *fakeScorer) Score(_ context.Context, s dialog.Situation) (dialog.Risk, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, s)
	if f.err != nil {
		return dialog.Risk{}, f.err
	}
	p := f.risks[0]
	if len(f.risks) > 1 {
		f.risks = f.risks[1:]
	}
	r := dialog.Risk{P: p, Escalate: p >= f.threshold}
	if r.Escalate {
		r.Reason = "cue_words, exclamations"
	}
	return r, nil
}

// triageHarness is a harness whose engine has the router and scorer (either
// may be nil).
func triageHarness(t *testing.T, r dialog.Router, s dialog.Scorer) *harness {
	t.Helper()
	h := &harness{db: seededDB(t), nlu: &fakeNLU{}, bus: dialog.NewBus(), caller: &fakeCaller{}, logs: &bytes.Buffer{}}
	h.parser = dialog.NewSwapParser(h.nlu)
	t.Cleanup(h.bus.Close)
	var err error
	h.engine, err = dialog.New(dialog.Config{
		Domain: shoptest.Domain(t), Parser: h.parser, Store: h.db, Events: h.bus, Now: func() time.Time { return now },
		Caller: h.caller, Logger: slog.New(slog.NewJSONHandler(&lockedWriter{w: h.logs}, nil)),
		Router: r, Scorer: s,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRouterDecidesHandoff(t *testing.T) {
	ctx := context.Background()
	router := &fakeRouter{r: dialog.Routing{Queue: "vip", Priority: crm.PriorityUrgent, Reason: "routed by model: intent=human_agent + tier=gold -> urgent"}}
	h := triageHarness(t, router, nil)
	conv := h.start(t, "ana@example.com")
	h.say(t, conv.ID, "hi", "greet:0.9")
	out := h.say(t, conv.ID, "can I talk to a human please", "human_agent:0.95")
	c := out.Conversation
	if c.State != crm.StateWaiting || c.Queue != "vip" || c.Priority != crm.PriorityUrgent {
		t.Fatalf("conversation %s in %q at %s, want waiting in vip at urgent", c.State, c.Queue, c.Priority)
	}
	if want := "customer asked for a person; routed by model: intent=human_agent + tier=gold -> urgent"; c.RoutingReason != want {
		t.Errorf("reason %q, want %q", c.RoutingReason, want)
	}
	if !strings.Contains(out.Replies[len(out.Replies)-1].Text, "vip") {
		t.Errorf("the handoff message does not name the router's queue: %q", out.Replies[len(out.Replies)-1].Text)
	}
	stored, err := h.db.Conversation(ctx, conv.ID)
	if err != nil || stored.Queue != "vip" || stored.RoutingReason != c.RoutingReason {
		t.Errorf("stored %+v (%v)", stored, err)
	}
	if len(router.seen) != 1 {
		t.Fatalf("router asked %d times, want once", len(router.seen))
	}
	s := router.seen[0]
	if s.Customer == nil || s.Customer.Email != "ana@example.com" || s.Conversation.ID != conv.ID || !s.Now.Equal(now) {
		t.Errorf("situation: customer %v, conversation %s, now %v", s.Customer, s.Conversation.ID, s.Now)
	}
	// hi, hello-reply, the request: the situation ends with the request,
	// parsed.
	last := s.Messages[len(s.Messages)-1]
	if len(s.Messages) != 3 || last.Sender != crm.SenderCustomer || last.Parse == nil || last.Parse.Intent != "human_agent" {
		t.Errorf("situation messages end with %+v (%d messages)", last, len(s.Messages))
	}
	// Ana (c-001) has orders and rated her last conversation 5.
	if s.History.LifetimeOrders == 0 || s.History.LastRating != 5 {
		t.Errorf("history %+v", s.History)
	}
}

func TestRouterFailureFallsBackToRules(t *testing.T) {
	router := &fakeRouter{err: errors.New("model exploded")}
	h := triageHarness(t, router, nil)
	conv := h.start(t, "ana@example.com")
	out := h.say(t, conv.ID, "can I talk to a human please", "human_agent:0.95")
	c := out.Conversation
	// The rules: human_agent's queue is general; Ana is gold: high.
	if c.State != crm.StateWaiting || c.Queue != "general" || c.Priority != crm.PriorityHigh || !strings.Contains(c.RoutingReason, "gold tier") {
		t.Errorf("conversation %s in %q at %s (%q), want the rules' general/high", c.State, c.Queue, c.Priority, c.RoutingReason)
	}
	if !strings.Contains(h.logs.String(), "model exploded") {
		t.Errorf("the router's failure is not logged: %s", h.logs)
	}
}

func TestScorerStoresRiskAndEscalates(t *testing.T) {
	ctx := context.Background()
	scorer := &fakeScorer{risks: []float64{0.2, 0.35, 0.83}, threshold: 0.8}
	router := &fakeRouter{r: dialog.Routing{Queue: "care", Priority: crm.PriorityHigh, Reason: "routed by model: x -> care"}}
	h := triageHarness(t, router, scorer)
	conv := h.start(t, "ben@example.com")

	out := h.say(t, conv.ID, "hi", "greet:0.9")
	if out.Conversation.SatisfactionRisk != 0.2 || out.Conversation.State != crm.StateBot {
		t.Errorf("after one message: risk %v, state %s", out.Conversation.SatisfactionRisk, out.Conversation.State)
	}
	out = h.say(t, conv.ID, "has order 1043 shipped?", "order_status:0.9 @order_id=1043")
	if out.Conversation.SatisfactionRisk != 0.35 || out.Conversation.State != crm.StateBot {
		t.Errorf("after two messages: risk %v, state %s", out.Conversation.SatisfactionRisk, out.Conversation.State)
	}
	stored, err := h.db.Conversation(ctx, conv.ID)
	if err != nil || stored.SatisfactionRisk != 0.35 {
		t.Errorf("stored risk %v (%v)", stored.SatisfactionRisk, err)
	}
	out = h.say(t, conv.ID, "and when does it arrive", "delivery_time:0.9")
	c := out.Conversation
	if c.State != crm.StateWaiting || c.Queue != "care" || c.SatisfactionRisk != 0.83 {
		t.Fatalf("after the risky message: %s in %q, risk %v", c.State, c.Queue, c.SatisfactionRisk)
	}
	if want := "likely to be unhappy (risk 0.83): cue_words, exclamations; routed by model: x -> care"; c.RoutingReason != want {
		t.Errorf("reason %q, want %q", c.RoutingReason, want)
	}
	// The bot answered the question, then handed over.
	if n := len(out.Actions); n < 2 || out.Actions[n-1] != "handoff" || strings.Count(strings.Join(out.Actions, ","), "handoff") != 1 {
		t.Errorf("actions %v", out.Actions)
	}
	if len(scorer.seen) != 3 || len(scorer.seen[2].Messages) != 5 {
		t.Errorf("scored %d times; last situation has %d messages", len(scorer.seen), len(scorer.seen[len(scorer.seen)-1].Messages))
	}
	// Waiting for an agent: the bot neither answers nor scores.
	out = h.say(t, conv.ID, "hello?", "greet:0.9")
	if len(scorer.seen) != 3 || out.Conversation.SatisfactionRisk != 0.83 {
		t.Errorf("scored while waiting: %d calls, risk %v", len(scorer.seen), out.Conversation.SatisfactionRisk)
	}
}

func TestScorerOnPolicyHandoff(t *testing.T) {
	scorer := &fakeScorer{risks: []float64{0.95}, threshold: 0.8}
	h := triageHarness(t, nil, scorer)
	conv := h.start(t, "ben@example.com")
	out := h.say(t, conv.ID, "can I talk to a human please", "human_agent:0.95")
	c := out.Conversation
	if c.State != crm.StateWaiting || c.SatisfactionRisk != 0.95 || strings.Contains(c.RoutingReason, "likely to be unhappy") {
		t.Errorf("%s, risk %v, reason %q: want the policy's handoff with the risk stored", c.State, c.SatisfactionRisk, c.RoutingReason)
	}
	if strings.Count(strings.Join(out.Actions, ","), "handoff") != 1 {
		t.Errorf("actions %v", out.Actions)
	}
}

func TestScorerFailureIsLogged(t *testing.T) {
	tests := []struct {
		name   string
		scorer *fakeScorer
		log    string
	}{
		{"error", &fakeScorer{err: errors.New("scorer down")}, "scorer down"},
		{"risk out of range", &fakeScorer{risks: []float64{math.NaN()}, threshold: 0.5}, "outside 0..1"},
		{"negative risk", &fakeScorer{risks: []float64{-0.5}, threshold: 0.5}, "outside 0..1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := triageHarness(t, nil, tt.scorer)
			conv := h.start(t, "ben@example.com")
			out := h.say(t, conv.ID, "hi", "greet:0.9")
			if len(out.Replies) == 0 || out.Conversation.SatisfactionRisk != 0 || out.Conversation.State != crm.StateBot {
				t.Errorf("replies %d, risk %v, state %s", len(out.Replies), out.Conversation.SatisfactionRisk, out.Conversation.State)
			}
			if !strings.Contains(h.logs.String(), tt.log) {
				t.Errorf("the failure is not logged: %s", h.logs)
			}
		})
	}
}
