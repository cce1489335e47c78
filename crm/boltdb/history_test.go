package boltdb

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
)

// historySnapshot is a customer with a past: orders, conversations (some
// handed off), tickets and ratings at known times around day 10 of 2026.
func historySnapshot() crm.Snapshot {
	day := func(d int) time.Time { return time.Date(2026, 1, d, 12, 0, 0, 0, time.UTC) }
	s := crm.Snapshot{Customers: []crm.Customer{{ID: "cus_ada", Name: "Ada"}, {ID: "cus_bob", Name: "Bob"}}}
	for d := 1; d <= 20; d += 2 { // ten orders, days 1, 3, ..., 19
		s.Orders = append(s.Orders, crm.Order{ID: fmt.Sprintf("o%02d", d), CustomerID: "cus_ada", Status: crm.OrderPaid, PlacedAt: day(d)})
	}
	s.Orders = append(s.Orders, crm.Order{ID: "bob1", CustomerID: "cus_bob", Status: crm.OrderPaid, PlacedAt: day(5)})
	s.Conversations = []crm.Conversation{
		{ID: "conv_now", Channel: crm.ChannelWeb, CustomerID: "cus_ada", CreatedAt: day(9)},
		{ID: "conv_q1", Channel: crm.ChannelWeb, CustomerID: "cus_ada", Queue: "billing", State: crm.StateResolved, CreatedAt: day(2)},
		{ID: "conv_q2", Channel: crm.ChannelWeb, CustomerID: "cus_ada", Queue: "shipping", State: crm.StateResolved, CreatedAt: day(12)},
		{ID: "conv_bot", Channel: crm.ChannelWeb, CustomerID: "cus_ada", State: crm.StateResolved, CreatedAt: day(4)},
		{ID: "conv_bob", Channel: crm.ChannelWeb, CustomerID: "cus_bob", Queue: "billing", CreatedAt: day(3)},
		{ID: "conv_anon", Channel: crm.ChannelWeb, CreatedAt: day(3)},
	}
	for i := 1; i <= 25; i++ {
		sender := crm.SenderCustomer
		if i%2 == 0 {
			sender = crm.SenderBot
		}
		s.Messages = append(s.Messages, crm.Message{ConversationID: "conv_now", Sender: sender, Text: fmt.Sprint("message ", i)})
	}
	s.Messages = append(s.Messages, crm.Message{ConversationID: "conv_anon", Sender: crm.SenderCustomer, Text: "hi"})
	s.Tickets = []crm.Ticket{
		// open now, created day 3
		{ID: "t_open", CustomerID: "cus_ada", Subject: "refund", Status: crm.TicketOpen, CreatedAt: day(3), UpdatedAt: day(8)},
		// solved day 11: open on day 10, not now
		{ID: "t_solved_late", CustomerID: "cus_ada", Subject: "late", Status: crm.TicketSolved, CreatedAt: day(4), UpdatedAt: day(11)},
		// solved day 6: closed on day 10 and now
		{ID: "t_solved_early", CustomerID: "cus_ada", Subject: "early", Status: crm.TicketClosed, CreatedAt: day(2), UpdatedAt: day(6)},
		// pending now, created day 14: after day 10
		{ID: "t_pending_new", CustomerID: "cus_ada", Subject: "new", Status: crm.TicketPending, CreatedAt: day(14), UpdatedAt: day(15)},
	}
	s.Feedback = []crm.Feedback{
		{ID: "fb1", CustomerID: "cus_ada", Score: 2, CreatedAt: day(5)},
		{ID: "fb2", CustomerID: "cus_ada", Score: 4, CreatedAt: day(8)},
		{ID: "fb3", CustomerID: "cus_ada", Score: 5, CreatedAt: day(16)},
	}
	return s
}

func ids[T any](xs []T, id func(T) string) []string {
	out := []string{}
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}

func TestHistory(t *testing.T) {
	ctx := context.Background()
	db := openTest(t) // its clock stands in March 2026, after every record
	if err := db.Import(ctx, historySnapshot()); err != nil {
		t.Fatal(err)
	}
	day10 := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	orderID := func(o crm.Order) string { return o.ID }
	ticketID := func(t crm.Ticket) string { return t.ID }
	seq := func(m crm.Message) string { return fmt.Sprint(m.Seq) }
	const allMessages = "[1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25]"
	tests := []struct {
		name         string
		conv         string
		q            crm.HistoryQuery
		messages     string
		orders       string
		lifetime     int
		tickets      string
		handoffs     int
		lastFeedback string
	}{
		{name: "now", conv: "conv_now",
			messages: "[6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25]",
			orders:   "[o19 o17 o15 o13 o11]", lifetime: 10,
			tickets: "[t_pending_new t_open]", handoffs: 2, lastFeedback: "fb3"},
		{name: "as of day 10", conv: "conv_now", q: crm.HistoryQuery{AsOf: day10, Messages: 3, UpToSeq: 9},
			messages: "[7 8 9]",
			orders:   "[o09 o07 o05 o03 o01]", lifetime: 5,
			tickets: "[t_solved_late t_open]", handoffs: 1, lastFeedback: "fb2"},
		{name: "before everything", conv: "conv_now", q: crm.HistoryQuery{AsOf: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), Messages: -1},
			messages: allMessages, orders: "[]", tickets: "[]"},
		{name: "all messages up to one past the end", conv: "conv_now", q: crm.HistoryQuery{Messages: -1, UpToSeq: 100},
			messages: allMessages, orders: "[o19 o17 o15 o13 o11]", lifetime: 10,
			tickets: "[t_pending_new t_open]", handoffs: 2, lastFeedback: "fb3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := db.History(ctx, tt.conv, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if h.Conversation.ID != tt.conv || h.Customer == nil || h.Customer.ID != "cus_ada" {
				t.Fatalf("conversation %q, customer %v", h.Conversation.ID, h.Customer)
			}
			if got := fmt.Sprint(ids(h.Messages, seq)); got != tt.messages {
				t.Errorf("messages %s, want %s", got, tt.messages)
			}
			if got := fmt.Sprint(ids(h.Orders, orderID)); got != tt.orders || h.LifetimeOrders != tt.lifetime {
				t.Errorf("orders %s of %d, want %s of %d", got, h.LifetimeOrders, tt.orders, tt.lifetime)
			}
			if got := fmt.Sprint(ids(h.OpenTickets, ticketID)); got != tt.tickets {
				t.Errorf("open tickets %s, want %s", got, tt.tickets)
			}
			if h.PastHandoffs != tt.handoffs {
				t.Errorf("past handoffs %d, want %d", h.PastHandoffs, tt.handoffs)
			}
			var fb string
			if h.LastFeedback != nil {
				fb = h.LastFeedback.ID
			}
			if fb != tt.lastFeedback {
				t.Errorf("last feedback %q, want %q", fb, tt.lastFeedback)
			}
		})
	}

	t.Run("no customer", func(t *testing.T) {
		h, err := db.History(ctx, "conv_anon", crm.HistoryQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if h.Customer != nil || h.Orders != nil || h.LifetimeOrders != 0 || h.OpenTickets != nil || h.PastHandoffs != 0 || h.LastFeedback != nil {
			t.Errorf("history of an anonymous conversation: %+v", h)
		}
		if len(h.Messages) != 1 {
			t.Errorf("messages %+v", h.Messages)
		}
	})
	t.Run("customer of the query", func(t *testing.T) {
		h, err := db.History(ctx, "conv_anon", crm.HistoryQuery{CustomerID: "cus_bob"})
		if err != nil {
			t.Fatal(err)
		}
		if h.Customer == nil || h.Customer.ID != "cus_bob" || h.LifetimeOrders != 1 || h.PastHandoffs != 1 || h.Conversation.CustomerID != "" {
			t.Errorf("history of conv_anon for cus_bob: %+v", h)
		}
		if _, err := db.History(ctx, "conv_anon", crm.HistoryQuery{CustomerID: "cus_nope"}); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("History for an unknown customer: %v, want ErrNotFound", err)
		}
	})
	t.Run("unknown conversation", func(t *testing.T) {
		if _, err := db.History(ctx, "conv_nope", crm.HistoryQuery{}); !errors.Is(err, crm.ErrNotFound) {
			t.Fatalf("History: %v, want ErrNotFound", err)
		}
	})
}

// TestHistoryBounds gives a customer more past conversations than a History
// looks at.
func TestHistoryBounds(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	s := crm.Snapshot{Customers: []crm.Customer{{ID: "cus_ada"}}}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = crm.HistoryConversations + 20
	for i := range n {
		c := crm.Conversation{ID: fmt.Sprintf("conv_%03d", i), Channel: crm.ChannelWeb, CustomerID: "cus_ada",
			State: crm.StateResolved, CreatedAt: start.Add(time.Duration(i) * time.Hour)}
		if i < 20 { // the oldest 20 went to a queue
			c.Queue = "billing"
		}
		if i >= n-10 { // and so did the newest 10
			c.Queue = "shipping"
		}
		s.Conversations = append(s.Conversations, c)
	}
	if err := db.Import(ctx, s); err != nil {
		t.Fatal(err)
	}
	h, err := db.History(ctx, fmt.Sprintf("conv_%03d", n-1), crm.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	// The newest other conversations are conv_118 down to conv_019: nine
	// of the newest ten, and conv_019.
	if h.PastHandoffs != 10 {
		t.Errorf("past handoffs %d, want 10", h.PastHandoffs)
	}
}
