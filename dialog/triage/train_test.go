package triage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/models"
	"github.com/parleyhq/parley/nlp/nlu"
)

// TestTrainRoutingBeatsBaseline trains on the demo history (read through
// keywordNLU) and checks that every learner family learns something real.
func TestTrainRoutingBeatsBaseline(t *testing.T) {
	ds := dataset(t)
	for _, kind := range []Kind{Tree, LogReg, SVM} {
		t.Run(string(kind), func(t *testing.T) {
			m, rep, err := TrainRouting(context.Background(), ds, opts(t, Options{Model: kind, Seed: 1, Folds: 4}))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Conversations < 100 || rep.Folds != 4 {
				t.Errorf("report: %d conversations, %d folds", rep.Conversations, rep.Folds)
			}
			q, p := rep.Queue.ChosenScore(), rep.Priority.ChosenScore()
			t.Logf("%s: queue %v acc %.3f F1 %.3f (baseline %.3f / %.3f); priority %v acc %.3f F1 %.3f (baseline %.3f / %.3f)",
				kind, rep.Queue.Chosen, q.Accuracy, q.MacroF1, rep.Queue.Baseline.Accuracy, rep.Queue.Baseline.MacroF1,
				rep.Priority.Chosen, p.Accuracy, p.MacroF1, rep.Priority.Baseline.Accuracy, rep.Priority.Baseline.MacroF1)
			if q.Accuracy < rep.Queue.Baseline.Accuracy+0.3 || q.MacroF1 < rep.Queue.Baseline.MacroF1+0.3 {
				t.Errorf("queue: %+v does not beat the baseline %+v clearly", q, rep.Queue.Baseline)
			}
			if p.Accuracy < rep.Priority.Baseline.Accuracy+0.03 || p.MacroF1 < rep.Priority.Baseline.MacroF1+0.15 {
				t.Errorf("priority: %+v does not beat the baseline %+v", p, rep.Priority.Baseline)
			}
			if q.Accuracy > 0.99 || p.Accuracy > 0.99 {
				t.Errorf("queue %.3f, priority %.3f: the history should be noisy, not trivial", q.Accuracy, p.Accuracy)
			}
			if rep.Queue.Chosen.Kind != kind || rep.Priority.Chosen.Kind != kind {
				t.Errorf("chose %v and %v, want %s", rep.Queue.Chosen, rep.Priority.Chosen, kind)
			}
			if m.queue.learner != rep.Queue.Chosen {
				t.Errorf("model uses %v, report says %v", m.queue.learner, rep.Queue.Chosen)
			}
		})
	}
}

func TestTrainRoutingAutoChoosesBest(t *testing.T) {
	_, rep, err := TrainRouting(context.Background(), dataset(t), opts(t, Options{Model: Auto, Seed: 2}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []TargetReport{rep.Queue, rep.Priority} {
		if len(tr.Tried) != 7 || len(tr.Scores) != 7 {
			t.Fatalf("tried %v", tr.Tried)
		}
		for i, s := range tr.Scores {
			if s.MacroF1 > tr.ChosenScore().MacroF1 {
				t.Errorf("chose %v (F1 %.3f) over %v (F1 %.3f)", tr.Chosen, tr.ChosenScore().MacroF1, tr.Tried[i], s.MacroF1)
			}
		}
	}
}

func TestTrainSatisfactionBeatsBaseline(t *testing.T) {
	m, rep, err := TrainSatisfaction(context.Background(), dataset(t), opts(t, Options{Seed: 1}))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *rep)
	if rep.Conversations < 200 || rep.Samples <= rep.Conversations || rep.Low == 0 {
		t.Errorf("report: %+v", *rep)
	}
	if rep.AUC < 0.6 || rep.AUC < rep.BaseAUC+0.1 {
		t.Errorf("AUC %.3f, baseline %.3f: want at least 0.6 and 0.1 above", rep.AUC, rep.BaseAUC)
	}
	if rep.Brier >= rep.BaseBrier {
		t.Errorf("Brier %.4f, not below the base rate's %.4f", rep.Brier, rep.BaseBrier)
	}
	if rep.Threshold < 0.5 || rep.Threshold > 1 || m.Threshold() != rep.Threshold {
		t.Errorf("threshold %v (model %v)", rep.Threshold, m.Threshold())
	}
}

// TestRouteExplains: the reason of a tree's decision is its path, and every
// condition on it names a real feature.
func TestRouteExplains(t *testing.T) {
	ds := dataset(t)
	m, _, err := TrainRouting(context.Background(), ds, opts(t, Options{Seed: 1}))
	if err != nil {
		t.Fatal(err)
	}
	names := m.FeatureNames()
	checked := 0
	for _, c := range ds.Conversations[:60] {
		r, err := m.Route(context.Background(), c.Situations[len(c.Situations)-1])
		if err != nil {
			t.Fatal(err)
		}
		if r.Queue == "" || !slices.Contains(priorities, r.Priority) {
			t.Fatalf("route = %+v", r)
		}
		qpart, ppart, ok := strings.Cut(strings.TrimPrefix(r.Reason, "routed by model: "), "; priority ")
		if !ok || !strings.HasPrefix(qpart, "queue ") || !strings.HasSuffix(qpart, "-> "+r.Queue) || !strings.HasSuffix(ppart, "-> "+string(r.Priority)) {
			t.Fatalf("reason %q does not end in its decisions %s/%s", r.Reason, r.Queue, r.Priority)
		}
		for _, part := range []string{strings.TrimPrefix(qpart, "queue "), ppart} {
			conds, _, _ := strings.Cut(part, " -> ")
			for _, cond := range strings.Split(conds, " + ") {
				// "intent=x", "not intent=x", "wait_minutes > 9.3 (is 12)",
				// "0.5 < last_rating <= 4.5 (is 3)"
				fields := strings.Fields(strings.TrimPrefix(cond, "not "))
				name := fields[0]
				if len(fields) > 2 && fields[1] == "<" {
					name = fields[2]
				}
				if !slices.Contains(names, name) {
					t.Errorf("reason %q names %q, which is no feature", r.Reason, name)
				}
				checked++
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d conditions checked", checked)
	}
}

func TestLinearRouteExplains(t *testing.T) {
	ds := dataset(t)
	m, _, err := TrainRouting(context.Background(), ds, opts(t, Options{Model: LogReg, Seed: 1}))
	if err != nil {
		t.Fatal(err)
	}
	sit := ds.Conversations[0].Situations[0]
	r, err := m.Route(context.Background(), sit)
	if err != nil {
		t.Fatal(err)
	}
	// "queue intent=x (+1.23) + ... -> q; priority ... -> p"
	if !strings.Contains(r.Reason, "(+") || !strings.Contains(r.Reason, "-> "+r.Queue) {
		t.Errorf("reason %q", r.Reason)
	}
}

// oneQueue is a dataset where every handed-off conversation went to billing
// and every rating is good.
func oneQueue(n int) *Dataset {
	ds := &Dataset{}
	for i := range n {
		ds.Conversations = append(ds.Conversations, Conversation{
			Situations: []dialog.Situation{{Messages: []dialog.Line{msg(0, fmt.Sprint("m", i), "refund_status")}}},
			Queue:      "billing", Priority: []crm.Priority{crm.PriorityHigh, crm.PriorityLow}[i%2], Rating: 4,
		})
	}
	return ds
}

func TestTrainBadInput(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		ds    *Dataset
		opts  Options
		route error // nil: routing trains
		sat   error
	}{
		{"empty", &Dataset{}, opts(t, Options{}), ErrNoData, ErrNoData},
		{"fewer conversations than folds", oneQueue(3), opts(t, Options{}), ErrNoData, ErrNoData},
		{"one queue, all ratings good", oneQueue(12), opts(t, Options{}), ErrOneClass, ErrOneClass},
		{"one fold", oneQueue(12), opts(t, Options{Folds: 1}), ErrOption, ErrOption},
		{"unknown learner", oneQueue(12), opts(t, Options{Model: "forest"}), ErrOption, ErrOption},
		{"no domain", oneQueue(12), Options{}, ErrOption, ErrOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, err := TrainRouting(ctx, tt.ds, tt.opts)
			if !errors.Is(err, tt.route) || m != nil {
				t.Errorf("routing: %v, want %v", err, tt.route)
			}
			s, _, err := TrainSatisfaction(ctx, tt.ds, tt.opts)
			if !errors.Is(err, tt.sat) || s != nil {
				t.Errorf("satisfaction: %v, want %v", err, tt.sat)
			}
		})
	}
}

// TestCuesComeFromTheDomain: the cue_words feature counts the domain's
// frustration cues (the list the engine's policy uses), and the model keeps
// them.
func TestCuesComeFromTheDomain(t *testing.T) {
	ds := dataset(t)
	o := opts(t, Options{Seed: 1, Folds: 2})
	if want := o.Domain.Policy.FrustrationCues; len(want) == 0 {
		t.Fatal("the demo shop's domain has no frustration cues")
	}
	own := *o.Domain
	own.Policy.FrustrationCues = []string{"Banana", "banana"}
	for _, tc := range []struct {
		name   string
		domain *dialog.Domain
		want   []string
	}{
		{"the demo shop", o.Domain, o.Domain.Policy.FrustrationCues},
		{"a domain of its own", &own, []string{"banana"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := o
			o.Domain = tc.domain
			rm, _, err := TrainRouting(context.Background(), ds, o)
			if err != nil {
				t.Fatal(err)
			}
			sm, _, err := TrainSatisfaction(context.Background(), ds, o)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rm.spec.Cues, tc.want) || !slices.Equal(sm.spec.Cues, tc.want) {
				t.Errorf("routing cues %q, satisfaction cues %q, want %q", rm.spec.Cues, sm.spec.Cues, tc.want)
			}
		})
	}
}

func TestFitHeadBadInput(t *testing.T) {
	names := []string{"a", "b"}
	classes := []string{"x", "y"}
	good := [][]float64{{0, 1}, {1, 0}, {0, 2}, {2, 0}}
	tests := []struct {
		name string
		X    [][]float64
		y    []int
		want error
	}{
		{"no rows", nil, nil, ErrNoData},
		{"NaN", [][]float64{{0, math.NaN()}, {1, 0}}, []int{0, 1}, models.ErrNonFinite},
		{"Inf", [][]float64{{0, 1}, {math.Inf(-1), 0}}, []int{0, 1}, models.ErrNonFinite},
		{"ragged rows", [][]float64{{0, 1}, {1}}, []int{0, 1}, models.ErrDimension},
		{"labels and rows differ", good, []int{0, 1}, models.ErrDimension},
		{"label out of range", good, []int{0, 1, 2, 0}, models.ErrLabel},
		{"one class", good, []int{1, 1, 1, 1}, ErrOneClass},
	}
	for _, tt := range tests {
		for _, l := range []Learner{{Kind: Tree, Depth: 3}, {Kind: LogReg, C: 1}, {Kind: SVM, C: 1}} {
			t.Run(tt.name+"/"+string(l.Kind), func(t *testing.T) {
				h, err := fitHead(l, names, classes, tt.X, tt.y, 1)
				if !errors.Is(err, tt.want) || h != nil {
					t.Errorf("fitHead = %v, want %v", err, tt.want)
				}
			})
		}
	}
	h, err := fitHead(Learner{Kind: LogReg, C: 1}, names, classes, good, []int{0, 1, 0, 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.predict([]float64{1}); !errors.Is(err, models.ErrDimension) {
		t.Errorf("predict on a short row: %v", err)
	}
}

// countingNLU counts the parses it makes.
type countingNLU struct {
	mu sync.Mutex
	n  map[string]int // guarded by mu
}

func (c *countingNLU) Parse(ctx context.Context, text string) (*nlu.Result, error) {
	c.mu.Lock()
	c.n[text]++
	c.mu.Unlock()
	return keywordNLU{}.Parse(ctx, text)
}

func TestReadDataset(t *testing.T) {
	ctx := context.Background()
	db := seededStore(t)
	p := &countingNLU{n: map[string]int{}}
	ds, err := ReadDataset(ctx, db, p)
	if err != nil {
		t.Fatal(err)
	}
	for text, n := range p.n {
		if n != 1 {
			t.Errorf("%q parsed %d times", text, n)
		}
	}
	if ds.Parsed < 1000 || ds.Unparsed != 0 {
		t.Errorf("parsed %d, unparsed %d", ds.Parsed, ds.Unparsed)
	}
	handed, rated := 0, 0
	for _, c := range ds.Conversations {
		if c.HandedOff() {
			handed++
		}
		if c.Rating > 0 {
			rated++
		}
		for _, s := range c.Situations {
			last := s.Messages[len(s.Messages)-1]
			if last.Sender != crm.SenderCustomer || last.Parse == nil || s.Customer == nil {
				t.Fatalf("situation ends with %+v", last)
			}
			for _, m := range s.Messages {
				if m.Sender == crm.SenderAgent {
					t.Fatalf("situation includes an agent's message %q", m.Text)
				}
			}
		}
	}
	if len(ds.Conversations) < 300 || handed < 120 || rated < 200 {
		t.Errorf("%d conversations, %d handed off, %d rated", len(ds.Conversations), handed, rated)
	}

	// A stored parse is used as is; without a parser, nothing is parsed.
	conv, err := db.CreateConversation(ctx, crm.Conversation{ID: "conv-live", Channel: crm.ChannelWeb, CustomerID: "c-002"})
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "a text no one parses"})
	if err != nil {
		t.Fatal(err)
	}
	complaint, _ := json.Marshal(msg(0, "", "complaint").Parse)
	if err := db.SetMessageParse(ctx, conv.ID, m.Seq, complaint); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateConversation(ctx, conv.ID, func(c *crm.Conversation) error { c.State = crm.StateResolved; return nil }); err != nil {
		t.Fatal(err)
	}
	p2 := &countingNLU{n: map[string]int{}}
	if _, err := ReadDataset(ctx, db, p2); err != nil {
		t.Fatal(err)
	}
	if p2.n["a text no one parses"] != 0 {
		t.Error("a message with a stored parse was parsed again")
	}
	bare, err := ReadDataset(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bare.Parsed != 0 || bare.Unparsed == 0 {
		t.Errorf("without a parser: parsed %d, unparsed %d", bare.Parsed, bare.Unparsed)
	}
}

func TestPathConditions(t *testing.T) {
	tests := []struct {
		name  string
		steps []models.Step
		want  []string
	}{
		{"no steps", nil, []string{"most conversations"}},
		{"bounds merge per feature", []models.Step{
			{Name: "wait_minutes", Threshold: 7.2, Value: 12, Left: false},
			{Name: "cue_words", Threshold: 0.5, Value: 3, Left: false},
			{Name: "wait_minutes", Threshold: 9.3, Value: 12, Left: false},
			{Name: "wait_minutes", Threshold: 20, Value: 12, Left: true},
		}, []string{"9.3 < wait_minutes <= 20 (is 12)", "cue_words > 0.5 (is 3)"}},
		{"upper bound only", []models.Step{{Name: "last_rating", Threshold: 2.5, Value: 2, Left: true}},
			[]string{"last_rating <= 2.5 (is 2)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pathConditions(models.Path{Steps: tt.steps})
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestScoreSaysWhy: an escalation names the features that raise the risk.
func TestScoreSaysWhy(t *testing.T) {
	ds := dataset(t)
	m, _, err := TrainSatisfaction(context.Background(), ds, opts(t, Options{Seed: 1}))
	if err != nil {
		t.Fatal(err)
	}
	features := m.names
	escalated := 0
	for _, c := range ds.Conversations {
		for _, s := range c.Situations {
			r, err := m.Score(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			if !(r.P >= 0 && r.P <= 1) || r.Escalate != (r.P >= m.Threshold()) {
				t.Fatalf("risk %+v with threshold %v", r, m.Threshold())
			}
			if !r.Escalate {
				if r.Reason != "" {
					t.Errorf("a reason without escalation: %q", r.Reason)
				}
				continue
			}
			escalated++
			for _, n := range strings.Split(r.Reason, ", ") {
				if !slices.Contains(features, n) {
					t.Errorf("reason %q names %q, which is no feature", r.Reason, n)
				}
			}
		}
	}
	if escalated == 0 {
		t.Error("no situation of the history reaches the threshold")
	}
}
