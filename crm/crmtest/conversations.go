package crmtest

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
)

func testConversations(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	cu := must[crm.Customer](t)(st.CreateCustomer(ctx, crm.Customer{Name: "Ada"}))

	conv := must[crm.Conversation](t)(st.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb, CustomerID: cu.ID, LastSeq: 7}))
	if conv.ID == "" || conv.State != crm.StateBot || conv.Priority != crm.PriorityNormal || conv.LastSeq != 0 ||
		conv.CreatedAt.IsZero() || conv.UpdatedAt.IsZero() || !conv.ClosedAt.IsZero() {
		t.Fatalf("created %+v: want an id, state bot, priority normal, LastSeq 0, times set and no ClosedAt", conv)
	}
	if got := conversation(t, st, conv.ID); got.ID != conv.ID || got.CustomerID != cu.ID || got.State != crm.StateBot {
		t.Fatalf("stored %+v, want %+v", got, conv)
	}
	closed := must[crm.Conversation](t)(st.CreateConversation(ctx, crm.Conversation{ID: "conv_closed", Channel: crm.ChannelSlack, State: crm.StateResolved}))
	if closed.ID != "conv_closed" || closed.ClosedAt.IsZero() {
		t.Errorf("created resolved %+v: want the id given and ClosedAt set", closed)
	}

	for _, tt := range []struct {
		name string
		c    crm.Conversation
		want error
	}{
		{"taken id", crm.Conversation{ID: conv.ID, Channel: crm.ChannelWeb}, crm.ErrConflict},
		{"unknown customer", crm.Conversation{Channel: crm.ChannelWeb, CustomerID: "cus_nobody"}, crm.ErrNotFound},
		{"no channel", crm.Conversation{}, crm.ErrInvalid},
		{"unknown state", crm.Conversation{Channel: crm.ChannelWeb, State: "gone"}, crm.ErrInvalid},
		{"unknown priority", crm.Conversation{Channel: crm.ChannelWeb, Priority: "asap"}, crm.ErrInvalid},
	} {
		t.Run("create "+tt.name, func(t *testing.T) {
			_, err := st.CreateConversation(ctx, tt.c)
			wantErr(t, "create", err, tt.want)
		})
	}
	_, err := st.Conversation(ctx, "conv_nobody")
	wantErr(t, "unknown conversation", err, crm.ErrNotFound)

	appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hello"})
	appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderBot, Text: "hi"})
	conv = conversation(t, st, conv.ID)

	t.Run("update keeps what the store owns", func(t *testing.T) {
		got := must[crm.Conversation](t)(st.UpdateConversation(ctx, conv.ID, func(c *crm.Conversation) error {
			c.State, c.Queue, c.Priority, c.AssignedAgent = crm.StateAgent, "billing", crm.PriorityHigh, "grace"
			c.Slots = map[string]string{"order_id": "1042"}
			c.ID, c.LastSeq, c.LastCustomerSeq, c.CreatedAt = "conv_hijack", 99, 98, time.Time{}
			return nil
		}))
		if got.ID != conv.ID || got.LastSeq != 2 || got.LastCustomerSeq != 1 || !got.CreatedAt.Equal(conv.CreatedAt) ||
			got.UpdatedAt.Before(conv.UpdatedAt) {
			t.Fatalf("after update %+v: want id, LastSeq 2, LastCustomerSeq 1 and CreatedAt kept, UpdatedAt set", got)
		}
		stored := conversation(t, st, conv.ID)
		if stored.State != crm.StateAgent || stored.Queue != "billing" || stored.AssignedAgent != "grace" ||
			stored.Slots["order_id"] != "1042" || stored.LastSeq != 2 {
			t.Fatalf("stored %+v", stored)
		}
		_, err := st.Conversation(ctx, "conv_hijack")
		wantErr(t, "the id given by fn", err, crm.ErrNotFound)
	})

	t.Run("resolve sets ClosedAt, reopen clears it", func(t *testing.T) {
		got := must[crm.Conversation](t)(st.UpdateConversation(ctx, conv.ID, func(c *crm.Conversation) error {
			c.State = crm.StateResolved
			return nil
		}))
		if got.ClosedAt.IsZero() || conversation(t, st, conv.ID).ClosedAt.IsZero() {
			t.Fatal("resolved without ClosedAt")
		}
		got = must[crm.Conversation](t)(st.UpdateConversation(ctx, conv.ID, func(c *crm.Conversation) error {
			c.State = crm.StateWaiting
			return nil
		}))
		if !got.ClosedAt.IsZero() || !conversation(t, st, conv.ID).ClosedAt.IsZero() {
			t.Fatal("reopened with ClosedAt")
		}
	})

	t.Run("an error from fn writes nothing", func(t *testing.T) {
		boom := errors.New("boom")
		before := conversation(t, st, conv.ID)
		_, err := st.UpdateConversation(ctx, conv.ID, func(c *crm.Conversation) error {
			c.State = crm.StateResolved
			c.Slots["order_id"] = "changed in place"
			return boom
		})
		wantErr(t, "update", err, boom)
		after := conversation(t, st, conv.ID)
		if after.State != before.State || !maps.Equal(after.Slots, before.Slots) || !after.ClosedAt.IsZero() {
			t.Errorf("after a failed update %+v, want %+v", after, before)
		}
	})

	for _, tt := range []struct {
		name string
		id   string
		fn   func(*crm.Conversation) error
		want error
	}{
		{"unknown conversation", "conv_nobody", func(*crm.Conversation) error { return nil }, crm.ErrNotFound},
		{"unknown state", conv.ID, func(c *crm.Conversation) error { c.State = "gone"; return nil }, crm.ErrInvalid},
		{"unknown priority", conv.ID, func(c *crm.Conversation) error { c.Priority = "asap"; return nil }, crm.ErrInvalid},
		{"unknown customer", conv.ID, func(c *crm.Conversation) error { c.CustomerID = "cus_nobody"; return nil }, crm.ErrNotFound},
		{"risk above 1", conv.ID, func(c *crm.Conversation) error { c.SatisfactionRisk = 1.5; return nil }, crm.ErrInvalid},
	} {
		t.Run("update "+tt.name, func(t *testing.T) {
			_, err := st.UpdateConversation(ctx, tt.id, tt.fn)
			wantErr(t, "update", err, tt.want)
		})
	}
	if got := conversation(t, st, conv.ID); got.State != crm.StateWaiting || got.CustomerID != cu.ID || got.SatisfactionRisk != 0 {
		t.Errorf("refused updates were stored: %+v", got)
	}

	t.Run("linking an anonymous conversation", func(t *testing.T) {
		anon := newConversation(t, st)
		if n := len(must[[]crm.Conversation](t)(st.ConversationsByCustomer(ctx, cu.ID, 0))); n != 1 {
			t.Fatalf("%d conversations of the customer before linking, want 1", n)
		}
		must[crm.Conversation](t)(st.UpdateConversation(ctx, anon.ID, func(c *crm.Conversation) error { c.CustomerID = cu.ID; return nil }))
		got := convIDs(must[[]crm.Conversation](t)(st.ConversationsByCustomer(ctx, cu.ID, 0)))
		if len(got) != 2 || (got[0] != anon.ID && got[1] != anon.ID) {
			t.Fatalf("conversations of the customer %v, want %s among 2", got, anon.ID)
		}
	})
}

func testAnsweredSeq(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	conv := newConversation(t, st)
	for _, s := range []crm.Sender{crm.SenderCustomer, crm.SenderBot, crm.SenderCustomer, crm.SenderCustomer, crm.SenderBot} {
		appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: s, Text: "message from " + string(s)})
	}
	if c := conversation(t, st, conv.ID); c.LastSeq != 5 || c.LastCustomerSeq != 4 || c.AnsweredSeq != 0 || !c.Unanswered() {
		t.Fatalf("after 5 messages %+v: want LastSeq 5, LastCustomerSeq 4, AnsweredSeq 0", c)
	}
	for _, tt := range []struct {
		name string
		set  uint64
		want uint64
	}{
		{"raised", 3, 3},
		{"not lowered", 1, 3},
		{"not lowered to zero", 0, 3},
		{"clamped to LastCustomerSeq", 10, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := must[crm.Conversation](t)(st.UpdateConversation(ctx, conv.ID, func(c *crm.Conversation) error {
				c.AnsweredSeq = tt.set
				return nil
			}))
			if got.AnsweredSeq != tt.want || conversation(t, st, conv.ID).AnsweredSeq != tt.want {
				t.Fatalf("AnsweredSeq %d after setting %d, want %d", got.AnsweredSeq, tt.set, tt.want)
			}
		})
	}
	if c := conversation(t, st, conv.ID); c.Unanswered() {
		t.Errorf("%+v: answered up to its last customer message, still unanswered", c)
	}
}

func testOpenConversations(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	// Created at explicit times, so that "oldest first" is defined.
	imp(t, st, crm.Snapshot{Conversations: []crm.Conversation{
		{ID: "conv_a", Channel: crm.ChannelWeb, CreatedAt: day(1)},
		{ID: "conv_b", Channel: crm.ChannelWeb, State: crm.StateWaiting, Queue: "billing", Priority: crm.PriorityLow, CreatedAt: day(2)},
		{ID: "conv_c", Channel: crm.ChannelWeb, State: crm.StateWaiting, Queue: "billing", Priority: crm.PriorityUrgent, CreatedAt: day(3)},
		{ID: "conv_d", Channel: crm.ChannelWeb, State: crm.StateWaiting, Queue: "shipping", Priority: crm.PriorityHigh, CreatedAt: day(1)},
		{ID: "conv_e", Channel: crm.ChannelSlack, State: crm.StateAgent, Queue: "billing", Priority: crm.PriorityUrgent, CreatedAt: day(2)},
		{ID: "conv_r", Channel: crm.ChannelWeb, State: crm.StateResolved, Queue: "billing", Priority: crm.PriorityUrgent, CreatedAt: day(0)},
		{ID: "conv_u", Channel: crm.ChannelWeb, CreatedAt: day(4)},
	}})
	// conv_u owes a customer an answer; conv_e has an unanswered customer
	// message too, but an agent holds it.
	appendMsg(t, st, crm.Message{ConversationID: "conv_u", Sender: crm.SenderCustomer, Text: "anyone there?"})
	appendMsg(t, st, crm.Message{ConversationID: "conv_e", Sender: crm.SenderCustomer, Text: "still waiting"})
	appendMsg(t, st, crm.Message{ConversationID: "conv_a", Sender: crm.SenderBot, Text: "Hi! How can I help?"})

	for _, tt := range []struct {
		name string
		f    crm.ConversationFilter
		want []string
	}{
		{"all open", crm.ConversationFilter{}, []string{"conv_e", "conv_c", "conv_d", "conv_a", "conv_u", "conv_b"}},
		{"waiting", crm.ConversationFilter{State: crm.StateWaiting}, []string{"conv_c", "conv_d", "conv_b"}},
		{"waiting in billing", crm.ConversationFilter{State: crm.StateWaiting, Queue: "billing"}, []string{"conv_c", "conv_b"}},
		{"any state in billing", crm.ConversationFilter{Queue: "billing"}, []string{"conv_e", "conv_c", "conv_b"}},
		{"bot", crm.ConversationFilter{State: crm.StateBot}, []string{"conv_a", "conv_u"}},
		{"agent", crm.ConversationFilter{State: crm.StateAgent}, []string{"conv_e"}},
		{"unanswered", crm.ConversationFilter{Unanswered: true}, []string{"conv_u"}},
		{"unanswered bot", crm.ConversationFilter{State: crm.StateBot, Unanswered: true}, []string{"conv_u"}},
		{"unanswered waiting", crm.ConversationFilter{State: crm.StateWaiting, Unanswered: true}, []string{}},
		{"limit", crm.ConversationFilter{Limit: 2}, []string{"conv_e", "conv_c"}},
		{"limit waiting", crm.ConversationFilter{State: crm.StateWaiting, Limit: 1}, []string{"conv_c"}},
		{"unknown queue", crm.ConversationFilter{Queue: "returns"}, []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			equal(t, "open conversations", convIDs(must[[]crm.Conversation](t)(st.OpenConversations(ctx, tt.f))), tt.want)
		})
	}
	for _, f := range []crm.ConversationFilter{{State: crm.StateResolved}, {State: "gone"}} {
		_, err := st.OpenConversations(ctx, f)
		wantErr(t, "filter by state "+string(f.State), err, crm.ErrInvalid)
	}

	// Changes of state and queue move a conversation between the lists.
	must[crm.Conversation](t)(st.UpdateConversation(ctx, "conv_c", func(c *crm.Conversation) error { c.State = crm.StateResolved; return nil }))
	must[crm.Conversation](t)(st.UpdateConversation(ctx, "conv_d", func(c *crm.Conversation) error { c.Queue = "billing"; return nil }))
	must[crm.Conversation](t)(st.UpdateConversation(ctx, "conv_r", func(c *crm.Conversation) error { c.State = crm.StateWaiting; return nil }))
	equal(t, "waiting in billing after changes",
		convIDs(must[[]crm.Conversation](t)(st.OpenConversations(ctx, crm.ConversationFilter{State: crm.StateWaiting, Queue: "billing"}))),
		[]string{"conv_r", "conv_d", "conv_b"})
	equal(t, "waiting in shipping after changes",
		convIDs(must[[]crm.Conversation](t)(st.OpenConversations(ctx, crm.ConversationFilter{Queue: "shipping"}))), []string{})
}

func testConversationPages(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	imp(t, st, crm.Snapshot{
		Customers: []crm.Customer{{ID: "cus_ada", Name: "Ada"}, {ID: "cus_bob", Name: "Bob"}},
		Conversations: []crm.Conversation{
			{ID: "conv_c", Channel: crm.ChannelWeb, CustomerID: "cus_ada", CreatedAt: day(3)},
			{ID: "conv_a", Channel: crm.ChannelWeb, CustomerID: "cus_ada", CreatedAt: day(1)},
			{ID: "conv_e", Channel: crm.ChannelWeb, CreatedAt: day(2), State: crm.StateResolved}, // anonymous and closed
			{ID: "conv_b", Channel: crm.ChannelWeb, CustomerID: "cus_ada", CreatedAt: day(5), State: crm.StateResolved},
			{ID: "conv_d", Channel: crm.ChannelSlack, CustomerID: "cus_bob", CreatedAt: day(4)},
		},
	})
	var got []string
	after := ""
	for range 10 {
		page := must[[]crm.Conversation](t)(st.Conversations(ctx, after, 2))
		got = append(got, convIDs(page)...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].ID
	}
	equal(t, "pages of 2", got, []string{"conv_a", "conv_b", "conv_c", "conv_d", "conv_e"})
	equal(t, "limit 0", convIDs(must[[]crm.Conversation](t)(st.Conversations(ctx, "", 0))), []string{"conv_a", "conv_b", "conv_c", "conv_d", "conv_e"})
	equal(t, "after an id that is not stored", convIDs(must[[]crm.Conversation](t)(st.Conversations(ctx, "conv_bb", 0))),
		[]string{"conv_c", "conv_d", "conv_e"})
	equal(t, "after the last", convIDs(must[[]crm.Conversation](t)(st.Conversations(ctx, "conv_e", 0))), []string{})

	equal(t, "ada's, newest first", convIDs(must[[]crm.Conversation](t)(st.ConversationsByCustomer(ctx, "cus_ada", 0))),
		[]string{"conv_b", "conv_c", "conv_a"})
	equal(t, "ada's latest 2", convIDs(must[[]crm.Conversation](t)(st.ConversationsByCustomer(ctx, "cus_ada", 2))),
		[]string{"conv_b", "conv_c"})
	equal(t, "bob's", convIDs(must[[]crm.Conversation](t)(st.ConversationsByCustomer(ctx, "cus_bob", 0))), []string{"conv_d"})
	equal(t, "an unknown customer's", convIDs(must[[]crm.Conversation](t)(st.ConversationsByCustomer(ctx, "cus_nobody", 0))), []string{})
}
