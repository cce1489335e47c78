package boltdb

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
)

// walked is everything a Records walk returned.
type walked struct {
	counts        RecordCounts
	customers     []crm.Customer
	orders        []crm.Order
	conversations []crm.Conversation
	messages      []crm.Message
	events        []crm.Event
	tickets       []crm.Ticket
	feedback      []crm.Feedback
	agents        []crm.Agent
	canned        []crm.CannedResponse
	seen          map[string]time.Time
	links         map[string]string
}

func collect[T any](out *[]T) func(T) error {
	return func(v T) error { *out = append(*out, v); return nil }
}

func walkAll(t *testing.T, db *DB) walked {
	t.Helper()
	w := walked{seen: map[string]time.Time{}, links: map[string]string{}}
	err := db.ReadAll(context.Background(), func(r *Records) error {
		w.counts = r.Counts()
		return errors.Join(
			r.Customers(collect(&w.customers)), r.Orders(collect(&w.orders)),
			r.Conversations(collect(&w.conversations)), r.Messages(collect(&w.messages)),
			r.Events(collect(&w.events)), r.Tickets(collect(&w.tickets)),
			r.Feedback(collect(&w.feedback)), r.Agents(collect(&w.agents)),
			r.Canned(collect(&w.canned)),
			r.Seen(func(k string, at time.Time) error { w.seen[k] = at; return nil }),
			r.Links(func(k, v string) error { w.links[k] = v; return nil }))
	})
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	return w
}

// TestRecordsWalkEverything fills a store through its API and checks that
// the walk returns every record as the store's own reads return it, with
// what the store kept (seqs, answered seqs, hashes, times) untouched.
func TestRecordsWalkEverything(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	ada := must[crm.Customer](t)(db.CreateCustomer(ctx, crm.Customer{ID: "cus_ada", Name: "Ada", Email: "ada@example.com",
		Identities: []crm.Identity{{Channel: crm.ChannelWeb, ExternalID: "v1"}}, Attributes: map[string]string{"plan": "pro"}}))
	bob := must[crm.Customer](t)(db.CreateCustomer(ctx, crm.Customer{ID: "cus_bob", Name: "Bob", Phone: "+41 44 555 01 01"}))
	must[crm.Order](t)(db.PutOrder(ctx, crm.Order{ID: "1042", CustomerID: ada.ID, Status: crm.OrderShipped,
		Items: []crm.OrderItem{{SKU: "A", Name: "Lamp", Qty: 2, PriceCents: 1500}}}))
	conv := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{ID: "cnv_1", Channel: crm.ChannelWeb, CustomerID: ada.ID}))
	anon := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{ID: "cnv_2", Channel: crm.ChannelWeb}))
	m1 := mustMessage(t)(db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "where is my lamp?", ClientID: "c1"}))
	if _, _, _, err := db.CommitTurn(ctx, crm.Turn{ConversationID: conv.ID, Seq: m1.Seq, Parse: json.RawMessage(`{"intent":"order_status"}`),
		Replies: []crm.Message{{Sender: crm.SenderBot, Text: "Let me get someone."}},
		Events:  []crm.Event{{Type: crm.EventHandoff, Actor: crm.ActorBot, Queue: "shipping"}},
		Update:  func(c *crm.Conversation) error { c.State, c.Queue = crm.StateWaiting, "shipping"; return nil }}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Transition(ctx, conv.ID, crm.Event{Type: crm.EventClaim, Actor: "sam", Agent: "sam"},
		func(c *crm.Conversation) error { c.State, c.AssignedAgent = crm.StateAgent, "sam"; return nil }); err != nil {
		t.Fatal(err)
	}
	mustMessage(t)(db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderAgent, AgentID: "sam", Text: "On its way."}))
	mustMessage(t)(db.AppendMessage(ctx, crm.Message{ConversationID: anon.ID, Sender: crm.SenderCustomer, Text: "hello"}))
	must[crm.Ticket](t)(db.CreateTicket(ctx, crm.Ticket{ID: "tkt_1", CustomerID: bob.ID, Subject: "refund", Topic: "refund_status"}))
	must[crm.Feedback](t)(db.AddFeedback(ctx, crm.Feedback{ConversationID: conv.ID, Score: 4, Comment: "quick"}))
	must[crm.Feedback](t)(db.AddFeedback(ctx, crm.Feedback{ConversationID: anon.ID, Score: 2}))
	sam := must[crm.Agent](t)(db.PutAgent(ctx, crm.Agent{Login: "sam", Name: "Sam", Role: crm.RoleAgent, Teams: []string{"shipping"}}, "secret-password"))
	must[crm.CannedResponse](t)(db.PutCanned(ctx, crm.CannedResponse{Shortcut: "hi", Title: "Hi", Text: "Hello there"}))
	seenAt := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)
	if _, err := db.MarkSeen(ctx, "slack:event:Ev1", seenAt); err != nil {
		t.Fatal(err)
	}
	if err := db.PutLink(ctx, "slack:thread:T1", conv.ID); err != nil {
		t.Fatal(err)
	}

	w := walkAll(t, db)
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w.counts.Stats != st || w.counts.Seen != 1 || w.counts.Links != 1 {
		t.Errorf("counts %+v, want %+v and 1 seen key, 1 link", w.counts, st)
	}
	for _, c := range []struct {
		what string
		got  int
		want int
	}{
		{"customers", len(w.customers), st.Customers}, {"orders", len(w.orders), st.Orders},
		{"conversations", len(w.conversations), st.Conversations}, {"messages", len(w.messages), st.Messages},
		{"events", len(w.events), st.Events}, {"tickets", len(w.tickets), st.Tickets},
		{"feedback", len(w.feedback), st.Feedback}, {"agents", len(w.agents), st.Agents}, {"canned", len(w.canned), st.Canned},
	} {
		if c.got != c.want || c.got == 0 {
			t.Errorf("walked %d %s, the store holds %d", c.got, c.what, c.want)
		}
	}
	for _, c := range w.customers {
		if want := must[crm.Customer](t)(db.Customer(ctx, c.ID)); !reflect.DeepEqual(c, want) {
			t.Errorf("walked customer %+v, stored %+v", c, want)
		}
	}
	if want := must[crm.Order](t)(db.Order(ctx, "1042")); !reflect.DeepEqual(w.orders, []crm.Order{want}) {
		t.Errorf("walked orders %+v, want %+v", w.orders, want)
	}
	var wantMsgs []crm.Message
	var wantEvents []crm.Event
	for _, c := range w.conversations {
		if want := must[crm.Conversation](t)(db.Conversation(ctx, c.ID)); !reflect.DeepEqual(c, want) {
			t.Errorf("walked conversation %+v, stored %+v", c, want)
		}
		wantMsgs = append(wantMsgs, must[[]crm.Message](t)(db.MessagesAfter(ctx, c.ID, 0, 0))...)
		wantEvents = append(wantEvents, must[[]crm.Event](t)(db.Events(ctx, c.ID, 0, 0))...)
	}
	if !reflect.DeepEqual(w.messages, wantMsgs) {
		t.Errorf("walked messages %+v, want %+v", w.messages, wantMsgs)
	}
	if !reflect.DeepEqual(w.events, wantEvents) {
		t.Errorf("walked events %+v, want %+v", w.events, wantEvents)
	}
	if c := w.conversations[0]; c.AnsweredSeq != m1.Seq || c.LastSeq != 3 || c.AssignedAgent != "sam" {
		t.Errorf("conversation as walked: %+v", c)
	}
	if want := must[crm.Ticket](t)(db.Ticket(ctx, "tkt_1")); !reflect.DeepEqual(w.tickets, []crm.Ticket{want}) {
		t.Errorf("walked tickets %+v, want %+v", w.tickets, want)
	}
	for _, f := range w.feedback {
		if want := must[crm.Feedback](t)(db.ConversationFeedback(ctx, f.ConversationID)); !reflect.DeepEqual(f, want) {
			t.Errorf("walked feedback %+v, stored %+v", f, want)
		}
	}
	if !reflect.DeepEqual(w.agents, []crm.Agent{sam}) || w.agents[0].PasswordHash == "" {
		t.Errorf("walked agents %+v, want %+v with its hash", w.agents, sam)
	}
	if want := must[[]crm.CannedResponse](t)(db.CannedResponses(ctx)); !reflect.DeepEqual(w.canned, want) {
		t.Errorf("walked canned %+v, want %+v", w.canned, want)
	}
	if at := w.seen["slack:event:Ev1"]; !at.Equal(seenAt) || at.Location() != time.UTC {
		t.Errorf("seen at %v, want %v in UTC", at, seenAt)
	}
	if w.links["slack:thread:T1"] != conv.ID {
		t.Errorf("links %v", w.links)
	}
}

// TestRecordsWalkStops checks that a walk ends at fn's error and at a
// cancelled context.
func TestRecordsWalkStops(t *testing.T) {
	db := openTest(t)
	for _, id := range []string{"cus_1", "cus_2", "cus_3"} {
		must[crm.Customer](t)(db.CreateCustomer(context.Background(), crm.Customer{ID: id}))
	}
	stop := errors.New("stop")
	n := 0
	err := db.ReadAll(context.Background(), func(r *Records) error {
		return r.Customers(func(crm.Customer) error {
			if n++; n == 2 {
				return stop
			}
			return nil
		})
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("walk after fn's error: %v after %d records; want stop after 2", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n = 0
	err = db.ReadAll(ctx, func(r *Records) error {
		return r.Customers(func(crm.Customer) error { n++; cancel(); return nil })
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("walk after cancel: %v after %d records; want context.Canceled after 1", err, n)
	}
}
