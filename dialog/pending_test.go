package dialog_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shoptest"
)

// restart is a new engine on the harness's store, as after a crash.
func (h *harness) restart(t *testing.T) *dialog.Engine {
	t.Helper()
	e, err := dialog.New(dialog.Config{Domain: shoptest.Domain(t), Parser: h.parser, Store: h.db, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// botReplies counts the bot's messages of the conversation.
func botReplies(t *testing.T, st crm.Store, id string) int {
	t.Helper()
	msgs, err := st.MessagesAfter(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if m.Sender == crm.SenderBot {
			n++
		}
	}
	return n
}

// A message stored and acknowledged, whose process died before answering
// it, is answered once when the server starts again, and a resend of it
// then adds nothing.
func TestAnswerPendingAfterCrash(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.start(t, "ana@example.com")
	r, _ := scripted("hi", "greet:0.9")
	h.nlu.set("hi", r)
	in := dialog.Inbound{ConversationID: conv.ID, Text: "hi", ClientID: "c-1"}
	if _, err := h.engine.Receive(ctx, in); err != nil { // acked; then the process dies
		t.Fatal(err)
	}
	if n := botReplies(t, h.db, conv.ID); n != 0 {
		t.Fatalf("%d replies before the restart", n)
	}
	e := h.restart(t)
	for range 2 { // two starts: the second finds nothing to do
		if _, err := e.AnswerPending(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := botReplies(t, h.db, conv.ID); n != 1 {
		t.Fatalf("%d replies after the restart, want 1", n)
	}
	out, err := e.Handle(ctx, in) // the client resends what it sent before the crash
	if err != nil {
		t.Fatal(err)
	}
	if !out.Duplicate || len(out.Replies) != 0 || botReplies(t, h.db, conv.ID) != 1 {
		t.Errorf("resend: duplicate %v, %d replies, %d stored replies", out.Duplicate, len(out.Replies), botReplies(t, h.db, conv.ID))
	}
}

// A resend of a message that was stored but never answered gets the answer.
func TestResendOfUnansweredMessage(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.start(t, "")
	r, _ := scripted("hi", "greet:0.9")
	h.nlu.set("hi", r)
	in := dialog.Inbound{ConversationID: conv.ID, Text: "hi", ClientID: "c-1"}
	if _, err := h.engine.Receive(ctx, in); err != nil {
		t.Fatal(err)
	}
	out, err := h.restart(t).Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Duplicate || len(out.Replies) != 1 {
		t.Errorf("duplicate %v with %d replies, want the one answer", out.Duplicate, len(out.Replies))
	}
	again, err := h.engine.Handle(ctx, in)
	if err != nil || len(again.Replies) != 0 || botReplies(t, h.db, conv.ID) != 1 {
		t.Errorf("second resend: %d replies, %d stored (%v)", len(again.Replies), botReplies(t, h.db, conv.ID), err)
	}
}

// TestStoreCallsPerMessage counts the store calls of one customer message:
// the append, one situation read and the turn's commit, with or without a
// router and a scorer.
func TestStoreCallsPerMessage(t *testing.T) {
	tests := []struct {
		name   string
		scorer dialog.Scorer
		router dialog.Router
		text   string
		spec   string
		want   map[string]int
	}{
		{name: "answer", text: "hi", spec: "greet:0.9",
			want: map[string]int{"AppendMessage": 1, "History": 1, "CommitTurn": 1}},
		{name: "answer, scored", scorer: &fakeScorer{risks: []float64{0.1}, threshold: 0.9}, text: "hi", spec: "greet:0.9",
			want: map[string]int{"AppendMessage": 1, "History": 1, "CommitTurn": 1}},
		{name: "handoff, routed and scored", scorer: &fakeScorer{risks: []float64{0.1}, threshold: 0.9}, router: &fakeRouter{}, text: "a person please", spec: "human_agent:0.95",
			want: map[string]int{"AppendMessage": 1, "History": 1, "CommitTurn": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t)
			st := &countingStore{Store: h.db}
			e, err := dialog.New(dialog.Config{Domain: shoptest.Domain(t), Parser: h.parser, Store: st,
				Now: func() time.Time { return now }, Router: tt.router, Scorer: tt.scorer})
			if err != nil {
				t.Fatal(err)
			}
			conv := h.start(t, "ana@example.com")
			r, _ := scripted(tt.text, tt.spec)
			h.nlu.set(tt.text, r)
			st.take()
			if _, err := e.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: tt.text, ClientID: "m1"}); err != nil {
				t.Fatal(err)
			}
			got := st.take()
			if len(got) != len(tt.want) {
				t.Errorf("store calls %v, want %v", got, tt.want)
			}
			for k, n := range tt.want {
				if got[k] != n {
					t.Errorf("store calls %v, want %v", got, tt.want)
					break
				}
			}
		})
	}
}
