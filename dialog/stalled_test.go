package dialog_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shoptest"
)

// chanLocker is a dialog.Locker shared by the engines of one test, as a
// PostgreSQL advisory lock is shared by nodes: Lock blocks while another
// holder has the key, until ctx ends.
type chanLocker struct {
	mu   sync.Mutex
	keys map[string]chan struct{} // guarded by mu
}

func (l *chanLocker) Lock(ctx context.Context, key string) (func(), error) {
	l.mu.Lock()
	if l.keys == nil {
		l.keys = make(map[string]chan struct{})
	}
	ch := l.keys[key]
	if ch == nil {
		ch = make(chan struct{}, 1)
		l.keys[key] = ch
	}
	l.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestSweepAnswersStalledMessages: node A acknowledges a message and dies
// before its turn. Node B's sweep answers it once the message has waited
// StallTimeout, not before, and not while another node's turn holds the
// conversation's lock; it answers it once.
func TestSweepAnswersStalledMessages(t *testing.T) {
	ctx := context.Background()
	locker := &chanLocker{}
	a, clk := newClockHarness(t, now, func(c *dialog.Config) { c.Locker = locker })
	r, _ := scripted("hi", "greet:0.9")
	a.nlu.set("hi", r)
	conv := a.start(t, "ana@example.com")
	if _, err := a.engine.Receive(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "hi", ClientID: "c-1"}); err != nil {
		t.Fatal(err) // acknowledged; then node A dies
	}
	b, err := dialog.New(dialog.Config{Domain: shoptest.Domain(t), Parser: a.parser, Store: a.db, Now: clk.Now,
		Locker: locker, StallTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sweep := func(want int) {
		t.Helper()
		if n, err := b.Sweep(ctx); err != nil || n != want {
			t.Fatalf("sweep on node B: %d, %v; want %d", n, err, want)
		}
	}
	clk.advance(9 * time.Second)
	sweep(0)
	clk.advance(time.Second)
	unlock, err := locker.Lock(ctx, conv.ID) // a turn of another node
	if err != nil {
		t.Fatal(err)
	}
	sweep(0)
	unlock()
	if n := botReplies(t, a.db, conv.ID); n != 0 {
		t.Fatalf("%d replies before the sweep could run the turn", n)
	}
	sweep(1)
	sweep(0)
	if n := botReplies(t, a.db, conv.ID); n != 1 {
		t.Fatalf("%d replies after the sweeps, want 1", n)
	}
	if c, err := a.db.Conversation(ctx, conv.ID); err != nil || c.Unanswered() {
		t.Fatalf("after the sweep the conversation is %+v, %v; want answered", c, err)
	}
}

// TestSweepStalledFailureLoggedOnce: a stalled message whose turn fails is
// logged once, not on every sweep, and tried again when the customer
// writes again.
func TestSweepStalledFailureLoggedOnce(t *testing.T) {
	ctx := context.Background()
	h, clk := newClockHarness(t, now, nil)
	r, _ := scripted("hi", "greet:0.9")
	h.nlu.set("hi", r)
	conv := h.start(t, "")
	receive := func(id string) {
		t.Helper()
		if _, err := h.engine.Receive(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "hi", ClientID: id}); err != nil {
			t.Fatal(err)
		}
	}
	receive("c-1")
	var logs bytes.Buffer
	e, err := dialog.New(dialog.Config{Domain: shoptest.Domain(t), Parser: h.parser, Now: clk.Now,
		Store: historyPanics{Store: h.db, conv: conv.ID}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	failures := func() int { return strings.Count(logs.String(), `"msg":"answer stalled message"`) }
	clk.advance(dialog.DefaultStallTimeout)
	for range 3 {
		if n, err := e.Sweep(ctx); err != nil || n != 0 {
			t.Fatalf("sweep: %d, %v; want 0 answered", n, err)
		}
	}
	if got := failures(); got != 1 {
		t.Fatalf("the failure is logged %d times over three sweeps, want once:\n%s", got, logs.String())
	}
	receive("c-2")
	clk.advance(dialog.DefaultStallTimeout)
	if _, err := e.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got := failures(); got != 2 {
		t.Errorf("after a new message the failure is logged %d times in all, want 2", got)
	}
	if c, err := h.db.Conversation(ctx, conv.ID); err != nil || !c.Unanswered() || c.State != crm.StateBot {
		t.Errorf("the failing conversation is %+v, %v; want still unanswered with the bot", c, err)
	}
}
