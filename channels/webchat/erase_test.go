package webchat

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyhq/parley/crm"
)

// TestErasedConversationCloses erases the customer of an open socket: the
// socket closes with 4001 and its reason, and the token no longer resumes.
func TestErasedConversationCloses(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	c := s.dial(t)
	w := c.hello("", 0)
	c.exchange("c1", "hello") // stores the conversation
	ana, err := s.db.CustomerByEmail(ctx, "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.UpdateConversation(ctx, w.ConversationID, func(cv *crm.Conversation) error {
		cv.CustomerID = ana.ID
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	if _, err := s.engine.Erase(ctx, ana.ID); err != nil {
		t.Fatal(err)
	}
	c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := c.ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != closeErased || ce.Text != "conversation erased" {
			t.Fatalf("socket ended with %v, want close %d \"conversation erased\"", err, closeErased)
		}
		break
	}

	again := s.dial(t)
	again.sendJSON(helloMsg{V: 1, Type: typeHello, Token: w.Token, LastSeq: 2})
	again.wantError(codeInvalidToken)
	again.wantClose(websocket.ClosePolicyViolation)
}
