package crmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm"
)

// person is a customer with two of everything, loaded by addPerson.
type person struct {
	id, email, phone string
	identity         crm.Identity
	orders           []string // oldest first
	convs            []string // oldest first; the second one resolved
	tickets          []string // least recently updated first; the second one solved
	feedback         []string // oldest first
}

// addPerson imports a customer with orders, conversations, tickets and
// ratings at times from day d on, then appends four messages to each
// conversation (three from the customer, with client ids).
func addPerson(t *testing.T, st crm.Store, name string, d int) person {
	t.Helper()
	ctx := t.Context()
	low := strings.ToLower(name)
	p := person{id: "cus_" + low, email: name + "@Example.com", phone: fmt.Sprintf("+41 79 %03d 00 00", d),
		identity: crm.Identity{Channel: crm.ChannelSlack, ExternalID: "U-" + name}}
	s := crm.Snapshot{Customers: []crm.Customer{{ID: p.id, Name: name, Email: p.email, Phone: p.phone, Tier: crm.TierSilver,
		Identities: []crm.Identity{p.identity}, Attributes: map[string]string{"city": "Zurich"}, CreatedAt: day(d)}}}
	for i := range 2 {
		p.orders = append(p.orders, fmt.Sprintf("%s-%d", low, 1000+i))
		p.convs = append(p.convs, fmt.Sprintf("conv_%s%d", low, i))
		p.tickets = append(p.tickets, fmt.Sprintf("tkt_%s%d", low, i))
		p.feedback = append(p.feedback, fmt.Sprintf("fb_%s%d", low, i))
		s.Orders = append(s.Orders, crm.Order{ID: p.orders[i], CustomerID: p.id, Status: crm.OrderShipped, PlacedAt: day(d + i + 1),
			Items: []crm.OrderItem{{SKU: "SKU1", Name: "Boots", Qty: 1, PriceCents: 12900}}})
		s.Conversations = append(s.Conversations, crm.Conversation{ID: p.convs[i], Channel: crm.ChannelWeb, CustomerID: p.id,
			Queue: "shipping", CreatedAt: day(d + i + 1)})
		status := crm.TicketOpen
		if i == 1 {
			status = crm.TicketSolved
		}
		s.Tickets = append(s.Tickets, crm.Ticket{ID: p.tickets[i], CustomerID: p.id, Subject: "Order " + p.orders[i] + " for " + p.email,
			Topic: "where_is_my_order", Status: status, Conversations: []string{p.convs[i]}, CreatedAt: day(d + i + 1), UpdatedAt: day(d + 2*i + 1)})
		s.Feedback = append(s.Feedback, crm.Feedback{ID: p.feedback[i], ConversationID: p.convs[i], Score: 4 + i,
			Comment: "thanks " + p.email, CreatedAt: day(d + i + 2)})
	}
	imp(t, st, s)
	for _, c := range p.convs {
		for j := range 3 {
			appendMsg(t, st, crm.Message{ConversationID: c, Sender: crm.SenderCustomer, ClientID: fmt.Sprintf("%s-%d", c, j),
				Text: fmt.Sprintf("I am %s, write to %s or call %s", name, p.email, p.phone)})
		}
		appendMsg(t, st, crm.Message{ConversationID: c, Sender: crm.SenderBot, Text: "Thanks " + name})
	}
	must[crm.Conversation](t)(st.UpdateConversation(ctx, p.convs[1], func(c *crm.Conversation) error {
		c.State = crm.StateResolved
		return nil
	}))
	return p
}

func testEraseCustomer(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	ada := addPerson(t, st, "Ada", 0)
	bob := addPerson(t, st, "Bob", 10)
	anon := newConversation(t, st)
	appendMsg(t, st, crm.Message{ConversationID: anon.ID, Sender: crm.SenderCustomer, Text: "just looking", ClientID: "a1"})
	must[crm.Feedback](t)(st.AddFeedback(ctx, crm.Feedback{ConversationID: anon.ID, Score: 3}))
	// A visitor rates a conversation before saying who they are: the
	// rating has no customer, but it is Ada's once the conversation is.
	linked := newConversation(t, st)
	appendMsg(t, st, crm.Message{ConversationID: linked.ID, Sender: crm.SenderCustomer, Text: "I am Ada"})
	must[crm.Feedback](t)(st.AddFeedback(ctx, crm.Feedback{ConversationID: linked.ID, Score: 1, Comment: "call me on " + ada.phone}))
	must[crm.Conversation](t)(st.UpdateConversation(ctx, linked.ID, func(c *crm.Conversation) error { c.CustomerID = ada.id; return nil }))
	ada.convs = append(ada.convs, linked.ID)
	// Two events on Ada's conversations, one on Bob's.
	for _, id := range []string{ada.convs[0], linked.ID, bob.convs[0]} {
		if _, _, err := st.Transition(ctx, id, crm.Event{Type: crm.EventNote, Actor: "grace", Text: "called back"}, nil); err != nil {
			t.Fatal(err)
		}
	}

	e := must[crm.Erasure](t)(st.EraseCustomer(ctx, ada.id))
	e.IndexEntries = 0 // how many index entries a store keeps is its own business
	if want := (crm.Erasure{CustomerID: ada.id, Orders: 2, Conversations: 3, Messages: 9, Events: 2, Tickets: 2, Feedback: 3}); e != want {
		t.Errorf("erasure %+v, want %+v", e, want)
	}
	_, err := st.EraseCustomer(ctx, ada.id)
	wantErr(t, "second erasure", err, crm.ErrNotFound)

	t.Run("no lookup finds the customer", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			get  func() (crm.Customer, error)
		}{
			{"id", func() (crm.Customer, error) { return st.Customer(ctx, ada.id) }},
			{"email", func() (crm.Customer, error) { return st.CustomerByEmail(ctx, ada.email) }},
			{"phone", func() (crm.Customer, error) { return st.CustomerByPhone(ctx, ada.phone) }},
			{"identity", func() (crm.Customer, error) { return st.CustomerByIdentity(ctx, ada.identity) }},
		} {
			_, err := tt.get()
			wantErr(t, "by "+tt.name, err, crm.ErrNotFound)
		}
		equal(t, "customer ids", must[[]string](t)(st.CustomerIDs(ctx)), []string{bob.id})
	})

	t.Run("no listing holds their records", func(t *testing.T) {
		for _, id := range ada.orders {
			_, err := st.Order(ctx, id)
			wantErr(t, "order "+id, err, crm.ErrNotFound)
		}
		equal(t, "orders", orderIDs(must[[]crm.Order](t)(st.OrdersByCustomer(ctx, ada.id, 0))), []string{})
		for _, id := range ada.convs {
			_, err := st.Conversation(ctx, id)
			wantErr(t, "conversation "+id, err, crm.ErrNotFound)
			_, err = st.MessagesAfter(ctx, id, 0, 0)
			wantErr(t, "messages of "+id, err, crm.ErrNotFound)
			_, err = st.ConversationFeedback(ctx, id)
			wantErr(t, "rating of "+id, err, crm.ErrNotFound)
			_, err = st.History(ctx, id, crm.HistoryQuery{})
			wantErr(t, "history of "+id, err, crm.ErrNotFound)
			_, err = st.Events(ctx, id, 0, 0)
			wantErr(t, "events of "+id, err, crm.ErrNotFound)
		}
		for _, list := range []struct {
			name string
			f    func() ([]crm.Conversation, error)
		}{
			{"created", func() ([]crm.Conversation, error) { return st.CreatedBetween(ctx, farPast, farFuture, 0) }},
			{"resolved", func() ([]crm.Conversation, error) { return st.ResolvedBetween(ctx, farPast, farFuture, 0) }},
		} {
			for _, id := range convIDs(must[[]crm.Conversation](t)(list.f())) {
				if slices.Contains(ada.convs, id) {
					t.Errorf("%s between holds erased %s", list.name, id)
				}
			}
		}
		all := convIDs(must[[]crm.Conversation](t)(st.Conversations(ctx, "", 0)))
		equal(t, "all conversations", all, slices.Sorted(slices.Values(append(slices.Clone(bob.convs), anon.ID))))
		open := convIDs(must[[]crm.Conversation](t)(st.OpenConversations(ctx, crm.ConversationFilter{})))
		for _, id := range open {
			if slices.Contains(ada.convs, id) {
				t.Errorf("open conversations %v hold erased %s", open, id)
			}
		}
		equal(t, "conversations by customer", convIDs(must[[]crm.Conversation](t)(st.ConversationsByCustomer(ctx, ada.id, 0))), []string{})
		for _, id := range ada.tickets {
			_, err := st.Ticket(ctx, id)
			wantErr(t, "ticket "+id, err, crm.ErrNotFound)
		}
		equal(t, "open tickets", ticketIDs(must[[]crm.Ticket](t)(st.OpenTickets(ctx, ada.id))), []string{})
		_, err := st.OpenTicketByTopic(ctx, ada.id, "where_is_my_order")
		wantErr(t, "ticket by topic", err, crm.ErrNotFound)
		_, err = st.LatestFeedback(ctx, ada.id)
		wantErr(t, "latest rating", err, crm.ErrNotFound)
		var buf bytes.Buffer
		wantErr(t, "export", st.ExportCustomer(ctx, ada.id, &buf), crm.ErrNotFound)
		if got := must[crm.Stats](t)(st.Stats(ctx)); got != (crm.Stats{Customers: 1, Orders: 2, Conversations: 3, Messages: 9, Events: 1, Tickets: 2, Feedback: 3}) {
			t.Errorf("stats after the erasure: %+v", got)
		}
	})

	t.Run("others are untouched", func(t *testing.T) {
		if c, err := st.CustomerByEmail(ctx, bob.email); err != nil || c.ID != bob.id {
			t.Fatalf("bob by email: %v", err)
		}
		for _, id := range bob.convs {
			equal(t, "seqs of "+id, seqs(allMessages(t, st, id)), []uint64{1, 2, 3, 4})
		}
		equal(t, "bob's orders", orderIDs(must[[]crm.Order](t)(st.OrdersByCustomer(ctx, bob.id, 0))), []string{bob.orders[1], bob.orders[0]})
		if f := must[crm.Feedback](t)(st.LatestFeedback(ctx, bob.id)); f.ID != bob.feedback[1] {
			t.Errorf("bob's latest rating %s, want %s", f.ID, bob.feedback[1])
		}
		if f := must[crm.Feedback](t)(st.ConversationFeedback(ctx, anon.ID)); f.Score != 3 {
			t.Errorf("anonymous rating %+v", f)
		}
		equal(t, "anonymous messages", seqs(allMessages(t, st, anon.ID)), []uint64{1})
		equal(t, "bob's events", eventSeqs(allEvents(t, st, bob.convs[0])), []uint64{1})
	})

	t.Run("ids, e-mail, phone and client ids are free again", func(t *testing.T) {
		c := must[crm.Customer](t)(st.CreateCustomer(ctx, crm.Customer{ID: ada.id, Email: ada.email, Phone: ada.phone,
			Identities: []crm.Identity{ada.identity}}))
		conv := must[crm.Conversation](t)(st.CreateConversation(ctx, crm.Conversation{ID: ada.convs[0], Channel: crm.ChannelWeb, CustomerID: c.ID}))
		m := appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "new", ClientID: ada.convs[0] + "-0"})
		if m.Seq != 1 || m.Text != "new" {
			t.Errorf("first message of the new conversation: %+v", m)
		}
		equal(t, "events of the new conversation", eventSeqs(allEvents(t, st, conv.ID)), []uint64{})
		if _, ev, err := st.Transition(ctx, conv.ID, crm.Event{Type: crm.EventNote, Actor: "grace", Text: "new"}, nil); err != nil || ev.Seq != 1 {
			t.Errorf("first event of the new conversation: %+v, %v", ev, err)
		}
		must[crm.Ticket](t)(st.CreateTicket(ctx, crm.Ticket{ID: ada.tickets[0], CustomerID: c.ID, Subject: "new"}))
		must[crm.Order](t)(st.PutOrder(ctx, crm.Order{ID: ada.orders[0], CustomerID: c.ID, Status: crm.OrderPlaced}))
		must[crm.Feedback](t)(st.AddFeedback(ctx, crm.Feedback{ID: ada.feedback[0], ConversationID: conv.ID, Score: 5}))
		equal(t, "the new customer's orders", orderIDs(must[[]crm.Order](t)(st.OrdersByCustomer(ctx, c.ID, 0))), []string{ada.orders[0]})
		equal(t, "the new customer's tickets", ticketIDs(must[[]crm.Ticket](t)(st.OpenTickets(ctx, c.ID))), []string{ada.tickets[0]})
		if f := must[crm.Feedback](t)(st.LatestFeedback(ctx, c.ID)); f.Score != 5 {
			t.Errorf("the new customer's rating %+v", f)
		}
	})
}

func testExportCustomer(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	ada := addPerson(t, st, "Ada", 0)
	bob := addPerson(t, st, "Bob", 10)
	for _, ev := range []struct {
		conv string
		ev   crm.Event
	}{
		{ada.convs[1], crm.Event{Type: crm.EventClaim, Actor: "grace", Agent: "grace"}},
		{ada.convs[1], crm.Event{Type: crm.EventNote, Actor: "grace", Text: "paid with " + cardText}},
		{bob.convs[1], crm.Event{Type: crm.EventNote, Actor: "grace", Text: "not Ada's"}},
	} {
		if _, _, err := st.Transition(ctx, ev.conv, ev.ev, nil); err != nil {
			t.Fatal(err)
		}
	}

	var buf bytes.Buffer
	if err := st.ExportCustomer(ctx, ada.id, &buf); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&buf)
	var ex crm.Export
	if err := dec.Decode(&ex); err != nil {
		t.Fatalf("decode export: %v", err)
	}
	if dec.More() {
		t.Error("more than one JSON document")
	}
	if ex.ExportedAt.IsZero() || ex.Customer.ID != ada.id || ex.Customer.Email != ada.email || ex.Customer.Attributes["city"] != "Zurich" {
		t.Errorf("exported at %v, customer %+v", ex.ExportedAt, ex.Customer)
	}
	equal(t, "orders, newest first", orderIDs(ex.Orders), []string{ada.orders[1], ada.orders[0]})
	var convs []string
	for _, c := range ex.Conversations {
		convs = append(convs, c.ID)
		equal(t, "message seqs of "+c.ID, seqs(c.Messages), []uint64{1, 2, 3, 4})
		for _, m := range c.Messages {
			if m.ConversationID != c.ID || m.ID == "" || m.Text == "" {
				t.Errorf("exported message %+v", m)
			}
		}
		if c.LastSeq != 4 || c.CustomerID != ada.id {
			t.Errorf("exported conversation %+v", c.Conversation)
		}
		for _, e := range c.Events {
			if e.ConversationID != c.ID || e.ID == "" || e.At.IsZero() {
				t.Errorf("exported event %+v", e)
			}
		}
	}
	equal(t, "conversations, newest first", convs, []string{ada.convs[1], ada.convs[0]})
	if ex.Conversations[0].State != crm.StateResolved {
		t.Errorf("exported conversation %+v: want it resolved", ex.Conversations[0].Conversation)
	}
	equal(t, "event seqs", eventSeqs(ex.Conversations[0].Events), []uint64{1, 2})
	equal(t, "event seqs of the conversation without", eventSeqs(ex.Conversations[1].Events), []uint64{})
	if note := ex.Conversations[0].Events[1]; note.Type != crm.EventNote || note.Text != "paid with "+cardRedacted {
		t.Errorf("exported note %+v: want it with its text redacted", note)
	}
	equal(t, "tickets, most recently updated first", ticketIDs(ex.Tickets), []string{ada.tickets[1], ada.tickets[0]})
	var fbs []string
	for _, f := range ex.Feedback {
		fbs = append(fbs, f.ID)
	}
	equal(t, "ratings, newest first", fbs, []string{ada.feedback[1], ada.feedback[0]})

	t.Run("a customer with nothing", func(t *testing.T) {
		c := must[crm.Customer](t)(st.CreateCustomer(ctx, crm.Customer{Name: "New"}))
		must[crm.Conversation](t)(st.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb, CustomerID: c.ID}))
		var buf bytes.Buffer
		if err := st.ExportCustomer(ctx, c.ID, &buf); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Orders, Tickets, Feedback json.RawMessage
			Conversations             []struct{ Messages, Events json.RawMessage }
		}
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if string(doc.Orders) != "[]" || string(doc.Tickets) != "[]" || string(doc.Feedback) != "[]" ||
			len(doc.Conversations) != 1 || string(doc.Conversations[0].Messages) != "[]" || string(doc.Conversations[0].Events) != "[]" {
			t.Errorf("export %s: want empty lists as []", buf.Bytes())
		}
	})

	buf.Reset()
	wantErr(t, "export of an unknown customer", st.ExportCustomer(ctx, "cus_nobody", &buf), crm.ErrNotFound)
	if buf.Len() != 0 {
		t.Errorf("a failed export wrote %q", buf.Bytes())
	}
}
