package encoder

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/parleyhq/parley/internal/shoptest"
	"github.com/parleyhq/parley/nlp/kb"
)

// TestKBSearcherIsTuned retunes the hybrid on the demo's validation half
// and checks that KBWeight and KBCalibration hold what it chose, so that a
// change to the articles, the encoder or the scorer cannot leave them
// stale; then it reports NewKBSearcher's figures on both halves.
func TestKBSearcherIsTuned(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a full-size encoder")
	}
	ctx := t.Context()
	ix := shoptest.KBIndex(t)
	validation, test := shoptest.KBQuestions(t)
	e, trained, err := OpenKB(ctx, ix, t.TempDir(), nil)
	if err != nil || !trained {
		t.Fatalf("trained %v, err %v", trained, err)
	}
	r := NewRetriever(e, ix)
	w, got := tuneKB(ctx, t, ix, r, validation)
	want := KBCalibration
	close := func(a, b float64) bool { return math.Abs(a-b) <= 0.01*math.Max(1, math.Abs(b)) }
	if w != KBWeight || !close(got.Score, want.Score) || !close(got.Margin, want.Margin) || !close(got.Coverage, want.Coverage) ||
		!close(got.Bias, want.Bias) || !close(got.Threshold, want.Threshold) {
		t.Errorf("KBWeight and KBCalibration are stale; set them to\nconst KBWeight = %v\nvar KBCalibration = kb.Calibration{Score: %.4f, Margin: %.4f, Coverage: %.4f, Bias: %.4f, Threshold: %.4f}",
			w, got.Score, got.Margin, got.Coverage, got.Bias, got.Threshold)
	}
	s := NewKBSearcher(ix, r)
	for _, half := range []struct {
		name string
		qs   []kb.Question
	}{{"validation", validation}, {"test", test}} {
		rates, _, err := kb.Evaluate(ctx, s, half.qs)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %v", half.name, rates)
		if half.name == "test" && (rates.Top1Rate() < minHybridTop1 || rates.WrongRate() >= maxHybridWrong || rates.AnsweredRate() < minHybridAnswered) {
			t.Errorf("test: %v, want top-1 >= %.2f, wrong < %.2f, answered >= %.2f", rates, minHybridTop1, maxHybridWrong, minHybridAnswered)
		}
	}
}

// tuneKB is tuneHybrid (the weight) followed by kb.FitCV's calibration on
// the validation half, at kb.WrongLimit.
func tuneKB(ctx context.Context, t testing.TB, ix *kb.Index, r *Retriever, validation []kb.Question) (float64, kb.Calibration) {
	t.Helper()
	w, _ := tuneHybrid(ctx, t, ix, r, validation)
	_, samples, err := kb.Evaluate(ctx, hybridSearcher(ix, r, w, kb.DefaultCalibration), validation)
	if err != nil {
		t.Fatal(err)
	}
	c, cv := kb.FitCV(samples, kb.WrongLimit)
	t.Logf("weight %v; validation %v", w, cv)
	return w, c
}

// TestOpenKBCaches: the first OpenKB trains and saves, the next loads the
// same model, and changed articles or a damaged file train again.
func TestOpenKBCaches(t *testing.T) {
	ctx := t.Context()
	arts := []kb.Article{
		{ID: "returns", Title: "Sending things back", Tags: []string{"refund"}, Passages: []kb.Passage{{Heading: "Window", Text: "You can send items back within 30 days of delivery. Refunds reach your card in five days."}}},
		{ID: "garden", Title: "Garden tools", Passages: []kb.Passage{{Text: "We sell spades and rakes for the garden. Every tool has a two year warranty."}}},
	}
	index := func(arts []kb.Article) *kb.Index {
		ix, err := kb.NewIndex(&kb.KB{Articles: arts}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ix
	}
	dir := filepath.Join(t.TempDir(), "kb-encoder")
	epochs := 0
	e1, trained, err := OpenKB(ctx, index(arts), dir, func(Epoch) { epochs++ })
	if err != nil || !trained || epochs != KBOptions.Epochs {
		t.Fatalf("first: trained %v, %d epochs heard, err %v", trained, epochs, err)
	}
	e2, trained, err := OpenKB(ctx, index(arts), dir, nil)
	if err != nil || trained {
		t.Fatalf("second: trained %v, err %v", trained, err)
	}
	q := "can I get a refund"
	if a, b := e1.EncodeQuestion(q), e2.EncodeQuestion(q); Dot(a, b) < 0.9999 {
		t.Errorf("the loaded encoder differs: cosine %v", Dot(a, b))
	}
	changed := append([]kb.Article(nil), arts...)
	changed[1].Passages = []kb.Passage{{Text: "We sell spades, rakes and hoses for the garden."}}
	if _, trained, err := OpenKB(ctx, index(changed), dir, nil); err != nil || !trained {
		t.Errorf("changed articles: trained %v, err %v", trained, err)
	}
	if err := os.WriteFile(filepath.Join(dir, WeightsFile), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, trained, err := OpenKB(ctx, index(changed), dir, nil); err != nil || !trained {
		t.Errorf("damaged weights: trained %v, err %v", trained, err)
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := OpenKB(ctx2, index(arts), t.TempDir(), nil); err == nil {
		t.Error("a cancelled training succeeded")
	}
}
