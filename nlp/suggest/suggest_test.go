package suggest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/inmem"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/nlp/kb"
)

var t0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

// conv is a conversation of the test store: who says what, in order.
type conv struct {
	id, customer string
	state        crm.ConversationState
	lines        []string // "c: text" (customer), "b: text" (bot), "a: text" (agent)
}

// newStore returns an in-memory store holding customers anna and ben
// (with order A-1001), the canned responses and the conversations.
func newStore(t *testing.T, canned []crm.CannedResponse, convs ...conv) *inmem.Store {
	t.Helper()
	st := inmem.New(&inmem.Options{Now: func() time.Time { return t0 }})
	snap := crm.Snapshot{
		Customers: []crm.Customer{{ID: "anna", Name: "Anna Berg"}, {ID: "ben", Name: "Ben Okafor"}},
		Orders:    []crm.Order{{ID: "A-1001", CustomerID: "ben", TotalCents: 1000, Currency: "EUR", Status: crm.OrderShipped, PlacedAt: t0.Add(-48 * time.Hour)}},
		Canned:    canned,
	}
	for _, c := range convs {
		snap.Conversations = append(snap.Conversations, crm.Conversation{ID: c.id, Channel: crm.ChannelWeb, CustomerID: c.customer, State: c.state, CreatedAt: t0})
		for _, l := range c.lines {
			sender := map[string]crm.Sender{"c": crm.SenderCustomer, "b": crm.SenderBot, "a": crm.SenderAgent}[l[:1]]
			m := crm.Message{ConversationID: c.id, Sender: sender, Text: l[3:], CreatedAt: t0}
			if sender == crm.SenderAgent {
				m.AgentID = "sam"
			}
			snap.Messages = append(snap.Messages, m)
		}
	}
	snap.Agents = []crm.SeedAgent{{Agent: crm.Agent{Login: "sam", Role: crm.RoleAgent}, Password: "secret-password"}}
	if err := st.Import(context.Background(), snap); err != nil {
		t.Fatalf("import: %v", err)
	}
	return st
}

var history = []conv{
	{"c1", "anna", crm.StateResolved, []string{
		"c: my parcel never arrived",
		"b: Let me look into that for you.",
		"c: it says delivered but nothing here",
		"a: Hi Anna, I'm sorry about the delivery. I've opened a claim with the carrier.",
		"c: thanks",
		"a: You're welcome, have a nice day!", // greeting only: skipped
	}},
	{"c2", "ben", crm.StateResolved, []string{
		"c: where is my order A-1001?",
		"a: Your order A-1001 left our warehouse yesterday and arrives tomorrow.",
		"c: great",
		"a: ok", // too short: skipped
	}},
	{"c3", "ben", crm.StateResolved, []string{
		"c: the courier lost my package",
		"a: Hi Ben, I'm sorry about the delivery. I've opened a claim with the carrier.", // same as c1's once generalised
	}},
	{"c4", "anna", crm.StateAgent, []string{ // open: not mined
		"c: I want a refund for my coat",
		"a: I've issued the refund for your coat today.",
	}},
	{"c5", "anna", crm.StateResolved, []string{ // no agent: nothing
		"c: how do returns work",
		"b: You can return items within 30 days.",
	}},
}

func TestMine(t *testing.T) {
	st := newStore(t, nil, history...)
	pairs, err := Mine(context.Background(), st, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Pair{
		{Reply: "Hi {{customer.name}}, I'm sorry about the delivery. I've opened a claim with the carrier.",
			Customers: []string{"my parcel never arrived\nit says delivered but nothing here", "the courier lost my package"}, ConversationID: "c1", Count: 2},
		{Reply: "Your order {{order.id}} left our warehouse yesterday and arrives tomorrow.",
			Customers: []string{"where is my order A-1001?"}, ConversationID: "c2", Count: 1},
	}
	if got, exp := fmt.Sprintf("%+v", pairs), fmt.Sprintf("%+v", want); got != exp {
		t.Errorf("pairs:\n got %s\nwant %s", got, exp)
	}

	// maxConversations stops early: only c1 is read.
	pairs, err = Mine(context.Background(), st, 1)
	if err != nil || len(pairs) != 1 || pairs[0].Count != 1 {
		t.Errorf("Mine(max 1) = %+v, %v; want c1's one pair", pairs, err)
	}
}

func TestTrivial(t *testing.T) {
	for _, tc := range []struct {
		reply string
		want  bool
	}{
		{"ok", true},
		{"one moment please", true},
		{"Hi {{customer.name}}, thank you so much!", true},
		{"You're welcome, have a nice day!", true},
		{"I've sent you a return label by e-mail.", false},
		{"Thanks, your refund is on its way.", false},
	} {
		if got := trivial(tc.reply); got != tc.want {
			t.Errorf("trivial(%q) = %v, want %v", tc.reply, got, tc.want)
		}
	}
}

func TestFill(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		v          Vars
		want       string
	}{
		{"all known", "Hi {{customer.name}}, order {{ order.id }} - {{agent.name}}", Vars{"Ben", "A-1", "Sam"}, "Hi Ben, order A-1 - Sam"},
		{"unknown name", "Hi {{customer.name}}", Vars{}, "Hi there"},
		{"no order: left to type over", "Order {{order.id}} and {{unknown.var}}", Vars{CustomerName: "Ben"}, "Order {{order.id}} and {{unknown.var}}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Fill(tc.text, tc.v); got != tc.want {
				t.Errorf("Fill = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestQuery(t *testing.T) {
	msg := func(s crm.Sender, text string) crm.Message { return crm.Message{Sender: s, Text: text} }
	for _, tc := range []struct {
		name string
		h    []crm.Message
		want string
	}{
		{"last two customer texts", []crm.Message{msg("customer", "one"), msg("bot", "x"), msg("customer", "two"), msg("customer", "three")}, "two\nthree"},
		{"after the agent's reply", []crm.Message{msg("customer", "old"), msg("agent", "answer"), msg("customer", "new")}, "new"},
		{"agent spoke last", []crm.Message{msg("customer", "old"), msg("agent", "answer")}, ""},
		{"nothing", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Query(tc.h); got != tc.want {
				t.Errorf("Query = %q, want %q", got, tc.want)
			}
		})
	}
}

var testCanned = []crm.CannedResponse{
	{Shortcut: "hello", Title: "Greeting", Text: "Hi {{customer.name}}, I'm here to help."},
	{Shortcut: "refund-sent", Title: "Refund sent", Text: "Your refund for order {{order.id}} is on its way. Banks take 3 to 5 working days."},
	{Shortcut: "lost-parcel", Title: "Lost parcel", Text: "I'm sorry your parcel never arrived: I've asked the carrier to trace it."},
}

func demoKB(t *testing.T) *kb.Searcher {
	t.Helper()
	k, err := kb.Load(shop.KB())
	if err != nil {
		t.Fatal(err)
	}
	ix, err := kb.NewIndex(k, nil)
	if err != nil {
		t.Fatal(err)
	}
	return kb.NewSearcher(ix)
}

func TestForConversation(t *testing.T) {
	ctx := context.Background()
	open := conv{"open1", "ben", crm.StateWaiting, []string{
		"c: hello",
		"b: Hello! How can I help?",
		"c: my parcel never arrived, the courier lost it",
		"b: I'm passing you to a person on our shipping team.",
	}}
	st := newStore(t, testCanned, append(history, open, conv{"done", "ben", crm.StateAgent, []string{"c: hi", "a: Hello Ben, how can I help you today?"}})...)
	s := New(st, &Options{KB: demoKB(t)})

	// Before the first Rebuild: canned responses and the help centre only.
	got, err := s.ForConversation(ctx, "open1", "Sam")
	if err != nil {
		t.Fatal(err)
	}
	for _, sg := range got {
		if sg.Source == SourcePastReply {
			t.Errorf("past reply before any rebuild: %+v", sg)
		}
	}

	stats, err := s.Rebuild(ctx)
	if err != nil || stats.Pairs != 2 || stats.Texts != 3 {
		t.Fatalf("Rebuild = %+v, %v; want 2 replies, 3 texts", stats, err)
	}
	got, err = s.ForConversation(ctx, "open1", "Sam")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || len(got) > MaxSuggestions {
		t.Fatalf("got %d suggestions, want 1 to 3: %+v", len(got), got)
	}
	// The canned response holds every word the customer wrote; c1's reply
	// (given twice, in c1 and c3) holds some, in each of its texts.
	if got[0].Source != SourceCanned || got[0].Ref != "lost-parcel" {
		t.Errorf("top suggestion = %+v; want the lost-parcel canned response", got[0])
	}
	i := slices.IndexFunc(got, func(sg Suggestion) bool { return sg.Source == SourcePastReply })
	if i < 0 {
		t.Fatalf("no past reply in %+v", got)
	}
	if past := got[i]; past.Ref != "c1" || past.Text != "Hi Ben, I'm sorry about the delivery. I've opened a claim with the carrier." ||
		!strings.HasPrefix(past.ID, "past_reply:c1:") {
		t.Errorf("past reply = %+v; want c1's claim reply, filled for Ben", past)
	}
	sources := map[Source]bool{}
	for i, sg := range got {
		sources[sg.Source] = true
		if sg.Score < MinScore || sg.Score > 1 || (i > 0 && sg.Score > got[i-1].Score) {
			t.Errorf("scores not in 0.2..1 best first: %+v", got)
		}
		if strings.Contains(sg.Text, "{{customer.name}}") || strings.Contains(sg.Text, "{{order.id}}") {
			t.Errorf("variables left unfilled: %q", sg.Text)
		}
	}
	if !sources[SourceKB] {
		t.Errorf("no help-centre passage: %+v", got)
	}
	if got[len(got)-1].Source == SourceCanned && got[len(got)-1].Ref == "hello" {
		t.Errorf("the greeting canned response matched a parcel question: %+v", got)
	}

	// The agent answered last: nothing to suggest.
	if got, err := s.ForConversation(ctx, "done", "Sam"); err != nil || len(got) != 0 {
		t.Errorf("after the agent's reply = %+v, %v; want none", got, err)
	}
	// An unknown conversation is crm.ErrNotFound.
	if _, err := s.ForConversation(ctx, "nope", "Sam"); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("unknown conversation: %v, want ErrNotFound", err)
	}
}

func TestSuggestKB(t *testing.T) {
	st := newStore(t, nil)
	s := New(st, &Options{KB: demoKB(t)})
	got, err := s.Suggest(context.Background(), []crm.Message{{Sender: crm.SenderCustomer, Text: "how long do I have to return an item?"}}, Vars{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0].Source != SourceKB || got[0].Ref == "" || got[0].Text == "" {
		t.Fatalf("got %+v; want a help-centre passage first", got)
	}
	// Stop words only: nothing, and no error.
	got, err = s.Suggest(context.Background(), []crm.Message{{Sender: crm.SenderCustomer, Text: "hi there, can you?"}}, Vars{})
	if err != nil || len(got) != 0 {
		t.Errorf("stop words = %+v, %v; want none", got, err)
	}
}

func TestRankDedupes(t *testing.T) {
	got := rank([]Suggestion{
		{Text: "Hi {{customer.name}}, it ships today.", Source: SourceCanned, Ref: "b", Score: 0.5},
		{Text: "hi  Ben, it ships today.", Source: SourcePastReply, Ref: "c9", Score: 0.9},
		{Text: "Too weak", Source: SourceKB, Ref: "x", Score: 0.1},
		{Text: "Second", Source: SourceKB, Ref: "y", Score: 0.4},
	}, Vars{CustomerName: "Ben"})
	if len(got) != 2 || got[0].Ref != "c9" || got[1].Ref != "y" {
		t.Errorf("rank = %+v; want c9 then y (the canned copy and the weak one dropped)", got)
	}
}

func TestScore(t *testing.T) {
	for _, tc := range []struct{ rel, cov, want float64 }{
		{0, 1, 0}, {0.8, 0, 0}, {0.8, 1, 0.8}, {0.8, 0.5, 0.4}, {2.5, 1, 1},
	} {
		if got := Score(tc.rel, tc.cov); got != tc.want {
			t.Errorf("Score(%v, %v) = %v, want %v", tc.rel, tc.cov, got, tc.want)
		}
	}
}

// TestDemoStore mines the demo shop's seeded history, as serve does at
// start, and reports how long it takes.
func TestDemoStore(t *testing.T) {
	ctx := context.Background()
	st := inmem.New(nil)
	if _, err := shop.EnsureSeeded(ctx, created{st}, time.Now()); err != nil {
		t.Fatal(err)
	}
	s := New(st, &Options{KB: demoKB(t)})
	stats, err := s.Rebuild(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Pairs < 5 || stats.Texts < 20 {
		t.Errorf("demo history mined to %+v; want the agents' replies", stats)
	}
	t.Logf("demo store: %d replies, %d customer texts, rebuilt in %v", stats.Pairs, stats.Texts, stats.Took)
	start := time.Now()
	got, err := s.Suggest(ctx, []crm.Message{{Sender: crm.SenderCustomer, Text: "I want a refund, the payment was taken twice"}}, Vars{CustomerName: "Chloe"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("suggest took %v: %+v", time.Since(start), got)
	if len(got) == 0 {
		t.Fatal("no suggestion for a refund question")
	}
}

// created makes an in-memory store look freshly created to EnsureSeeded.
type created struct{ *inmem.Store }

func (created) Created() bool { return true }

// demoSuggester is a Suggester over the demo shop's seeded store.
func demoSuggester(b *testing.B) *Suggester {
	b.Helper()
	ctx := context.Background()
	st := inmem.New(nil)
	if _, err := shop.EnsureSeeded(ctx, created{st}, time.Now()); err != nil {
		b.Fatal(err)
	}
	k, err := kb.Load(shop.KB())
	if err != nil {
		b.Fatal(err)
	}
	ix, err := kb.NewIndex(k, nil)
	if err != nil {
		b.Fatal(err)
	}
	return New(st, &Options{KB: kb.NewSearcher(ix)})
}

// BenchmarkRebuild mines the demo store's history and indexes it, as
// serve does at start and every 10 minutes.
func BenchmarkRebuild(b *testing.B) {
	s := demoSuggester(b)
	for b.Loop() {
		if _, err := s.Rebuild(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSuggest is one suggestion request over the demo store.
func BenchmarkSuggest(b *testing.B) {
	s := demoSuggester(b)
	if _, err := s.Rebuild(context.Background()); err != nil {
		b.Fatal(err)
	}
	h := []crm.Message{{Sender: crm.SenderCustomer, Text: "my parcel never arrived and the courier says it was delivered"}}
	for b.Loop() {
		if _, err := s.Suggest(context.Background(), h, Vars{CustomerName: "Ana"}); err != nil {
			b.Fatal(err)
		}
	}
}

// fakeDrafter drafts a fixed text, or fails; it records the message asked.
type fakeDrafter struct {
	text  string
	err   error
	asked []string
}

func (f *fakeDrafter) Draft(_ context.Context, message string, v Vars) (string, error) {
	f.asked = append(f.asked, message)
	return Fill(f.text, v), f.err
}

func TestSuggestDraft(t *testing.T) {
	msgs := []crm.Message{{Sender: crm.SenderCustomer, Text: "how long do I have to return an item?"}}
	tests := []struct {
		name      string
		drafter   *fakeDrafter
		wantDraft string // "" for none
	}{
		{"draft follows the ranked suggestions", &fakeDrafter{text: "Hi {{customer.name}}, you have 30 days to send it back."}, "Hi Maria, you have 30 days to send it back."},
		{"failing drafter leaves it out", &fakeDrafter{text: "unused", err: errors.New("model gone")}, ""},
		{"empty draft left out", &fakeDrafter{text: "  "}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(newStore(t, nil), &Options{KB: demoKB(t), Drafter: tt.drafter})
			got, err := s.Suggest(context.Background(), msgs, Vars{CustomerName: "Maria"})
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.drafter.asked) != 1 || tt.drafter.asked[0] != msgs[0].Text {
				t.Errorf("drafter asked %q, want the customer's message once", tt.drafter.asked)
			}
			var drafts []Suggestion
			for i, sg := range got {
				if sg.Source == SourceDraft {
					drafts = append(drafts, sg)
					if i != len(got)-1 {
						t.Errorf("draft at %d of %d: want it last", i, len(got))
					}
				}
			}
			switch {
			case tt.wantDraft == "" && len(drafts) != 0:
				t.Errorf("drafts %+v, want none", drafts)
			case tt.wantDraft != "" && (len(drafts) != 1 || drafts[0].Text != tt.wantDraft || !strings.HasPrefix(drafts[0].ID, "draft:")):
				t.Errorf("drafts %+v, want one: %q", drafts, tt.wantDraft)
			}
			if len(got)-len(drafts) == 0 {
				t.Errorf("no ranked suggestions beside the draft: %+v", got)
			}
		})
	}
}
