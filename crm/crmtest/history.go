package crmtest

import (
	"fmt"
	"testing"

	"github.com/parleyhq/parley/crm"
)

// historySnapshot is Ada's past, laid out in days around day 10 (the AsOf
// of most reads), with Bob and an anonymous visitor beside her.
func historySnapshot() crm.Snapshot {
	s := crm.Snapshot{
		Customers: []crm.Customer{
			{ID: "cus_ada", Name: "Ada", Email: "ada@example.com", CreatedAt: day(0)},
			{ID: "cus_bob", Name: "Bob", CreatedAt: day(0)},
		},
		Orders: []crm.Order{
			{ID: "B1", CustomerID: "cus_bob", Status: crm.OrderPaid, PlacedAt: day(5)},
			{ID: "A9", CustomerID: "cus_ada", Status: crm.OrderPlaced, PlacedAt: day(20)}, // after day 10
		},
		Conversations: []crm.Conversation{
			{ID: "conv_past1", Channel: crm.ChannelWeb, CustomerID: "cus_ada", Queue: "billing", CreatedAt: day(2)},
			{ID: "conv_past2", Channel: crm.ChannelWeb, CustomerID: "cus_ada", CreatedAt: day(3)}, // the bot kept it
			{ID: "conv_past3", Channel: crm.ChannelWeb, CustomerID: "cus_ada", Queue: "shipping", State: crm.StateResolved, CreatedAt: day(4)},
			{ID: "conv_now", Channel: crm.ChannelWeb, CustomerID: "cus_ada", Queue: "billing", CreatedAt: day(9)},
			{ID: "conv_later", Channel: crm.ChannelWeb, CustomerID: "cus_ada", Queue: "billing", CreatedAt: day(15)},
			{ID: "conv_bob", Channel: crm.ChannelSlack, CustomerID: "cus_bob", Queue: "billing", CreatedAt: day(3)},
			{ID: "conv_anon", Channel: crm.ChannelWeb, CreatedAt: day(1)},
		},
		Tickets: []crm.Ticket{
			{ID: "T1", CustomerID: "cus_ada", Subject: "open", Status: crm.TicketOpen, CreatedAt: day(1), UpdatedAt: day(2)},
			{ID: "T2", CustomerID: "cus_ada", Subject: "solved before", Status: crm.TicketSolved, CreatedAt: day(1), UpdatedAt: day(5)},
			{ID: "T3", CustomerID: "cus_ada", Subject: "closed after", Status: crm.TicketClosed, CreatedAt: day(3), UpdatedAt: day(12)},
			{ID: "T4", CustomerID: "cus_ada", Subject: "opened after", Status: crm.TicketOpen, CreatedAt: day(11), UpdatedAt: day(11)},
			{ID: "T5", CustomerID: "cus_ada", Subject: "pending", Status: crm.TicketPending, CreatedAt: day(2), UpdatedAt: day(6)},
			{ID: "TB", CustomerID: "cus_bob", Subject: "bob's", Status: crm.TicketOpen, CreatedAt: day(1), UpdatedAt: day(1)},
		},
		Feedback: []crm.Feedback{
			{ID: "F1", ConversationID: "conv_past1", Score: 2, CreatedAt: day(3)},
			{ID: "F2", CustomerID: "cus_ada", Score: 4, CreatedAt: day(8)},
			{ID: "F3", CustomerID: "cus_ada", Score: 1, CreatedAt: day(11)},
			{ID: "FB", CustomerID: "cus_bob", Score: 5, CreatedAt: day(9)},
		},
	}
	for i := 1; i <= 7; i++ {
		s.Orders = append(s.Orders, crm.Order{ID: fmt.Sprintf("A%d", i), CustomerID: "cus_ada", Status: crm.OrderDelivered, PlacedAt: day(i)})
	}
	for i := 1; i <= 25; i++ {
		sender := crm.SenderCustomer
		if i%2 == 0 {
			sender = crm.SenderBot
		}
		s.Messages = append(s.Messages, crm.Message{ConversationID: "conv_now", Sender: sender, Text: fmt.Sprintf("message %d", i)})
	}
	s.Messages = append(s.Messages, crm.Message{ConversationID: "conv_anon", Sender: crm.SenderCustomer, Text: "hi"})
	return s
}

func testHistory(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	imp(t, st, historySnapshot())

	type want struct {
		seqs         []uint64
		customer     string // "" for nil
		orders       []string
		lifetime     int
		tickets      []string
		pastHandoffs int
		feedback     string // "" for nil
	}
	ada10 := want{customer: "cus_ada", orders: []string{"A7", "A6", "A5", "A4", "A3"}, lifetime: 7,
		tickets: []string{"T3", "T5", "T1"}, pastHandoffs: 2, feedback: "F2"}
	with := func(w want, seqs []uint64) want { w.seqs = seqs; return w }
	for _, tt := range []struct {
		name string
		conv string
		q    crm.HistoryQuery
		want want
	}{
		{"as of day 10", "conv_now", crm.HistoryQuery{AsOf: day(10)}, with(ada10, seqRange(6, 25))},
		{"3 messages", "conv_now", crm.HistoryQuery{AsOf: day(10), Messages: 3}, with(ada10, seqRange(23, 25))},
		{"all messages", "conv_now", crm.HistoryQuery{AsOf: day(10), Messages: -1}, with(ada10, seqRange(1, 25))},
		{"up to message 10", "conv_now", crm.HistoryQuery{AsOf: day(10), UpToSeq: 10, Messages: 3}, with(ada10, seqRange(8, 10))},
		{"all up to message 10", "conv_now", crm.HistoryQuery{AsOf: day(10), UpToSeq: 10, Messages: -1}, with(ada10, seqRange(1, 10))},
		{"up to a message not yet stored", "conv_now", crm.HistoryQuery{AsOf: day(10), UpToSeq: 40, Messages: 2}, with(ada10, seqRange(24, 25))},
		{"now", "conv_now", crm.HistoryQuery{Messages: 1}, want{seqs: []uint64{25}, customer: "cus_ada",
			orders: []string{"A9", "A7", "A6", "A5", "A4"}, lifetime: 8, tickets: []string{"T4", "T5", "T1"}, pastHandoffs: 3, feedback: "F3"}},
		{"before everything", "conv_now", crm.HistoryQuery{AsOf: day(0), Messages: 1}, want{seqs: []uint64{25}, customer: "cus_ada",
			orders: []string{}, tickets: []string{}}},
		{"bob", "conv_bob", crm.HistoryQuery{}, want{seqs: []uint64{}, customer: "cus_bob", orders: []string{"B1"}, lifetime: 1,
			tickets: []string{"TB"}, feedback: "FB"}},
		{"anonymous", "conv_anon", crm.HistoryQuery{AsOf: day(10)}, want{seqs: []uint64{1}, orders: []string{}, tickets: []string{}}},
		{"anonymous read as ada", "conv_anon", crm.HistoryQuery{AsOf: day(10), CustomerID: "cus_ada"}, want{seqs: []uint64{1},
			customer: "cus_ada", orders: ada10.orders, lifetime: 7, tickets: ada10.tickets, pastHandoffs: 3, feedback: "F2"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := must[crm.History](t)(st.History(ctx, tt.conv, tt.q))
			if stored := conversation(t, st, tt.conv); h.Conversation.ID != tt.conv || h.Conversation.LastSeq != stored.LastSeq {
				t.Errorf("conversation %+v, want %+v", h.Conversation, stored)
			}
			equal(t, "message seqs", seqs(h.Messages), tt.want.seqs)
			for _, m := range h.Messages {
				if m.ConversationID != tt.conv || m.Text == "" {
					t.Fatalf("message %+v", m)
				}
			}
			switch {
			case tt.want.customer == "" && h.Customer != nil:
				t.Errorf("customer %+v, want nil", h.Customer)
			case tt.want.customer != "" && (h.Customer == nil || h.Customer.ID != tt.want.customer):
				t.Errorf("customer %+v, want %s", h.Customer, tt.want.customer)
			}
			equal(t, "orders", orderIDs(h.Orders), tt.want.orders)
			if h.LifetimeOrders != tt.want.lifetime {
				t.Errorf("lifetime orders %d, want %d", h.LifetimeOrders, tt.want.lifetime)
			}
			equal(t, "open tickets", ticketIDs(h.OpenTickets), tt.want.tickets)
			if h.PastHandoffs != tt.want.pastHandoffs {
				t.Errorf("past handoffs %d, want %d", h.PastHandoffs, tt.want.pastHandoffs)
			}
			switch {
			case tt.want.feedback == "" && h.LastFeedback != nil:
				t.Errorf("last feedback %+v, want nil", h.LastFeedback)
			case tt.want.feedback != "" && (h.LastFeedback == nil || h.LastFeedback.ID != tt.want.feedback):
				t.Errorf("last feedback %+v, want %s", h.LastFeedback, tt.want.feedback)
			}
		})
	}
	t.Run("past handoffs among the latest conversations", func(t *testing.T) {
		// 101 queued conversations, then 5 the bot kept: of the latest
		// HistoryConversations (100), 95 went to a queue.
		s := crm.Snapshot{
			Customers:     []crm.Customer{{ID: "cus_many"}},
			Conversations: []crm.Conversation{{ID: "conv_many", Channel: crm.ChannelWeb, CustomerID: "cus_many", CreatedAt: day(300)}},
		}
		for i := range 106 {
			c := crm.Conversation{ID: fmt.Sprintf("conv_many%03d", i), Channel: crm.ChannelWeb, CustomerID: "cus_many", CreatedAt: day(100 + i)}
			if i <= crm.HistoryConversations {
				c.Queue = "billing"
			}
			s.Conversations = append(s.Conversations, c)
		}
		imp(t, st, s)
		h := must[crm.History](t)(st.History(ctx, "conv_many", crm.HistoryQuery{}))
		if want := crm.HistoryConversations - 5; h.PastHandoffs != want {
			t.Errorf("past handoffs %d, want %d", h.PastHandoffs, want)
		}
	})

	_, err := st.History(ctx, "conv_nobody", crm.HistoryQuery{})
	wantErr(t, "unknown conversation", err, crm.ErrNotFound)
	_, err = st.History(ctx, "conv_anon", crm.HistoryQuery{CustomerID: "cus_nobody"})
	wantErr(t, "unknown customer asked for", err, crm.ErrNotFound)
}

// testHistoryWithoutCustomer reads the history of an anonymous
// conversation after a customer was erased: it holds no one's records, and
// the erased customer's conversations and history are gone.
func testHistoryWithoutCustomer(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	imp(t, st, historySnapshot())
	must[crm.Erasure](t)(st.EraseCustomer(ctx, "cus_bob"))
	h := must[crm.History](t)(st.History(ctx, "conv_anon", crm.HistoryQuery{}))
	if h.Customer != nil || len(h.Orders) != 0 || h.LifetimeOrders != 0 || len(h.OpenTickets) != 0 || h.PastHandoffs != 0 || h.LastFeedback != nil {
		t.Errorf("history of an anonymous conversation: %+v", h)
	}
	_, err := st.History(ctx, "conv_bob", crm.HistoryQuery{})
	wantErr(t, "history of an erased customer's conversation", err, crm.ErrNotFound)
	_, err = st.History(ctx, "conv_anon", crm.HistoryQuery{CustomerID: "cus_bob"})
	wantErr(t, "history read as an erased customer", err, crm.ErrNotFound)
}
