package seq2seq

import (
	"context"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/datasets"
	"github.com/parleyhq/parley/nlp/dataset"
)

const bitextFile = "bitext_customer_support/Bitext_Sample_Customer_Support_Training_Dataset.csv"

// bitextPairs reads the Bitext sample's (instruction, response) pairs by
// split.
func bitextPairs(t testing.TB) (train, val, test []Pair) {
	t.Helper()
	path := datasets.Path(t, bitextFile)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := dataset.ReadBitextPairs(path, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		p := Pair{Question: r.Instruction, Answer: r.Response}
		switch r.Split {
		case dataset.SplitTest:
			test = append(test, p)
		case dataset.SplitVal:
			val = append(val, p)
		default:
			train = append(train, p)
		}
	}
	return train, val, test
}

// TestBitextSeq2seq trains with DefaultOptions on the Bitext train split
// (validation: the val split) and reports ROUGE-L, placeholder F1 and
// decoding latency on 200 test pairs. Slow: only with PARLEY_LONG=1.
func TestBitextSeq2seq(t *testing.T) {
	if os.Getenv("PARLEY_LONG") != "1" {
		t.Skip("full Bitext training: set PARLEY_LONG=1")
	}
	train, val, test := bitextPairs(t)
	o := DefaultOptions
	o.Validation = val
	var epochs []Epoch
	o.Progress = func(e Epoch) {
		epochs = append(epochs, e)
		t.Logf("epoch %d/%d: loss %.3f, val loss %.3f, best %v, %s", e.Epoch, e.Epochs, e.Loss, e.ValLoss, e.Best, e.Elapsed.Round(time.Second))
	}
	start := time.Now()
	m, err := Train(context.Background(), train, o)
	if err != nil {
		t.Fatal(err)
	}
	meta := m.Meta()
	t.Logf("trained on %d pairs in %s: vocab %d (in %d), %d epochs, best %d, val loss %.3f",
		len(train), time.Since(start).Round(time.Second), meta.Vocab, meta.InVocab, meta.Epochs, meta.BestEpoch, meta.ValLoss)

	test = test[:min(200, len(test))]
	var rouge, rougeFull float64
	var tp, fp, fn int
	lat := make([]time.Duration, 0, len(test))
	empty := 0
	for i, p := range test {
		t0 := time.Now()
		got := m.Generate(p.Question, 1)
		lat = append(lat, time.Since(t0))
		if strings.TrimSpace(got) == "" {
			empty++
		}
		gold := Tokenize(p.Answer)
		rouge += rougeL(Tokenize(got), gold[:min(len(gold), meta.MaxOut)])
		rougeFull += rougeL(Tokenize(got), gold)
		a, b, c := placeholderCounts(Tokenize(got), gold)
		tp, fp, fn = tp+a, fp+b, fn+c
		if i < 3 {
			t.Logf("Q: %s\nA: %s", p.Question, got)
		}
	}
	slices.Sort(lat)
	f1 := 0.0
	if tp > 0 {
		f1 = 2 * float64(tp) / float64(2*tp+fp+fn)
	}
	t.Logf("test (%d pairs, greedy): ROUGE-L F %.3f against the gold cut at %d tokens, %.3f against the whole gold; placeholder F1 %.3f (tp %d fp %d fn %d); decode p50 %s p95 %s",
		len(test), rouge/float64(len(test)), meta.MaxOut, rougeFull/float64(len(test)), f1, tp, fp, fn, lat[len(lat)/2], lat[len(lat)*95/100])
	var beamLat []time.Duration
	for _, p := range test[:50] {
		t0 := time.Now()
		m.Generate(p.Question, 4)
		beamLat = append(beamLat, time.Since(t0))
	}
	slices.Sort(beamLat)
	t.Logf("beam 4 on 50 pairs: decode p50 %s p95 %s", beamLat[len(beamLat)/2], beamLat[len(beamLat)*95/100])

	if empty > 0 {
		t.Errorf("%d empty answers", empty)
	}
	// Sane, not tuned: the loss fell from that of a uniform guess, and
	// over the epochs.
	if uniform := math.Log(float64(meta.Vocab)); !(meta.ValLoss > 0 && meta.ValLoss < uniform) {
		t.Errorf("val loss %.3f, a uniform guess scores %.3f", meta.ValLoss, uniform)
	}
	if n := len(epochs); n > 1 && !(epochs[n-1].Loss < epochs[0].Loss) {
		t.Errorf("training loss %.3f after %d epochs, %.3f after the first", epochs[n-1].Loss, n, epochs[0].Loss)
	}
}

// rougeL is the ROUGE-L F-measure (beta 1) of a candidate against a
// reference, from their longest common subsequence of tokens.
func rougeL(cand, ref []string) float64 {
	if len(cand) == 0 || len(ref) == 0 {
		return 0
	}
	prev, cur := make([]int, len(ref)+1), make([]int, len(ref)+1)
	for _, c := range cand {
		for j, r := range ref {
			if c == r {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(cur[j], prev[j+1])
			}
		}
		prev, cur = cur, prev
	}
	lcs := float64(prev[len(ref)])
	if lcs == 0 {
		return 0
	}
	p, r := lcs/float64(len(cand)), lcs/float64(len(ref))
	return 2 * p * r / (p + r)
}

// placeholderCounts compares the sets of placeholders of a generated and
// a gold answer: true positives, false positives, false negatives.
func placeholderCounts(got, gold []string) (tp, fp, fn int) {
	set := func(toks []string) map[string]bool {
		s := map[string]bool{}
		for _, t := range toks {
			if isPlaceholder(t) {
				s[t] = true
			}
		}
		return s
	}
	g, w := set(got), set(gold)
	for p := range g {
		if w[p] {
			tp++
		} else {
			fp++
		}
	}
	for p := range w {
		if !g[p] {
			fn++
		}
	}
	return tp, fp, fn
}
