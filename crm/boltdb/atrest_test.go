package boltdb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/crm/inmem"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shoptest"
	"github.com/parleyhq/parley/nlp/nlu"
)

// Card numbers (Luhn-valid) and one-time codes the customer of
// TestNothingSensitiveAtRest types, in the groupings the store's bytes are
// searched for.
var (
	atRestCards = []string{
		"4012888888881881", "4111111111111111", "5555555555554444", "378282246310005",
		"6011111111111117", "3530111333300000",
	}
	atRestCodes = []string{"731604", "482913", "917352", "592718", "246813", "864213", "135792"}
	// Pieces of the amex number as a parse of the raw text would split it.
	atRestPieces = []string{"822463", "10005"}
)

// needles returns each secret as digits and in the ways it is written:
// cards in groups of four (amex 4-6-5) joined by a space, dash, dot or
// slash; codes in two or three groups or digit by digit.
func needles() []string {
	var out []string
	for _, c := range atRestCards {
		groups := []string{c[:4], c[4:8], c[8:12], c[12:]}
		if len(c) == 15 {
			groups = []string{c[:4], c[4:10], c[10:]}
		}
		out = append(out, c)
		for _, sep := range []string{" ", "-", ".", "/"} {
			out = append(out, strings.Join(groups, sep))
		}
	}
	for _, c := range atRestCodes {
		out = append(out, c, c[:3]+" "+c[3:], c[:2]+"-"+c[2:4]+"-"+c[4:], strings.Join(strings.Split(c, ""), " "))
	}
	return append(out, atRestPieces...)
}

// recordingNLU stands in for the NLU model and records every text it is
// given. The first rule whose word occurs in the text gives the intent;
// every run of 4 to 8 digits is an order number, as the shop model's
// pattern reads one (a raw "4111 1111 1111 1111" would give four).
type recordingNLU struct {
	mu    sync.Mutex
	texts []string // guarded by mu
}

var atRestRules = []struct{ word, intent string }{
	{"bye", "goodbye"}, {"return", "return_item"}, {"charged", "payment_problem"}, {"hello", "greet"},
}

var orderRun = regexp.MustCompile(`\b\d{4,8}\b`)

func (p *recordingNLU) Parse(_ context.Context, text string) (*nlu.Result, error) {
	p.mu.Lock()
	p.texts = append(p.texts, text)
	p.mu.Unlock()
	r := &nlu.Result{Text: text, Intent: "request_refund", Confidence: 0.9, InScope: true, ScopeScore: 0.9}
	lower := strings.ToLower(text)
	for _, rule := range atRestRules {
		if strings.Contains(lower, rule.word) {
			r.Intent = rule.intent
			break
		}
	}
	r.Ranking = []nlu.IntentScore{{Intent: r.Intent, Confidence: r.Confidence}}
	for _, loc := range orderRun.FindAllStringIndex(text, -1) {
		start := len([]rune(text[:loc[0]]))
		r.Entities = append(r.Entities, nlu.Entity{Type: "order_id", Text: text[loc[0]:loc[1]], Value: text[loc[0]:loc[1]],
			Start: start, End: start + loc[1] - loc[0]})
	}
	return r, nil
}

func (p *recordingNLU) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.texts...)
}

// TestNothingSensitiveAtRest runs a conversation full of card numbers and
// one-time codes through the dialog engine (a payment problem, the return
// form whose reason slot is free text, a rating), writes more of them
// through every other way the store takes customer text (slots set by an
// update, a parse split from a raw text, tickets, feedback, an import),
// closes the store and reads every key and value of every bucket of the
// file, and the file's raw bytes: none of the secrets is there, in any
// grouping. The engine parses the stored, redacted text: the parser never
// sees a secret either.
func TestNothingSensitiveAtRest(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := boltdb.Open(path, &boltdb.Options{Now: func() time.Time { return now }, BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close() // closed below; a second Close is harmless

	ana, err := db.CreateCustomer(ctx, crm.Customer{ID: "cus_ana", Name: "Ana Lopez", Email: "ana@example.com", Tier: crm.TierGold})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutOrder(ctx, crm.Order{ID: "1042", CustomerID: ana.ID, Status: crm.OrderDelivered, Currency: "EUR",
		TotalCents: 5990, Items: []crm.OrderItem{{SKU: "SHOE-42", Name: "Trail shoes", Qty: 1, PriceCents: 5990}},
		PlacedAt: now.AddDate(0, 0, -12), ShippedAt: now.AddDate(0, 0, -10), DeliveredAt: now.AddDate(0, 0, -8),
		Carrier: "DPD", Tracking: "DP3953828283"}); err != nil {
		t.Fatal(err)
	}

	parser := &recordingNLU{}
	engine, err := dialog.New(dialog.Config{Domain: shoptest.Domain(t), Parser: parser, Store: db, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := engine.Start(ctx, dialog.StartRequest{Channel: crm.ChannelWeb, CustomerID: ana.ID})
	if err != nil {
		t.Fatal(err)
	}
	const reason = "refund it to card 4111 1111 1111 1111, code is 482913"
	said := []string{
		"hello",
		"I was charged twice on my card 4012.8888.8888.1881, the bank sent me code 731 604",
		"I want to return my order 1042",
		reason,
		"my card 5555-5555-5555-4444 was charged again, the OTP is 9 1 7 3 5 2",
		"the code 59-27-18 did not work either, cvv 737. bye",
	}
	var actions []string
	for _, text := range said {
		out, err := engine.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: text})
		if err != nil {
			t.Fatalf("handle %q: %v", text, err)
		}
		actions = append(actions, strings.Join(out.Actions, ","))
	}
	if _, err := engine.Rate(ctx, conv.ID, 2, "slow, and I had to give my card 6011 1111 1111 1117 and pin 246813"); err != nil {
		t.Fatalf("rate (actions %q): %v", actions, err)
	}

	// The form's free-text slot and the ticket the form opened hold the
	// reason, redacted.
	const redactedReason = "refund it to card [card redacted], code is [code redacted]"
	c, err := db.Conversation(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Slots["reason"] != redactedReason {
		t.Errorf("reason slot %q, want %q (actions %q)", c.Slots["reason"], redactedReason, actions)
	}
	tickets, err := db.OpenTickets(ctx, ana.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ticketText(tickets), redactedReason) {
		t.Errorf("no ticket quotes the reason: %+v (actions %q)", tickets, actions)
	}

	// The parser read the stored text, and each message's parse is of it.
	seen := parser.seen()
	if len(seen) != len(said) {
		t.Errorf("parser saw %d texts, want %d: %q", len(seen), len(said), seen)
	}
	for _, text := range seen {
		if crm.Redact(text) != text || containsAny(text, needles()) != "" {
			t.Errorf("parser was given %q, not the redacted text", text)
		}
	}
	msgs, err := db.MessagesAfter(ctx, conv.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Sender != crm.SenderCustomer {
			continue
		}
		var p nlu.Result
		if err := json.Unmarshal(m.Parse, &p); err != nil {
			t.Fatalf("parse of message %d: %v (%s)", m.Seq, err, m.Parse)
		}
		if p.Text != m.Text {
			t.Errorf("message %d %q was parsed as %q", m.Seq, m.Text, p.Text)
		}
	}

	writeSecretsDirectly(t, db, ana.ID, now)

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	scanFile(t, path)
}

// writeSecretsDirectly stores customer text holding secrets through the
// store's other ways in: what a webhook reply, the API, an agent or an
// import writes.
func writeSecretsDirectly(t *testing.T, db *boltdb.DB, customerID string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	conv, err := db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelAPI, CustomerID: customerID,
		Slots: map[string]string{"card_on_file": "4012-8888-8888-1881"}})
	if err != nil {
		t.Fatal(err)
	}
	// A parse computed from the raw text splits the amex number into
	// order numbers and takes the code for one.
	const raw = "pay with 3782 822463 10005, code 864213"
	parse := `{"text":"` + raw + `","intent":"payment_problem","entities":[` +
		`{"type":"order_id","text":"3782","value":"3782","start":9,"end":13},` +
		`{"type":"order_id","text":"822463","value":"822463","start":14,"end":20},` +
		`{"type":"order_id","text":"10005","value":"10005","start":21,"end":26},` +
		`{"type":"order_id","text":"864213","value":"864213","start":33,"end":39}]}`
	m, _, err := db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: raw, ClientID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetMessageParse(ctx, conv.ID, m.Seq, json.RawMessage(parse)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateConversation(ctx, conv.ID, func(c *crm.Conversation) error {
		c.Slots = map[string]string{"card_note": "use 6011/1111/1111/1117, pin 246813", "order_id": "1042"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tk, err := db.CreateTicket(ctx, crm.Ticket{CustomerID: customerID, Subject: "Card 3530 1113 3330 0000 blocked", Topic: "payment_problem",
		History: []crm.TicketEvent{{At: now, Actor: "bot", Note: "customer says the code 135792 failed"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateTicket(ctx, tk.ID, func(tk *crm.Ticket) error {
		tk.History = append(tk.History, crm.TicketEvent{At: now, Actor: "agent", Note: "new card 3530.1113.3330.0000 sent"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddFeedback(ctx, crm.Feedback{ConversationID: conv.ID, Score: 4, Comment: "quick, but my card 5555 5555 5555 4444 is in the chat"}); err != nil {
		t.Fatal(err)
	}
	err = db.Import(ctx, crm.Snapshot{
		Conversations: []crm.Conversation{{ID: "conv_imported", Channel: crm.ChannelWeb, CustomerID: customerID,
			Slots: map[string]string{"reason": "charged to 4111/1111/1111/1111", "otp 917352": "yes"}}},
		Messages: []crm.Message{{ConversationID: "conv_imported", Sender: crm.SenderCustomer, Text: "my pin is 592718",
			Parse: json.RawMessage(`{"text":"my pin is 592718","entities":[{"type":"order_id","text":"592718","value":"592718","start":10,"end":16}]}`)}},
		Tickets:  []crm.Ticket{{ID: "tkt_imported", CustomerID: customerID, Subject: "refund to 378282246310005"}},
		Feedback: []crm.Feedback{{ConversationID: "conv_imported", Score: 1, Comment: "code 731604 never came"}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// scanFile opens the closed store read-only and fails t for every key or
// value of every bucket (nested ones too), and for every byte of the file,
// that holds a secret.
func scanFile(t *testing.T, path string) {
	t.Helper()
	all := needles()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	var records int
	var everything bytes.Buffer // every key and value, to check the scan saw the data
	var scan func(where string, b *bolt.Bucket) error
	scan = func(where string, b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			records++
			everything.Write(k)
			everything.Write(v)
			if n := containsAny(string(k), all); n != "" {
				t.Errorf("bucket %s: key %q holds %q", where, k, n)
			}
			if v == nil {
				return scan(where+"/"+string(k), b.Bucket(k))
			}
			if n := containsAny(string(v), all); n != "" {
				t.Errorf("bucket %s: the value of %q holds %q: %s", where, k, n, v)
			}
			return nil
		})
	}
	err = bdb.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if n := containsAny(string(name), all); n != "" {
				t.Errorf("bucket name %q holds %q", name, n)
			}
			return scan(string(name), b)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	// The scan read the records: the redacted texts, the order and the
	// customer are there.
	for _, want := range []string{crm.CardPlaceholder, crm.CodePlaceholder, "refund it to card", "Trail shoes", "ana@example.com"} {
		if !strings.Contains(everything.String(), want) {
			t.Errorf("the scan of %d records did not see %q", records, want)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := containsAny(string(raw), all); n != "" {
		i := strings.Index(string(raw), n)
		t.Errorf("the file's bytes hold %q at %d: %q", n, i, raw[max(0, i-80):min(len(raw), i+80)])
	}
}

// TestStoresRedactSlots: both stores redact slots on every way a
// conversation is written (create, update, a dialog turn, an import), since
// both validate with crm.ValidateConversation.
func TestStoresRedactSlots(t *testing.T) {
	stores := map[string]func(t *testing.T) crm.Store{
		"boltdb": func(t *testing.T) crm.Store {
			db, err := boltdb.Open(filepath.Join(t.TempDir(), "parley.db"), &boltdb.Options{BcryptCost: 4})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
		"inmem": func(t *testing.T) crm.Store {
			s := inmem.New(&inmem.Options{BcryptCost: 4})
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
	const (
		raw  = "card 4111.1111.1111.1111, otp 4 8 2 9 1 3"
		want = "card [card redacted], otp [code redacted]"
	)
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			check := func(how string, c crm.Conversation) {
				t.Helper()
				got, err := st.Conversation(ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range []crm.Conversation{c, got} {
					if c.Slots["reason"] != want || c.Slots["otp [code redacted]"] != "x" || len(c.Slots) != 2 {
						t.Errorf("%s: slots %q", how, c.Slots)
					}
				}
			}
			slots := func() map[string]string { return map[string]string{"reason": raw, "otp 482913": "x"} }
			c, err := st.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb, Slots: slots()})
			if err != nil {
				t.Fatal(err)
			}
			check("create", c)
			c, err = st.UpdateConversation(ctx, c.ID, func(c *crm.Conversation) error { c.Slots = slots(); return nil })
			if err != nil {
				t.Fatal(err)
			}
			check("update", c)
			m, _, err := st.AppendMessage(ctx, crm.Message{ConversationID: c.ID, Sender: crm.SenderCustomer, Text: "hi"})
			if err != nil {
				t.Fatal(err)
			}
			c, _, _, err = st.CommitTurn(ctx, crm.Turn{ConversationID: c.ID, Seq: m.Seq,
				Update: func(c *crm.Conversation) error { c.Slots = slots(); return nil }})
			if err != nil {
				t.Fatal(err)
			}
			check("turn", c)
			if err := st.Import(ctx, crm.Snapshot{Conversations: []crm.Conversation{{ID: "conv_imported", Channel: crm.ChannelWeb, Slots: slots()}}}); err != nil {
				t.Fatal(err)
			}
			check("import", crm.Conversation{ID: "conv_imported", Slots: map[string]string{"reason": want, "otp [code redacted]": "x"}})
		})
	}
}

// containsAny returns the first of needles that s contains, or "".
func containsAny(s string, needles []string) string {
	for _, n := range needles {
		if strings.Contains(s, n) {
			return n
		}
	}
	return ""
}

// ticketText joins the subjects and notes of tickets.
func ticketText(tickets []crm.Ticket) string {
	var b strings.Builder
	for _, tk := range tickets {
		b.WriteString(tk.Subject + "\n")
		for _, h := range tk.History {
			b.WriteString(h.Note + "\n")
		}
	}
	return b.String()
}
