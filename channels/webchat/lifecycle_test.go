package webchat

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// nextTyping returns the next typing event of a subscription.
func nextTyping(t *testing.T, events <-chan dialog.Event) dialog.Event {
	t.Helper()
	for ev := range events {
		if ev.Type == dialog.EventTyping {
			return ev
		}
	}
	t.Fatal("subscription ended")
	return dialog.Event{}
}

// The widget and the agents: the customer's typing reaches the engine's
// subscribers (the console), an agent's typing reaches the widget as
// sender "agent", and a private note never reaches the customer's socket.
func TestAgentSideOfTheWidget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t)
	c := s.dial(t)
	w := c.hello("", 0)
	c.exchange("c-1", "hi")
	events, stop := s.engine.Subscribe(w.ConversationID, 64)
	defer stop()

	c.sendJSON(map[string]any{"v": 1, "type": "typing", "typing": true})
	c.sendJSON(map[string]any{"v": 1, "type": "typing", "typing": true}) // no change: not passed on
	c.sendJSON(map[string]any{"v": 1, "type": "typing", "typing": false})
	for _, want := range []bool{true, false} {
		if ev := nextTyping(t, events); ev.Sender != crm.SenderCustomer || ev.Typing != want {
			t.Fatalf("typing event %+v, want the customer's %v", ev, want)
		}
	}

	grace := dialog.Actor{Login: "grace"}
	if _, err := s.engine.Claim(ctx, w.ConversationID, grace); err != nil {
		t.Fatal(err)
	}
	const secret = "secret-note-7f3a: customer was rude last time"
	if _, err := s.engine.Note(ctx, w.ConversationID, grace, secret); err != nil {
		t.Fatal(err)
	}
	s.engine.Typing(w.ConversationID, crm.SenderAgent, "grace", true)
	if _, _, err := s.engine.Post(ctx, dialog.Outbound{ConversationID: w.ConversationID, Sender: crm.SenderAgent, AgentID: "grace", Text: "Hi, Grace here."}); err != nil {
		t.Fatal(err)
	}

	var sawState, sawAgentTyping bool
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if strings.Contains(string(data), "secret-note") || strings.Contains(string(data), "lifecycle") || strings.Contains(string(data), "note") {
			t.Fatalf("the customer's socket got %s", data)
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		switch {
		case f.Type == typeState:
			sawState = sawState || f.State == string(crm.StateAgent)
		case f.Type == typeTyping && (f.Sender == string(crm.SenderCustomer) || f.Sender == string(crm.SenderBot) && f.Typing):
			// The bot's last frame of "hi" may be its typing:false;
			// nothing else from it, and never the customer's typing.
			t.Fatalf("the customer's own typing came back: %s", data)
		case f.Type == typeTyping && f.Sender == string(crm.SenderAgent):
			if !f.Typing || strings.Contains(string(data), "grace") {
				t.Errorf("agent typing frame %s", data)
			}
			sawAgentTyping = true
		}
		if f.Type == typeMessage && f.Sender == string(crm.SenderAgent) {
			if f.Text != "Hi, Grace here." {
				t.Errorf("agent message %+v", f)
			}
			break
		}
	}
	if !sawState || !sawAgentTyping {
		t.Errorf("before the agent's message: state agent %v, agent typing %v; want both", sawState, sawAgentTyping)
	}
}
