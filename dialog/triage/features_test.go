package triage

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/nlp/nlu"
)

// msg is a customer message at minute min, with the parse of spec: an
// intent name, "oos", or "" for a message stored without a parse.
func msg(min int, text, intent string, entities ...string) dialog.Line {
	m := dialog.Line{Message: crm.Message{Sender: crm.SenderCustomer, Text: text, CreatedAt: now.Add(time.Duration(min) * time.Minute)}}
	if intent == "" {
		return m
	}
	r := nlu.Result{Text: text, Intent: intent, Confidence: 0.9, InScope: intent != "oos"}
	for _, e := range entities {
		r.Entities = append(r.Entities, nlu.Entity{Type: e, Text: "x", Value: "x"})
	}
	m.Parse = &r
	return m
}

func bot(min int, text string) dialog.Line {
	return dialog.Line{Message: crm.Message{Sender: crm.SenderBot, Text: text, CreatedAt: now.Add(time.Duration(min) * time.Minute)}}
}

var testSpec = Spec{
	Intents:  []string{"complaint", "greet", "order_status", "refund_status"},
	Entities: []string{"email", "order_id"},
	Cues:     []string{"ridiculous", "third time"},
}

func TestVector(t *testing.T) {
	gold := &crm.Customer{ID: "c1", Tier: crm.TierGold}
	tests := []struct {
		name string
		sit  dialog.Situation
		want map[string]float64 // features not named must be 0
	}{
		{
			name: "unknown visitor, one message",
			sit: dialog.Situation{Conversation: crm.Conversation{Channel: crm.ChannelWeb},
				Messages: []dialog.Line{msg(0, "where is my order 1042", "order_status", "order_id")}},
			want: map[string]float64{"customer=unknown": 1, "channel=web": 1, "intent=order_status": 1, "entity=order_id": 1, "customer_messages": 1},
		},
		{
			name: "gold customer with history on slack",
			sit: dialog.Situation{Conversation: crm.Conversation{Channel: crm.ChannelSlack}, Customer: gold,
				History:  dialog.History{OpenTickets: 2, PastHandoffs: 3, LastRating: 2, LifetimeOrders: 7},
				Messages: []dialog.Line{msg(0, "hi", "greet")}},
			want: map[string]float64{"tier=gold": 1, "channel=slack": 1, "intent=greet": 1, "customer_messages": 1,
				"open_tickets": 2, "past_handoffs": 3, "last_rating": 2, "last_rating_low": 1, "lifetime_orders": 7},
		},
		{
			name: "good last rating is not low",
			sit:  dialog.Situation{Customer: gold, History: dialog.History{LastRating: 4}, Messages: []dialog.Line{msg(0, "hi", "")}},
			want: map[string]float64{"tier=gold": 1, "customer_messages": 1, "last_rating": 4},
		},
		{
			name: "frustration cues, shouting, exclamations and waiting",
			sit: dialog.Situation{Customer: gold, Messages: []dialog.Line{
				msg(0, "where is my refund", "refund_status"),
				bot(1, "Let me check."),
				msg(3, "WHERE IS MY REFUND!!", "refund_status"),
				bot(4, "Sorry."),
				msg(9, "this is ridiculous, third time I ask", "complaint"),
			}},
			want: map[string]float64{"tier=gold": 1, "intent=refund_status": 1, "intent=complaint": 1, "customer_messages": 3,
				"wait_minutes": 9, "shouting": 1, "exclamations": 1, "cue_words": 2, "repeats": 1},
		},
		{
			name: "out of scope, small talk repeats and unknown intents",
			sit: dialog.Situation{Messages: []dialog.Line{
				msg(0, "hi", "greet"), msg(1, "hello", "greet"),
				msg(2, "what's the weather", "oos"),
				msg(3, "sell me a boat", "buy_boat"),
				msg(4, "no parse here", ""),
			}},
			want: map[string]float64{"customer=unknown": 1, "intent=greet": 1, "customer_messages": 5, "wait_minutes": 4, "out_of_scope": 1},
		},
		{
			name: "agent and bot messages count for nothing",
			sit: dialog.Situation{Messages: []dialog.Line{
				{Message: crm.Message{Sender: crm.SenderAgent, Text: "THIS IS RIDICULOUS!!", CreatedAt: now}},
				{Message: crm.Message{Sender: crm.SenderSystem, Text: "third time", CreatedAt: now}},
			}},
			want: map[string]float64{"customer=unknown": 1},
		},
	}
	names := testSpec.Names()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := testSpec.Vector(tt.sit)
			if len(x) != len(names) || len(x) != testSpec.Len() {
				t.Fatalf("%d values, %d names, Len %d", len(x), len(names), testSpec.Len())
			}
			for i, n := range names {
				if x[i] != tt.want[n] {
					t.Errorf("%s = %v, want %v", n, x[i], tt.want[n])
				}
			}
			for n := range tt.want {
				found := false
				for _, m := range names {
					found = found || m == n
				}
				if !found {
					t.Errorf("test names %q, which is no feature", n)
				}
			}
		})
	}
}

func TestSpecFor(t *testing.T) {
	sits := []dialog.Situation{
		{Messages: []dialog.Line{msg(0, "a", "refund_status", "order_id"), msg(1, "b", "oos")}},
		{Messages: []dialog.Line{msg(0, "c", "complaint", "email"), msg(1, "d", "")}},
	}
	s := specFor(sits, []string{" Ridiculous", "ridiculous", ""})
	want := Spec{Intents: []string{"complaint", "refund_status"}, Entities: []string{"email", "order_id"}, Cues: []string{"ridiculous"}}
	if !slices.Equal(s.Intents, want.Intents) || !slices.Equal(s.Entities, want.Entities) || !slices.Equal(s.Cues, want.Cues) {
		t.Errorf("spec = %+v, want %+v", s, want)
	}
}

// FuzzVector feeds arbitrary texts and parses (decoded as the situation
// reader decodes a stored one; one that does not decode is left out) to the
// features.
func FuzzVector(f *testing.F) {
	f.Add("where is my order 1042?", []byte(`{"intent":"order_status","in_scope":true,"entities":[{"type":"order_id"}]}`))
	f.Add("THIS IS RIDICULOUS!!", []byte(`{"intent":"complaint","in_scope":true}`))
	f.Add("hmm", []byte(`{"intent":null,"entities":[null,{"type":7}]}`))
	f.Add("", []byte(`not json`))
	f.Fuzz(func(t *testing.T, text string, parse []byte) {
		l := dialog.Line{Message: crm.Message{Sender: crm.SenderCustomer, Text: text, CreatedAt: now}}
		var r nlu.Result
		if json.Unmarshal(parse, &r) == nil {
			l.Parse = &r
		}
		s := dialog.Situation{Messages: []dialog.Line{l}}
		x := testSpec.Vector(s)
		if len(x) != testSpec.Len() {
			t.Fatalf("%d features, want %d", len(x), testSpec.Len())
		}
		for i, v := range x {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("feature %s = %v", testSpec.Names()[i], v)
			}
		}
	})
}
