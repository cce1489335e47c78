package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/replies"
)

func TestVerdict(t *testing.T) {
	var r replies.Report
	r.Generation.NearestNeighbour.RougeL = 0.5
	r.Generation.Seq2seq = replies.GenMetrics{RougeL: 0.55, PlaceholderF1: 0.97}
	if v := verdict(r); !strings.HasPrefix(v, "seq2seq passes") {
		t.Errorf("better ROUGE-L and placeholders: %q", v)
	}
	r.Generation.Seq2seq.PlaceholderF1 = 0.9
	if v := verdict(r); !strings.Contains(v, "drafts for agents only") {
		t.Errorf("placeholder F1 under 0.95: %q", v)
	}
	r.Generation.Seq2seq = replies.GenMetrics{RougeL: 0.4, PlaceholderF1: 1}
	if v := verdict(r); !strings.Contains(v, "does not pass") {
		t.Errorf("lower ROUGE-L: %q", v)
	}
}

func TestRender(t *testing.T) {
	var r replies.Report
	r.N, r.Candidates, r.Beam = 450, 440, 1
	r.Retrieval.Hybrid = replies.Ranking{R1: 0.634, R5: 0.9, MRR: 0.75}
	r.Samples = []replies.Sample{{Question: "where | is it", Gold: "line one\nline two", Seq2seq: strings.Repeat("x", 400)}}
	var b bytes.Buffer
	render(&b, r, replies.GenMetrics{RougeL: 0.3, PlaceholderF1: 0.562}, 812, 30000, 12.5)
	out := b.String()
	for _, want := range []string{"| hybrid (weight 0.00) | 63.4 | 90.0 | 0.750 |", "12.5 ms among 30000 candidates", "peak 812 MiB resident",
		"| oracle: best reply for the gold intent | | | | 0.300 | 0.000 | 0.562 | 0.000 |", "placeholder F1 of 0.562 is about as far",
		`| where \| is it | line one line two | ` + strings.Repeat("x", 300) + "… |"} {
		if !strings.Contains(out, want) {
			t.Errorf("render lacks %q:\n%s", want, out)
		}
	}
	if got := peakResident("wrote x\npeak memory: 300 MiB heap in use, 812 MiB resident (VmHWM)\n"); got != 812 {
		t.Errorf("peakResident = %d, want 812", got)
	}
}

// TestIntentOracle: each test pair gets the training reply of its gold
// intent whose placeholders score the best micro F1 on that intent's
// training replies; an intent with no training reply gets "".
func TestIntentOracle(t *testing.T) {
	var rows []dataset.BitextPair
	add := func(split dataset.Split, intent, reply string) {
		rows = append(rows, dataset.BitextPair{Instruction: "q", Response: reply, Intent: intent, Split: split})
	}
	// Against {X,Y}, {X}, {X,Z}: {X} scores 2*3/(3+5) = 0.75, {X,Y} and
	// {X,Z} 2*4/(6+5) = 0.727.
	add(dataset.SplitTrain, "a", "first {{X}} then {{Y}}")
	add(dataset.SplitTrain, "a", "only {{X}}")
	add(dataset.SplitTrain, "a", "{{X}} and {{Z}}")
	add(dataset.SplitTrain, "b", "no placeholder")
	add(dataset.SplitTest, "a", "gold {{X}} {{Y}}")
	add(dataset.SplitVal, "a", "not scored")
	add(dataset.SplitTest, "b", "gold b")
	add(dataset.SplitTest, "c", "gold {{Q}}")
	oracle, gold := intentOracle(rows)
	if want := []string{"only {{X}}", "no placeholder", ""}; !slices.Equal(oracle, want) {
		t.Errorf("oracle %q, want %q", oracle, want)
	}
	if want := []string{"gold {{X}} {{Y}}", "gold b", "gold {{Q}}"}; !slices.Equal(gold, want) {
		t.Errorf("gold %q, want %q", gold, want)
	}
}
