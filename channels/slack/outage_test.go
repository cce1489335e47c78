package slack

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// TestOutageDoesNotBlockWebChat checks that while Slack does not answer,
// web customers are answered and hand off as usual, and that the cards
// held up meanwhile reach the agent channel when Slack is back.
func TestOutageDoesNotBlockWebChat(t *testing.T) {
	s := newStack(t)
	down := make(chan struct{})
	s.slack.mu.Lock()
	s.slack.down = down
	s.slack.mu.Unlock()

	ctx := context.Background()
	answered := make(chan error, 1)
	go func() {
		for i := range 5 {
			id := fmt.Sprintf("conv_outage%d", i)
			out, err := s.engine.Handle(ctx, dialog.Inbound{ConversationID: id, Text: "I want a person",
				ClientID: "c1", Start: &dialog.StartRequest{Channel: crm.ChannelWeb}})
			if err == nil && out.Conversation.State != crm.StateWaiting {
				err = fmt.Errorf("%s: state %s after asking for a person, want waiting", id, out.Conversation.State)
			}
			if err != nil {
				answered <- err
				return
			}
		}
		answered <- nil
	}()
	select {
	case err := <-answered:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second): // a deadlock guard, not a speed requirement
		t.Fatal("the web chat waited for Slack")
	}
	if n := len(s.slack.Posts()); n != 0 {
		t.Fatalf("%d posts while Slack was down", n)
	}

	close(down)
	s.slack.waitFor(t, "the five cards", func(ps []post) bool {
		return count(ps, func(p post) bool {
			return p.Channel == agentChannel && p.ThreadTS == "" && strings.Contains(p.Blocks, `"action_id":"parley_take"`)
		}) == 5
	})
}
