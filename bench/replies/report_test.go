package main

import (
	"bytes"
	"strings"
	"testing"

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
	render(&b, r, 812, 30000, 12.5)
	out := b.String()
	for _, want := range []string{"| hybrid (weight 0.00) | 63.4 | 90.0 | 0.750 |", "12.5 ms among 30000 candidates", "peak 812 MiB resident",
		`| where \| is it | line one line two | ` + strings.Repeat("x", 300) + "… |"} {
		if !strings.Contains(out, want) {
			t.Errorf("render lacks %q:\n%s", want, out)
		}
	}
	if got := peakResident("wrote x\npeak memory: 300 MiB heap in use, 812 MiB resident (VmHWM)\n"); got != 812 {
		t.Errorf("peakResident = %d, want 812", got)
	}
}
