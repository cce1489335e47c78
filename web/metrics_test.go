package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// TestMetricsAfterTraffic drives the engine and the API and reads each
// series from /metrics before and after.
func TestMetricsAfterTraffic(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	var conns atomic.Int64
	if err := f.metrics.Connections(func() float64 { return float64(conns.Load()) }); err != nil {
		t.Fatal(err)
	}
	if err := f.metrics.Connections(func() float64 { return 0 }); err == nil {
		t.Error("a second connections gauge was registered")
	}

	before := f.scrape(t)
	for _, s := range []struct{ name, labels string }{
		{"parley_messages_total", `direction="in",sender="customer"`},
		{"parley_messages_total", `direction="out",sender="bot"`},
		{"parley_messages_total", `direction="out",sender="agent"`},
		{"parley_messages_total", `direction="out",sender="system"`},
		{"parley_parse_seconds_count", ""},
		{"parley_store_commit_seconds_count", `op="append_message"`},
		{"parley_store_commit_seconds_count", `op="commit_turn"`},
		{"parley_store_commit_seconds_count", `op="update_conversation"`},
		{"parley_websocket_connections", ""},
	} {
		if v := mustMetric(t, before, s.name, s.labels); v != 0 {
			t.Errorf("%s{%s} = %v before any traffic", s.name, s.labels, v)
		}
	}
	for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
		if !strings.Contains(before, "\n"+name+" ") {
			t.Errorf("no %s series", name)
		}
	}

	// A customer asks for a person: one message in, the bot's replies out,
	// one handoff into the waiting state.
	c := f.startConversation(t, "c-001")
	f.parser.intent = "human_agent"
	out, err := f.engine.Handle(ctx, dialog.Inbound{ConversationID: c.ID, Text: "a person please", ClientID: "m1"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Conversation.State != crm.StateWaiting || len(out.Replies) == 0 {
		t.Fatalf("handoff did not happen: %+v", out)
	}
	// The customer's resend is stored once and counted once.
	if again, err := f.engine.Handle(ctx, dialog.Inbound{ConversationID: c.ID, Text: "a person please", ClientID: "m1"}); err != nil || !again.Duplicate {
		t.Fatalf("resend: %+v, %v", again, err)
	}
	// An agent posts through the API, twice with one client id (claiming
	// the conversation: no handoff either).
	f.addAgents(t, "sam")
	body := `{"text":"Hi Ana, Sam here.","sender":"agent","agent_id":"sam","client_id":"a1"}`
	for range 2 {
		if rec := f.api(t, http.MethodPost, "/api/v1/conversations/"+c.ID+"/messages", body); rec.Code >= 300 {
			t.Fatalf("post: %d %s", rec.Code, rec.Body)
		}
	}
	if rec := f.api(t, http.MethodPost, "/api/v1/parse", `{"text":"where is my parcel"}`); rec.Code != 200 {
		t.Fatalf("parse: %d %s", rec.Code, rec.Body)
	}
	conns.Store(3)

	after := f.scrape(t)
	queue := out.Conversation.Queue
	if queue == "" {
		queue = "none"
	}
	tests := []struct {
		name, metric, labels string
		want                 float64
	}{
		{"customer message in", "parley_messages_total", `direction="in",sender="customer"`, 1},
		{"bot replies out", "parley_messages_total", `direction="out",sender="bot"`, float64(len(out.Replies))},
		{"agent message out once", "parley_messages_total", `direction="out",sender="agent"`, 1},
		{"no system message", "parley_messages_total", `direction="out",sender="system"`, 0},
		{"one handoff", "parley_handoffs_total", `queue="` + queue + `"`, 1},
		{"handoff event", "parley_conversation_events_total", `type="handoff"`, 1},
		{"the agent's post claimed it once", "parley_conversation_events_total", `type="claim"`, 1},
		{"parses timed", "parley_parse_seconds_count", "", 2}, // the engine's and the API's
		// The customer's message and its resend, the agent's two posts.
		{"appends timed", "parley_store_commit_seconds_count", `op="append_message"`, 4},
		{"turn committed once", "parley_store_commit_seconds_count", `op="commit_turn"`, 1},
		{"no update", "parley_store_commit_seconds_count", `op="update_conversation"`, 0},
		{"the claim timed", "parley_store_commit_seconds_count", `op="transition"`, 1},
		{"open connections", "parley_websocket_connections", "", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustMetric(t, after, tc.metric, tc.labels); got != tc.want {
				t.Errorf("%s{%s} = %v, want %v", tc.metric, tc.labels, got, tc.want)
			}
		})
	}
}

func TestNilMetricsMeasureNothing(t *testing.T) {
	var m *Metrics
	f := newAPIFixture(t)
	if got := m.Store(f.db); got != dialog.Store(f.db) {
		t.Error("nil Metrics wrapped the store")
	}
	if got := m.Parser(f.parser); got != f.parser {
		t.Error("nil Metrics wrapped the parser")
	}
	bus := dialog.NewBus()
	if got := m.Events(bus); got != dialog.Events(bus) {
		t.Error("nil Metrics wrapped the events")
	}
	if err := m.Connections(func() float64 { return 1 }); err != nil {
		t.Error(err)
	}
}

// TestHandoffsCountHandoffEvents publishes lifecycle events through the
// wrapper: every one counts by type, and only a handoff counts as one
// (a release or requeue back into the queue is not another).
func TestHandoffsCountHandoffEvents(t *testing.T) {
	event := func(typ crm.EventType, queue string) dialog.Event {
		return dialog.Event{Type: dialog.EventLifecycle, ConversationID: "a",
			Lifecycle: &crm.Event{ConversationID: "a", Type: typ, Queue: queue}}
	}
	tests := []struct {
		name     string
		events   []dialog.Event
		handoffs map[string]float64 // by queue
		byType   map[crm.EventType]float64
	}{
		{"one handoff", []dialog.Event{event(crm.EventHandoff, "billing")},
			map[string]float64{"billing": 1}, map[crm.EventType]float64{crm.EventHandoff: 1}},
		{"claimed, released, requeued", []dialog.Event{
			event(crm.EventHandoff, "billing"), event(crm.EventClaim, "billing"), event(crm.EventRelease, "billing"),
			event(crm.EventClaim, "billing"), event(crm.EventRequeue, "billing"),
		}, map[string]float64{"billing": 1}, map[crm.EventType]float64{crm.EventHandoff: 1, crm.EventClaim: 2, crm.EventRelease: 1, crm.EventRequeue: 1}},
		{"handed off without a queue, twice", []dialog.Event{
			event(crm.EventHandoff, ""), event(crm.EventResolve, ""), event(crm.EventHandoff, ""),
		}, map[string]float64{"none": 2}, map[crm.EventType]float64{crm.EventHandoff: 2, crm.EventResolve: 1}},
		{"a state event alone counts nothing", []dialog.Event{{Type: dialog.EventState, ConversationID: "a",
			Conversation: &crm.Conversation{ID: "a", State: crm.StateWaiting, Queue: "billing"}}}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMetrics()
			bus := dialog.NewBus()
			defer bus.Close()
			sub, cancel := bus.Subscribe("", len(tc.events))
			defer cancel()
			ev := m.Events(bus)
			for _, e := range tc.events {
				ev.Publish(e)
			}
			for range tc.events {
				<-sub // every event is forwarded
			}
			exp := scrapeMetrics(t, m)
			for q, want := range tc.handoffs {
				if got := mustMetric(t, exp, "parley_handoffs_total", `queue="`+q+`"`); got != want {
					t.Errorf("handoffs{queue=%q} = %v, want %v", q, got, want)
				}
			}
			if n := strings.Count(exp, "\nparley_handoffs_total{"); n != len(tc.handoffs) {
				t.Errorf("%d queues counted, want %d:\n%s", n, len(tc.handoffs), grepLines(exp, "parley_handoffs_total"))
			}
			for typ, want := range tc.byType {
				if got := mustMetric(t, exp, "parley_conversation_events_total", `type="`+string(typ)+`"`); got != want {
					t.Errorf("events{type=%q} = %v, want %v", typ, got, want)
				}
			}
			if n := strings.Count(exp, "\nparley_conversation_events_total{"); n != len(tc.byType) {
				t.Errorf("%d event types counted, want %d", n, len(tc.byType))
			}
		})
	}
}

// TestTimedStoreFailures checks that failed writes are timed and that the
// wrapper counts no message: counting is the events' job.
func TestTimedStoreFailures(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	s := f.metrics.Store(f.db)
	c := f.startConversation(t, "")
	if _, _, err := s.AppendMessage(ctx, crm.Message{ConversationID: c.ID, Sender: crm.SenderBot, Text: strings.Repeat("x", 5000)}); err == nil {
		t.Fatal("oversize message stored")
	}
	if _, _, err := s.AppendMessage(ctx, crm.Message{ConversationID: "nope", Sender: crm.SenderBot, Text: "hi", ClientID: "x"}); err == nil {
		t.Fatal("message stored in no conversation")
	}
	if _, err := s.UpdateConversation(ctx, c.ID, func(c *crm.Conversation) error {
		c.State = crm.StateWaiting
		return context.Canceled // fn refuses: nothing is written
	}); err == nil {
		t.Fatal("update went through")
	}
	if _, _, _, err := s.CommitTurn(ctx, crm.Turn{ConversationID: "nope", Seq: 1}); err == nil {
		t.Fatal("turn committed in no conversation")
	}
	m := f.scrape(t)
	if v := mustMetric(t, m, "parley_messages_total", `direction="out",sender="bot"`); v != 0 {
		t.Errorf("failed appends counted: %v", v)
	}
	if strings.Contains(m, "parley_handoffs_total{") {
		t.Errorf("refused update counted as a handoff:\n%s", grepLines(m, "parley_handoffs_total"))
	}
	for op, want := range map[string]float64{"append_message": 2, "update_conversation": 1, "commit_turn": 1} {
		if v := mustMetric(t, m, "parley_store_commit_seconds_count", `op="`+op+`"`); v != want {
			t.Errorf("%s timed %v times, want %v", op, v, want)
		}
	}
}

// scrapeMetrics returns m's exposition.
func scrapeMetrics(t testing.TB, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func grepLines(s, substr string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
