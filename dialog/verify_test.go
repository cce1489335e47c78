package dialog_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shoptest"
	"github.com/parleyhq/parley/nlp"
)

// TestUnverifiedRevealsNothing asks about every seeded order with every
// intent of the shop, as a visitor who gave only the order number: no reply
// names the customer or shows the order's details, no conversation is
// linked, and nothing changes on the account.
func TestUnverifiedRevealsNothing(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	ids, err := h.db.CustomerIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	intents := slices.Sorted(maps.Keys(h.engine.Domain().Intents))
	// tickets sums the open tickets and their events: the bot opens or
	// adds to one only for a verified customer.
	tickets := func(id string) int {
		tks, err := h.db.OpenTickets(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		n := len(tks)
		for _, tk := range tks {
			n += len(tk.History)
		}
		return n
	}
	orders := 0
	for _, id := range ids {
		before := tickets(id)
		c, err := h.db.Customer(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		os, err := h.db.OrdersByCustomer(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		secrets := append(strings.Fields(c.Name), c.Email)
		for _, o := range os {
			orders++
			secrets := slices.Clone(secrets)
			if o.Tracking != "" {
				secrets = append(secrets, o.Tracking, o.Carrier)
			}
			for _, it := range o.Items {
				secrets = append(secrets, it.Name)
			}
			for _, intent := range intents {
				conv := h.start(t, "")
				text := "about order " + o.ID
				out := h.say(t, conv.ID, text, intent+":0.9 @order_id="+o.ID)
				if out.Conversation.CustomerID != "" {
					t.Errorf("%s about order %s linked the conversation to %s", intent, o.ID, out.Conversation.CustomerID)
				}
				for _, r := range out.Replies {
					for _, s := range secrets {
						if strings.Contains(r.Text, s) {
							t.Errorf("%s about order %s: reply %q shows %q", intent, o.ID, r.Text, s)
						}
					}
				}
				after, err := h.db.Order(ctx, o.ID)
				if err != nil || after.Status != o.Status {
					t.Errorf("%s about order %s: order now %s (%v), was %s", intent, o.ID, after.Status, err, o.Status)
				}
			}
		}
		if after := tickets(id); after != before {
			t.Errorf("the tickets of %s changed for unverified visitors (%d tickets and events, were %d)", id, after, before)
		}
	}
	if orders < 50 {
		t.Fatalf("%d orders in the seed, want the demo shop's", orders)
	}
}

// TestWrongPairsReadAlike: whichever part of a pair is wrong, the visitor
// reads the same words, and nothing is linked.
func TestWrongPairsReadAlike(t *testing.T) {
	pairs := []struct{ name, order, email string }{
		{"another customer's address", "1042", "ben@example.com"},
		{"nobody's address", "1042", "nobody@example.com"},
		{"unknown order", "7777", "ana@example.com"},
		{"unknown both", "7777", "nobody@example.com"},
	}
	h := newHarness(t)
	var first string
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			conv := h.start(t, "")
			text := "order " + p.order + ", " + p.email
			out := h.say(t, conv.ID, text, "order_status:0.8 @order_id="+p.order+" @email="+p.email)
			if len(out.Replies) != 1 || out.Conversation.CustomerID != "" {
				t.Fatalf("replies %d, customer %q: want one reply and no link", len(out.Replies), out.Conversation.CustomerID)
			}
			if first == "" {
				first = out.Replies[0].Text
			}
			if got := out.Replies[0].Text; got != first {
				t.Errorf("reply %q, want the same words as the others: %q", got, first)
			}
		})
	}
}

// TestProofCountPerSourceExpires: a source held back for its failed proofs
// may try again once the window has passed on the engine's clock.
func TestProofCountPerSourceExpires(t *testing.T) {
	ctx := context.Background()
	clock := now
	nlu := &fakeNLU{}
	db := seededDB(t)
	e, err := dialog.New(dialog.Config{Domain: shoptest.Domain(t), Parser: nlu, Store: db, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	say := func(text, spec, source string) dialog.Outcome {
		t.Helper()
		r, err := scripted(text, spec)
		if err != nil {
			t.Fatal(err)
		}
		nlu.set(text, r)
		c, err := e.Start(ctx, dialog.StartRequest{Channel: crm.ChannelWeb})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Handle(ctx, dialog.Inbound{ConversationID: c.ID, Text: text, Source: source})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	const src = "ip:192.0.2.10"
	for i, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		out := say("1042 "+email, "order_status:0.8 @order_id=1042 @email="+email, src)
		if want := i == 2; (out.Conversation.State == crm.StateWaiting) != want {
			t.Fatalf("wrong pair %d in its own conversation: state %s, want a handoff only at the third", i+1, out.Conversation.State)
		}
	}
	right := "1042 ana@example.com"
	if out := say(right, "order_status:0.8 @order_id=1042 @email=ana@example.com", src); out.Conversation.CustomerID != "" || !slices.Contains(out.Actions, "proof_refused") {
		t.Fatalf("right pair from a held-back source: actions %v, customer %q; want it refused", out.Actions, out.Conversation.CustomerID)
	}
	clock = clock.Add(59 * time.Minute)
	if out := say(right, "order_status:0.8 @order_id=1042 @email=ana@example.com", src); out.Conversation.CustomerID != "" {
		t.Fatalf("59 minutes later the source was let through")
	}
	clock = clock.Add(time.Minute)
	if out := say(right, "order_status:0.8 @order_id=1042 @email=ana@example.com", src); out.Conversation.CustomerID != "c-001" {
		t.Fatalf("an hour later: actions %v, customer %q; want the pair checked and verified", out.Actions, out.Conversation.CustomerID)
	}
}

// TestDomainProofPolicy: max_proof_failures and closing_cues are read and
// checked, and a domain written before verification gets the engine's own
// words for it.
func TestDomainProofPolicy(t *testing.T) {
	d, err := dialog.ParseDomain("minimal.yml", []byte(minimal), labels)
	if err != nil {
		t.Fatal(err)
	}
	if d.Policy.MaxProofFailures != 3 || len(d.Policy.ClosingCues) != 0 {
		t.Errorf("defaults: max_proof_failures %d, closing_cues %q", d.Policy.MaxProofFailures, d.Policy.ClosingCues)
	}
	for _, k := range []string{"verify_ask_email", "verify_ask_order", "verify_unknown_order", "verify_failed", "handoff_unverified"} {
		if len(d.Messages[k]) == 0 {
			t.Errorf("no default message %q", k)
		}
	}
	src := strings.Replace(minimal, "version: 1\n", "version: 1\npolicy:\n  max_proof_failures: 5\n  closing_cues: [Bye, \"See  you!\"]\nmessages:\n  verify_failed: No match.\n", 1)
	src = strings.Replace(src, "\nmessages:\n  ask_identity", "\n  ask_identity", 1)
	if d, err = dialog.ParseDomain("d.yml", []byte(src), labels); err != nil {
		t.Fatal(err)
	}
	if d.Policy.MaxProofFailures != 5 || !slices.Equal(d.Policy.ClosingCues, []string{"bye", "see you"}) || d.Messages["verify_failed"][0] != "No match." {
		t.Errorf("policy %+v, verify_failed %q", d.Policy, d.Messages["verify_failed"])
	}
	for _, bad := range []struct{ line, want string }{
		{"max_proof_failures: 0", "policy max_proof_failures: want a whole number in 1..10"},
		{"max_proof_failures: eleven", "policy max_proof_failures: want a whole number in 1..10"},
		{`closing_cues: ["!!"]`, `policy closing_cues: "!!" has no word`},
	} {
		src := strings.Replace(minimal, "version: 1\n", "version: 1\npolicy:\n  "+bad.line+"\n", 1)
		if _, err := dialog.ParseDomain("d.yml", []byte(src), labels); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err = %v, want %q", bad.line, err, bad.want)
		}
	}
}

// FuzzProof sends an anonymous visitor's order number and e-mail address,
// as any NLU might extract them, with any intent: the conversation is linked
// only to the customer whose e-mail address is on that order, and no reply
// shows an order to anyone else.
func FuzzProof(f *testing.F) {
	f.Add("1042", "ana@example.com", "order_status")
	f.Add("1042", " ANA@Example.com ", "delivery_problem")
	f.Add("1042", "ben@example.com", "order_status")
	f.Add("7777", "nobody@example.com", "cancel_order")
	f.Add("", "ana@example.com", "greet")
	f.Add("1043", "", "return_item")
	f.Add("../1042", "ana@example.com\x00", "get_invoice")
	h := newHarness(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, order, email, intent string) {
		if h.engine.Domain().Intents[intent] == nil {
			intent = "order_status"
		}
		const text = "here are my details"
		r := &nlp.Result{Text: text, InScope: true, Intent: intent, Confidence: 0.9,
			Ranking: []nlp.IntentScore{{Intent: intent, Confidence: 0.9}}}
		if order != "" {
			r.Entities = append(r.Entities, nlp.Entity{Type: "order_id", Text: order, Value: order})
		}
		if email != "" {
			r.Entities = append(r.Entities, nlp.Entity{Type: "email", Text: email, Value: email})
		}
		h.nlu.set(text, r)
		conv := h.start(t, "")
		out, err := h.engine.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: text})
		if err != nil {
			t.Fatalf("handle: %v", err)
		}
		if id := out.Conversation.CustomerID; id != "" {
			o, err := h.db.Order(ctx, order)
			if err != nil {
				t.Fatalf("linked to %s with order %q that does not exist (%v)", id, order, err)
			}
			c, err := h.db.Customer(ctx, id)
			if err != nil || o.CustomerID != id || !strings.EqualFold(strings.TrimSpace(c.Email), strings.TrimSpace(email)) {
				t.Fatalf("linked to %s (%s) with order %q of %s and e-mail %q", id, c.Email, order, o.CustomerID, email)
			}
		}
		for _, rep := range out.Replies {
			if strings.Contains(rep.Text, "DP3953828283") && out.Conversation.CustomerID != "c-001" {
				t.Fatalf("reply %q shows Ana's order to %q", rep.Text, out.Conversation.CustomerID)
			}
		}
	})
}
