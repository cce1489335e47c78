package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// agentHandoff has a web customer ask for a person in conversation id
// (linked to customerID when it is set), through the engine as the web
// channel would, and checks that the conversation waits for an agent.
func agentHandoff(t *testing.T, e *dialog.Engine, id, customerID, text string) {
	t.Helper()
	_, err := e.Handle(context.Background(), dialog.Inbound{ConversationID: id, Text: text, ClientID: id + ":first",
		Start: &dialog.StartRequest{Channel: crm.ChannelWeb, CustomerID: customerID}})
	if err != nil {
		t.Fatal(err)
	}
}

// agentSay is a web customer's later message in conversation id.
func agentSay(t *testing.T, s *stack, id, text string) {
	t.Helper()
	if _, err := s.engine.Handle(context.Background(), dialog.Inbound{ConversationID: id, Text: text,
		ClientID: fmt.Sprintf("%s:%d", id, time.Now().UnixNano())}); err != nil {
		t.Fatal(err)
	}
}

// agentFindCard returns the card of conversation id among ps.
func agentFindCard(ps []post, id string) (post, bool) {
	for _, p := range ps {
		if p.Method == "chat.postMessage" && p.Channel == agentChannel && p.ThreadTS == "" &&
			strings.Contains(p.Blocks, `"value":"`+id+`"`) {
			return p, true
		}
	}
	return post{}, false
}

// agentWaitCard waits for the card of conversation id.
func agentWaitCard(t *testing.T, s *stack, id string) post {
	t.Helper()
	ps := s.slack.waitFor(t, "the card of "+id, func(ps []post) bool { _, ok := agentFindCard(ps, id); return ok })
	p, _ := agentFindCard(ps, id)
	// The card counts once its links are stored (its Done ran): a reply
	// in its thread before that is not known to be one.
	agentEventually(t, "the card's links", func() bool {
		ts, err := s.store.Link(context.Background(), agentCardKey+id)
		return err == nil && ts == p.TS
	})
	return p
}

// agentLines returns the texts posted in the thread of the card cardTS.
func agentLines(ps []post, cardTS string) []string {
	var lines []string
	for _, p := range ps {
		if p.Method == "chat.postMessage" && p.Channel == agentChannel && p.ThreadTS == cardTS {
			lines = append(lines, p.Text)
		}
	}
	return lines
}

// agentWaitLine waits for a line containing want in the thread of cardTS
// and returns the thread's lines so far.
func agentWaitLine(t *testing.T, s *stack, cardTS, want string) []string {
	t.Helper()
	ps := s.slack.waitFor(t, "a thread line with "+want, func(ps []post) bool {
		for _, l := range agentLines(ps, cardTS) {
			if strings.Contains(l, want) {
				return true
			}
		}
		return false
	})
	return agentLines(ps, cardTS)
}

// agentEphemerals returns the ephemeral messages to user.
func agentEphemerals(ps []post, user string) []post {
	var out []post
	for _, p := range ps {
		if p.Method == "chat.postEphemeral" && p.User == user {
			out = append(out, p)
		}
	}
	return out
}

// agentWaitEphemeral waits for an ephemeral message to user containing
// want.
func agentWaitEphemeral(t *testing.T, s *stack, user, want string) post {
	t.Helper()
	var got post
	s.slack.waitFor(t, "an ephemeral message to "+user+" with "+want, func(ps []post) bool {
		for _, p := range agentEphemerals(ps, user) {
			if strings.Contains(p.Text, want) {
				got = p
				return true
			}
		}
		return false
	})
	return got
}

// agentEventually polls cond until it holds; the deadline only keeps a
// broken test from hanging.
func agentEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// agentConvIs waits until conversation id is in state st, held by agent.
func agentConvIs(t *testing.T, s *stack, id string, st crm.ConversationState, agent string) {
	t.Helper()
	agentEventually(t, fmt.Sprintf("%s in state %s held by %q", id, st, agent), func() bool {
		c, err := s.store.Conversation(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return c.State == st && c.AssignedAgent == agent
	})
}

// agentTS makes a distinct Slack ts for test messages.
func agentTS(n int) string { return fmt.Sprintf("1700000500.%06d", n) }

func TestAgentHandoffCard(t *testing.T) {
	tests := []struct {
		name, customer, text string
		want, wantNot        []string
	}{{
		name: "unverified web visitor", text: "I want a person <!channel> & <@U999> now",
		want:    []string{"unverified visitor on web", "I want a person &lt;!channel&gt; &amp; &lt;@U999&gt; now", "general"},
		wantNot: []string{"<!channel>", "<@U999>"},
	}, {
		name: "linked customer", customer: "c-001", text: "a human please",
		want: []string{"Ana Lopez (ana@example.com) on web", "a human please"},
	}}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStack(t)
			id := fmt.Sprintf("conv_web%d", i)
			agentHandoff(t, s.engine, id, tt.customer, tt.text)
			card := agentWaitCard(t, s, id)
			for _, action := range []string{actionTake, actionReturn, actionResolve} {
				if !strings.Contains(card.Blocks, `"action_id":"`+action+`"`) {
					t.Errorf("card has no button %s: %s", action, card.Blocks)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(card.Blocks, jsonEscape(w)) {
					t.Errorf("card lacks %q: %s", w, card.Blocks)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(card.Blocks, jsonEscape(w)) {
					t.Errorf("card has %q unescaped: %s", w, card.Blocks)
				}
			}
			for _, w := range []string{"Queue", "Priority", "Reason", "Satisfaction risk"} {
				if !strings.Contains(card.Blocks, w) {
					t.Errorf("card lacks %s: %s", w, card.Blocks)
				}
			}
			if card.Text == "" {
				t.Error("card without a fallback text")
			}
			ctx := context.Background()
			if got, err := s.store.Link(ctx, agentCardKey+id); err != nil || got != card.TS {
				t.Errorf("card link = %q, %v; want %q", got, err, card.TS)
			}
			if got, err := s.store.Link(ctx, agentThreadKey+card.TS); err != nil || got != id {
				t.Errorf("thread link = %q, %v; want %q", got, err, id)
			}
		})
	}
}

// jsonEscape is s as encoding/json writes it inside a string (the
// blocks' JSON escapes "&", "<" and ">").
func jsonEscape(s string) string {
	return strings.NewReplacer("&", `\u0026`, "<", `\u003c`, ">", `\u003e`).Replace(s)
}

func TestAgentReplyReachesWebCustomer(t *testing.T) {
	s := newStack(t)
	const id = "conv_web1"
	agentHandoff(t, s.engine, id, "", "I want a person")
	card := agentWaitCard(t, s, id)
	events, stop := s.engine.Subscribe(id, 64)
	defer stop()

	if code := s.event(t, "EvReply1", threadReply(agentUser, agentChannel, card.TS, agentTS(1), "Hello, Ada here &amp; <https://shop.example/faq|the FAQ>")); code != 200 {
		t.Fatalf("event: status %d", code)
	}
	want := "Hello, Ada here & the FAQ (https://shop.example/faq)"
	deadline := time.After(20 * time.Second)
	for got := false; !got; {
		select {
		case ev := <-events:
			if ev.Type == dialog.EventMessage && ev.Message.Sender == crm.SenderAgent {
				if ev.Message.AgentID != agentEmail || ev.Message.Text != want {
					t.Fatalf("the customer got %+v; want %q from %s", *ev.Message, want, agentEmail)
				}
				got = true
			}
		case <-deadline:
			t.Fatal("the agent's reply did not reach the web customer")
		}
	}
	agentConvIs(t, s, id, crm.StateAgent, agentEmail)
	agentWaitLine(t, s, card.TS, "Ada took the conversation")

	// The reply is not mirrored back: a later customer message is, and
	// the mirror goes in order.
	agentSay(t, s, id, "thanks, <!here> is it shipped?")
	lines := agentWaitLine(t, s, card.TS, "is it shipped?")
	for _, l := range lines {
		if strings.Contains(l, "Hello, Ada here") {
			t.Errorf("the agent's own reply came back into the thread: %q", l)
		}
		if strings.Contains(l, "<!here>") {
			t.Errorf("customer text not escaped: %q", l)
		}
	}
	if !strings.Contains(strings.Join(lines, "\n"), "*Customer:* thanks, &lt;!here&gt; is it shipped?") {
		t.Errorf("thread lines %q lack the escaped customer message", lines)
	}
}

func TestAgentNoteStaysPrivate(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	const id = "conv_note"
	agentHandoff(t, s.engine, id, "", "I want a person")
	card := agentWaitCard(t, s, id)
	before, err := s.store.Conversation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}

	if code := s.event(t, "EvNote1", threadReply(agentUser, agentChannel, card.TS, agentTS(2), "NOTE: check refund")); code != 200 {
		t.Fatalf("event: status %d", code)
	}
	var note crm.Event
	agentEventually(t, "the note", func() bool {
		evs, err := s.store.Events(ctx, id, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Type == crm.EventNote {
				note = ev
				return true
			}
		}
		return false
	})
	if note.Actor != agentEmail || note.Text != "check refund" {
		t.Errorf("note = %+v; want %q by %s", note, "check refund", agentEmail)
	}
	msgs, err := s.store.MessagesAfter(ctx, id, before.LastSeq, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 0 {
		t.Errorf("a note stored messages for the customer: %+v", msgs)
	}
	// Not posted back into the thread: a later message is, after it.
	agentSay(t, s, id, "hello?")
	for _, l := range agentWaitLine(t, s, card.TS, "hello?") {
		if strings.Contains(l, "check refund") {
			t.Errorf("the agent's note came back into the thread: %q", l)
		}
	}
	// A note written in the console is shown.
	if _, err := s.engine.Note(ctx, id, dialog.Actor{Login: agentEmail}, "called the carrier"); err != nil {
		t.Fatal(err)
	}
	agentWaitLine(t, s, card.TS, "*Note by Ada:* called the carrier")
}

func TestAgentStrangerRefused(t *testing.T) {
	tests := []struct {
		name string
		act  func(t *testing.T, s *stack, cardTS, id string)
	}{{
		name: "thread reply",
		act: func(t *testing.T, s *stack, cardTS, _ string) {
			if code := s.event(t, "EvStranger", threadReply(strangerUser, agentChannel, cardTS, agentTS(3), "hi, I can help")); code != 200 {
				t.Fatalf("event: status %d", code)
			}
		},
	}, {
		name: "note",
		act: func(t *testing.T, s *stack, cardTS, _ string) {
			if code := s.event(t, "EvStrangerNote", threadReply(strangerUser, agentChannel, cardTS, agentTS(4), "note: mine")); code != 200 {
				t.Fatalf("event: status %d", code)
			}
		},
	}, {
		name: "take button",
		act: func(t *testing.T, s *stack, cardTS, id string) {
			if code := s.click(t, strangerUser, agentChannel, cardTS, "", actionTake, id); code != 200 {
				t.Fatalf("click: status %d", code)
			}
		},
	}, {
		name: "user without a profile",
		act: func(t *testing.T, s *stack, cardTS, id string) {
			if code := s.event(t, "EvGhost", threadReply("UGHOST", agentChannel, cardTS, agentTS(5), "boo")); code != 200 {
				t.Fatalf("event: status %d", code)
			}
		},
	}}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStack(t)
			ctx := context.Background()
			id := fmt.Sprintf("conv_stranger%d", i)
			agentHandoff(t, s.engine, id, "", "I want a person")
			card := agentWaitCard(t, s, id)
			before, err := s.store.Conversation(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			evsBefore, err := s.store.Events(ctx, id, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			tt.act(t, s, card.TS, id)
			user := strangerUser
			if tt.name == "user without a profile" {
				user = "UGHOST"
			}
			p := agentWaitEphemeral(t, s, user, "not a Parley agent")
			if p.Channel != agentChannel {
				t.Errorf("ephemeral in %s; want %s", p.Channel, agentChannel)
			}
			after, err := s.store.Conversation(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			evsAfter, err := s.store.Events(ctx, id, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if after.LastSeq != before.LastSeq || after.State != crm.StateWaiting || len(evsAfter) != len(evsBefore) {
				t.Errorf("a stranger changed the conversation: %+v, %d events (before %+v, %d events)", after, len(evsAfter), before, len(evsBefore))
			}
		})
	}
}

func TestAgentButtons(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	const id = "conv_buttons"
	agentHandoff(t, s.engine, id, "", "I want a person")
	card := agentWaitCard(t, s, id)

	if code := s.click(t, agentUser, agentChannel, card.TS, "", actionTake, id); code != 200 {
		t.Fatalf("click: status %d", code)
	}
	agentConvIs(t, s, id, crm.StateAgent, agentEmail)
	agentWaitLine(t, s, card.TS, "Ada took the conversation")

	// Take again: nothing changes, Ada is told.
	s.click(t, agentUser, agentChannel, card.TS, "", actionTake, id)
	agentWaitEphemeral(t, s, agentUser, "You hold this conversation already")

	if code := s.click(t, agentUser, agentChannel, card.TS, "", actionResolve, id); code != 200 {
		t.Fatalf("click: status %d", code)
	}
	agentConvIs(t, s, id, crm.StateResolved, agentEmail)
	agentWaitLine(t, s, card.TS, "Ada resolved the conversation")

	// Return to bot on a waiting conversation.
	const id2 = "conv_buttons2"
	agentHandoff(t, s.engine, id2, "", "a human please")
	card2 := agentWaitCard(t, s, id2)
	s.click(t, agentUser, agentChannel, card2.TS, "", actionReturn, id2)
	agentConvIs(t, s, id2, crm.StateBot, "")
	agentWaitLine(t, s, card2.TS, "Ada gave it back to the bot")
	// The bot's notice to the customer is mirrored too.
	agentWaitLine(t, s, card2.TS, "assistant again")

	// Return again: the bot holds it already.
	s.click(t, agentUser, agentChannel, card2.TS, "", actionReturn, id2)
	agentWaitEphemeral(t, s, agentUser, "the bot holds the conversation")
	if _, err := s.store.Conversation(ctx, id2); err != nil {
		t.Fatal(err)
	}
}

func TestAgentHeldByAnother(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	if _, err := s.store.PutAgent(ctx, crm.Agent{Login: "bob@shop.example", Name: "Bob", Role: crm.RoleAgent}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	const id = "conv_held"
	agentHandoff(t, s.engine, id, "", "I want a person")
	card := agentWaitCard(t, s, id)
	if _, err := s.engine.Claim(ctx, id, dialog.Actor{Login: "bob@shop.example"}); err != nil {
		t.Fatal(err)
	}
	agentWaitLine(t, s, card.TS, "Bob took the conversation")
	before, err := s.store.Conversation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}

	s.click(t, agentUser, agentChannel, card.TS, "", actionTake, id)
	agentWaitEphemeral(t, s, agentUser, "That did not work: this conversation is held by Bob")
	s.event(t, "EvHeldReply", threadReply(agentUser, agentChannel, card.TS, agentTS(6), "let me help"))
	p := agentWaitEphemeral(t, s, agentUser, "Your reply was not sent: this conversation is held by Bob")
	if p.ThreadTS != card.TS {
		t.Errorf("ephemeral in thread %q; want %q", p.ThreadTS, card.TS)
	}
	s.click(t, agentUser, agentChannel, card.TS, "", actionResolve, id)
	agentWaitEphemeral(t, s, agentUser, "only the agent who holds this conversation")

	after, err := s.store.Conversation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if after.State != crm.StateAgent || after.AssignedAgent != "bob@shop.example" || after.LastSeq != before.LastSeq {
		t.Errorf("conversation changed: %+v", after)
	}
}

func TestAgentMirror(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	const id = "conv_mirror"
	agentHandoff(t, s.engine, id, "", "I want a person")
	card := agentWaitCard(t, s, id)

	agentSay(t, s, id, "my order 1042 is late <@U123>")
	agentWaitLine(t, s, card.TS, "*Customer:* my order 1042 is late &lt;@U123&gt;")
	if _, _, err := s.engine.Post(ctx, dialog.Outbound{ConversationID: id, Sender: crm.SenderAgent, AgentID: agentEmail,
		Text: "Looking into it", ClientID: "console:1"}); err != nil {
		t.Fatal(err)
	}
	lines := agentWaitLine(t, s, card.TS, "*Ada (console):* Looking into it")
	// In order: the customer, then the claim the console reply made, then
	// the reply.
	var order []int
	for _, w := range []string{"my order 1042", "Ada took the conversation", "Looking into it"} {
		for i, l := range lines {
			if strings.Contains(l, w) {
				order = append(order, i)
				break
			}
		}
	}
	if len(order) != 3 || order[0] > order[1] || order[1] > order[2] {
		t.Errorf("thread out of order: %q", lines)
	}
	// The handoff itself is on the card, not repeated in the thread.
	for _, l := range lines {
		if strings.Contains(l, "Handed off") || strings.Contains(l, "I want a person") {
			t.Errorf("the card's content was mirrored again: %q", l)
		}
	}
	// A release and a second handoff: one card still, a line in its thread.
	if _, err := s.engine.Release(ctx, id, dialog.Actor{Login: agentEmail}); err != nil {
		t.Fatal(err)
	}
	agentWaitLine(t, s, card.TS, "Ada put it back in the queue")
	if n := count(s.slack.Posts(), func(p post) bool { _, ok := agentFindCard([]post{p}, id); return ok }); n != 1 {
		t.Errorf("%d cards for one conversation; want 1", n)
	}
	cursor, err := s.store.Link(ctx, agentSentKey+id)
	if err != nil || cursor == "" {
		t.Errorf("mirror cursor = %q, %v", cursor, err)
	}
}

func TestAgentCatchUp(t *testing.T) {
	ctx := context.Background()
	// Both happen before the adapter runs: a handoff with no card yet,
	// and messages in a carded conversation after its mirror cursor.
	s := newStack(t, func(cfg *Config) {
		e := cfg.Engine.(*dialog.Engine)
		agentHandoff(t, e, "conv_missed", "", "I want a person")
		agentHandoff(t, e, "conv_carded", "", "I want a person")
		c, err := cfg.Store.Conversation(ctx, "conv_carded")
		if err != nil {
			t.Fatal(err)
		}
		evs, err := cfg.Store.Events(ctx, "conv_carded", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range map[string]string{
			agentSentKey + "conv_carded":         fmt.Sprintf("%d %d", c.LastSeq, evs[len(evs)-1].Seq),
			agentThreadKey + "1690000000.000001": "conv_carded",
			agentCardKey + "conv_carded":         "1690000000.000001",
		} {
			if err := cfg.Store.PutLink(ctx, k, v); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.Handle(ctx, dialog.Inbound{ConversationID: "conv_carded", Text: "still waiting", ClientID: "late"}); err != nil {
			t.Fatal(err)
		}
	})
	agentWaitCard(t, s, "conv_missed")
	lines := agentWaitLine(t, s, "1690000000.000001", "*Customer:* still waiting")
	for _, l := range lines {
		if strings.Contains(l, "I want a person") {
			t.Errorf("a message before the cursor was mirrored again: %q", l)
		}
	}
	if _, ok := agentFindCard(s.slack.Posts(), "conv_carded"); ok {
		t.Error("a carded conversation got a second card")
	}
}

func TestAgentSlackCustomer(t *testing.T) {
	s := newStack(t)
	const dmChannel = "DCUST1"
	if code := s.event(t, "EvDM1", dm(customerUser, dmChannel, agentTS(10), "I want a person")); code != 200 {
		t.Fatalf("event: status %d", code)
	}
	var card post
	s.slack.waitFor(t, "a card for the Slack customer", func(ps []post) bool {
		for _, p := range ps {
			if p.Channel == agentChannel && p.ThreadTS == "" && strings.Contains(p.Blocks, `"action_id":"parley_take"`) {
				card = p
				return true
			}
		}
		return false
	})
	// Ada answers at once, before the adapter may have stored the card's
	// links: the reply waits for them (cardOf).
	if !strings.Contains(card.Blocks, "unverified visitor on slack") {
		t.Errorf("card does not say the customer is unverified on slack: %s", card.Blocks)
	}
	if code := s.event(t, "EvDMReply", threadReply(agentUser, agentChannel, card.TS, agentTS(11), "Hello, Ada here")); code != 200 {
		t.Fatalf("event: status %d", code)
	}
	s.slack.waitFor(t, "Ada's reply in the customer's DM", func(ps []post) bool {
		return count(ps, func(p post) bool {
			return p.Method == "chat.postMessage" && p.Channel == dmChannel && strings.Contains(p.Text+p.Blocks, "Hello, Ada here")
		}) == 1
	})
}

func TestAgentDeliveryFailure(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	// A card that failed for good: the console gets a note, and the next
	// event tries the card again.
	const id2 = "conv_fail2"
	agentHandoff(t, s.engine, id2, "", "a human please")
	agentWaitCard(t, s, id2)
	c, err := s.adapter.lockConv(ctx, id2, false)
	if err != nil || c == nil {
		t.Fatalf("lockConv: %v, %v", c, err)
	}
	c.cardTS, c.carding = "", true
	if err := s.store.PutLink(ctx, agentCardKey+id2, ""); err != nil {
		t.Fatal(err)
	}
	c.mu.Unlock()
	s.adapter.cardPosted(ctx, c, "", errors.New("channel_not_found"))
	evs, err := s.store.Events(ctx, id2, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if last.Type != crm.EventNote || last.Actor != slackActor || !strings.Contains(last.Text, "Slack delivery failed") ||
		!strings.Contains(last.Text, "channel_not_found") {
		t.Errorf("last event = %+v; want a note that the delivery failed", last)
	}
	agentSay(t, s, id2, "anyone?")
	s.slack.waitFor(t, "the card posted again", func(ps []post) bool {
		return count(ps, func(p post) bool { _, ok := agentFindCard([]post{p}, id2); return ok }) == 2
	})
}

func TestAgentIgnoresOtherMessages(t *testing.T) {
	s := newStack(t)
	const id = "conv_ignore"
	agentHandoff(t, s.engine, id, "", "I want a person")
	card := agentWaitCard(t, s, id)
	before := len(s.slack.Posts())
	// Top-level chatter in the agent channel, a reply in a thread that is
	// not a card's, and a stranger's top-level message: no effect.
	s.event(t, "EvTop", map[string]any{"type": "message", "channel_type": "channel", "channel": agentChannel, "user": agentUser, "text": "morning all", "ts": agentTS(20)})
	s.event(t, "EvOther", threadReply(agentUser, agentChannel, "1600000000.000001", agentTS(21), "note: lunch?"))
	s.event(t, "EvTopStranger", map[string]any{"type": "message", "channel_type": "channel", "channel": agentChannel, "user": strangerUser, "text": "hi", "ts": agentTS(22)})
	// Then a real reply: once it is handled, the ones before it were too.
	s.event(t, "EvReal", threadReply(agentUser, agentChannel, card.TS, agentTS(23), "On it"))
	agentConvIs(t, s, id, crm.StateAgent, agentEmail)
	agentWaitLine(t, s, card.TS, "Ada took the conversation")
	for _, p := range s.slack.Posts()[before:] {
		if p.Method == "chat.postEphemeral" || p.ThreadTS != card.TS {
			t.Errorf("unexpected post %+v", p)
		}
	}
	evs, err := s.store.Events(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Type == crm.EventNote {
			t.Errorf("a note from another thread was stored: %+v", ev)
		}
	}
}
