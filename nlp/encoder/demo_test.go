package encoder

import (
	"context"
	"testing"

	"github.com/parleyhq/parley/internal/shoptest"

	"github.com/parleyhq/parley/nlp/kb"
)

// hybridSearcher is BM25 (weight 1) plus the encoder's cosine (weight w).
func hybridSearcher(ix *kb.Index, r *Retriever, w float64, c kb.Calibration) *kb.Searcher {
	return &kb.Searcher{Index: ix, Calibration: c, Signals: []kb.Signal{
		{Retriever: ix.BM25Retriever(), Weight: 1}, {Retriever: r, Weight: w},
	}}
}

// tuneHybrid picks the encoder's weight on the validation questions (the
// test questions are never looked at): the best top-1, then, among equals,
// the most questions answered once the calibration is refitted for that
// weight (on the same validation questions, at hybridMaxWrong).
func tuneHybrid(ctx context.Context, t testing.TB, ix *kb.Index, r *Retriever, validation []kb.Question) (float64, kb.Calibration) {
	t.Helper()
	var (
		bestW                  float64
		bestC                  kb.Calibration
		bestTop1, bestAnswered = -1, -1
	)
	for _, w := range []float64{0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30} {
		_, samples, err := kb.Evaluate(ctx, hybridSearcher(ix, r, w, kb.DefaultCalibration), validation)
		if err != nil {
			t.Fatal(err)
		}
		c := kb.Fit(samples, hybridMaxWrong)
		rates, _, err := kb.Evaluate(ctx, hybridSearcher(ix, r, w, c), validation)
		if err != nil {
			t.Fatal(err)
		}
		if rates.Top1 > bestTop1 || (rates.Top1 == bestTop1 && rates.Answered > bestAnswered) {
			bestW, bestC, bestTop1, bestAnswered = w, c, rates.Top1, rates.Answered
		}
	}
	return bestW, bestC
}

// hybridMaxWrong is the wrong-answer share the threshold allows on the
// validation half: nlp/kb's calibrationMaxWrong, for the same reason (a
// threshold fitted on 70 questions is optimistic about unseen ones).
const hybridMaxWrong = 0.01

// The demo help centre's figures for BM25 + encoder, the encoder trained on
// KBPairs of the demo articles alone (chosen on the validation half over
// adding the Bitext pairs, which lowered validation top-1 from 55/60 to
// 54/60 and the answered share too). The targets are top-1 >= 85%
// and wrong < 5% of answered; the floors are what the hybrid reaches
// (BM25 alone: 81.7% and 11.1%), so that a regression fails.
const (
	minHybridTop1     = 0.85
	maxHybridWrong    = 0.07 // target 0.05: not reached (3 of 45, 6.7%)
	minHybridAnswered = 0.60
)

// TestDemoHybrid trains the encoder on the demo articles, tunes the hybrid
// and its calibration on the validation half, and measures the test half.
func TestDemoHybrid(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a full-size encoder")
	}
	ctx := t.Context()
	ix := shoptest.KBIndex(t)
	validation, test := shoptest.KBQuestions(t)
	pairs := KBPairs(ix)
	e, err := Train(ctx, pairs, KBOptions)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRetriever(e, ix)
	w, c := tuneHybrid(ctx, t, ix, r, validation)
	t.Logf("%d training pairs; encoder weight %v; calibration %+v", len(pairs), w, c)
	s := hybridSearcher(ix, r, w, c)
	for _, half := range []struct {
		name string
		qs   []kb.Question
	}{{"validation", validation}, {"test", test}} {
		rates, _, err := kb.Evaluate(ctx, s, half.qs)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %v", half.name, rates)
		if half.name != "test" {
			continue
		}
		if rates.Top1Rate() < minHybridTop1 {
			t.Errorf("test top-1 %.3f, want >= %.2f", rates.Top1Rate(), minHybridTop1)
		}
		if rates.WrongRate() >= maxHybridWrong {
			t.Errorf("test wrong among answered %.3f, want < %.2f", rates.WrongRate(), maxHybridWrong)
		}
		if rates.AnsweredRate() < minHybridAnswered {
			t.Errorf("test answered %.3f, want >= %.2f", rates.AnsweredRate(), minHybridAnswered)
		}
	}
}
