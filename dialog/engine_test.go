package dialog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/nlp"
)

func TestNewNeedsConfig(t *testing.T) {
	_, err := dialog.New(dialog.Config{Parser: &fakeNLU{}})
	if !errors.Is(err, dialog.ErrConfig) {
		t.Errorf("err = %v, want ErrConfig", err)
	}
}

func TestHandleResendIsAnsweredOnce(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.start(t, "ana@example.com")
	r, _ := scripted("hi", "greet:0.9")
	h.nlu.set("hi", r)
	in := dialog.Inbound{ConversationID: conv.ID, Text: "hi", ClientID: "c1"}
	first, err := h.engine.Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.engine.Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || !again.Duplicate || len(again.Replies) != 0 || again.Inbound.ID != first.Inbound.ID {
		t.Errorf("first dup=%v, again dup=%v with %d replies, ids %s %s", first.Duplicate, again.Duplicate, len(again.Replies), first.Inbound.ID, again.Inbound.ID)
	}
	msgs, err := h.db.MessagesAfter(ctx, conv.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Fatalf("%d messages stored, want 2 (one message, one reply)", len(msgs))
	}
	var parse struct {
		Intent string `json:"intent"`
	}
	if err := json.Unmarshal(msgs[0].Parse, &parse); err != nil || parse.Intent != "greet" {
		t.Errorf("the customer message's stored parse is %s (%v), want intent greet", msgs[0].Parse, err)
	}
	if len(msgs[1].Parse) != 0 {
		t.Errorf("the bot's reply has a parse: %s", msgs[1].Parse)
	}
}

func TestHandleAgentHoldsConversation(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.start(t, "ben@example.com")
	if _, err := h.db.UpdateConversation(ctx, conv.ID, func(c *crm.Conversation) error {
		c.State, c.AssignedAgent = crm.StateAgent, "sam"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	out := h.say(t, conv.ID, "where is my order", "order_status:0.95")
	if len(out.Replies) != 0 || out.Parse != nil || out.Inbound.Seq != 1 {
		t.Errorf("agent state: %d replies, parse %v, seq %d", len(out.Replies), out.Parse, out.Inbound.Seq)
	}
}

func TestHandleParseErrorKeepsMessage(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.start(t, "")
	_, err := h.engine.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "unscripted"})
	if err == nil {
		t.Fatal("want the parser's error")
	}
	msgs, _ := h.db.MessagesAfter(ctx, conv.ID, 0, 0)
	if len(msgs) != 1 || msgs[0].Sender != crm.SenderCustomer {
		t.Errorf("stored %+v, want the customer's message", msgs)
	}
	if _, err := h.engine.Handle(ctx, dialog.Inbound{Text: "x"}); !errors.Is(err, dialog.ErrNoConversation) {
		t.Errorf("no conversation id: err = %v", err)
	}
	if _, err := h.engine.Handle(ctx, dialog.Inbound{ConversationID: "nope", Text: "x"}); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("unknown conversation: err = %v", err)
	}
}

func TestEventsOfATurn(t *testing.T) {
	h := newHarness(t)
	conv := h.start(t, "ana@example.com")
	events, stop := h.engine.Subscribe(conv.ID, 16)
	defer stop()
	other, stopOther := h.engine.Subscribe("some-other-conversation", 16)
	defer stopOther()
	h.say(t, conv.ID, "get me a human", "human_agent:0.9")
	var got []string
	for len(events) > 0 {
		ev := <-events
		s := string(ev.Type)
		switch ev.Type {
		case dialog.EventMessage:
			s += " " + string(ev.Message.Sender)
		case dialog.EventState:
			s += " " + string(ev.Conversation.State)
		case dialog.EventTyping:
			s += fmt.Sprint(" ", ev.Typing)
		case dialog.EventLifecycle:
			s += " " + string(ev.Lifecycle.Type) + " " + ev.Lifecycle.Queue
		}
		got = append(got, s)
	}
	want := []string{"message customer", "typing true", "message bot", "state waiting", "lifecycle handoff general", "typing false"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events = %q, want %q", got, want)
	}
	if len(other) != 0 {
		t.Errorf("a subscriber of another conversation got %d events", len(other))
	}
}

func TestBusDropsSlowSubscriber(t *testing.T) {
	b := dialog.NewBus()
	slow, _ := b.Subscribe("c", 1)
	fast, stopFast := b.Subscribe("", 8)
	for i := range 3 {
		b.Publish(dialog.Event{Type: dialog.EventTyping, ConversationID: "c", Typing: i%2 == 0})
	}
	n := 0
	for range slow { // closed after the one buffered event
		n++
	}
	if n != 1 {
		t.Errorf("slow subscriber got %d events before being dropped, want 1", n)
	}
	if len(fast) != 3 || b.Subscribers() != 1 {
		t.Errorf("fast subscriber has %d events, %d subscribers left", len(fast), b.Subscribers())
	}
	stopFast()
	stopFast() // twice is harmless
	if _, ok := <-drain(fast); ok {
		t.Error("channel still open after unsubscribe")
	}
	b.Close()
	late, _ := b.Subscribe("", 1)
	if _, ok := <-late; ok {
		t.Error("subscription after Close is open")
	}
}

// drain reads everything buffered and returns the channel.
func drain(ch <-chan dialog.Event) <-chan dialog.Event {
	for len(ch) > 0 {
		<-ch
	}
	return ch
}

// TestConcurrentMessages sends many messages to a few conversations at once:
// each reply must directly follow its message (one at a time per
// conversation), and every message must be answered.
func TestConcurrentMessages(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	const convs, perConv = 4, 6
	var ids []string
	for range convs {
		ids = append(ids, h.start(t, "ben@example.com").ID)
	}
	for i := range perConv {
		text := fmt.Sprintf("hello %d", i)
		r, _ := scripted(text, "greet:0.9")
		h.nlu.set(text, r)
	}
	var wg sync.WaitGroup
	errs := make(chan error, convs*perConv)
	for _, id := range ids {
		for i := range perConv {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := h.engine.Handle(ctx, dialog.Inbound{ConversationID: id, Text: fmt.Sprintf("hello %d", i)})
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		msgs, err := h.db.MessagesAfter(ctx, id, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 2*perConv {
			t.Fatalf("conversation %s: %d messages, want %d", id, len(msgs), 2*perConv)
		}
		// Messages may arrive while an earlier one is being answered; each
		// gets one reply, and replies come in the order of the messages.
		var asked []string
		replied := 0
		for _, m := range msgs {
			switch m.Sender {
			case crm.SenderCustomer:
				asked = append(asked, m.ID)
			case crm.SenderBot:
				if replied >= len(asked) || !strings.HasPrefix(m.ClientID, "reply:"+asked[replied]+":") {
					t.Fatalf("conversation %s: reply %d (%s) does not answer message %d in order", id, m.Seq, m.ClientID, replied+1)
				}
				replied++
			}
		}
		if replied != perConv {
			t.Fatalf("conversation %s: %d replies to %d messages", id, replied, perConv)
		}
	}
}

func TestSwapParser(t *testing.T) {
	h := newHarness(t)
	conv := h.start(t, "")
	swapped := &fakeNLU{}
	swapped.set("bonjour", &nlp.Result{Intent: "greet", Confidence: 0.9, InScope: true, Ranking: []nlp.IntentScore{{Intent: "greet", Confidence: 0.9}}})
	h.parser.Swap(swapped)
	out, err := h.engine.Handle(context.Background(), dialog.Inbound{ConversationID: conv.ID, Text: "bonjour"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Replies) != 1 {
		t.Errorf("%d replies from the swapped parser", len(out.Replies))
	}
}

func BenchmarkHandle(b *testing.B) {
	h := newHarness(b)
	conv := h.start(b, "ana@example.com")
	r, _ := scripted("where is my order", "order_status:0.9")
	h.nlu.set("where is my order", r)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.engine.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "where is my order"}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestHandleReopensResolved(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.start(t, "ana@example.com")
	if _, err := h.db.UpdateConversation(ctx, conv.ID, func(c *crm.Conversation) error {
		c.State = crm.StateResolved
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	out := h.say(t, conv.ID, "hello", "greet:0.9")
	if out.Conversation.State != crm.StateBot || len(out.Replies) != 1 {
		t.Errorf("state %s with %d replies, want the bot to answer again", out.Conversation.State, len(out.Replies))
	}
}

// takeoverNLU simulates an agent taking the conversation in the console
// while the engine is working on a message.
type takeoverNLU struct {
	fakeNLU
	db crm.Store
}

func (n *takeoverNLU) Parse(ctx context.Context, text string) (*nlp.Result, error) {
	r, err := n.fakeNLU.Parse(ctx, text)
	if err != nil {
		return nil, err
	}
	for _, c := range mustOpen(n.db) {
		if _, err := n.db.UpdateConversation(ctx, c.ID, func(c *crm.Conversation) error {
			c.State, c.AssignedAgent = crm.StateAgent, "sam"
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func mustOpen(db crm.Store) []crm.Conversation {
	cs, _ := db.OpenConversations(context.Background(), crm.ConversationFilter{State: crm.StateBot})
	return cs
}

func TestHandleAgentTakesOverMidTurn(t *testing.T) {
	tests := []struct{ name, text, spec string }{
		{"reply only", "hi", "greet:0.9"},
		{"reply and state change", "I want to return order 1044", "return_item:0.9 @order_id=1044"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t)
			nlu := &takeoverNLU{db: h.db}
			r, _ := scripted(tt.text, tt.spec)
			nlu.set(tt.text, r)
			h.parser.Swap(nlu)
			conv := h.start(t, "ben@example.com")
			out, err := h.engine.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Replies) != 0 || out.Conversation.State != crm.StateAgent || out.Conversation.AssignedAgent != "sam" {
				t.Errorf("%d replies, state %s, agent %q: the bot spoke over the agent", len(out.Replies), out.Conversation.State, out.Conversation.AssignedAgent)
			}
			msgs, _ := h.db.MessagesAfter(ctx, conv.ID, 0, 0)
			if len(msgs) != 1 {
				t.Errorf("%d messages stored, want only the customer's", len(msgs))
			}
		})
	}
}

func TestHandleRefusesOversizeMessage(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.start(t, "")
	_, err := h.engine.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: strings.Repeat("where is my order ", 300)})
	if !errors.Is(err, crm.ErrTooLarge) {
		t.Fatalf("error %v, want crm.ErrTooLarge", err)
	}
	r, _ := scripted("hi", "greet:0.9")
	h.nlu.set("hi", r)
	out, err := h.engine.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "hi"})
	if err != nil || out.Inbound.Seq != 1 || len(out.Replies) == 0 {
		t.Fatalf("the next message: %+v, %v (want it stored as the first and answered)", out, err)
	}
}
