package encoder

import (
	"context"
	"testing"

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

// hybridMaxWrong is the wrong-answer share at which tuneHybrid compares
// how many questions each weight answers (the final calibration's share is
// chosen by cross-validation: tuneKB).
const hybridMaxWrong = 0.01

// The demo help centre's figures for BM25 + encoder (NewKBSearcher), the
// encoder trained on KBPairs of the demo articles alone (chosen on the
// validation half over adding the Bitext pairs, which lowered validation
// top-1 from 55/60 to 54/60 and the answered share too; the articles'
// example questions raised it on 144 validation questions from 99/122
// to 102/122). The targets are top-1 >= 85% and wrong < 5% of
// answered; the hybrid reaches both on the test half (51 of 60; 2 of 43
// answers wrong, 4.7%), and the floors are those figures, so that a
// regression fails.
const (
	minHybridTop1     = 0.85
	maxHybridWrong    = 0.05
	minHybridAnswered = 0.60
)
