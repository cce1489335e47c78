package boltdb

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
)

func TestCustomers(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	ada := must[crm.Customer](t)(db.CreateCustomer(ctx, crm.Customer{
		Name: "Ada", Email: "Ada@Example.com", Phone: "+41 79 123 45 67", Tier: crm.TierGold,
		Identities: []crm.Identity{{Channel: crm.ChannelWeb, ExternalID: "visitor-1"}, {Channel: crm.ChannelSlack, ExternalID: "U123"}, {Channel: crm.ChannelWeb, ExternalID: "visitor-1"}},
		Attributes: map[string]string{"newsletter": "weekly"},
	}))
	if ada.ID == "" || ada.CreatedAt.IsZero() || len(ada.Identities) != 2 {
		t.Fatalf("created customer %+v: want an id, a time and 2 identities", ada)
	}
	lookups := []struct {
		name string
		get  func() (crm.Customer, error)
		want error
	}{
		{"by id", func() (crm.Customer, error) { return db.Customer(ctx, ada.ID) }, nil},
		{"by email any case", func() (crm.Customer, error) { return db.CustomerByEmail(ctx, " ada@EXAMPLE.com") }, nil},
		{"by phone other format", func() (crm.Customer, error) { return db.CustomerByPhone(ctx, "+41791234567") }, nil},
		{"by identity", func() (crm.Customer, error) {
			return db.CustomerByIdentity(ctx, crm.Identity{Channel: crm.ChannelSlack, ExternalID: "U123"})
		}, nil},
		{"unknown id", func() (crm.Customer, error) { return db.Customer(ctx, "nope") }, crm.ErrNotFound},
		{"unknown email", func() (crm.Customer, error) { return db.CustomerByEmail(ctx, "bob@example.com") }, crm.ErrNotFound},
		{"empty email", func() (crm.Customer, error) { return db.CustomerByEmail(ctx, "") }, crm.ErrNotFound},
		{"identity on other channel", func() (crm.Customer, error) {
			return db.CustomerByIdentity(ctx, crm.Identity{Channel: crm.ChannelWeb, ExternalID: "U123"})
		}, crm.ErrNotFound},
	}
	for _, tt := range lookups {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.get()
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == nil && c.ID != ada.ID {
				t.Fatalf("got customer %q, want %q", c.ID, ada.ID)
			}
		})
	}

	conflicts := []struct {
		name string
		c    crm.Customer
		want error
	}{
		{"same email", crm.Customer{Email: "ada@example.com"}, crm.ErrConflict},
		{"same phone", crm.Customer{Phone: "+41-79-123-45-67"}, crm.ErrConflict},
		{"same identity", crm.Customer{Identities: []crm.Identity{{Channel: crm.ChannelWeb, ExternalID: "visitor-1"}}}, crm.ErrConflict},
		{"same id", crm.Customer{ID: ada.ID}, crm.ErrConflict},
		{"bad email", crm.Customer{Email: "not an email"}, crm.ErrInvalid},
		{"bad phone", crm.Customer{Phone: "n/a"}, crm.ErrInvalid},
		{"nul in id", crm.Customer{ID: "a\x00b"}, crm.ErrInvalid},
		{"invalid utf8 name", crm.Customer{Name: "\xff"}, crm.ErrInvalid},
	}
	for _, tt := range conflicts {
		t.Run("create "+tt.name, func(t *testing.T) {
			if _, err := db.CreateCustomer(ctx, tt.c); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}

	bob := must[crm.Customer](t)(db.CreateCustomer(ctx, crm.Customer{Name: "Bob", Email: "bob@example.com"}))
	t.Run("update moves indexes", func(t *testing.T) {
		up, err := db.UpdateCustomer(ctx, ada.ID, func(c *crm.Customer) error {
			c.Email = "ada@new.example"
			c.Identities[0].ExternalID = "visitor-2" // changed in place
			c.Consent.Marketing = true
			c.ID = "hijack"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if up.ID != ada.ID || !up.CreatedAt.Equal(ada.CreatedAt) || !up.UpdatedAt.After(ada.UpdatedAt) {
			t.Fatalf("update changed id or times wrongly: %+v", up)
		}
		if up.Consent.UpdatedAt.IsZero() {
			t.Error("consent change did not set its time")
		}
		if _, err := db.CustomerByEmail(ctx, "ada@example.com"); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("old email still found: %v", err)
		}
		if _, err := db.CustomerByIdentity(ctx, crm.Identity{Channel: crm.ChannelWeb, ExternalID: "visitor-1"}); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("old identity still found: %v", err)
		}
		if c, err := db.CustomerByIdentity(ctx, crm.Identity{Channel: crm.ChannelWeb, ExternalID: "visitor-2"}); err != nil || c.ID != ada.ID {
			t.Errorf("new identity: %v, %v", c.ID, err)
		}
	})
	t.Run("update conflict writes nothing", func(t *testing.T) {
		_, err := db.UpdateCustomer(ctx, bob.ID, func(c *crm.Customer) error { c.Email = "ADA@new.example"; return nil })
		if !errors.Is(err, crm.ErrConflict) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
		if c := must[crm.Customer](t)(db.Customer(ctx, bob.ID)); c.Email != "bob@example.com" {
			t.Errorf("email changed to %q", c.Email)
		}
	})
	t.Run("update error from fn", func(t *testing.T) {
		boom := errors.New("boom")
		if _, err := db.UpdateCustomer(ctx, bob.ID, func(c *crm.Customer) error { c.Name = "x"; return boom }); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		if _, err := db.UpdateCustomer(ctx, "nope", func(*crm.Customer) error { return nil }); !errors.Is(err, crm.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestOrders(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	c := must[crm.Customer](t)(db.CreateCustomer(ctx, crm.Customer{Name: "Ada"}))
	day := func(d int) time.Time { return time.Date(2026, 2, d, 12, 0, 0, 0, time.UTC) }
	for i, id := range []string{"1001", "1003", "1002"} {
		o := crm.Order{ID: id, CustomerID: c.ID, Status: crm.OrderPaid, Currency: "EUR", PlacedAt: day(i + 1),
			Items: []crm.OrderItem{{SKU: "S1", Name: "Shoe", Qty: 2, PriceCents: 4999}}}
		got := must[crm.Order](t)(db.PutOrder(ctx, o))
		if got.TotalCents != 9998 {
			t.Fatalf("total %d, want 9998", got.TotalCents)
		}
	}
	// Replace 1001 with a shipped version: same placed time, new status.
	shipped := must[crm.Order](t)(db.Order(ctx, "1001"))
	shipped.Status, shipped.Carrier, shipped.Tracking, shipped.ShippedAt = crm.OrderShipped, "DHL", "JD0001", day(5)
	shipped.PlacedAt = time.Time{} // kept from the stored order
	must[crm.Order](t)(db.PutOrder(ctx, shipped))

	list := must[[]crm.Order](t)(db.OrdersByCustomer(ctx, c.ID, 0))
	var ids []string
	for _, o := range list {
		ids = append(ids, o.ID)
	}
	if want := []string{"1002", "1003", "1001"}; !slices.Equal(ids, want) {
		t.Fatalf("orders %v, want most recent first %v", ids, want)
	}
	if list[2].Status != crm.OrderShipped || !list[2].PlacedAt.Equal(day(1)) {
		t.Errorf("replaced order: %+v", list[2])
	}
	if two := must[[]crm.Order](t)(db.OrdersByCustomer(ctx, c.ID, 2)); len(two) != 2 {
		t.Errorf("limit 2 gave %d", len(two))
	}
	if none := must[[]crm.Order](t)(db.OrdersByCustomer(ctx, "nobody", 0)); none == nil || len(none) != 0 {
		t.Errorf("unknown customer: %v, want empty slice", none)
	}
	for _, tt := range []struct {
		name string
		o    crm.Order
		want error
	}{
		{"unknown customer", crm.Order{ID: "2000", CustomerID: "nobody", Status: crm.OrderPaid}, crm.ErrNotFound},
		{"bad status", crm.Order{ID: "2000", CustomerID: c.ID, Status: "lost"}, crm.ErrInvalid},
		{"bad qty", crm.Order{ID: "2000", CustomerID: c.ID, Status: crm.OrderPaid, Items: []crm.OrderItem{{Qty: 0}}}, crm.ErrInvalid},
		{"no id", crm.Order{CustomerID: c.ID, Status: crm.OrderPaid}, crm.ErrInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.PutOrder(ctx, tt.o); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestConversations(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	cu := must[crm.Customer](t)(db.CreateCustomer(ctx, crm.Customer{Name: "Ada"}))
	mk := func(queue string, p crm.Priority) crm.Conversation {
		return must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb, CustomerID: cu.ID, Queue: queue, Priority: p}))
	}
	a := mk("", "")
	if a.State != crm.StateBot || a.Priority != crm.PriorityNormal || a.LastSeq != 0 {
		t.Fatalf("defaults: %+v", a)
	}
	b, c, d := mk("billing", crm.PriorityLow), mk("billing", crm.PriorityUrgent), mk("shipping", crm.PriorityHigh)
	for _, x := range []crm.Conversation{b, c, d} {
		must[crm.Conversation](t)(db.UpdateConversation(ctx, x.ID, func(c *crm.Conversation) error {
			c.State = crm.StateWaiting
			c.Slots = map[string]string{"order_id": "1042"}
			c.LastSeq = 99 // kept by the store
			return nil
		}))
	}
	ids := func(cs []crm.Conversation) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		f    crm.ConversationFilter
		want []string
	}{
		{"all open", crm.ConversationFilter{}, []string{c.ID, d.ID, a.ID, b.ID}},
		{"waiting", crm.ConversationFilter{State: crm.StateWaiting}, []string{c.ID, d.ID, b.ID}},
		{"waiting billing", crm.ConversationFilter{State: crm.StateWaiting, Queue: "billing"}, []string{c.ID, b.ID}},
		{"any state billing", crm.ConversationFilter{Queue: "billing"}, []string{c.ID, b.ID}},
		{"bot", crm.ConversationFilter{State: crm.StateBot}, []string{a.ID}},
		{"limit", crm.ConversationFilter{State: crm.StateWaiting, Limit: 1}, []string{c.ID}},
		{"agent none", crm.ConversationFilter{State: crm.StateAgent}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := must[[]crm.Conversation](t)(db.OpenConversations(ctx, tt.f))
			if !slices.Equal(ids(got), tt.want) {
				t.Fatalf("got %v, want %v", ids(got), tt.want)
			}
		})
	}
	if _, err := db.OpenConversations(ctx, crm.ConversationFilter{State: crm.StateResolved}); !errors.Is(err, crm.ErrInvalid) {
		t.Errorf("resolved filter: %v, want ErrInvalid", err)
	}

	// Assign, then resolve: leaves the open index, gets ClosedAt; reopen clears it.
	got := must[crm.Conversation](t)(db.UpdateConversation(ctx, c.ID, func(c *crm.Conversation) error {
		c.State, c.AssignedAgent = crm.StateAgent, "grace"
		return nil
	}))
	if got.LastSeq != 0 || got.Slots["order_id"] != "1042" || got.AssignedAgent != "grace" {
		t.Fatalf("after assign: %+v", got)
	}
	got = must[crm.Conversation](t)(db.UpdateConversation(ctx, c.ID, func(c *crm.Conversation) error { c.State = crm.StateResolved; return nil }))
	if got.ClosedAt.IsZero() {
		t.Error("resolved without ClosedAt")
	}
	if open := must[[]crm.Conversation](t)(db.OpenConversations(ctx, crm.ConversationFilter{Queue: "billing"})); !slices.Equal(ids(open), []string{b.ID}) {
		t.Errorf("after resolve: %v", ids(open))
	}
	got = must[crm.Conversation](t)(db.UpdateConversation(ctx, c.ID, func(c *crm.Conversation) error { c.State = crm.StateBot; return nil }))
	if !got.ClosedAt.IsZero() {
		t.Error("reopened with ClosedAt")
	}

	all := must[[]crm.Conversation](t)(db.ConversationsByCustomer(ctx, cu.ID, 0))
	if want := []string{d.ID, c.ID, b.ID, a.ID}; !slices.Equal(ids(all), want) {
		t.Errorf("by customer %v, want newest first %v", ids(all), want)
	}
	for _, tt := range []struct {
		name string
		fn   func(*crm.Conversation) error
		want error
	}{
		{"bad state", func(c *crm.Conversation) error { c.State = "gone"; return nil }, crm.ErrInvalid},
		{"bad priority", func(c *crm.Conversation) error { c.Priority = "asap"; return nil }, crm.ErrInvalid},
		{"unknown customer", func(c *crm.Conversation) error { c.CustomerID = "nobody"; return nil }, crm.ErrNotFound},
		{"risk above 1", func(c *crm.Conversation) error { c.SatisfactionRisk = 1.5; return nil }, crm.ErrInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.UpdateConversation(ctx, a.ID, tt.fn); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb, CustomerID: "nobody"}); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("create for unknown customer: %v", err)
	}
	if _, err := db.CreateConversation(ctx, crm.Conversation{ID: a.ID, Channel: crm.ChannelWeb}); !errors.Is(err, crm.ErrConflict) {
		t.Errorf("create with taken id: %v", err)
	}
	anon := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelSlack}))
	must[crm.Conversation](t)(db.UpdateConversation(ctx, anon.ID, func(c *crm.Conversation) error { c.CustomerID = cu.ID; return nil }))
	if n := len(must[[]crm.Conversation](t)(db.ConversationsByCustomer(ctx, cu.ID, 0))); n != 5 {
		t.Errorf("after linking an anonymous conversation: %d conversations, want 5", n)
	}
}

func TestTickets(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	cu := must[crm.Customer](t)(db.CreateCustomer(ctx, crm.Customer{Name: "Ada"}))
	refund := must[crm.Ticket](t)(db.CreateTicket(ctx, crm.Ticket{CustomerID: cu.ID, Subject: "Refund for 1042", Topic: "refund_status", Queue: "billing"}))
	ship := must[crm.Ticket](t)(db.CreateTicket(ctx, crm.Ticket{CustomerID: cu.ID, Subject: "Late parcel", Topic: "where_is_my_order"}))
	if refund.Status != crm.TicketOpen || refund.Priority != crm.PriorityNormal {
		t.Fatalf("defaults: %+v", refund)
	}
	found := must[crm.Ticket](t)(db.OpenTicketByTopic(ctx, cu.ID, "refund_status"))
	if found.ID != refund.ID {
		t.Fatalf("by topic: %s, want %s", found.ID, refund.ID)
	}
	must[crm.Ticket](t)(db.UpdateTicket(ctx, refund.ID, func(tk *crm.Ticket) error {
		tk.Status = crm.TicketPending
		tk.History = append(tk.History, crm.TicketEvent{At: time.Now(), Actor: "bot", Note: "customer sent card 4111 1111 1111 1111"})
		return nil
	}))
	open := must[[]crm.Ticket](t)(db.OpenTickets(ctx, cu.ID))
	if len(open) != 2 || open[0].ID != refund.ID {
		t.Fatalf("open tickets %v: want 2, most recently updated (%s) first", open, refund.ID)
	}
	must[crm.Ticket](t)(db.UpdateTicket(ctx, refund.ID, func(tk *crm.Ticket) error { tk.Status = crm.TicketSolved; return nil }))
	if _, err := db.OpenTicketByTopic(ctx, cu.ID, "refund_status"); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("solved ticket still found by topic: %v", err)
	}
	if open := must[[]crm.Ticket](t)(db.OpenTickets(ctx, cu.ID)); len(open) != 1 || open[0].ID != ship.ID {
		t.Errorf("open after solving: %v", open)
	}
	got := must[crm.Ticket](t)(db.Ticket(ctx, refund.ID))
	if got.Status != crm.TicketSolved || len(got.History) != 1 || got.History[0].Note != "customer sent card [card redacted]" {
		t.Errorf("stored ticket: %+v", got)
	}
	if _, err := db.CreateTicket(ctx, crm.Ticket{CustomerID: "nobody", Subject: "x"}); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("unknown customer: %v", err)
	}
	if _, err := db.UpdateTicket(ctx, ship.ID, func(tk *crm.Ticket) error { tk.Status = "lost"; return nil }); !errors.Is(err, crm.ErrInvalid) {
		t.Errorf("bad status: %v", err)
	}
}

func TestFeedback(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	cu := must[crm.Customer](t)(db.CreateCustomer(ctx, crm.Customer{Name: "Ada"}))
	conv := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb, CustomerID: cu.ID}))
	if _, err := db.LatestFeedback(ctx, cu.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("no feedback yet: %v", err)
	}
	must[crm.Feedback](t)(db.AddFeedback(ctx, crm.Feedback{ConversationID: conv.ID, Score: 2}))
	f := must[crm.Feedback](t)(db.AddFeedback(ctx, crm.Feedback{ConversationID: conv.ID, Score: 5, Comment: "pin 1234 worked"}))
	if f.CustomerID != cu.ID || f.Comment != "pin [code redacted] worked" {
		t.Fatalf("feedback %+v: customer from conversation, comment redacted", f)
	}
	if got := must[crm.Feedback](t)(db.LatestFeedback(ctx, cu.ID)); got.ID != f.ID {
		t.Errorf("latest %s, want %s", got.ID, f.ID)
	}
	if got := must[crm.Feedback](t)(db.ConversationFeedback(ctx, conv.ID)); got.ID != f.ID {
		t.Errorf("conversation's latest %s, want %s", got.ID, f.ID)
	}

	// An anonymous visitor's conversation can be rated; the rating has no
	// customer until one is known.
	anon := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb}))
	if _, err := db.ConversationFeedback(ctx, anon.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("no feedback yet: %v", err)
	}
	af := must[crm.Feedback](t)(db.AddFeedback(ctx, crm.Feedback{ConversationID: anon.ID, Score: 1}))
	if af.CustomerID != "" {
		t.Errorf("anonymous rating got customer %q", af.CustomerID)
	}
	if got := must[crm.Feedback](t)(db.ConversationFeedback(ctx, anon.ID)); got.ID != af.ID || got.Score != 1 {
		t.Errorf("anonymous conversation's rating %+v, want %+v", got, af)
	}
	if err := db.Check(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		f    crm.Feedback
		want error
	}{
		{"score 0", crm.Feedback{CustomerID: cu.ID, Score: 0}, crm.ErrInvalid},
		{"score 6", crm.Feedback{CustomerID: cu.ID, Score: 6}, crm.ErrInvalid},
		{"unknown conversation", crm.Feedback{ConversationID: "nope", Score: 3}, crm.ErrNotFound},
		{"no customer", crm.Feedback{Score: 3}, crm.ErrInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.AddFeedback(ctx, tt.f); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAgents(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	a := must[crm.Agent](t)(db.PutAgent(ctx, crm.Agent{Login: "grace", Name: "Grace", Role: crm.RoleAdmin, Teams: []string{"billing"}}, "s3cret!"))
	if a.PasswordHash == "" || a.PasswordHash == "s3cret!" {
		t.Fatalf("hash %q", a.PasswordHash)
	}
	for _, tt := range []struct {
		name, login, password string
		want                  error
	}{
		{"right", "grace", "s3cret!", nil},
		{"wrong password", "grace", "secret", crm.ErrUnauthorized},
		{"unknown login", "mallory", "s3cret!", crm.ErrUnauthorized},
		{"empty password", "grace", "", crm.ErrUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Authenticate(ctx, tt.login, tt.password)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err == nil && got.Login != "grace" {
				t.Fatalf("agent %+v", got)
			}
		})
	}
	// Updating without a password keeps it.
	must[crm.Agent](t)(db.PutAgent(ctx, crm.Agent{Login: "grace", Name: "Grace H.", Role: crm.RoleAgent}, ""))
	if _, err := db.Authenticate(ctx, "grace", "s3cret!"); err != nil {
		t.Fatalf("password lost on update: %v", err)
	}
	if _, err := db.PutAgent(ctx, crm.Agent{Login: "new", Role: crm.RoleAgent}, ""); !errors.Is(err, crm.ErrInvalid) {
		t.Errorf("new agent without password: %v", err)
	}
	if _, err := db.PutAgent(ctx, crm.Agent{Login: "new", Role: "boss"}, "pw"); !errors.Is(err, crm.ErrInvalid) {
		t.Errorf("bad role: %v", err)
	}
	if _, err := db.PutAgent(ctx, crm.Agent{Login: "new", Role: crm.RoleAgent}, string(make([]byte, 73))); !errors.Is(err, crm.ErrInvalid) {
		t.Errorf("73-byte password: %v", err)
	}
	must[crm.Agent](t)(db.PutAgent(ctx, crm.Agent{Login: "alan", Role: crm.RoleAgent}, "pw"))
	as := must[[]crm.Agent](t)(db.Agents(ctx))
	if len(as) != 2 || as[0].Login != "alan" || as[1].Name != "Grace H." {
		t.Fatalf("agents %+v", as)
	}
	if err := db.DeleteAgent(ctx, "alan"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAgent(ctx, "alan"); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

func TestConversationsPages(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	cu := must[crm.Customer](t)(db.CreateCustomer(ctx, crm.Customer{Name: "Ada"}))
	for _, c := range []crm.Conversation{
		{ID: "conv_c", Channel: crm.ChannelWeb},
		{ID: "conv_a", Channel: crm.ChannelWeb, CustomerID: cu.ID},
		{ID: "conv_d", Channel: crm.ChannelWeb, State: crm.StateResolved}, // anonymous and closed
		{ID: "conv_b", Channel: crm.ChannelWeb, CustomerID: cu.ID, State: crm.StateResolved},
	} {
		must[crm.Conversation](t)(db.CreateConversation(ctx, c))
	}
	var got []string
	after := ""
	for {
		page := must[[]crm.Conversation](t)(db.Conversations(ctx, after, 3))
		for _, c := range page {
			got = append(got, c.ID)
		}
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1].ID
	}
	if strings.Join(got, ",") != "conv_a,conv_b,conv_c,conv_d" {
		t.Errorf("pages gave %v, want every conversation in id order", got)
	}
	if all := must[[]crm.Conversation](t)(db.Conversations(ctx, "", 0)); len(all) != 4 {
		t.Errorf("limit 0 gave %d conversations, want 4", len(all))
	}
}
