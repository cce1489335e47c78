package dialog_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

func TestPost(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.start(t, "ana@example.com")
	events, stop := h.engine.Subscribe(conv.ID, 16)
	defer stop()

	o := dialog.Outbound{ConversationID: conv.ID, Sender: crm.SenderAgent, AgentID: "grace", Text: "Hi, Grace here.", ClientID: "crm-7"}
	m, fresh, err := h.engine.Post(ctx, o)
	if err != nil || !fresh {
		t.Fatalf("post: new %v, %v", fresh, err)
	}
	if m.Seq != 1 || m.Sender != crm.SenderAgent || m.AgentID != "grace" {
		t.Fatalf("stored %+v", m)
	}
	again, fresh, err := h.engine.Post(ctx, o)
	if err != nil || again.ID != m.ID || fresh {
		t.Fatalf("resend: %+v, new %v, %v; want the stored %s", again, fresh, err, m.ID)
	}
	// The agent's message claimed the conversation first: the state
	// change, its event, then the message, once.
	var got []dialog.EventType
	for len(events) > 0 {
		ev := <-events
		got = append(got, ev.Type)
		if ev.Type == dialog.EventMessage && ev.Message.ID != m.ID {
			t.Errorf("event %+v", ev)
		}
	}
	if want := []dialog.EventType{dialog.EventState, dialog.EventLifecycle, dialog.EventMessage}; !slices.Equal(got, want) {
		t.Fatalf("events %v for a message posted twice, want %v", got, want)
	}
	c, err := h.db.Conversation(ctx, conv.ID)
	if err != nil || c.State != crm.StateAgent || c.AssignedAgent != "grace" {
		t.Errorf("conversation %+v, %v: an agent's message claims it", c, err)
	}

	for _, tt := range []struct {
		name string
		o    dialog.Outbound
		want error
	}{
		{"no conversation", dialog.Outbound{Sender: crm.SenderSystem, Text: "x"}, dialog.ErrNoConversation},
		{"customer sender", dialog.Outbound{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "x"}, dialog.ErrSender},
		{"agent without login", dialog.Outbound{ConversationID: conv.ID, Sender: crm.SenderAgent, Text: "x"}, dialog.ErrSender},
		{"unknown conversation", dialog.Outbound{ConversationID: "nope", Sender: crm.SenderSystem, Text: "x"}, crm.ErrNotFound},
		{"invalid UTF-8", dialog.Outbound{ConversationID: conv.ID, Sender: crm.SenderSystem, Text: "\xff"}, crm.ErrInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := h.engine.Post(ctx, tt.o); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if len(events) != 0 {
		t.Errorf("%d events after refused posts", len(events))
	}
}

func TestResolveAndRate(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.start(t, "") // an anonymous visitor can rate too
	h.say(t, conv.ID, "hi", "greet:0.9")
	if _, err := h.engine.Rate(ctx, conv.ID, 5, ""); !errors.Is(err, dialog.ErrNotResolved) {
		t.Fatalf("rating an open conversation: %v, want ErrNotResolved", err)
	}
	events, stop := h.engine.Subscribe(conv.ID, 16)
	defer stop()
	c, err := h.engine.Resolve(ctx, conv.ID, dialog.Actor{})
	if err != nil || c.State != crm.StateResolved || c.ClosedAt.IsZero() {
		t.Fatalf("resolve: %+v, %v", c, err)
	}
	if _, err := h.engine.Resolve(ctx, conv.ID, dialog.Actor{}); err != nil {
		t.Fatalf("resolving again: %v", err)
	}
	if len(events) != 2 {
		t.Fatalf("%d events, want one state change and its lifecycle event", len(events))
	}
	if ev := <-events; ev.Type != dialog.EventState || ev.Conversation.State != crm.StateResolved {
		t.Errorf("event %+v", ev)
	}
	if ev := <-events; ev.Type != dialog.EventLifecycle || ev.Lifecycle.Type != crm.EventResolve || ev.Lifecycle.Actor != crm.ActorSystem {
		t.Errorf("event %+v", ev)
	}

	if rated, err := h.engine.Rated(ctx, conv.ID); err != nil || rated {
		t.Fatalf("rated before rating: %v, %v", rated, err)
	}
	if _, err := h.engine.Rate(ctx, conv.ID, 6, ""); !errors.Is(err, crm.ErrInvalid) {
		t.Fatalf("score 6: %v, want crm.ErrInvalid", err)
	}
	f, err := h.engine.Rate(ctx, conv.ID, 2, "slow")
	if err != nil || f.Score != 2 || f.ConversationID != conv.ID {
		t.Fatalf("rate: %+v, %v", f, err)
	}
	if rated, err := h.engine.Rated(ctx, conv.ID); err != nil || !rated {
		t.Fatalf("rated after rating: %v, %v", rated, err)
	}
	if _, err := h.engine.Rate(ctx, conv.ID, 5, ""); !errors.Is(err, dialog.ErrAlreadyRated) {
		t.Fatalf("second rating: %v, want ErrAlreadyRated", err)
	}
	if _, err := h.engine.Resolve(ctx, "nope", dialog.Actor{}); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("resolve unknown: %v", err)
	}
}

// The demo domain's goodbye closes the conversation, and the next message
// opens it again.
func TestGoodbyeResolves(t *testing.T) {
	h := newHarness(t)
	conv := h.start(t, "ana@example.com")
	out := h.say(t, conv.ID, "bye", "goodbye:0.95")
	if out.Conversation.State != crm.StateResolved {
		t.Fatalf("after goodbye: state %s, actions %v", out.Conversation.State, out.Actions)
	}
	if len(out.Replies) != 1 {
		t.Fatalf("replies %v", out.Replies)
	}
	out = h.say(t, conv.ID, "one more question", "greet:0.9")
	if out.Conversation.State != crm.StateBot {
		t.Fatalf("after a new message: state %s", out.Conversation.State)
	}
}
