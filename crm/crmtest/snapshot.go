package crmtest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm"
)

// seedHash is a bcrypt hash (cost 4) of seedPassword, for agents loaded by
// Import without paying for a hash at the store's cost.
const (
	seedHash     = "$2a$04$9/zMhRggoirRApZL9xApD.tpPivgd921cvwu29BTiWtox0RhjLONy"
	seedPassword = "s3cret!"
)

func testImport(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	imp(t, st, crm.Snapshot{
		Customers: []crm.Customer{
			{ID: "cus_ada", Name: "Ada", Email: "ada@example.com", CreatedAt: day(1)},
			{Name: "Anonymous seed"}, // gets an id
		},
		Orders: []crm.Order{{ID: "1001", CustomerID: "cus_ada", Status: crm.OrderPaid, PlacedAt: day(2),
			Items: []crm.OrderItem{{SKU: "S1", Name: "Shoe", Qty: 2, PriceCents: 500}}}},
		Conversations: []crm.Conversation{{ID: "conv_1", Channel: crm.ChannelWeb, CustomerID: "cus_ada", State: crm.StateWaiting,
			Queue: "billing", CreatedAt: day(2), LastSeq: 7, AnsweredSeq: 9}}, // the seqs are the store's to set
		Messages: []crm.Message{
			{ID: "msg_seed1", ConversationID: "conv_1", Seq: 1, Sender: crm.SenderCustomer, Text: cardText, ClientID: "seed-1", CreatedAt: day(2)},
			{ConversationID: "conv_1", Sender: crm.SenderBot, Text: "Hello"},
			{ConversationID: "conv_1", Seq: 3, Sender: crm.SenderAgent, AgentID: "grace", Text: "Hi, Grace here."},
		},
		Tickets:  []crm.Ticket{{ID: "tkt_1", CustomerID: "cus_ada", Subject: cardText, CreatedAt: day(3)}},
		Feedback: []crm.Feedback{{ConversationID: "conv_1", Score: 4}},
		Agents: []crm.SeedAgent{
			{Agent: crm.Agent{Login: "grace", Role: crm.RoleAdmin}, Password: "pw"},
			{Agent: crm.Agent{Login: "alan", Role: crm.RoleAgent, PasswordHash: seedHash}},
		},
		Canned: []crm.CannedResponse{
			{Shortcut: "refund-sent", Title: "Refund sent", Text: "Your refund is on its way.", UpdatedBy: "grace", UpdatedAt: day(4)},
			{Shortcut: "greeting", Text: "Hello!"},
		},
	})
	if got := must[crm.Stats](t)(st.Stats(ctx)); got != (crm.Stats{Customers: 2, Orders: 1, Conversations: 1, Messages: 3, Tickets: 1, Feedback: 1, Agents: 2, Canned: 2}) {
		t.Errorf("stats after the import: %+v", got)
	}
	if c := must[crm.Customer](t)(st.Customer(ctx, "cus_ada")); !c.CreatedAt.Equal(day(1)) {
		t.Errorf("imported customer %+v: want its CreatedAt kept", c)
	}
	if ids := must[[]string](t)(st.CustomerIDs(ctx)); len(ids) != 2 || slices.Contains(ids, "") {
		t.Errorf("customer ids %q: want an id made for the seed without one", ids)
	}
	if o := must[crm.Order](t)(st.Order(ctx, "1001")); o.TotalCents != 1000 || !o.PlacedAt.Equal(day(2)) {
		t.Errorf("imported order %+v", o)
	}
	c := conversation(t, st, "conv_1")
	if c.LastSeq != 3 || c.LastCustomerSeq != 1 || c.State != crm.StateWaiting || !c.CreatedAt.Equal(day(2)) {
		t.Errorf("imported conversation %+v: want LastSeq 3, LastCustomerSeq 1 and its state and time kept", c)
	}
	// Imported history is answered: no turn is owed for it.
	if c.AnsweredSeq != 1 || c.Unanswered() {
		t.Errorf("imported conversation %+v: want AnsweredSeq 1 (its last customer message)", c)
	}
	ms := allMessages(t, st, "conv_1")
	if !c.StateSince.Equal(day(2)) || !c.LastAgentAt.Equal(ms[2].CreatedAt) {
		t.Errorf("imported conversation %+v: want StateSince its CreatedAt, LastAgentAt its agent message's time", c)
	}
	equal(t, "events of an imported conversation", eventSeqs(allEvents(t, st, "conv_1")), []uint64{})
	equal(t, "seqs", seqs(ms), []uint64{1, 2, 3})
	if ms[0].ID != "msg_seed1" || !ms[0].CreatedAt.Equal(day(2)) || ms[0].Text != cardRedacted {
		t.Errorf("imported message %+v: want its id and time kept and its text redacted", ms[0])
	}
	if ms[1].ID == "" || ms[1].CreatedAt.IsZero() || ms[2].AgentID != "grace" {
		t.Errorf("imported messages %+v", ms[1:])
	}
	again, created, err := st.AppendMessage(ctx, crm.Message{ConversationID: "conv_1", Sender: crm.SenderCustomer, Text: "again", ClientID: "seed-1"})
	if err != nil || created || again.ID != "msg_seed1" {
		t.Errorf("resend of an imported client id: %+v, created %v, %v", again, created, err)
	}
	if tk := must[crm.Ticket](t)(st.Ticket(ctx, "tkt_1")); tk.Subject != cardRedacted || tk.Status != crm.TicketOpen || !tk.CreatedAt.Equal(day(3)) {
		t.Errorf("imported ticket %+v: want its subject redacted, status open, time kept", tk)
	}
	if f := must[crm.Feedback](t)(st.ConversationFeedback(ctx, "conv_1")); f.CustomerID != "cus_ada" || f.ID == "" {
		t.Errorf("imported rating %+v", f)
	}
	canned := must[[]crm.CannedResponse](t)(st.CannedResponses(ctx))
	equal(t, "canned responses", shortcuts(canned), []string{"greeting", "refund-sent"})
	if r := canned[1]; r.Title != "Refund sent" || r.UpdatedBy != "grace" || !r.UpdatedAt.Equal(day(4)) {
		t.Errorf("imported canned response %+v: want its fields and time kept", r)
	}
	if g := canned[0]; g.Text != "Hello!" || g.UpdatedAt.IsZero() {
		t.Errorf("imported canned response %+v: want UpdatedAt set", g)
	}
	for _, a := range []struct{ login, password string }{{"grace", "pw"}, {"alan", seedPassword}} {
		if _, err := st.Authenticate(ctx, a.login, a.password); err != nil {
			t.Errorf("imported agent %s: %v", a.login, err)
		}
	}
}

// testImportAllOrNothing imports snapshots that break at their end: none
// of each is stored.
func testImportAllOrNothing(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	imp(t, st, crm.Snapshot{
		Customers:     []crm.Customer{{ID: "cus_ada", Email: "ada@example.com"}},
		Orders:        []crm.Order{{ID: "1001", CustomerID: "cus_ada", Status: crm.OrderPaid}},
		Conversations: []crm.Conversation{{ID: "conv_ada", Channel: crm.ChannelWeb, CustomerID: "cus_ada"}},
		Messages:      []crm.Message{{ConversationID: "conv_ada", Sender: crm.SenderCustomer, Text: "hello", ClientID: "c1"}},
		Agents:        []crm.SeedAgent{{Agent: crm.Agent{Login: "grace", Role: crm.RoleAgent, PasswordHash: seedHash}}},
		Canned:        []crm.CannedResponse{{Shortcut: "greeting", Text: "Hello!"}},
	})
	baseline := must[crm.Stats](t)(st.Stats(ctx))
	good := func() crm.Snapshot {
		return crm.Snapshot{
			Customers:     []crm.Customer{{ID: "cus_new", Email: "new@example.com"}},
			Conversations: []crm.Conversation{{ID: "conv_new", Channel: crm.ChannelWeb, CustomerID: "cus_new"}},
			Messages: []crm.Message{
				{ConversationID: "conv_new", Sender: crm.SenderCustomer, Text: "hi", ClientID: "n1"},
				{ConversationID: "conv_ada", Sender: crm.SenderCustomer, Text: "more history", ClientID: "n2"},
			},
			Tickets: []crm.Ticket{{ID: "tkt_new", CustomerID: "cus_new", Subject: "new"}},
			Agents:  []crm.SeedAgent{{Agent: crm.Agent{Login: "alan", Role: crm.RoleAgent, PasswordHash: seedHash}}},
			Canned:  []crm.CannedResponse{{Shortcut: "refund-sent", Text: "Your refund is on its way."}},
		}
	}
	bad := func(f func(s *crm.Snapshot)) crm.Snapshot { s := good(); f(&s); return s }
	msg := func(text string) crm.Message {
		return crm.Message{ConversationID: "conv_new", Sender: crm.SenderBot, Text: text}
	}
	for _, tt := range []struct {
		name string
		s    crm.Snapshot
		want error
	}{
		{"customer id taken", bad(func(s *crm.Snapshot) { s.Customers = append(s.Customers, crm.Customer{ID: "cus_ada"}) }), crm.ErrConflict},
		{"customer e-mail taken", bad(func(s *crm.Snapshot) {
			s.Customers = append(s.Customers, crm.Customer{ID: "cus_x", Email: "ADA@example.com"})
		}), crm.ErrConflict},
		{"e-mail twice in the snapshot", bad(func(s *crm.Snapshot) {
			s.Customers = append(s.Customers, crm.Customer{ID: "cus_x", Email: "new@example.com"})
		}), crm.ErrConflict},
		{"order id taken", bad(func(s *crm.Snapshot) {
			s.Orders = append(s.Orders, crm.Order{ID: "1001", CustomerID: "cus_new", Status: crm.OrderPaid})
		}), crm.ErrConflict},
		{"conversation id taken", bad(func(s *crm.Snapshot) {
			s.Conversations = append(s.Conversations, crm.Conversation{ID: "conv_ada", Channel: crm.ChannelWeb})
		}), crm.ErrConflict},
		{"client id twice", bad(func(s *crm.Snapshot) {
			m := msg("again")
			m.ClientID = "n1"
			s.Messages = append(s.Messages, m)
		}), crm.ErrConflict},
		{"agent login taken", bad(func(s *crm.Snapshot) {
			s.Agents = append(s.Agents, crm.SeedAgent{Agent: crm.Agent{Login: "grace", Role: crm.RoleAgent, PasswordHash: seedHash}})
		}), crm.ErrConflict},
		{"canned shortcut taken", bad(func(s *crm.Snapshot) {
			s.Canned = append(s.Canned, crm.CannedResponse{Shortcut: "greeting", Text: "Hi"})
		}), crm.ErrConflict},
		{"canned shortcut twice in the snapshot", bad(func(s *crm.Snapshot) {
			s.Canned = append(s.Canned, crm.CannedResponse{Shortcut: "refund-sent", Text: "Again"})
		}), crm.ErrConflict},
		{"canned response without text", bad(func(s *crm.Snapshot) {
			s.Canned = append(s.Canned, crm.CannedResponse{Shortcut: "empty"})
		}), crm.ErrInvalid},
		{"canned shortcut upper-case", bad(func(s *crm.Snapshot) {
			s.Canned = append(s.Canned, crm.CannedResponse{Shortcut: "Hello", Text: "Hi"})
		}), crm.ErrInvalid},
		{"order of an unknown customer", bad(func(s *crm.Snapshot) {
			s.Orders = append(s.Orders, crm.Order{ID: "2000", CustomerID: "cus_nobody", Status: crm.OrderPaid})
		}), crm.ErrNotFound},
		{"message of an unknown conversation", bad(func(s *crm.Snapshot) {
			m := msg("lost")
			m.ConversationID = "conv_nobody"
			s.Messages = append(s.Messages, m)
		}), crm.ErrNotFound},
		{"ticket of an unknown customer", bad(func(s *crm.Snapshot) {
			s.Tickets = append(s.Tickets, crm.Ticket{CustomerID: "cus_nobody", Subject: "x"})
		}), crm.ErrNotFound},
		{"rating of an unknown conversation", bad(func(s *crm.Snapshot) {
			s.Feedback = append(s.Feedback, crm.Feedback{ConversationID: "conv_nobody", Score: 3})
		}), crm.ErrNotFound},
		{"conversation in an unknown state", bad(func(s *crm.Snapshot) {
			s.Conversations = append(s.Conversations, crm.Conversation{ID: "conv_x", Channel: crm.ChannelWeb, State: "gone"})
		}), crm.ErrInvalid},
		{"message out of sequence", bad(func(s *crm.Snapshot) {
			m := msg("skipped ahead")
			m.Seq = 5
			s.Messages = append(s.Messages, m)
		}), crm.ErrInvalid},
		{"message not UTF-8", bad(func(s *crm.Snapshot) { s.Messages = append(s.Messages, msg("caf\xe9")) }), crm.ErrInvalid},
		{"message of 1 MiB", bad(func(s *crm.Snapshot) { s.Messages = append(s.Messages, msg(strings.Repeat("x", 1<<20))) }), crm.ErrTooLarge},
		{"score 9", bad(func(s *crm.Snapshot) {
			s.Feedback = append(s.Feedback, crm.Feedback{CustomerID: "cus_new", Score: 9})
		}), crm.ErrInvalid},
		{"agent without password", bad(func(s *crm.Snapshot) {
			s.Agents = append(s.Agents, crm.SeedAgent{Agent: crm.Agent{Login: "ida", Role: crm.RoleAgent}})
		}), crm.ErrInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, "import", st.Import(ctx, tt.s), tt.want)
			if got := must[crm.Stats](t)(st.Stats(ctx)); got != baseline {
				t.Fatalf("stats %+v after a failed import, want %+v", got, baseline)
			}
			_, err := st.Customer(ctx, "cus_new")
			wantErr(t, "customer of a failed import", err, crm.ErrNotFound)
			_, err = st.CustomerByEmail(ctx, "new@example.com")
			wantErr(t, "e-mail of a failed import", err, crm.ErrNotFound)
			_, err = st.Conversation(ctx, "conv_new")
			wantErr(t, "conversation of a failed import", err, crm.ErrNotFound)
			_, err = st.Agent(ctx, "alan")
			wantErr(t, "agent of a failed import", err, crm.ErrNotFound)
			equal(t, "messages of a conversation a failed import added to", seqs(allMessages(t, st, "conv_ada")), []uint64{1})
			equal(t, "canned responses", shortcuts(must[[]crm.CannedResponse](t)(st.CannedResponses(ctx))), []string{"greeting"})
		})
	}
	// What the failed imports held is still free to import.
	imp(t, st, good())
	if c := conversation(t, st, "conv_new"); c.LastSeq != 1 {
		t.Errorf("conversation of the good import %+v", c)
	}
	again, created, err := st.AppendMessage(ctx, crm.Message{ConversationID: "conv_ada", Sender: crm.SenderCustomer, Text: "resent", ClientID: "n2"})
	if err != nil || created || again.Seq != 2 || again.Text != "more history" {
		t.Errorf("resend of an imported client id: %+v, created %v, %v", again, created, err)
	}
}

func testStats(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	if got := must[crm.Stats](t)(st.Stats(ctx)); got != (crm.Stats{}) {
		t.Fatalf("empty store: %+v", got)
	}
	ada := must[crm.Customer](t)(st.CreateCustomer(ctx, crm.Customer{Name: "Ada"}))
	must[crm.Customer](t)(st.CreateCustomer(ctx, crm.Customer{Name: "Bob"}))
	for _, id := range []string{"1", "2", "1"} { // "1" twice: replaced, not added
		must[crm.Order](t)(st.PutOrder(ctx, crm.Order{ID: id, CustomerID: ada.ID, Status: crm.OrderPaid}))
	}
	conv := must[crm.Conversation](t)(st.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb, CustomerID: ada.ID}))
	newConversation(t, st)
	for _, cid := range []string{"a", "b", "a"} { // "a" twice: stored once
		if _, _, err := st.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hi", ClientID: cid}); err != nil {
			t.Fatal(err)
		}
	}
	must[crm.Ticket](t)(st.CreateTicket(ctx, crm.Ticket{CustomerID: ada.ID, Subject: "x"}))
	must[crm.Feedback](t)(st.AddFeedback(ctx, crm.Feedback{ConversationID: conv.ID, Score: 5}))
	imp(t, st, crm.Snapshot{Agents: []crm.SeedAgent{{Agent: crm.Agent{Login: "grace", Role: crm.RoleAgent, PasswordHash: seedHash}}}})
	for range 2 {
		if _, _, err := st.Transition(ctx, conv.ID, crm.Event{Type: crm.EventNote, Actor: "grace", Text: "note"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, sc := range []string{"a", "b", "a"} { // "a" twice: replaced, not added
		must[crm.CannedResponse](t)(st.PutCanned(ctx, crm.CannedResponse{Shortcut: sc, Text: "text " + sc}))
	}
	want := crm.Stats{Customers: 2, Orders: 2, Conversations: 2, Messages: 2, Tickets: 1, Feedback: 1, Agents: 1, Events: 2, Canned: 2}
	if got := must[crm.Stats](t)(st.Stats(ctx)); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
	if err := st.DeleteAgent(ctx, "grace"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteCanned(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	want.Agents, want.Canned = 0, 1
	if got := must[crm.Stats](t)(st.Stats(ctx)); got != want {
		t.Errorf("stats after deleting the agent and a canned response %+v, want %+v", got, want)
	}
}

// testCopies checks that records go in and out of the store by value: a
// caller that changes a slice or map it passed in or got back changes
// nothing stored.
func testCopies(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)

	t.Run("customer", func(t *testing.T) {
		in := crm.Customer{ID: "cus_ada", Identities: []crm.Identity{{Channel: crm.ChannelWeb, ExternalID: "v1"}},
			Attributes: map[string]string{"city": "Zurich"}}
		out := must[crm.Customer](t)(st.CreateCustomer(ctx, in))
		in.Identities[0].ExternalID, in.Attributes["city"] = "changed", "changed"
		out.Identities[0].ExternalID, out.Attributes["city"] = "changed", "changed"
		got := must[crm.Customer](t)(st.Customer(ctx, "cus_ada"))
		got.Identities[0].ExternalID, got.Attributes["city"] = "changed", "changed"
		var kept map[string]string
		up := must[crm.Customer](t)(st.UpdateCustomer(ctx, "cus_ada", func(c *crm.Customer) error {
			kept = c.Attributes
			return nil
		}))
		kept["city"], up.Attributes["zip"] = "changed", "8000"
		c := must[crm.Customer](t)(st.Customer(ctx, "cus_ada"))
		if c.Identities[0].ExternalID != "v1" || len(c.Attributes) != 1 || c.Attributes["city"] != "Zurich" {
			t.Errorf("stored %+v", c)
		}
		if _, err := st.CustomerByIdentity(ctx, crm.Identity{Channel: crm.ChannelWeb, ExternalID: "v1"}); err != nil {
			t.Errorf("by identity: %v", err)
		}
	})

	t.Run("order", func(t *testing.T) {
		items := []crm.OrderItem{{SKU: "S1", Name: "Shoe", Qty: 1, PriceCents: 100}}
		out := must[crm.Order](t)(st.PutOrder(ctx, crm.Order{ID: "1", CustomerID: "cus_ada", Status: crm.OrderPaid, Items: items}))
		items[0].Qty, out.Items[0].Name = 9, "changed"
		got := must[[]crm.Order](t)(st.OrdersByCustomer(ctx, "cus_ada", 0))
		got[0].Items[0].SKU = "changed"
		if o := must[crm.Order](t)(st.Order(ctx, "1")); o.Items[0] != (crm.OrderItem{SKU: "S1", Name: "Shoe", Qty: 1, PriceCents: 100}) {
			t.Errorf("stored %+v", o)
		}
	})

	t.Run("conversation", func(t *testing.T) {
		slots := map[string]string{"order_id": "1"}
		out := must[crm.Conversation](t)(st.CreateConversation(ctx, crm.Conversation{ID: "conv_1", Channel: crm.ChannelWeb, Slots: slots}))
		slots["order_id"], out.Slots["order_id"] = "changed", "changed"
		mine := map[string]string{"order_id": "1", "email": "a@example.com"}
		up := must[crm.Conversation](t)(st.UpdateConversation(ctx, "conv_1", func(c *crm.Conversation) error { c.Slots = mine; return nil }))
		mine["email"], up.Slots["order_id"] = "changed", "changed"
		for _, c := range must[[]crm.Conversation](t)(st.OpenConversations(ctx, crm.ConversationFilter{})) {
			c.Slots["email"] = "changed"
		}
		h := must[crm.History](t)(st.History(ctx, "conv_1", crm.HistoryQuery{}))
		h.Conversation.Slots["email"] = "changed"
		if c := conversation(t, st, "conv_1"); c.Slots["order_id"] != "1" || c.Slots["email"] != "a@example.com" {
			t.Errorf("stored slots %v", c.Slots)
		}
	})

	t.Run("message", func(t *testing.T) {
		qr := []string{"Yes", "No"}
		parse := json.RawMessage(`{"intent":"greet"}`)
		out := appendMsg(t, st, crm.Message{ConversationID: "conv_1", Sender: crm.SenderBot, Text: "Sure?", QuickReplies: qr, Parse: parse})
		qr[0], parse[2] = "changed", 'X'
		out.QuickReplies[1] = "changed"
		if len(out.Parse) > 2 {
			out.Parse[2] = 'X'
		}
		got := must[[]crm.Message](t)(st.RecentMessages(ctx, "conv_1", 1))
		got[0].QuickReplies[0] = "changed"
		m := allMessages(t, st, "conv_1")[0]
		if !slices.Equal(m.QuickReplies, []string{"Yes", "No"}) || !strings.Contains(string(m.Parse), `"intent"`) {
			t.Errorf("stored %+v (parse %s)", m, m.Parse)
		}
		set := json.RawMessage(`{"intent":"confirm"}`)
		if err := st.SetMessageParse(ctx, "conv_1", out.Seq, set); err != nil {
			t.Fatal(err)
		}
		set[2] = 'X'
		if p := string(allMessages(t, st, "conv_1")[0].Parse); !strings.Contains(p, `"intent"`) {
			t.Errorf("stored parse %s", p)
		}
	})

	t.Run("ticket", func(t *testing.T) {
		hist := []crm.TicketEvent{{At: day(1), Actor: "bot", Note: "opened"}}
		convs := []string{"conv_1"}
		out := must[crm.Ticket](t)(st.CreateTicket(ctx, crm.Ticket{ID: "tkt_1", CustomerID: "cus_ada", Subject: "x", History: hist, Conversations: convs}))
		hist[0].Note, convs[0] = "changed", "changed"
		out.History[0].Actor = "changed"
		open := must[[]crm.Ticket](t)(st.OpenTickets(ctx, "cus_ada"))
		open[0].Conversations[0] = "changed"
		if tk := must[crm.Ticket](t)(st.Ticket(ctx, "tkt_1")); tk.History[0].Note != "opened" || tk.History[0].Actor != "bot" || tk.Conversations[0] != "conv_1" {
			t.Errorf("stored %+v", tk)
		}
		mine := []string{"conv_1", "conv_2"}
		must[crm.Ticket](t)(st.UpdateTicket(ctx, "tkt_1", func(tk *crm.Ticket) error { tk.Conversations = mine; return nil }))
		mine[1] = "changed"
		if tk := must[crm.Ticket](t)(st.Ticket(ctx, "tkt_1")); !slices.Equal(tk.Conversations, []string{"conv_1", "conv_2"}) {
			t.Errorf("stored conversations %v", tk.Conversations)
		}
	})

	t.Run("agent and snapshot", func(t *testing.T) {
		s := crm.Snapshot{Agents: []crm.SeedAgent{{Agent: crm.Agent{Login: "grace", Role: crm.RoleAgent, PasswordHash: seedHash,
			Teams: []string{"billing"}}}}}
		imp(t, st, s)
		s.Agents[0].Teams[0] = "changed"
		teams := []string{"billing", "shipping"}
		out := must[crm.Agent](t)(st.PutAgent(ctx, crm.Agent{Login: "grace", Role: crm.RoleAgent, Teams: teams}, ""))
		teams[0], out.Teams[1] = "changed", "changed"
		as := must[[]crm.Agent](t)(st.Agents(ctx))
		as[0].Teams[0] = "changed"
		if a := must[crm.Agent](t)(st.Agent(ctx, "grace")); !slices.Equal(a.Teams, []string{"billing", "shipping"}) {
			t.Errorf("stored teams %v", a.Teams)
		}
	})
}
