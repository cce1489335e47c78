package encoder

import (
	"os"
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

// TestBitextRetrieval trains the encoder on the Bitext sample's training
// split and ranks, for each test instruction, its own response among all
// the test split's responses, by BM25, by the encoder, and by the hybrid
// whose weight is chosen on the validation split. The target: the
// encoder or the hybrid beats BM25 by 5 points of R@1. Training takes about
// 40 s on two cores, ten times that under the race detector, so it is a
// full run, not a unit test: it runs with PARLEY_LONG=1
// (PARLEY_LONG=1 go test -run TestBitextRetrieval -v ./nlp/encoder), and
// then without the dataset it skips, or fails under CI=true.
func TestBitextRetrieval(t *testing.T) {
	if os.Getenv("PARLEY_LONG") != "1" {
		t.Skip("a full training run: set PARLEY_LONG=1")
	}
	train, val, test := bitextPairs(t)
	t.Logf("pairs: train %d, validation %d, test %d", len(train), len(val), len(test))
	o := DefaultOptions
	o.Validation = val
	o.Progress = func(ep Epoch) {
		t.Logf("epoch %d/%d: loss %.4f, validation R@1 %.3f%s (%v)", ep.Epoch, ep.Epochs, ep.Loss, ep.ValR1, map[bool]string{true: " *"}[ep.Best], ep.Elapsed.Round(time.Millisecond))
	}
	start := time.Now()
	e, err := Train(t.Context(), train, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("trained in %v: %d features, dim %d", time.Since(start).Round(time.Millisecond), e.Meta().Features, e.Dim())

	ctx := t.Context()
	vq, va, vgold := Candidates(val)
	vcos := EncoderScores(e, vq, va)
	vbm, err := BM25Scores(ctx, vq, va)
	if err != nil {
		t.Fatal(err)
	}
	w, vm := ChooseWeight(vcos, vbm, vgold)
	t.Logf("validation: hybrid weight %.2f: %v", w, vm)

	tq, ta, tgold := Candidates(test)
	cos := EncoderScores(e, tq, ta)
	bm, err := BM25Scores(ctx, tq, ta)
	if err != nil {
		t.Fatal(err)
	}
	mb, me, mh := Recall(bm, tgold), Recall(cos, tgold), Recall(Hybrid(cos, bm, w), tgold)
	t.Logf("test, %d candidates:", len(ta))
	t.Logf("  BM25     %v", mb)
	t.Logf("  encoder  %v", me)
	t.Logf("  hybrid   %v (weight %.2f)", mh, w)
	if best := max(me.R1, mh.R1); best < mb.R1+0.05 {
		t.Errorf("best R@1 %.3f, want BM25's %.3f + 0.05", best, mb.R1)
	}
}
