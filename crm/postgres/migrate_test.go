package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
)

// copyFixture is a store's worth of records as another store keeps them:
// seqs, answered seqs, times to the nanosecond and a password hash that
// Import or the Create methods would each have set differently.
func copyFixture(t *testing.T) Copy {
	t.Helper()
	at := time.Date(2025, 11, 3, 8, 15, 30, 123456789, time.UTC)
	hash, err := crm.HashPassword("old-password", 4)
	if err != nil {
		t.Fatal(err)
	}
	return Copy{
		Customers: []crm.Customer{
			{ID: "cus_ada", Name: "Ada", Email: "Ada@Example.com", Tier: crm.TierGold, Language: "en",
				Identities: []crm.Identity{{Channel: crm.ChannelWeb, ExternalID: "v1"}, {Channel: crm.ChannelSlack, ExternalID: "U1"}},
				Attributes: map[string]string{"plan": "pro"}, Consent: crm.Consent{Marketing: true, UpdatedAt: at},
				CreatedAt: at, UpdatedAt: at.Add(time.Hour)},
			{ID: "cus_bob", Name: "Bob", Phone: "+41 44 555 01 01", CreatedAt: at, UpdatedAt: at},
		},
		Orders: []crm.Order{{ID: "1042", CustomerID: "cus_ada", Items: []crm.OrderItem{{SKU: "L1", Name: "Lamp", Qty: 2, PriceCents: 1500}},
			TotalCents: 3000, Currency: "EUR", Status: crm.OrderShipped, PlacedAt: at, ShippedAt: at.Add(24 * time.Hour), UpdatedAt: at.Add(24 * time.Hour)}},
		Conversations: []crm.Conversation{
			{ID: "cnv_1", Channel: crm.ChannelWeb, CustomerID: "cus_ada", State: crm.StateAgent, Queue: "shipping",
				Priority: crm.PriorityHigh, AssignedAgent: "sam", Slots: map[string]string{"order_id": "1042"},
				LastSeq: 3, LastCustomerSeq: 3, AnsweredSeq: 1, SatisfactionRisk: 0.25, RoutingReason: "order",
				StateSince: at.Add(2 * time.Minute), LastAgentAt: at.Add(3 * time.Minute),
				CreatedAt: at, UpdatedAt: at.Add(3 * time.Minute)},
			{ID: "cnv_2", Channel: crm.ChannelWeb, State: crm.StateResolved, Priority: crm.PriorityNormal, LastSeq: 1,
				LastCustomerSeq: 1, AnsweredSeq: 1, StateSince: at, CreatedAt: at, UpdatedAt: at, ClosedAt: at.Add(time.Minute)},
		},
		Messages: []crm.Message{
			{ID: "msg_a", ConversationID: "cnv_1", Seq: 1, Sender: crm.SenderCustomer, Text: "where is my lamp?", ClientID: "c1",
				Parse: json.RawMessage(`{"intent":"order_status"}`), CreatedAt: at},
			{ID: "msg_b", ConversationID: "cnv_1", Seq: 2, Sender: crm.SenderAgent, AgentID: "sam", Text: "On its way.", CreatedAt: at.Add(3 * time.Minute)},
			{ID: "msg_c", ConversationID: "cnv_1", Seq: 3, Sender: crm.SenderCustomer, Text: "thanks", ClientID: "c2", CreatedAt: at.Add(4 * time.Minute)},
			{ID: "msg_d", ConversationID: "cnv_2", Seq: 1, Sender: crm.SenderCustomer, Text: "hi", CreatedAt: at},
		},
		Events: []crm.Event{
			{ID: "evt_1", ConversationID: "cnv_1", Seq: 1, Type: crm.EventHandoff, Actor: crm.ActorBot, Queue: "shipping", At: at.Add(time.Minute)},
			{ID: "evt_2", ConversationID: "cnv_1", Seq: 2, Type: crm.EventClaim, Actor: "sam", Agent: "sam", Queue: "shipping", At: at.Add(2 * time.Minute)},
		},
		Tickets: []crm.Ticket{{ID: "tkt_1", CustomerID: "cus_bob", Subject: "refund", Topic: "refund_status", Status: crm.TicketPending,
			Priority: crm.PriorityNormal, Conversations: []string{"cnv_2"}, History: []crm.TicketEvent{{At: at, Actor: "bot", Note: "opened"}},
			CreatedAt: at, UpdatedAt: at.Add(time.Hour)}},
		Feedback: []crm.Feedback{
			{ID: "fb_1", ConversationID: "cnv_1", CustomerID: "cus_ada", Score: 4, Comment: "quick", CreatedAt: at.Add(5 * time.Minute)},
			{ID: "fb_2", ConversationID: "cnv_2", Score: 2, CreatedAt: at.Add(time.Minute)},
		},
		Agents: []crm.Agent{{Login: "sam", Name: "Sam", PasswordHash: hash, Role: crm.RoleAgent, Teams: []string{"shipping"}}},
		Canned: []crm.CannedResponse{{Shortcut: "hi", Title: "Hi", Text: "Hello there", UpdatedBy: "sam", UpdatedAt: at}},
		Seen:   []SeenKey{{Key: "slack:event:Ev1", At: at}},
		Links:  []Link{{Key: "slack:thread:T1", Value: "cnv_1"}},
	}
}

// byKind splits c into one Copy per kind, in the order bot migrate copies
// them.
func byKind(c Copy) []Copy {
	return []Copy{{Customers: c.Customers}, {Orders: c.Orders}, {Conversations: c.Conversations}, {Messages: c.Messages},
		{Events: c.Events}, {Tickets: c.Tickets}, {Feedback: c.Feedback}, {Agents: c.Agents}, {Canned: c.Canned},
		{Seen: c.Seen}, {Links: c.Links}}
}

func copyAll(t *testing.T, db *DB, c Copy) CopyResult {
	t.Helper()
	var sum CopyResult
	for _, part := range byKind(c) {
		res, err := db.CopyRecords(context.Background(), part)
		if err != nil {
			t.Fatalf("CopyRecords: %v", err)
		}
		sum.Added += res.Added
		sum.Present += res.Present
	}
	return sum
}

func checkEqual[T any](t *testing.T, what string, got T, err error, want T) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// TestCopyRecordsFaithful copies records and reads every one back through
// the store: nothing renumbered, filled in or re-hashed, and the lookups
// and the next append work on what was copied.
func TestCopyRecordsFaithful(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, nil)
	fx := copyFixture(t)
	if res := copyAll(t, db, fx); res.Added != 18 || res.Present != 0 {
		t.Errorf("copy: %+v, want 18 added", res)
	}
	for _, c := range fx.Customers {
		got, err := db.Customer(ctx, c.ID)
		checkEqual(t, "customer "+c.ID, got, err, c)
	}
	got, err := db.CustomerByIdentity(ctx, crm.Identity{Channel: crm.ChannelSlack, ExternalID: "U1"})
	checkEqual(t, "customer by identity", got, err, fx.Customers[0])
	got, err = db.CustomerByEmail(ctx, "ada@example.com")
	checkEqual(t, "customer by e-mail", got, err, fx.Customers[0])
	got, err = db.CustomerByPhone(ctx, "+41445550101")
	checkEqual(t, "customer by phone", got, err, fx.Customers[1])
	orders, err := db.OrdersByCustomer(ctx, "cus_ada", 0)
	checkEqual(t, "orders", orders, err, fx.Orders)
	for i, c := range fx.Conversations {
		got, err := db.Conversation(ctx, c.ID)
		checkEqual(t, "conversation "+c.ID, got, err, c)
		var want []crm.Message
		for _, m := range fx.Messages {
			if m.ConversationID == c.ID {
				want = append(want, m)
			}
		}
		msgs, err := db.MessagesAfter(ctx, c.ID, 0, 0)
		checkEqual(t, "messages of "+c.ID, msgs, err, want)
		if i == 0 {
			evs, err := db.Events(ctx, c.ID, 0, 0)
			checkEqual(t, "events", evs, err, fx.Events)
		}
	}
	open, err := db.OpenConversations(ctx, crm.ConversationFilter{})
	checkEqual(t, "open conversations", open, err, fx.Conversations[:1])
	resolved, err := db.ResolvedBetween(ctx, time.Time{}, fx.Conversations[1].ClosedAt.Add(time.Second), 0)
	checkEqual(t, "resolved conversations", resolved, err, fx.Conversations[1:])
	tk, err := db.Ticket(ctx, "tkt_1")
	checkEqual(t, "ticket", tk, err, fx.Tickets[0])
	for _, f := range fx.Feedback {
		got, err := db.ConversationFeedback(ctx, f.ConversationID)
		checkEqual(t, "feedback "+f.ID, got, err, f)
	}
	agents, err := db.Agents(ctx)
	checkEqual(t, "agents", agents, err, fx.Agents)
	if _, err := db.Authenticate(ctx, "sam", "old-password"); err != nil {
		t.Errorf("the copied hash does not take the old password: %v", err)
	}
	canned, err := db.CannedResponses(ctx)
	checkEqual(t, "canned", canned, err, fx.Canned)
	link, err := db.Link(ctx, "slack:thread:T1")
	checkEqual(t, "link", link, err, "cnv_1")
	if fresh, err := db.MarkSeen(ctx, "slack:event:Ev1", time.Now()); err != nil || fresh {
		t.Errorf("MarkSeen of a copied key: %v, %v; want not fresh", fresh, err)
	}
	st, err := db.Stats(ctx)
	checkEqual(t, "stats", st, err, crm.Stats{Customers: 2, Orders: 1, Conversations: 2, Messages: 4, Tickets: 1, Feedback: 2, Agents: 1, Events: 2, Canned: 1})
	seen, links, err := db.ChannelStateCounts(ctx)
	if err != nil || seen != 1 || links != 1 {
		t.Errorf("channel state counts %d, %d, %v; want 1, 1", seen, links, err)
	}
	// The store carries on where the copy left off.
	m, created, err := db.AppendMessage(ctx, crm.Message{ConversationID: "cnv_1", Sender: crm.SenderCustomer, Text: "again", ClientID: "c3"})
	if err != nil || !created || m.Seq != 4 {
		t.Errorf("append after the copy: seq %d, %v, %v; want a new message 4", m.Seq, created, err)
	}
	if m, created, err := db.AppendMessage(ctx, crm.Message{ConversationID: "cnv_1", Sender: crm.SenderCustomer, Text: "thanks", ClientID: "c2"}); err != nil || created || m.ID != "msg_c" {
		t.Errorf("resend of a copied client id: %+v, %v, %v; want msg_c, not created", m, created, err)
	}
}

// TestCopyRecordsAgain copies the same records twice, as a resumed run
// does: the second adds nothing and doubles nothing.
func TestCopyRecordsAgain(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, nil)
	fx := copyFixture(t)
	// A first run cut short: some customers and one message.
	if _, err := db.CopyRecords(ctx, Copy{Customers: fx.Customers[:1]}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CopyRecords(ctx, Copy{Customers: fx.Customers[1:], Conversations: fx.Conversations, Messages: fx.Messages[:1]}); err != nil {
		t.Fatal(err)
	}
	if res := copyAll(t, db, fx); res.Added != 18-5 || res.Present != 5 {
		t.Errorf("resumed copy: %+v, want 13 added and 5 present", res)
	}
	before, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res := copyAll(t, db, fx); res.Added != 0 || res.Present != 18 {
		t.Errorf("copy again: %+v, want 18 present", res)
	}
	if after, err := db.Stats(ctx); err != nil || after != before {
		t.Errorf("stats after copying again: %+v, %v; want %+v", after, err, before)
	}
}

// TestCopyRecordsConflict checks that a record the database holds with
// other content fails its whole batch, and that a reference to a record
// the database lacks is an error too.
func TestCopyRecordsConflict(t *testing.T) {
	ctx := context.Background()
	fx := copyFixture(t)
	for _, tc := range []struct {
		name    string
		batch   func(c Copy) Copy
		wantErr error
	}{
		{"customer renamed", func(c Copy) Copy {
			cu := c.Customers[0]
			cu.Name = "Ada L."
			return Copy{Customers: []crm.Customer{{ID: "cus_new", CreatedAt: cu.CreatedAt}, cu}}
		}, crm.ErrConflict},
		{"e-mail of another customer", func(c Copy) Copy {
			return Copy{Customers: []crm.Customer{{ID: "cus_other", Email: "ada@example.com"}}}
		}, crm.ErrConflict},
		{"message with other text", func(c Copy) Copy {
			m := c.Messages[1]
			m.Text = "changed"
			return Copy{Messages: []crm.Message{m}}
		}, crm.ErrConflict},
		{"client id at another seq", func(c Copy) Copy {
			return Copy{Messages: []crm.Message{{ID: "msg_x", ConversationID: "cnv_1", Seq: 9, Sender: crm.SenderCustomer, ClientID: "c1"}}}
		}, crm.ErrConflict},
		{"agent with another hash", func(c Copy) Copy {
			a := c.Agents[0]
			a.PasswordHash = "$2a$04$another"
			return Copy{Agents: []crm.Agent{a}}
		}, crm.ErrConflict},
		{"link to another conversation", func(c Copy) Copy {
			return Copy{Links: []Link{{Key: "slack:thread:T1", Value: "cnv_2"}}}
		}, crm.ErrConflict},
		{"seen at another time", func(c Copy) Copy {
			return Copy{Seen: []SeenKey{{Key: "slack:event:Ev1", At: c.Seen[0].At.Add(time.Second)}}}
		}, crm.ErrConflict},
		{"order of an unknown customer", func(c Copy) Copy {
			return Copy{Orders: []crm.Order{{ID: "77", CustomerID: "cus_nobody", Status: crm.OrderPaid}}}
		}, crm.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openTest(t, nil)
			copyAll(t, db, fx)
			before, err := db.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, err = db.CopyRecords(ctx, tc.batch(fx))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("CopyRecords: %v, want %v", err, tc.wantErr)
			}
			if after, err := db.Stats(ctx); err != nil || after != before {
				t.Errorf("after a refused batch: %+v, %v; want %+v (nothing written)", after, err, before)
			}
			if _, err := db.Customer(ctx, "cus_new"); !errors.Is(err, crm.ErrNotFound) {
				t.Errorf("a new record of the refused batch was stored: %v", err)
			}
		})
	}
}
