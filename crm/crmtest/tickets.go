package crmtest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
)

func testTickets(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	cu := must[crm.Customer](t)(st.CreateCustomer(ctx, crm.Customer{Name: "Ada"}))
	refund := must[crm.Ticket](t)(st.CreateTicket(ctx, crm.Ticket{CustomerID: cu.ID, Subject: "Refund, " + cardText,
		Topic: "refund_status", Queue: "billing", History: []crm.TicketEvent{{At: day(1), Actor: "bot", Note: "code is 482913"}}}))
	if refund.ID == "" || refund.Status != crm.TicketOpen || refund.Priority != crm.PriorityNormal || refund.CreatedAt.IsZero() || refund.UpdatedAt.IsZero() {
		t.Fatalf("created %+v: want an id, status open, priority normal and times", refund)
	}
	if refund.Subject != "Refund, "+cardRedacted || refund.History[0].Note != "code is "+crm.CodePlaceholder {
		t.Errorf("subject %q, note %q: want them redacted", refund.Subject, refund.History[0].Note)
	}
	if got := must[crm.Ticket](t)(st.Ticket(ctx, refund.ID)); got.Subject != refund.Subject || got.Queue != "billing" || len(got.History) != 1 {
		t.Errorf("stored %+v, want %+v", got, refund)
	}
	ship := must[crm.Ticket](t)(st.CreateTicket(ctx, crm.Ticket{ID: "tkt_ship", CustomerID: cu.ID, Subject: "Late parcel", Topic: "where_is_my_order",
		Status: crm.TicketPending, Priority: crm.PriorityHigh}))
	if ship.ID != "tkt_ship" || ship.Status != crm.TicketPending || ship.Priority != crm.PriorityHigh {
		t.Errorf("created %+v: want the id, status and priority given", ship)
	}
	if found := must[crm.Ticket](t)(st.OpenTicketByTopic(ctx, cu.ID, "refund_status")); found.ID != refund.ID {
		t.Errorf("by topic: %s, want %s", found.ID, refund.ID)
	}
	if found := must[crm.Ticket](t)(st.OpenTicketByTopic(ctx, cu.ID, "where_is_my_order")); found.ID != ship.ID {
		t.Errorf("pending ticket by topic: %s, want %s", found.ID, ship.ID)
	}
	_, err := st.OpenTicketByTopic(ctx, cu.ID, "cancel_order")
	wantErr(t, "unknown topic", err, crm.ErrNotFound)

	t.Run("update keeps what the store owns", func(t *testing.T) {
		got := must[crm.Ticket](t)(st.UpdateTicket(ctx, refund.ID, func(tk *crm.Ticket) error {
			tk.ID, tk.CustomerID, tk.CreatedAt = "tkt_hijack", "cus_other", time.Time{}
			tk.History = append(tk.History, crm.TicketEvent{At: day(2), Actor: "grace", Note: "card 4111-1111-1111-1111"})
			tk.Conversations = []string{"conv_1"}
			return nil
		}))
		if got.ID != refund.ID || got.CustomerID != cu.ID || !got.CreatedAt.Equal(refund.CreatedAt) || got.UpdatedAt.Before(refund.UpdatedAt) {
			t.Fatalf("after update %+v: want id, customer and CreatedAt kept, UpdatedAt set", got)
		}
		stored := must[crm.Ticket](t)(st.Ticket(ctx, refund.ID))
		if len(stored.History) != 2 || stored.History[1].Note != "card "+crm.CardPlaceholder || len(stored.Conversations) != 1 {
			t.Errorf("stored %+v: want the new note redacted", stored)
		}
		_, err := st.Ticket(ctx, "tkt_hijack")
		wantErr(t, "the id given by fn", err, crm.ErrNotFound)
	})

	t.Run("an error from fn writes nothing", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := st.UpdateTicket(ctx, refund.ID, func(tk *crm.Ticket) error {
			tk.Status = crm.TicketSolved
			tk.History[0].Note = "changed in place"
			return boom
		})
		wantErr(t, "update", err, boom)
		got := must[crm.Ticket](t)(st.Ticket(ctx, refund.ID))
		if got.Status != crm.TicketOpen || got.History[0].Note == "changed in place" {
			t.Errorf("after a failed update: %+v", got)
		}
	})

	t.Run("a solved ticket leaves the open lists", func(t *testing.T) {
		must[crm.Ticket](t)(st.UpdateTicket(ctx, refund.ID, func(tk *crm.Ticket) error { tk.Status = crm.TicketSolved; return nil }))
		_, err := st.OpenTicketByTopic(ctx, cu.ID, "refund_status")
		wantErr(t, "solved ticket by topic", err, crm.ErrNotFound)
		equal(t, "open tickets", ticketIDs(must[[]crm.Ticket](t)(st.OpenTickets(ctx, cu.ID))), []string{ship.ID})
		if got := must[crm.Ticket](t)(st.Ticket(ctx, refund.ID)); got.Status != crm.TicketSolved {
			t.Errorf("solved ticket %+v", got)
		}
		// Reopened, it is back.
		must[crm.Ticket](t)(st.UpdateTicket(ctx, refund.ID, func(tk *crm.Ticket) error { tk.Status = crm.TicketOpen; return nil }))
		if found := must[crm.Ticket](t)(st.OpenTicketByTopic(ctx, cu.ID, "refund_status")); found.ID != refund.ID {
			t.Errorf("reopened ticket by topic: %s", found.ID)
		}
		must[crm.Ticket](t)(st.UpdateTicket(ctx, ship.ID, func(tk *crm.Ticket) error { tk.Status = crm.TicketClosed; return nil }))
		equal(t, "open tickets", ticketIDs(must[[]crm.Ticket](t)(st.OpenTickets(ctx, cu.ID))), []string{refund.ID})
	})

	equal(t, "open tickets of an unknown customer", ticketIDs(must[[]crm.Ticket](t)(st.OpenTickets(ctx, "cus_nobody"))), []string{})
	for _, tt := range []struct {
		name string
		tk   crm.Ticket
		want error
	}{
		{"unknown customer", crm.Ticket{CustomerID: "cus_nobody", Subject: "x"}, crm.ErrNotFound},
		{"no customer", crm.Ticket{Subject: "x"}, crm.ErrInvalid},
		{"taken id", crm.Ticket{ID: ship.ID, CustomerID: cu.ID, Subject: "x"}, crm.ErrConflict},
		{"unknown status", crm.Ticket{CustomerID: cu.ID, Subject: "x", Status: "lost"}, crm.ErrInvalid},
	} {
		t.Run("create "+tt.name, func(t *testing.T) {
			_, err := st.CreateTicket(ctx, tt.tk)
			wantErr(t, "create", err, tt.want)
		})
	}
	_, err = st.UpdateTicket(ctx, ship.ID, func(tk *crm.Ticket) error { tk.Status = "lost"; return nil })
	wantErr(t, "update to an unknown status", err, crm.ErrInvalid)
	_, err = st.UpdateTicket(ctx, "tkt_nobody", func(*crm.Ticket) error { return nil })
	wantErr(t, "update an unknown ticket", err, crm.ErrNotFound)
	_, err = st.Ticket(ctx, "tkt_nobody")
	wantErr(t, "unknown ticket", err, crm.ErrNotFound)
}

// testTicketOrder checks that open tickets come most recently updated
// first, with times set by Import and by an update.
func testTicketOrder(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	imp(t, st, crm.Snapshot{
		Customers: []crm.Customer{{ID: "cus_ada"}, {ID: "cus_bob"}},
		Tickets: []crm.Ticket{
			{ID: "tkt_a", CustomerID: "cus_ada", Subject: "a", Topic: "refund_status", CreatedAt: day(1), UpdatedAt: day(3)},
			{ID: "tkt_b", CustomerID: "cus_ada", Subject: "b", Topic: "refund_status", CreatedAt: day(1), UpdatedAt: day(5)},
			{ID: "tkt_c", CustomerID: "cus_ada", Subject: "c", Status: crm.TicketPending, CreatedAt: day(2), UpdatedAt: day(4)},
			{ID: "tkt_d", CustomerID: "cus_ada", Subject: "d", Status: crm.TicketSolved, CreatedAt: day(2), UpdatedAt: day(6)},
			{ID: "tkt_e", CustomerID: "cus_bob", Subject: "e", Topic: "refund_status", CreatedAt: day(2), UpdatedAt: day(7)},
		},
	})
	if got := must[crm.Ticket](t)(st.Ticket(ctx, "tkt_a")); !got.CreatedAt.Equal(day(1)) || !got.UpdatedAt.Equal(day(3)) {
		t.Fatalf("imported %+v: want its times kept", got)
	}
	equal(t, "open tickets", ticketIDs(must[[]crm.Ticket](t)(st.OpenTickets(ctx, "cus_ada"))), []string{"tkt_b", "tkt_c", "tkt_a"})
	if got := must[crm.Ticket](t)(st.OpenTicketByTopic(ctx, "cus_ada", "refund_status")); got.ID != "tkt_b" {
		t.Errorf("by topic %s, want the most recently updated tkt_b", got.ID)
	}
	must[crm.Ticket](t)(st.UpdateTicket(ctx, "tkt_a", func(tk *crm.Ticket) error {
		tk.History = append(tk.History, crm.TicketEvent{At: time.Now(), Actor: "bot", Note: "customer asked again"})
		return nil
	}))
	equal(t, "open tickets after an update", ticketIDs(must[[]crm.Ticket](t)(st.OpenTickets(ctx, "cus_ada"))), []string{"tkt_a", "tkt_b", "tkt_c"})
	if got := must[crm.Ticket](t)(st.OpenTicketByTopic(ctx, "cus_ada", "refund_status")); got.ID != "tkt_a" {
		t.Errorf("by topic after an update %s, want tkt_a", got.ID)
	}
}

func testFeedback(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	imp(t, st, crm.Snapshot{
		Customers:     []crm.Customer{{ID: "cus_ada"}, {ID: "cus_bob"}},
		Conversations: []crm.Conversation{{ID: "conv_ada", Channel: crm.ChannelWeb, CustomerID: "cus_ada", CreatedAt: day(1)}},
		Feedback:      []crm.Feedback{{ID: "fb_old", ConversationID: "conv_ada", Score: 2, CreatedAt: day(2)}},
	})
	if got := must[crm.Feedback](t)(st.LatestFeedback(ctx, "cus_ada")); got.ID != "fb_old" || got.CustomerID != "cus_ada" || !got.CreatedAt.Equal(day(2)) {
		t.Fatalf("imported rating %+v: want its customer taken from the conversation and its time kept", got)
	}
	_, err := st.LatestFeedback(ctx, "cus_bob")
	wantErr(t, "no rating yet", err, crm.ErrNotFound)

	f := must[crm.Feedback](t)(st.AddFeedback(ctx, crm.Feedback{ConversationID: "conv_ada", Score: 5, Comment: "pin 1234 worked"}))
	if f.ID == "" || f.CreatedAt.IsZero() || f.CustomerID != "cus_ada" || f.Comment != "pin "+crm.CodePlaceholder+" worked" {
		t.Fatalf("added %+v: want an id, a time, the conversation's customer and the comment redacted", f)
	}
	if got := must[crm.Feedback](t)(st.LatestFeedback(ctx, "cus_ada")); got.ID != f.ID || got.Comment != f.Comment {
		t.Errorf("latest %+v, want %+v", got, f)
	}
	if got := must[crm.Feedback](t)(st.ConversationFeedback(ctx, "conv_ada")); got.ID != f.ID {
		t.Errorf("conversation's latest %s, want %s", got.ID, f.ID)
	}
	bobs := must[crm.Feedback](t)(st.AddFeedback(ctx, crm.Feedback{CustomerID: "cus_bob", Score: 3}))
	if got := must[crm.Feedback](t)(st.LatestFeedback(ctx, "cus_bob")); got.ID != bobs.ID || got.ConversationID != "" {
		t.Errorf("bob's latest %+v, want %+v", got, bobs)
	}
	if got := must[crm.Feedback](t)(st.LatestFeedback(ctx, "cus_ada")); got.ID != f.ID {
		t.Errorf("ada's latest %s after bob's rating, want %s", got.ID, f.ID)
	}

	t.Run("anonymous conversation", func(t *testing.T) {
		anon := newConversation(t, st)
		_, err := st.ConversationFeedback(ctx, anon.ID)
		wantErr(t, "no rating yet", err, crm.ErrNotFound)
		af := must[crm.Feedback](t)(st.AddFeedback(ctx, crm.Feedback{ConversationID: anon.ID, Score: 1}))
		if af.CustomerID != "" {
			t.Errorf("anonymous rating got customer %q", af.CustomerID)
		}
		if got := must[crm.Feedback](t)(st.ConversationFeedback(ctx, anon.ID)); got.ID != af.ID || got.Score != 1 {
			t.Errorf("anonymous conversation's rating %+v, want %+v", got, af)
		}
		_, err = st.LatestFeedback(ctx, "")
		wantErr(t, "latest rating of no customer", err, crm.ErrNotFound)
	})

	for _, tt := range []struct {
		name string
		f    crm.Feedback
		want error
	}{
		{"score 1", crm.Feedback{CustomerID: "cus_bob", Score: 1}, nil},
		{"score 5", crm.Feedback{CustomerID: "cus_bob", Score: 5}, nil},
		{"score 0", crm.Feedback{CustomerID: "cus_bob", Score: 0}, crm.ErrInvalid},
		{"score 6", crm.Feedback{CustomerID: "cus_bob", Score: 6}, crm.ErrInvalid},
		{"score -1", crm.Feedback{CustomerID: "cus_bob", Score: -1}, crm.ErrInvalid},
		{"unknown conversation", crm.Feedback{ConversationID: "conv_nobody", Score: 3}, crm.ErrNotFound},
		{"unknown customer", crm.Feedback{CustomerID: "cus_nobody", Score: 3}, crm.ErrNotFound},
		{"neither conversation nor customer", crm.Feedback{Score: 3}, crm.ErrInvalid},
		{"taken id", crm.Feedback{ID: "fb_old", CustomerID: "cus_bob", Score: 3}, crm.ErrConflict},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.AddFeedback(ctx, tt.f)
			wantErr(t, "add", err, tt.want)
			if err == nil && got.Score != tt.f.Score {
				t.Errorf("score %d, want %d", got.Score, tt.f.Score)
			}
		})
	}
	_, err = st.ConversationFeedback(ctx, "conv_nobody")
	wantErr(t, "rating of an unknown conversation", err, crm.ErrNotFound)
}

// testAgents keeps to a few bcrypt hashes and comparisons: the suite cannot
// lower a store's bcrypt cost.
func testAgents(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	a := must[crm.Agent](t)(st.PutAgent(ctx, crm.Agent{Login: "grace", Name: "Grace", Role: crm.RoleAdmin, Teams: []string{"billing"},
		PasswordHash: "ignored"}, "s3cret!"))
	if !strings.HasPrefix(a.PasswordHash, "$2") || strings.Contains(a.PasswordHash, "s3cret!") {
		t.Fatalf("hash %q: want a bcrypt hash", a.PasswordHash)
	}
	if got := must[crm.Agent](t)(st.Agent(ctx, "grace")); got.PasswordHash != a.PasswordHash || got.Name != "Grace" || len(got.Teams) != 1 {
		t.Errorf("stored %+v, want %+v", got, a)
	}
	for _, tt := range []struct {
		name, login, password string
		want                  error
	}{
		{"right password", "grace", "s3cret!", nil},
		{"wrong password", "grace", "secret", crm.ErrUnauthorized},
		{"unknown login", "mallory", "s3cret!", crm.ErrUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.Authenticate(ctx, tt.login, tt.password)
			wantErr(t, "authenticate", err, tt.want)
			if err == nil && got.Login != "grace" {
				t.Fatalf("agent %+v", got)
			}
		})
	}

	// An update without a password keeps the hash.
	up := must[crm.Agent](t)(st.PutAgent(ctx, crm.Agent{Login: "grace", Name: "Grace H.", Role: crm.RoleAgent}, ""))
	if up.PasswordHash != a.PasswordHash {
		t.Errorf("hash after an update without password %q, want %q", up.PasswordHash, a.PasswordHash)
	}
	for _, tt := range []struct {
		name     string
		a        crm.Agent
		password string
	}{
		{"new agent without password", crm.Agent{Login: "alan", Role: crm.RoleAgent}, ""},
		{"unknown role", crm.Agent{Login: "grace", Role: "boss"}, ""},
		{"no login", crm.Agent{Role: crm.RoleAgent}, ""},
		{"password over 72 bytes", crm.Agent{Login: "alan", Role: crm.RoleAgent}, strings.Repeat("p", 73)},
	} {
		t.Run("put "+tt.name, func(t *testing.T) {
			_, err := st.PutAgent(ctx, tt.a, tt.password)
			wantErr(t, "put", err, crm.ErrInvalid)
		})
	}
	imp(t, st, crm.Snapshot{Agents: []crm.SeedAgent{{Agent: crm.Agent{Login: "alan", Role: crm.RoleAgent, PasswordHash: a.PasswordHash}}}})
	as := must[[]crm.Agent](t)(st.Agents(ctx))
	if len(as) != 2 || as[0].Login != "alan" || as[1].Login != "grace" || as[1].Name != "Grace H." || as[1].Role != crm.RoleAgent {
		t.Fatalf("agents %+v: want alan, then grace as updated", as)
	}
	if err := st.DeleteAgent(ctx, "grace"); err != nil {
		t.Fatal(err)
	}
	_, err := st.Agent(ctx, "grace")
	wantErr(t, "deleted agent", err, crm.ErrNotFound)
	_, err = st.Authenticate(ctx, "grace", "s3cret!")
	wantErr(t, "deleted agent's password", err, crm.ErrUnauthorized)
	wantErr(t, "second delete", st.DeleteAgent(ctx, "grace"), crm.ErrNotFound)
	if as := must[[]crm.Agent](t)(st.Agents(ctx)); len(as) != 1 || as[0].Login != "alan" {
		t.Errorf("agents after a delete: %+v", as)
	}
}
