package boltdb

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm"
)

// say appends a customer message and returns it.
func say(t *testing.T, db *DB, convID, text string) crm.Message {
	t.Helper()
	m, created, err := db.AppendMessage(context.Background(), crm.Message{ConversationID: convID, Sender: crm.SenderCustomer, Text: text})
	if err != nil || !created {
		t.Fatalf("AppendMessage(%q) = %v, %v", text, created, err)
	}
	return m
}

func TestAppendMessageCreatedAndLastCustomerSeq(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	conv := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb}))
	steps := []struct {
		sender      crm.Sender
		clientID    string
		wantSeq     uint64
		wantCreated bool
		wantLastCus uint64
	}{
		{crm.SenderCustomer, "c1", 1, true, 1},
		{crm.SenderBot, "", 2, true, 1},
		{crm.SenderCustomer, "c1", 1, false, 1}, // a resend: nothing new
		{crm.SenderAgent, "a1", 3, true, 1},
		{crm.SenderCustomer, "", 4, true, 4},
		{crm.SenderSystem, "", 5, true, 4},
	}
	for i, s := range steps {
		m, created, err := db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: s.sender, AgentID: "ann", Text: "text", ClientID: s.clientID})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		got := must[crm.Conversation](t)(db.Conversation(ctx, conv.ID))
		if m.Seq != s.wantSeq || created != s.wantCreated || got.LastCustomerSeq != s.wantLastCus {
			t.Errorf("step %d (%s): seq %d, created %v, last customer seq %d; want %d, %v, %d",
				i, s.sender, m.Seq, created, got.LastCustomerSeq, s.wantSeq, s.wantCreated, s.wantLastCus)
		}
		if !got.Unanswered() {
			t.Errorf("step %d: conversation %+v not unanswered", i, got)
		}
	}
}

func TestCustomerMessageReopens(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	conv := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb, Queue: "billing"}))
	resolve := func() {
		t.Helper()
		c := must[crm.Conversation](t)(db.UpdateConversation(ctx, conv.ID, func(c *crm.Conversation) error {
			c.State = crm.StateResolved
			return nil
		}))
		if c.ClosedAt.IsZero() {
			t.Fatal("resolved without ClosedAt")
		}
	}
	open := func() bool {
		t.Helper()
		return len(must[[]crm.Conversation](t)(db.OpenConversations(ctx, crm.ConversationFilter{}))) == 1
	}

	resolve()
	mustMessage(t)(db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderBot, Text: "bye"}))
	if c := must[crm.Conversation](t)(db.Conversation(ctx, conv.ID)); c.State != crm.StateResolved || open() {
		t.Fatalf("a bot message reopened the conversation: %+v", c)
	}
	say(t, db, conv.ID, "one more thing")
	c := must[crm.Conversation](t)(db.Conversation(ctx, conv.ID))
	// ClosedAt stays until the next update: the engine tells a reopened
	// conversation by it.
	if c.State != crm.StateBot || c.ClosedAt.IsZero() || c.LastCustomerSeq != 2 || !c.Unanswered() {
		t.Fatalf("after a customer message: %+v, want reopened to the bot", c)
	}
	if !open() {
		t.Fatal("reopened conversation not listed as open")
	}
	if got := must[[]crm.Conversation](t)(db.OpenConversations(ctx, crm.ConversationFilter{State: crm.StateBot, Queue: "billing"})); len(got) != 1 {
		t.Fatalf("open index of the reopened conversation: %v", got)
	}
	// The turn that answers it is the update that clears ClosedAt.
	c, _ = must2(t)(db.CommitTurn(ctx, crm.Turn{ConversationID: conv.ID, Seq: 2}))
	if !c.ClosedAt.IsZero() || c.AnsweredSeq != 2 {
		t.Fatalf("after the turn: %+v", c)
	}
}

func must2(t *testing.T) func(c crm.Conversation, ms []crm.Message, err error) (crm.Conversation, []crm.Message) {
	return func(c crm.Conversation, ms []crm.Message, err error) (crm.Conversation, []crm.Message) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c, ms
	}
}

func TestUpdateConversationKeepsSeqs(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	conv := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb}))
	say(t, db, conv.ID, "hi")
	mustMessage(t)(db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderBot, Text: "hello"}))
	say(t, db, conv.ID, "where is my order") // seq 3
	tests := []struct {
		name     string
		answered uint64
		want     uint64
	}{
		{"raise", 1, 1},
		{"past the last customer message", 9, 3},
		{"lower", 0, 3},
		{"unchanged", 3, 3},
	}
	for _, tt := range tests {
		c := must[crm.Conversation](t)(db.UpdateConversation(ctx, conv.ID, func(c *crm.Conversation) error {
			c.AnsweredSeq = tt.answered
			c.LastSeq, c.LastCustomerSeq = 40, 41
			return nil
		}))
		if c.AnsweredSeq != tt.want || c.LastSeq != 3 || c.LastCustomerSeq != 3 {
			t.Errorf("%s: answered %d, last seq %d, last customer seq %d; want %d, 3, 3", tt.name, c.AnsweredSeq, c.LastSeq, c.LastCustomerSeq, tt.want)
		}
	}
}

func TestOpenConversationsUnanswered(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	owed := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb}))
	say(t, db, owed.ID, "hello?")
	answered := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb}))
	m := say(t, db, answered.ID, "hi")
	must[crm.Conversation](t)(db.UpdateConversation(ctx, answered.ID, func(c *crm.Conversation) error {
		c.AnsweredSeq = m.Seq
		return nil
	}))
	agent := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb}))
	say(t, db, agent.ID, "for a person")
	must[crm.Conversation](t)(db.UpdateConversation(ctx, agent.ID, func(c *crm.Conversation) error {
		c.State, c.AssignedAgent = crm.StateAgent, "ann"
		return nil
	}))
	must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb})) // silent

	tests := []struct {
		name string
		f    crm.ConversationFilter
		want []string
	}{
		{"all open", crm.ConversationFilter{}, []string{owed.ID, answered.ID, agent.ID, "*"}},
		{"unanswered", crm.ConversationFilter{Unanswered: true}, []string{owed.ID}},
		{"unanswered held by the bot", crm.ConversationFilter{Unanswered: true, State: crm.StateBot}, []string{owed.ID}},
		{"unanswered held by an agent", crm.ConversationFilter{Unanswered: true, State: crm.StateAgent}, nil},
	}
	for _, tt := range tests {
		got := must[[]crm.Conversation](t)(db.OpenConversations(ctx, tt.f))
		if len(got) != len(tt.want) {
			t.Errorf("%s: %d conversations, want %d", tt.name, len(got), len(tt.want))
			continue
		}
		for i, id := range tt.want {
			if id != "*" && got[i].ID != id {
				t.Errorf("%s: [%d] = %s, want %s", tt.name, i, got[i].ID, id)
			}
		}
	}
}

// turnSetup makes a conversation whose first message (from the customer)
// waits for an answer.
func turnSetup(t *testing.T) (*DB, crm.Conversation, crm.Message) {
	t.Helper()
	ctx := context.Background()
	db := openTest(t)
	must[crm.Customer](t)(db.CreateCustomer(ctx, crm.Customer{ID: "cus_ada", Name: "Ada"}))
	conv := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb, CustomerID: "cus_ada"}))
	return db, conv, say(t, db, conv.ID, "I want a refund")
}

func TestCommitTurn(t *testing.T) {
	ctx := context.Background()
	db, conv, m := turnSetup(t)
	parse := json.RawMessage(`{"intent":"refund","text":"card 4111 1111 1111 1111"}`)
	got, replies, err := db.CommitTurn(ctx, crm.Turn{
		ConversationID: conv.ID,
		Seq:            m.Seq,
		Parse:          parse,
		Update: func(c *crm.Conversation) error {
			c.State, c.Queue, c.Priority = crm.StateWaiting, "billing", crm.PriorityHigh
			c.LastSeq = 99 // kept by the store
			return nil
		},
		Replies: []crm.Message{
			{Sender: crm.SenderBot, Text: "Let me get a person.", ClientID: "turn-1-0"},
			{ConversationID: "elsewhere", Sender: crm.SenderSystem, Text: "Handed to billing."},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.AnsweredSeq != 1 || got.LastSeq != 3 || got.LastCustomerSeq != 1 || got.State != crm.StateWaiting || got.Queue != "billing" || got.Unanswered() {
		t.Errorf("conversation after the turn: %+v", got)
	}
	if len(replies) != 2 || replies[0].Seq != 2 || replies[1].Seq != 3 || replies[1].ConversationID != conv.ID || replies[0].ID == "" {
		t.Fatalf("replies: %+v", replies)
	}
	if stored := must[crm.Conversation](t)(db.Conversation(ctx, conv.ID)); stored.AnsweredSeq != 1 || stored.State != crm.StateWaiting {
		t.Errorf("stored conversation: %+v", stored)
	}
	waiting := must[[]crm.Conversation](t)(db.OpenConversations(ctx, crm.ConversationFilter{State: crm.StateWaiting, Queue: "billing"}))
	if len(waiting) != 1 {
		t.Errorf("open index after the turn: %v", waiting)
	}
	msgs := must[[]crm.Message](t)(db.MessagesAfter(ctx, conv.ID, 0, 0))
	if len(msgs) != 3 || !strings.Contains(string(msgs[0].Parse), crm.CardPlaceholder) || strings.Contains(string(msgs[0].Parse), "4111") {
		t.Fatalf("messages after the turn: %+v", msgs)
	}

	// The same turn again: answered already, nothing written.
	_, _, err = db.CommitTurn(ctx, crm.Turn{ConversationID: conv.ID, Seq: m.Seq, Replies: []crm.Message{{Sender: crm.SenderBot, Text: "again"}}})
	if !errors.Is(err, crm.ErrAnswered) {
		t.Fatalf("second turn for message 1: %v, want ErrAnswered", err)
	}
	if n := len(must[[]crm.Message](t)(db.MessagesAfter(ctx, conv.ID, 0, 0))); n != 3 {
		t.Fatalf("%d messages after a refused turn, want 3", n)
	}

	// A reply with a ClientID already stored is not stored again.
	m4 := say(t, db, conv.ID, "hello?")
	_, replies, err = db.CommitTurn(ctx, crm.Turn{ConversationID: conv.ID, Seq: m4.Seq, Replies: []crm.Message{
		{Sender: crm.SenderBot, Text: "Let me get a person.", ClientID: "turn-1-0"},
		{Sender: crm.SenderBot, Text: "Still here."},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 2 || replies[0].Seq != 2 || replies[1].Seq != 5 {
		t.Fatalf("replies with a resent ClientID: %+v", replies)
	}
}

func TestCommitTurnWritesNothingOnError(t *testing.T) {
	errVeto := errors.New("veto")
	tests := []struct {
		name string
		turn func(conv string) crm.Turn
		want error
	}{
		{"update fails", func(conv string) crm.Turn {
			return crm.Turn{ConversationID: conv, Seq: 1, Update: func(*crm.Conversation) error { return errVeto },
				Replies: []crm.Message{{Sender: crm.SenderBot, Text: "never"}}}
		}, errVeto},
		{"update breaks a rule", func(conv string) crm.Turn {
			return crm.Turn{ConversationID: conv, Seq: 1, Update: func(c *crm.Conversation) error { c.State = "gone"; return nil }}
		}, crm.ErrInvalid},
		{"reply invalid", func(conv string) crm.Turn {
			return crm.Turn{ConversationID: conv, Seq: 1, Replies: []crm.Message{{Sender: crm.SenderBot, Text: "ok"}, {Sender: crm.SenderBot, Text: " "}}}
		}, crm.ErrInvalid},
		{"reply too large", func(conv string) crm.Turn {
			return crm.Turn{ConversationID: conv, Seq: 1, Replies: []crm.Message{{Sender: crm.SenderBot, Text: strings.Repeat("x", crm.DefaultMaxMessageBytes+1)}}}
		}, crm.ErrTooLarge},
		{"parse not JSON", func(conv string) crm.Turn {
			return crm.Turn{ConversationID: conv, Seq: 1, Parse: json.RawMessage(`{`)}
		}, crm.ErrInvalid},
		{"no such message", func(conv string) crm.Turn {
			return crm.Turn{ConversationID: conv, Seq: 7}
		}, crm.ErrNotFound},
		{"no such conversation", func(string) crm.Turn {
			return crm.Turn{ConversationID: "conv_nope", Seq: 1}
		}, crm.ErrNotFound},
		{"message 0", func(conv string) crm.Turn {
			return crm.Turn{ConversationID: conv, Seq: 0}
		}, crm.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db, conv, _ := turnSetup(t)
			if _, _, err := db.CommitTurn(ctx, tt.turn(conv.ID)); !errors.Is(err, tt.want) {
				t.Fatalf("CommitTurn: %v, want %v", err, tt.want)
			}
			got := must[crm.Conversation](t)(db.Conversation(ctx, conv.ID))
			if got.AnsweredSeq != 0 || got.LastSeq != 1 || got.State != crm.StateBot || !got.Unanswered() {
				t.Errorf("conversation after a failed turn: %+v", got)
			}
			if m := must[[]crm.Message](t)(db.MessagesAfter(ctx, conv.ID, 0, 0)); len(m) != 1 || m[0].Parse != nil {
				t.Errorf("messages after a failed turn: %+v", m)
			}
		})
	}
}

// TestCommitTurnConcurrent commits turns and appends at once, so that they
// share group commits, and expects every turn to commit exactly once.
func TestCommitTurnConcurrent(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	const n = 20
	convs := make([]crm.Conversation, n)
	for i := range convs {
		convs[i] = must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb}))
		say(t, db, convs[i].ID, "hi")
	}
	errs := make(chan error, 2*n)
	for _, c := range convs {
		for range 2 {
			go func() {
				_, _, err := db.CommitTurn(ctx, crm.Turn{ConversationID: c.ID, Seq: 1, Replies: []crm.Message{{Sender: crm.SenderBot, Text: "hello"}}})
				errs <- err
			}()
		}
	}
	answered := 0
	for range 2 * n {
		switch err := <-errs; {
		case err == nil:
			answered++
		case !errors.Is(err, crm.ErrAnswered):
			t.Error(err)
		}
	}
	if answered != n {
		t.Errorf("%d turns committed, want %d (one per conversation)", answered, n)
	}
	for _, c := range convs {
		if got := must[crm.Conversation](t)(db.Conversation(ctx, c.ID)); got.LastSeq != 2 || got.AnsweredSeq != 1 {
			t.Errorf("conversation %s: %+v", c.ID, got)
		}
	}
}

func TestImportTreatsHistoryAsAnswered(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	snap := crm.Snapshot{
		Conversations: []crm.Conversation{
			{ID: "conv_a", Channel: crm.ChannelWeb, LastSeq: 7, LastCustomerSeq: 7, AnsweredSeq: 0},
			{ID: "conv_b", Channel: crm.ChannelWeb, AnsweredSeq: 5},
		},
		Messages: []crm.Message{
			{ConversationID: "conv_a", Sender: crm.SenderCustomer, Text: "hi"},
			{ConversationID: "conv_a", Sender: crm.SenderBot, Text: "hello"},
			{ConversationID: "conv_a", Sender: crm.SenderCustomer, Text: "thanks"},
			{ConversationID: "conv_a", Sender: crm.SenderBot, Text: "bye"},
		},
	}
	if err := db.Import(ctx, snap); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		id                       string
		last, lastCust, answered uint64
	}{{"conv_a", 4, 3, 3}, {"conv_b", 0, 0, 0}} {
		c := must[crm.Conversation](t)(db.Conversation(ctx, tt.id))
		if c.LastSeq != tt.last || c.LastCustomerSeq != tt.lastCust || c.AnsweredSeq != tt.answered || c.Unanswered() {
			t.Errorf("%s: last %d, last customer %d, answered %d; want %d, %d, %d", tt.id,
				c.LastSeq, c.LastCustomerSeq, c.AnsweredSeq, tt.last, tt.lastCust, tt.answered)
		}
	}
	if got := must[[]crm.Conversation](t)(db.OpenConversations(ctx, crm.ConversationFilter{Unanswered: true})); len(got) != 0 {
		t.Errorf("imported conversations owe answers: %v", got)
	}
}
