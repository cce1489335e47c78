package dialog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/nlp/nlu"
)

// gateParser parses with p once the test lets it: entered is signalled when
// a parse starts, and the parse waits for release.
type gateParser struct {
	p       dialog.Parser
	entered chan struct{}
	release chan struct{}
}

func (g *gateParser) Parse(ctx context.Context, text string) (*nlu.Result, error) {
	g.entered <- struct{}{}
	<-g.release
	return g.p.Parse(ctx, text)
}

func TestErase(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	ana, err := h.db.CustomerByEmail(ctx, "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	before, err := h.db.ConversationsByCustomer(ctx, ana.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	open := h.start(t, "ana@example.com")
	h.say(t, open.ID, "hi", "greet:0.9")
	other := h.start(t, "") // an anonymous visitor's: untouched
	events, stop := h.engine.Subscribe(open.ID, 16)
	defer stop()
	otherEvents, stopOther := h.engine.Subscribe(other.ID, 16)
	defer stopOther()

	e, err := h.engine.Erase(ctx, ana.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.CustomerID != ana.ID || e.Conversations != len(before)+1 || e.Messages < 2 {
		t.Errorf("erasure %+v, want %d conversations and the open one's messages", e, len(before)+1)
	}
	if len(events) != 1 {
		t.Fatalf("%d events on the erased conversation, want 1", len(events))
	}
	if ev := <-events; ev.Type != dialog.EventErased || ev.ConversationID != open.ID {
		t.Errorf("event %+v, want erased %s", ev, open.ID)
	}
	if len(otherEvents) != 0 {
		t.Errorf("%d events on another customer's conversation", len(otherEvents))
	}
	if _, err := h.db.Conversation(ctx, open.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("erased conversation still readable: %v", err)
	}
	if _, err := h.db.Conversation(ctx, other.ID); err != nil {
		t.Errorf("other conversation: %v", err)
	}
	// The customer's channel finds the conversation gone.
	if _, err := h.engine.Receive(ctx, dialog.Inbound{ConversationID: open.ID, Text: "hello?", ClientID: "late"}); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("message after erasure: %v, want crm.ErrNotFound", err)
	}

	if _, err := h.engine.Erase(ctx, ana.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("erasing again: %v, want crm.ErrNotFound", err)
	}
	if len(events)+len(otherEvents) != 0 {
		t.Errorf("events after a failed erasure")
	}
}

// TestEraseWaitsForTurn erases a customer while the bot is answering them:
// the turn commits first (its replies reach the subscriber), and the erased
// event comes last.
func TestEraseWaitsForTurn(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.start(t, "ana@example.com")
	r, err := scripted("hi", "greet:0.9")
	if err != nil {
		t.Fatal(err)
	}
	h.nlu.set("hi", r)
	gate := &gateParser{p: h.nlu, entered: make(chan struct{}), release: make(chan struct{})}
	h.parser.Swap(gate)
	events, stop := h.engine.Subscribe(conv.ID, 32)
	defer stop()

	answered := make(chan error, 1)
	go func() {
		_, err := h.engine.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "hi"})
		answered <- err
	}()
	<-gate.entered // the turn holds the conversation
	erased := make(chan error, 1)
	go func() {
		_, err := h.engine.Erase(ctx, conv.CustomerID)
		erased <- err
	}()
	select {
	case err := <-erased:
		t.Fatalf("Erase returned (%v) while a turn of the customer's conversation was under way", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(gate.release)
	if err := <-answered; err != nil {
		t.Fatalf("the turn under way failed: %v", err)
	}
	if err := <-erased; err != nil {
		t.Fatal(err)
	}
	var types []dialog.EventType
	var bot bool
	for len(events) > 0 {
		ev := <-events
		types = append(types, ev.Type)
		bot = bot || ev.Type == dialog.EventMessage && ev.Message.Sender == crm.SenderBot
	}
	if !bot || len(types) == 0 || types[len(types)-1] != dialog.EventErased {
		t.Errorf("events %v: want the bot's reply, then erased last", types)
	}

	// A cancelled wait gives up without erasing.
	conv = h.start(t, "ben@example.com")
	gate = &gateParser{p: h.nlu, entered: make(chan struct{}), release: make(chan struct{})}
	h.parser.Swap(gate)
	go func() {
		_, err := h.engine.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "hi"})
		answered <- err
	}()
	<-gate.entered
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := h.engine.Erase(short, conv.CustomerID); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("erase with an expired wait: %v, want context.DeadlineExceeded", err)
	}
	close(gate.release)
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.Customer(ctx, conv.CustomerID); err != nil {
		t.Errorf("customer gone after a cancelled erasure: %v", err)
	}
}
