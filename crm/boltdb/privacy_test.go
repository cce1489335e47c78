package boltdb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

// person is a customer with one of everything, made by addPerson.
type person struct {
	customer crm.Customer
	convs    []crm.Conversation
	tickets  []crm.Ticket
	orders   []string
}

func addPerson(t *testing.T, db *DB, name, email, phone string) person {
	t.Helper()
	ctx := context.Background()
	p := person{customer: must[crm.Customer](t)(db.CreateCustomer(ctx, crm.Customer{
		Name: name, Email: email, Phone: phone, Tier: crm.TierSilver,
		Identities: []crm.Identity{{Channel: crm.ChannelWeb, ExternalID: "visitor-" + name}, {Channel: crm.ChannelSlack, ExternalID: "U-" + name}},
		Attributes: map[string]string{"city": "Zurich"},
	}))}
	id := p.customer.ID
	for i := range 2 {
		o := must[crm.Order](t)(db.PutOrder(ctx, crm.Order{ID: fmt.Sprintf("%s-%d", name, 1000+i), CustomerID: id, Status: crm.OrderShipped,
			Items: []crm.OrderItem{{SKU: "SKU1", Name: "Boots", Qty: 1, PriceCents: 12900}}}))
		p.orders = append(p.orders, o.ID)
		c := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb, CustomerID: id, Queue: "shipping"}))
		for j := range 3 {
			mustMessage(t)(db.AppendMessage(ctx, crm.Message{ConversationID: c.ID, Sender: crm.SenderCustomer, ClientID: fmt.Sprintf("%s-%d", c.ID, j),
				Text: fmt.Sprintf("I am %s, write to %s or call %s about order %s", name, email, phone, o.ID)}))
		}
		mustMessage(t)(db.AppendMessage(ctx, crm.Message{ConversationID: c.ID, Sender: crm.SenderBot, Text: "Thanks " + name}))
		if i == 1 {
			c = must[crm.Conversation](t)(db.UpdateConversation(ctx, c.ID, func(c *crm.Conversation) error { c.State = crm.StateResolved; return nil }))
		}
		p.convs = append(p.convs, c)
		must[crm.Feedback](t)(db.AddFeedback(ctx, crm.Feedback{ConversationID: c.ID, Score: 4 + i, Comment: "thanks " + email}))
		tk := must[crm.Ticket](t)(db.CreateTicket(ctx, crm.Ticket{CustomerID: id, Subject: "Order " + o.ID + " for " + email,
			Topic: "where_is_my_order", Conversations: []string{c.ID}}))
		if i == 1 {
			tk = must[crm.Ticket](t)(db.UpdateTicket(ctx, tk.ID, func(tk *crm.Ticket) error { tk.Status = crm.TicketSolved; return nil }))
		}
		p.tickets = append(p.tickets, tk)
	}
	return p
}

// needles are the strings that identify p anywhere in the file.
func (p person) needles() []string {
	n := []string{p.customer.ID, strings.ToLower(p.customer.Email), crm.NormalizePhone(p.customer.Phone), p.customer.Phone,
		"visitor-" + p.customer.Name, "U-" + p.customer.Name}
	for _, c := range p.convs {
		n = append(n, c.ID)
	}
	for _, tk := range p.tickets {
		n = append(n, tk.ID)
	}
	return append(n, p.orders...)
}

// scanAll returns every key and value of every bucket, whatever its name.
func scanAll(t *testing.T, db *DB) []string {
	t.Helper()
	var all []string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				all = append(all, fmt.Sprintf("%s: %q = %q", name, k, v))
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func TestEraseCustomer(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	ada := addPerson(t, db, "Ada", "Ada.Lovelace@example.com", "+44 20 7946 0018")
	bob := addPerson(t, db, "Bob", "bob@example.org", "+1 415 555 0100")

	before := scanAll(t, db)
	found := 0
	for _, line := range before {
		for _, n := range ada.needles() {
			if strings.Contains(strings.ToLower(line), strings.ToLower(n)) {
				found++
			}
		}
	}
	if found == 0 {
		t.Fatal("the scan finds nothing of Ada before the erasure: the test would prove nothing")
	}

	e := must[crm.Erasure](t)(db.EraseCustomer(ctx, ada.customer.ID))
	want := crm.Erasure{CustomerID: ada.customer.ID, Orders: 2, Conversations: 2, Messages: 8, Tickets: 2, Feedback: 2,
		IndexEntries: 4 + 2 + (2 + 1 + 6) + (2 + 1) + (2 + 2)}
	if e != want {
		t.Errorf("erasure %+v, want %+v", e, want)
	}
	for _, line := range scanAll(t, db) {
		for _, n := range ada.needles() {
			if strings.Contains(strings.ToLower(line), strings.ToLower(n)) {
				t.Errorf("%q still in %s", n, line)
			}
		}
	}
	if _, err := db.EraseCustomer(ctx, ada.customer.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("second erasure: %v", err)
	}
	// Bob is untouched.
	if c, err := db.CustomerByEmail(ctx, bob.customer.Email); err != nil || c.ID != bob.customer.ID {
		t.Fatalf("bob by email: %v", err)
	}
	st := must[crm.Stats](t)(db.Stats(ctx))
	if st != (crm.Stats{Customers: 1, Orders: 2, Conversations: 2, Messages: 8, Tickets: 2, Feedback: 2}) {
		t.Errorf("after erasure: %+v", st)
	}
}

func TestExportCustomer(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	ada := addPerson(t, db, "Ada", "ada@example.com", "+44 20 7946 0018")
	addPerson(t, db, "Bob", "bob@example.org", "+1 415 555 0100")
	var buf bytes.Buffer
	if err := db.ExportCustomer(ctx, ada.customer.ID, &buf); err != nil {
		t.Fatal(err)
	}
	var ex crm.Export
	if err := json.Unmarshal(buf.Bytes(), &ex); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, buf.String())
	}
	if ex.Customer.ID != ada.customer.ID || len(ex.Orders) != 2 || len(ex.Conversations) != 2 || len(ex.Tickets) != 2 || len(ex.Feedback) != 2 {
		t.Fatalf("export has %d orders, %d conversations, %d tickets, %d feedback", len(ex.Orders), len(ex.Conversations), len(ex.Tickets), len(ex.Feedback))
	}
	for _, c := range ex.Conversations {
		if len(c.Messages) != 4 || c.Messages[0].Seq != 1 || c.Messages[3].Seq != 4 || c.CustomerID != ada.customer.ID {
			t.Errorf("conversation %s exported with %d messages", c.ID, len(c.Messages))
		}
	}
	if strings.Contains(buf.String(), "Bob") || strings.Contains(buf.String(), "bob@") {
		t.Error("export contains another customer's data")
	}
	if err := db.ExportCustomer(ctx, "nobody", &buf); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("unknown customer: %v", err)
	}
}

func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	convs := []crm.Conversation{newConversation(t, db), newConversation(t, db), newConversation(t, db)}
	var stop atomic.Bool
	var appended atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, len(convs))
	for i, c := range convs {
		wg.Go(func() {
			for n := 0; !stop.Load() || n < 20; n++ {
				if _, _, err := db.AppendMessage(ctx, crm.Message{ConversationID: c.ID, Sender: crm.SenderCustomer,
					Text: strings.Repeat("lorem ipsum ", 20), ClientID: fmt.Sprintf("%d-%d", i, n)}); err != nil {
					errs <- err
					return
				}
				appended.Add(1)
			}
		})
	}
	for appended.Load() < 10 { // let the writers get going
		runtime.Gosched()
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	f, err := os.Create(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.Backup(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	during := appended.Load()
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if fi, err := os.Stat(copyPath); err != nil || fi.Size() != n {
		t.Fatalf("backup said %d bytes, file has %v (%v)", n, fi.Size(), err)
	}
	cp := openTestAt(t, copyPath, nil) // checked on cleanup too
	if err := cp.Check(ctx); err != nil {
		t.Fatalf("backup copy inconsistent: %v", err)
	}
	st := must[crm.Stats](t)(cp.Stats(ctx))
	// A writer counts its message after AppendMessage returns, so the copy
	// may hold one more message per writer than the count said.
	if st.Messages < 10 || int64(st.Messages) > during+int64(len(convs)) || st.Conversations != 3 {
		t.Errorf("copy holds %d messages, %d conversations; %d were appended when the copy ended", st.Messages, st.Conversations, during)
	}
	t.Logf("copy of %d bytes with %d messages; %d appended by the end", n, st.Messages, appended.Load())

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.Backup(cancelled, io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled backup: %v", err)
	}
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	snap := crm.Snapshot{
		Customers: []crm.Customer{
			{ID: "cus_ada", Name: "Ada", Email: "ada@example.com", Identities: []crm.Identity{{Channel: crm.ChannelWeb, ExternalID: "v1"}}},
			{ID: "cus_bob", Name: "Bob", Phone: "+1 415 555 0100"},
		},
		Orders: []crm.Order{{ID: "1042", CustomerID: "cus_ada", Status: crm.OrderShipped, Carrier: "UPS", Tracking: "1Z999",
			Items: []crm.OrderItem{{SKU: "TEE-M", Name: "T-shirt", Qty: 2, PriceCents: 1500}}}},
		Conversations: []crm.Conversation{{ID: "conv_1", Channel: crm.ChannelWeb, CustomerID: "cus_ada", LastSeq: 42}},
		Messages: []crm.Message{
			{ConversationID: "conv_1", Sender: crm.SenderCustomer, Text: "where is order 1042?", ClientID: "x1"},
			{ConversationID: "conv_1", Seq: 2, Sender: crm.SenderBot, Text: "It shipped with UPS."},
			{ID: "msg_fixed", ConversationID: "conv_1", Sender: crm.SenderCustomer, Text: "my code is 123456"},
		},
		Tickets:  []crm.Ticket{{ID: "tkt_1", CustomerID: "cus_bob", Subject: "Refund", Topic: "refund_status"}},
		Feedback: []crm.Feedback{{ConversationID: "conv_1", Score: 5}},
		Agents: []crm.SeedAgent{
			{Agent: crm.Agent{Login: "grace", Role: crm.RoleAdmin}, Password: "demo"},
			{Agent: crm.Agent{Login: "alan", Role: crm.RoleAgent, PasswordHash: "$2a$04$ZlGX2fmQmsf6x2Tfmn6LAuCrTzF21B9DF8Jb1ifF9o1zYGSQ8yGg6"}},
		},
	}
	if err := db.Import(ctx, snap); err != nil {
		t.Fatal(err)
	}
	st := must[crm.Stats](t)(db.Stats(ctx))
	if want := (crm.Stats{Customers: 2, Orders: 1, Conversations: 1, Messages: 3, Tickets: 1, Feedback: 1, Agents: 2}); st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	ms := must[[]crm.Message](t)(db.MessagesAfter(ctx, "conv_1", 0, 0))
	if ms[2].ID != "msg_fixed" || ms[2].Seq != 3 || ms[2].Text != "my code is [code redacted]" {
		t.Errorf("imported message %+v", ms[2])
	}
	if c := must[crm.Conversation](t)(db.Conversation(ctx, "conv_1")); c.LastSeq != 3 {
		t.Errorf("LastSeq %d, want 3", c.LastSeq)
	}
	if c := must[crm.Customer](t)(db.CustomerByIdentity(ctx, crm.Identity{Channel: crm.ChannelWeb, ExternalID: "v1"})); c.ID != "cus_ada" {
		t.Errorf("identity index: %s", c.ID)
	}
	if _, err := db.Authenticate(ctx, "grace", "demo"); err != nil {
		t.Errorf("seed agent login: %v", err)
	}
	if tk := must[crm.Ticket](t)(db.OpenTicketByTopic(ctx, "cus_bob", "refund_status")); tk.ID != "tkt_1" {
		t.Errorf("ticket %s", tk.ID)
	}
	// A second import of the same data conflicts and changes nothing.
	if err := db.Import(ctx, snap); !errors.Is(err, crm.ErrConflict) {
		t.Errorf("second import: %v", err)
	}
	if got := must[crm.Stats](t)(db.Stats(ctx)); got != st {
		t.Errorf("failed import changed the store: %+v", got)
	}

	tests := []struct {
		name string
		s    crm.Snapshot
		want error
	}{
		{"order of unknown customer", crm.Snapshot{Orders: []crm.Order{{ID: "9", CustomerID: "nobody", Status: crm.OrderPaid}}}, crm.ErrNotFound},
		{"message of unknown conversation", crm.Snapshot{Messages: []crm.Message{{ConversationID: "nope", Sender: crm.SenderBot, Text: "x"}}}, crm.ErrNotFound},
		{"gap in seq", crm.Snapshot{
			Conversations: []crm.Conversation{{ID: "conv_gap", Channel: crm.ChannelWeb}},
			Messages:      []crm.Message{{ConversationID: "conv_gap", Seq: 2, Sender: crm.SenderBot, Text: "x"}}}, crm.ErrInvalid},
		{"agent without password", crm.Snapshot{Agents: []crm.SeedAgent{{Agent: crm.Agent{Login: "x", Role: crm.RoleAgent}}}}, crm.ErrInvalid},
		{"half good", crm.Snapshot{
			Customers: []crm.Customer{{ID: "cus_new", Name: "New"}},
			Tickets:   []crm.Ticket{{CustomerID: "nobody", Subject: "x"}}}, crm.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := db.Import(ctx, tt.s); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if got := must[crm.Stats](t)(db.Stats(ctx)); got != st {
				t.Errorf("failed import changed the store: %+v", got)
			}
		})
	}
}
