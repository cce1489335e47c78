package dialog_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shoptest"
)

// historyPanics is a store whose History panics for one conversation, as a
// damaged page under it would make it.
type historyPanics struct {
	dialog.Store
	conv string
}

func (s historyPanics) History(ctx context.Context, id string, q crm.HistoryQuery) (crm.History, error) {
	if id == s.conv {
		panic("store exploded")
	}
	return s.Store.History(ctx, id, q)
}

// TestAnswerPendingSurvivesPanic: a panic while answering one pending
// conversation at start used to end the server's start (and every start
// after it). Now that conversation is logged with the panic's stack and
// skipped, and the others are answered.
func TestAnswerPendingSurvivesPanic(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	r, _ := scripted("hi", "greet:0.9")
	h.nlu.set("hi", r)
	bad, good := h.start(t, ""), h.start(t, "")
	for _, c := range []crm.Conversation{bad, good} {
		if _, err := h.engine.Receive(ctx, dialog.Inbound{ConversationID: c.ID, Text: "hi", ClientID: "c-1"}); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	e, err := dialog.New(dialog.Config{
		Domain: shoptest.Domain(t), Parser: h.parser, Store: historyPanics{Store: h.db, conv: bad.ID},
		Now: func() time.Time { return now }, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.AnswerPending(ctx)
	if err != nil || n != 1 {
		t.Fatalf("AnswerPending: %d, %v; want 1 answered", n, err)
	}
	if got := botReplies(t, h.db, good.ID); got != 1 {
		t.Errorf("the good conversation has %d replies, want 1", got)
	}
	if got := botReplies(t, h.db, bad.ID); got != 0 {
		t.Errorf("the panicking conversation has %d replies", got)
	}
	if c := strings.Count(logs.String(), `"stack":"goroutine `); c != 1 || !strings.Contains(logs.String(), bad.ID) {
		t.Errorf("%d stacks logged, want 1 naming %s:\n%s", c, bad.ID, logs.String())
	}
}
