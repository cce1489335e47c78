package dialog_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/nlp"
)

// replyText joins an outcome's replies.
func replyText(out dialog.Outcome) string {
	var s []string
	for _, r := range out.Replies {
		s = append(s, r.Text)
	}
	return strings.Join(s, " | ")
}

func TestNameGreets(t *testing.T) {
	tests := []struct {
		name, text, spec string
		want             string // the reply starts with it
		slot             string // slot "name" afterwards
		actions          []string
	}{
		{"greeting with a name", "Hello, I'm Maria", "greet:0.9 @name=Maria", "Hi Maria!", "Maria", []string{"respond greet", "name"}},
		{"give_name", "my name is Carlos", "give_name:0.9 @name=Carlos", "Hi Carlos", "Carlos", []string{"respond give_name", "name"}},
		{"out of scope with a name", "my name is Carlos", "oos give_name:0.2 @name=Carlos", "Hi Carlos", "Carlos", []string{"respond give_name", "name"}},
		{"lower-case value capitalised", "my name is carlos", "give_name:0.9 @name=carlos", "Hi Carlos", "Carlos", []string{"respond give_name", "name"}},
		{"misread introduction", "this is Aiko", "complaint:0.6 give_name:0.3 @name=Aiko", "Hi Aiko", "Aiko", []string{"respond give_name", "name"}},
		{"introduction with a town", "this is Priya from Leeds", "complaint:0.5 @name=Priya", "Hi Priya", "Priya", []string{"respond give_name", "name"}},
		{"give_name without a name", "you can call me whatever", "give_name:0.9", "Nice to meet you!", "", []string{"respond give_name"}},
		{"a name no one has", "I'm R2D2", "greet:0.9 @name=R2D2", "Hello!", "", []string{"respond greet"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			conv := h.start(t, "")
			out := h.say(t, conv.ID, tt.text, tt.spec)
			if got := replyText(out); !strings.HasPrefix(got, tt.want) || strings.Contains(got, "R2D2") {
				t.Errorf("reply %q, want it to start with %q", got, tt.want)
			}
			if got := out.Conversation.Slots["name"]; got != tt.slot {
				t.Errorf("slot name = %q, want %q", got, tt.slot)
			}
			if !slices.Equal(out.Actions, tt.actions) {
				t.Errorf("actions %q, want %q", out.Actions, tt.actions)
			}
			if out.Conversation.CustomerID != "" {
				t.Errorf("a name linked the conversation to %s", out.Conversation.CustomerID)
			}
		})
	}
}

// TestNameIsNoFailure: out-of-scope messages count towards a handoff, a
// message giving a name does not (and, like any answered message, starts
// the count again).
func TestNameIsNoFailure(t *testing.T) {
	h := newHarness(t)
	conv := h.start(t, "")
	steps := []struct{ text, spec string }{
		{"what's the weather", "oos greet:0.1"},
		{"my name is Carlos", "oos give_name:0.3 @name=Carlos"},
		{"my name is Carlos, I said", "oos give_name:0.3 @name=Carlos"},
		{"tell me a joke", "oos greet:0.1"},
	}
	var out dialog.Outcome
	for _, s := range steps {
		out = h.say(t, conv.ID, s.text, s.spec)
	}
	if out.Conversation.State != crm.StateBot {
		t.Fatalf("state %s after %v, want bot: a name counted as a failure", out.Conversation.State, out.Actions)
	}
	if got := out.Conversation.Slots["_failures"]; got != "1" {
		t.Errorf("failures = %q, want 1 (the joke only)", got)
	}
	// The same name twice is small talk: no offer of a person.
	if slices.Contains(out.Actions, "repeat_offer") {
		t.Errorf("actions %v offer a person", out.Actions)
	}
	h.say(t, conv.ID, "call me Carlos", "give_name:0.9")
	again := h.say(t, conv.ID, "call me Carlos!", "give_name:0.9")
	if slices.Contains(again.Actions, "repeat_offer") {
		t.Errorf("giving a name twice offered a person: %v", again.Actions)
	}
}

// TestNameWithRequest: the request is answered as usual (here: an
// anonymous visitor is asked to prove who they are) and the name is kept.
func TestNameWithRequest(t *testing.T) {
	h := newHarness(t)
	conv := h.start(t, "")
	out := h.say(t, conv.ID, "I'm Lena, where is my order?", "order_status:0.9 @name=Lena")
	if !slices.Contains(out.Actions, "ask_identity") {
		t.Errorf("actions %v, want ask_identity", out.Actions)
	}
	if got := out.Conversation.Slots["name"]; got != "Lena" {
		t.Errorf("slot name = %q, want Lena", got)
	}
}

// TestNameNeverOverwritesRecord: a verified customer with a name in the
// CRM is greeted by the name they give, but the record keeps its own.
func TestNameNeverOverwritesRecord(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.start(t, "ana@example.com")
	out := h.say(t, conv.ID, "Hello, I'm Maria", "greet:0.9 @name=Maria")
	if got := replyText(out); !strings.HasPrefix(got, "Hi Maria!") {
		t.Errorf("reply %q", got)
	}
	c, err := h.db.CustomerByEmail(ctx, "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Ana Lopez" {
		t.Errorf("customer name = %q, want Ana Lopez kept", c.Name)
	}
	if _, ok := out.Conversation.Slots["name"]; ok {
		t.Errorf("slot name set for a customer whose record has a name: %v", out.Conversation.Slots)
	}
}

// TestNameFillsEmptyRecord: a verified customer without a name gets the
// one they give, once; a later one does not replace it.
func TestNameFillsEmptyRecord(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	c, err := h.db.CreateCustomer(ctx, crm.Customer{Email: "noname@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := h.engine.Start(ctx, dialog.StartRequest{Channel: crm.ChannelWeb, CustomerID: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	out := h.say(t, conv.ID, "my name is carlos", "give_name:0.9 @name=carlos")
	if !slices.Contains(out.Actions, "name_saved") {
		t.Errorf("actions %v, want name_saved", out.Actions)
	}
	if got := out.Conversation.Slots["name"]; got != "Carlos" {
		t.Errorf("slot name = %q, want Carlos", got)
	}
	out = h.say(t, conv.ID, "actually I'm Charlie", "give_name:0.9 @name=Charlie")
	if got := replyText(out); !strings.HasPrefix(got, "Hi Charlie") {
		t.Errorf("reply %q, want the name just given", got)
	}
	got, err := h.db.Customer(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Carlos" {
		t.Errorf("customer name = %q, want Carlos (the first, never overwritten)", got.Name)
	}
	// A greeting now knows them from the record.
	out = h.say(t, conv.ID, "hi", "greet:0.9")
	if r := replyText(out); !strings.Contains(r, "Carlos") {
		t.Errorf("greeting %q does not use the record's name", r)
	}
}

// TestNameValues: what a parser returns as a name is cleaned before it is
// kept or said: words capitalised, at most two, letters only, bounded.
func TestNameValues(t *testing.T) {
	tests := []struct{ value, want string }{
		{"carlos ruiz", "Carlos Ruiz"},
		{"  anne-marie  ", "Anne-Marie"},
		{"o'brien", "O'brien"},
		{"Zoë", "Zoë"},
		{"carlos maria ruiz", ""},
		{"carlos2", ""},
		{"<b>carlos</b>", ""},
		{strings.Repeat("a", 65), ""},
		{"-carlos", ""},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			h := newHarness(t)
			conv := h.start(t, "")
			text := "my name is " + tt.value
			h.nlu.set(text, &nlp.Result{Text: text, Intent: "give_name", Confidence: 0.9, InScope: true,
				Ranking:  []nlp.IntentScore{{Intent: "give_name", Confidence: 0.9}},
				Entities: []nlp.Entity{{Type: "name", Text: tt.value, Value: tt.value, Start: 11, End: 11 + len([]rune(tt.value))}}})
			out, err := h.engine.Handle(context.Background(), dialog.Inbound{ConversationID: conv.ID, Text: text})
			if err != nil {
				t.Fatal(err)
			}
			if got := out.Conversation.Slots["name"]; got != tt.want {
				t.Errorf("slot name = %q, want %q", got, tt.want)
			}
			if tt.want != "" && !strings.Contains(replyText(out), "Hi "+strings.Fields(tt.want)[0]) {
				t.Errorf("reply %q does not greet %s", replyText(out), tt.want)
			}
		})
	}
}
