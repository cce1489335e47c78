package web

import (
	"context"
	"net/http"
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
	// An update within the waiting state is not another handoff.
	if _, err := f.metrics.Store(f.db).UpdateConversation(ctx, c.ID, func(c *crm.Conversation) error {
		c.Priority = crm.PriorityHigh
		return nil
	}); err != nil {
		t.Fatal(err)
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
		{"parses timed", "parley_parse_seconds_count", "", 2}, // the engine's and the API's
		{"appends timed", "parley_store_commit_seconds_count", `op="append_message"`, float64(1 + 1 + len(out.Replies) + 2)},
		{"updates timed", "parley_store_commit_seconds_count", `op="update_conversation"`, 2},
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
	if err := m.Connections(func() float64 { return 1 }); err != nil {
		t.Error(err)
	}
}

// TestMeasuredStoreFailures checks that failed writes are timed but not
// counted.
func TestMeasuredStoreFailures(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	s := f.metrics.Store(f.db)
	c := f.startConversation(t, "")
	if _, err := s.AppendMessage(ctx, crm.Message{ConversationID: c.ID, Sender: crm.SenderBot, Text: strings.Repeat("x", 5000)}); err == nil {
		t.Fatal("oversize message stored")
	}
	if _, err := s.AppendMessage(ctx, crm.Message{ConversationID: "nope", Sender: crm.SenderBot, Text: "hi", ClientID: "x"}); err == nil {
		t.Fatal("message stored in no conversation")
	}
	if _, err := s.UpdateConversation(ctx, c.ID, func(c *crm.Conversation) error {
		c.State = crm.StateWaiting
		return context.Canceled // fn refuses: nothing is written
	}); err == nil {
		t.Fatal("update went through")
	}
	m := f.scrape(t)
	if v := mustMetric(t, m, "parley_messages_total", `direction="out",sender="bot"`); v != 0 {
		t.Errorf("failed appends counted: %v", v)
	}
	if strings.Contains(m, "parley_handoffs_total{") {
		t.Errorf("refused update counted as a handoff:\n%s", grepLines(m, "parley_handoffs_total"))
	}
	if v := mustMetric(t, m, "parley_store_commit_seconds_count", `op="append_message"`); v != 1 {
		// The append to no conversation fails on the LastSeq read, before
		// the store's append.
		t.Errorf("appends timed: %v, want 1", v)
	}
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
