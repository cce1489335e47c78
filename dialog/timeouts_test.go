package dialog_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// sweep runs one Sweep and checks how many conversations it changed.
func (h *harness) sweep(t testing.TB, want int) {
	t.Helper()
	n, err := h.engine.Sweep(context.Background())
	if err != nil || n != want {
		t.Fatalf("sweep changed %d (%v), want %d", n, err, want)
	}
}

// lastMessage returns a conversation's newest stored message.
func (h *harness) lastMessage(t testing.TB, id string) crm.Message {
	t.Helper()
	ms, err := h.db.MessagesAfter(context.Background(), id, 0, 0)
	if err != nil || len(ms) == 0 {
		t.Fatalf("messages: %d, %v", len(ms), err)
	}
	return ms[len(ms)-1]
}

func TestQueueTimeout(t *testing.T) {
	ctx := context.Background()
	h, clk := newClockHarness(t, now, nil) // now is a Tuesday; no hours: always open
	conv := h.waitingConv(t, "ana@example.com")
	events, stop := h.engine.Subscribe(conv.ID, 16)
	defer stop()
	clk.advance(dialog.DefaultQueueTimeout - time.Second)
	h.sweep(t, 0)
	clk.advance(time.Second)
	bots := h.botMessages(t, conv.ID)
	h.sweep(t, 1)
	if got := h.botMessages(t, conv.ID); got != bots+1 {
		t.Fatalf("%d bot messages after the timeout, want %d", got, bots+1)
	}
	m := h.lastMessage(t, conv.ID)
	if !strings.Contains(m.Text, "nobody from our general team is free") || !strings.Contains(m.Text, "e-mail") {
		t.Errorf("timeout message %q", m.Text)
	}
	c, _ := h.db.Conversation(ctx, conv.ID)
	if c.State != crm.StateWaiting || c.Queue != "general" {
		t.Errorf("after the timeout: %s in %q, want still waiting in general", c.State, c.Queue)
	}
	evs := h.events(t, conv.ID)
	if got := eventTypes(evs); !slices.Equal(got, []crm.EventType{crm.EventHandoff, crm.EventTimeout}) {
		t.Errorf("events %v", got)
	}
	if ev := evs[1]; ev.Actor != crm.ActorSystem || ev.Queue != "general" {
		t.Errorf("timeout event %+v", ev)
	}
	if got, want := published(events), []string{"state waiting", "lifecycle timeout", "message bot"}; !slices.Equal(got, want) {
		t.Errorf("published %q, want %q", got, want)
	}
	// Said once.
	clk.advance(time.Hour)
	h.sweep(t, 0)
	// An agent can still claim it.
	if _, err := h.engine.Claim(ctx, conv.ID, dialog.Actor{Login: "grace"}); err != nil {
		t.Fatal(err)
	}
}

// A new handoff after the bot got the conversation back gets its own
// timeout.
func TestQueueTimeoutAgainAfterReturn(t *testing.T) {
	ctx := context.Background()
	h, clk := newClockHarness(t, now, func(c *dialog.Config) { c.QueueTimeout = time.Minute })
	conv := h.waitingConv(t, "")
	clk.advance(time.Minute)
	h.sweep(t, 1)
	if _, err := h.engine.Return(ctx, conv.ID, dialog.Actor{}); err != nil {
		t.Fatal(err)
	}
	h.say(t, conv.ID, "a person, please", "human_agent:0.95")
	clk.advance(time.Minute)
	h.sweep(t, 1)
}

func TestQueueTimeoutOutsideBusinessHours(t *testing.T) {
	hours, err := dialog.ParseHours("mon-fri 09:00-17:00 UTC")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		start time.Time
		after time.Duration // since the handoff
		want  int
	}{
		{name: "open, too soon", start: now, after: time.Minute},
		{name: "open, in time", start: now, after: 2 * time.Minute, want: 1},
		{name: "saturday, at once", start: time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC), want: 1},
		{name: "evening, at once", start: time.Date(2026, 3, 10, 18, 30, 0, 0, time.UTC), want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, clk := newClockHarness(t, tt.start, func(c *dialog.Config) { c.Hours = hours })
			conv := h.waitingConv(t, "")
			clk.advance(tt.after)
			h.sweep(t, tt.want)
			if tt.want > 0 && !strings.Contains(h.lastMessage(t, conv.ID).Text, "nobody") {
				t.Errorf("last message %q, want the timeout", h.lastMessage(t, conv.ID).Text)
			}
		})
	}
}

func TestEmailAfterTimeout(t *testing.T) {
	tests := []struct {
		name   string
		email  string // the customer's, "" for an anonymous visitor
		ticket bool
	}{
		{name: "known customer", email: "ana@example.com", ticket: true},
		{name: "anonymous visitor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h, clk := newClockHarness(t, now, nil)
			conv := h.waitingConv(t, tt.email)
			// Before the timeout an address is just a message.
			out := h.say(t, conv.ID, "ana.b@example.org", "greet:0.9")
			if len(out.Replies) != 0 || !slices.Contains(out.Actions, "silent") {
				t.Fatalf("before the timeout: %v, %d replies", out.Actions, len(out.Replies))
			}
			clk.advance(dialog.DefaultQueueTimeout)
			h.sweep(t, 1)
			events, stop := h.engine.Subscribe(conv.ID, 16)
			defer stop()
			// No parse is needed (the script has none for this text).
			out, err := h.engine.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "ok, write to me at <ana.b@example.org>."})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Replies) != 1 || !strings.Contains(out.Replies[0].Text, "we'll write to you at ana.b@example.org") {
				t.Fatalf("actions %v, replies %+v", out.Actions, out.Replies)
			}
			c, _ := h.db.Conversation(ctx, conv.ID)
			if c.Slots["contact_email"] != "ana.b@example.org" || c.State != crm.StateWaiting || c.AnsweredSeq != c.LastCustomerSeq {
				t.Errorf("conversation %s, slots %v, answered %d of %d", c.State, c.Slots, c.AnsweredSeq, c.LastCustomerSeq)
			}
			evs := h.events(t, conv.ID)
			if ev := evs[len(evs)-1]; ev.Type != crm.EventContact || ev.Text != "ana.b@example.org" || ev.Actor != crm.ActorBot {
				t.Errorf("last event %+v, want contact", ev)
			}
			if got, want := published(events), []string{"message customer", "message bot", "state waiting", "lifecycle contact"}; !slices.Equal(got, want) {
				t.Errorf("published %q, want %q", got, want)
			}
			var tickets []crm.Ticket
			if tt.email != "" {
				tickets, err = h.db.OpenTickets(ctx, c.CustomerID)
				if err != nil {
					t.Fatal(err)
				}
			}
			var found *crm.Ticket
			for i, tk := range tickets {
				if tk.Topic == "email_reply" {
					found = &tickets[i]
				}
			}
			if (found != nil) != tt.ticket {
				t.Fatalf("ticket %+v, want one: %v", found, tt.ticket)
			}
			if found != nil && (!strings.Contains(found.Subject, "ana.b@example.org") || !slices.Contains(found.Conversations, conv.ID) || found.Queue != "general") {
				t.Errorf("ticket %+v", found)
			}
		})
	}
}

func TestGoodbyeWhileWaiting(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.waitingConv(t, "ana@example.com")
	// Without a closing cue nothing is parsed (unscripted text would fail).
	out, err := h.engine.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "still there?"})
	if err != nil || len(out.Replies) != 0 {
		t.Fatalf("a message while waiting: %d replies, %v", len(out.Replies), err)
	}
	// A cue the NLU does not read as a goodbye changes nothing.
	out = h.say(t, conv.ID, "my parcel said bye to the truck", "delivery_problem:0.8")
	if len(out.Replies) != 0 {
		t.Fatalf("not a goodbye: %v", out.Actions)
	}
	events, stop := h.engine.Subscribe(conv.ID, 16)
	defer stop()
	out = h.say(t, conv.ID, "ok bye", "goodbye:0.95")
	if len(out.Replies) != 1 || !strings.Contains(out.Replies[0].Text, "out of the queue") || out.Conversation.State != crm.StateResolved {
		t.Fatalf("goodbye while waiting: actions %v, replies %+v, state %s", out.Actions, out.Replies, out.Conversation.State)
	}
	c, _ := h.db.Conversation(ctx, conv.ID)
	if c.State != crm.StateResolved || c.AnsweredSeq != c.LastCustomerSeq {
		t.Errorf("stored %s, answered %d of %d", c.State, c.AnsweredSeq, c.LastCustomerSeq)
	}
	if got := eventTypes(h.events(t, conv.ID)); !slices.Equal(got, []crm.EventType{crm.EventHandoff, crm.EventLeave}) {
		t.Errorf("events %v", got)
	}
	if got, want := published(events), []string{"message customer", "message bot", "state resolved", "lifecycle leave"}; !slices.Equal(got, want) {
		t.Errorf("published %q, want %q", got, want)
	}
	// The next message reopens it with the bot, which answers that one
	// only.
	out = h.say(t, conv.ID, "hi again", "greet:0.9")
	if len(out.Replies) != 1 || out.Conversation.State != crm.StateBot {
		t.Errorf("reopened: %d replies, state %s", len(out.Replies), out.Conversation.State)
	}
}

func TestAgentTimeout(t *testing.T) {
	tests := []struct {
		name    string
		writeAt time.Duration // when the agent writes after claiming; 0: never
		after   time.Duration // when the sweep runs after the claim
		want    int
	}{
		{name: "silent agent, too soon", after: dialog.DefaultAgentTimeout - time.Second},
		{name: "silent agent", after: dialog.DefaultAgentTimeout, want: 1},
		{name: "agent answered", writeAt: time.Minute, after: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h, clk := newClockHarness(t, now, nil)
			conv := h.waitingConv(t, "ana@example.com")
			clk.advance(time.Minute)
			if _, err := h.engine.Claim(ctx, conv.ID, dialog.Actor{Login: "grace"}); err != nil {
				t.Fatal(err)
			}
			if tt.writeAt > 0 {
				clk.advance(tt.writeAt)
				if _, _, err := h.engine.Post(ctx, dialog.Outbound{ConversationID: conv.ID, Sender: crm.SenderAgent, AgentID: "grace", Text: "Looking into it."}); err != nil {
					t.Fatal(err)
				}
				clk.advance(tt.after - tt.writeAt)
			} else {
				clk.advance(tt.after)
			}
			events, stop := h.engine.Subscribe(conv.ID, 16)
			defer stop()
			h.sweep(t, tt.want)
			c, _ := h.db.Conversation(ctx, conv.ID)
			if tt.want == 0 {
				if c.State != crm.StateAgent || c.AssignedAgent != "grace" {
					t.Errorf("%s held by %q, want grace's still", c.State, c.AssignedAgent)
				}
				return
			}
			if c.State != crm.StateWaiting || c.AssignedAgent != "" || c.Queue != "general" {
				t.Errorf("requeued: %s held by %q in %q", c.State, c.AssignedAgent, c.Queue)
			}
			evs := h.events(t, conv.ID)
			if ev := evs[len(evs)-1]; ev.Type != crm.EventRequeue || ev.Actor != crm.ActorSystem || !strings.Contains(ev.Text, "grace") {
				t.Errorf("last event %+v, want a requeue naming grace", ev)
			}
			if got, want := published(events), []string{"state waiting", "lifecycle requeue"}; !slices.Equal(got, want) {
				t.Errorf("published %q, want %q", got, want)
			}
		})
	}
}

// The sweeper stops with its context.
func TestRunSweeperStops(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.engine.RunSweeper(ctx, time.Hour) }()
	cancel()
	<-done
}
