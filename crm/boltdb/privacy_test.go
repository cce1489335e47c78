package boltdb

import (
	"context"
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
		must2(t)(db.Transition(ctx, c.ID, crm.Event{Type: crm.EventNote, Actor: "ann", Text: "called " + name + " at " + phone}, nil))
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
	// Conversations: 2 customer, 2 created, 1 open and 1 closed entries,
	// and 6 client ids.
	want := crm.Erasure{CustomerID: ada.customer.ID, Orders: 2, Conversations: 2, Messages: 8, Events: 2, Tickets: 2, Feedback: 2,
		IndexEntries: 4 + 2 + (2 + 2 + 1 + 1 + 6) + (2 + 1) + (2 + 2)}
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
	if st != (crm.Stats{Customers: 1, Orders: 2, Conversations: 2, Messages: 8, Events: 2, Tickets: 2, Feedback: 2}) {
		t.Errorf("after erasure: %+v", st)
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
