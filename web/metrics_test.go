package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
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
	// An agent posts through the API, twice with one client id.
	body := `{"text":"Hi Ana, Sam here.","sender":"agent","agent_id":"sam","client_id":"a1"}`
	for range 2 {
		if rec := f.api(t, http.MethodPost, "/api/v1/conversations/"+c.ID+"/messages", body); rec.Code >= 300 {
			t.Fatalf("post: %d %s", rec.Code, rec.Body)
		}
	}
	// A change of priority while waiting is not another handoff.
	waiting := out.Conversation
	waiting.Priority = crm.PriorityUrgent
	f.events.Publish(dialog.Event{Type: dialog.EventState, ConversationID: c.ID, Conversation: &waiting})
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
		{"parses timed", "parley_parse_seconds_count", "", 2}, // the engine's and the API's
		// The customer's message and its resend, the agent's two posts.
		{"appends timed", "parley_store_commit_seconds_count", `op="append_message"`, 4},
		{"turn committed once", "parley_store_commit_seconds_count", `op="commit_turn"`, 1},
		{"no update", "parley_store_commit_seconds_count", `op="update_conversation"`, 0},
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

// TestHandoffsCountMovesIntoWaiting publishes state events through the
// wrapper: only a move into the waiting state counts, not a change of queue
// or priority while a conversation waits.
func TestHandoffsCountMovesIntoWaiting(t *testing.T) {
	state := func(id string, st crm.ConversationState, queue string, p crm.Priority) dialog.Event {
		return dialog.Event{Type: dialog.EventState, ConversationID: id,
			Conversation: &crm.Conversation{ID: id, State: st, Queue: queue, Priority: p}}
	}
	tests := []struct {
		name   string
		events []dialog.Event
		want   map[string]float64 // by queue
	}{
		{"one handoff", []dialog.Event{state("a", crm.StateWaiting, "billing", crm.PriorityNormal)},
			map[string]float64{"billing": 1}},
		{"priority and queue change while waiting", []dialog.Event{
			state("a", crm.StateWaiting, "billing", crm.PriorityNormal),
			state("a", crm.StateWaiting, "billing", crm.PriorityUrgent),
			state("a", crm.StateWaiting, "shipping", crm.PriorityUrgent),
		}, map[string]float64{"billing": 1}},
		{"back to the queue after an agent", []dialog.Event{
			state("a", crm.StateWaiting, "billing", crm.PriorityNormal),
			state("a", crm.StateAgent, "billing", crm.PriorityNormal),
			state("a", crm.StateWaiting, "billing", crm.PriorityNormal),
		}, map[string]float64{"billing": 2}},
		{"resolved, reopened, handed off again", []dialog.Event{
			state("a", crm.StateWaiting, "", crm.PriorityNormal),
			state("a", crm.StateResolved, "", crm.PriorityNormal),
			state("a", crm.StateBot, "", crm.PriorityNormal),
			state("a", crm.StateWaiting, "", crm.PriorityHigh),
		}, map[string]float64{"none": 2}},
		{"two conversations", []dialog.Event{
			state("a", crm.StateWaiting, "billing", crm.PriorityNormal),
			state("b", crm.StateWaiting, "billing", crm.PriorityNormal),
			state("b", crm.StateWaiting, "billing", crm.PriorityHigh),
		}, map[string]float64{"billing": 2}},
		{"bot states", []dialog.Event{
			state("a", crm.StateBot, "", crm.PriorityNormal),
			state("a", crm.StateBot, "", crm.PriorityHigh),
		}, nil},
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
			for q, want := range tc.want {
				if got := mustMetric(t, exp, "parley_handoffs_total", `queue="`+q+`"`); got != want {
					t.Errorf("handoffs{queue=%q} = %v, want %v", q, got, want)
				}
			}
			if n := strings.Count(exp, "\nparley_handoffs_total{"); n != len(tc.want) {
				t.Errorf("%d queues counted, want %d:\n%s", n, len(tc.want), grepLines(exp, "parley_handoffs_total"))
			}
		})
	}
}

// TestWaitingMemoryIsBounded fills the wrapper's memory of waiting
// conversations past its bound: it stays at the bound, and every new
// conversation still counts.
func TestWaitingMemoryIsBounded(t *testing.T) {
	m := NewMetrics()
	ev := m.Events(dialog.NewBus()).(*countedEvents)
	for i := range maxWaiting + 10 {
		id := strconv.Itoa(i)
		ev.Publish(dialog.Event{Type: dialog.EventState, ConversationID: id, Conversation: &crm.Conversation{ID: id, State: crm.StateWaiting}})
	}
	if n := len(ev.waiting); n != maxWaiting {
		t.Errorf("remembers %d conversations, want %d", n, maxWaiting)
	}
	if got := mustMetric(t, scrapeMetrics(t, m), "parley_handoffs_total", `queue="none"`); got != maxWaiting+10 {
		t.Errorf("handoffs = %v, want %d", got, maxWaiting+10)
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
	if _, _, err := s.CommitTurn(ctx, crm.Turn{ConversationID: "nope", Seq: 1}); err == nil {
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
