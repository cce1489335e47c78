package seq2seq

import (
	"context"
	"math"
	"slices"
	"sync"
	"testing"
)

// TestGoForwardMatchesGraph runs three pairs of different lengths (so with
// padding) through the training graph and through the plain-Go forward
// pass with teacher forcing: the logits must agree.
func TestGoForwardMatchesGraph(t *testing.T) {
	m, _ := trainedTiny(t)
	pairs := tinyPairs()
	var data []example
	for _, i := range []int{0, 11, 37} {
		data = append(data, m.example(Tokenize(pairs[i].Question), Tokenize(pairs[i].Answer)))
	}
	data[2].src = data[2].src[:1] // a one-token question
	gr, err := buildGraph(m, len(data), m.meta.MaxIn, m.meta.MaxOut)
	if err != nil {
		t.Fatal(err)
	}
	defer gr.close()
	gr.fill(m, data, []int{0, 1, 2})
	if _, err := gr.run(); err != nil {
		t.Fatal(err)
	}
	graphLogits := slices.Clone(gr.logits.Value().Data().([]float32))
	gr.reset()
	v, to := m.out.len(), m.meta.MaxOut
	worst := 0.0
	for k, ex := range data {
		enc, s := m.encode(ex.src)
		prev := int32(bosID)
		for step, next := range ex.tgt {
			var logits []float32
			s, logits = m.stepLogits(enc, s, prev)
			want := graphLogits[(k*to+step)*v : (k*to+step+1)*v]
			for j := range logits {
				worst = max(worst, math.Abs(float64(logits[j]-want[j])))
			}
			prev = next
		}
	}
	t.Logf("largest logit difference %.2g", worst)
	if worst > 1e-4 {
		t.Errorf("Go forward and graph logits differ by %.2g, want < 1e-4", worst)
	}
}

// TestBeamBeatsGreedy checks on a half-trained model (so that the best
// answer is not obvious) that decoding with a beam gives answers at least
// as likely as greedy decoding, and that the log-probabilities the
// searches report are the model's. (Beam search alone can lose the greedy
// path, so decode keeps the better of the two.)
func TestBeamBeatsGreedy(t *testing.T) {
	o := tinyOptions()
	o.Epochs = 6
	m, err := Train(context.Background(), tinyPairs(), o)
	if err != nil {
		t.Fatal(err)
	}
	better := 0
	for _, q := range []string{"i want to cancel my order", "refund please", "how do i pay?", "track my address now", "human", "password account card"} {
		src := m.questionIDs(q)
		enc, s := m.encode(src)
		gIDs, gLP := m.greedy(enc, s)
		rawIDs, rawLP := m.beam(enc, s, 4)
		if d := math.Abs(m.score(src, rawIDs) - rawLP); d > 1e-3 {
			t.Errorf("%q: beam reports log-prob %.4f, the model gives %.4f", q, rawLP, m.score(src, rawIDs))
		}
		bIDs, bLP := m.decode(src, 4)
		if d := math.Abs(m.score(src, bIDs) - bLP); d > 1e-3 {
			t.Errorf("%q: decode reports log-prob %.4f, the model gives %.4f", q, bLP, m.score(src, bIDs))
		}
		if d := math.Abs(m.score(src, gIDs) - gLP); d > 1e-3 {
			t.Errorf("%q: greedy reports log-prob %.4f, the model gives %.4f", q, gLP, m.score(src, gIDs))
		}
		if bLP < gLP-1e-6 {
			t.Errorf("%q: beam log-prob %.4f < greedy %.4f", q, bLP, gLP)
		}
		if bLP > gLP+1e-6 {
			better++
		}
		if got := m.Generate(q, 4); got == "" && len(bIDs) > 0 {
			t.Errorf("%q: empty beam answer", q)
		}
	}
	t.Logf("beam strictly better than greedy on %d of 6 questions", better)
}

func TestGenerateOnlyKnownPlaceholders(t *testing.T) {
	m, _ := trainedTiny(t)
	for _, q := range []string{"", "{{Order Number}} {{Unknown Thing}}", "cancel track refund address", "¿dónde está mi pedido?", "password password password password password password password"} {
		for _, beam := range []int{1, 3} {
			got := m.Generate(q, beam)
			for _, tok := range Tokenize(got) {
				if _, ok := m.out.ids[tok]; !ok {
					t.Errorf("%q (beam %d): %q has token %q outside the vocabulary", q, beam, got, tok)
				}
			}
		}
	}
}

func TestTrainDeterministic(t *testing.T) {
	m1, _ := trainedTiny(t)
	o := tinyOptions()
	m2, err := Train(context.Background(), tinyPairs(), o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m1.w {
		if !slices.Equal(m1.w[i], m2.w[i]) {
			t.Fatalf("weight %d differs between two trainings with seed %d", i, o.Seed)
		}
	}
	o.Seed++
	m3, err := Train(context.Background(), tinyPairs(), o)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(m1.w[pWo], m3.w[pWo]) {
		t.Error("another seed gave the same weights")
	}
}

func TestTrainCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	o := tinyOptions()
	epochs := 0
	o.Progress = func(Epoch) {
		epochs++
		cancel()
	}
	_, err := Train(ctx, tinyPairs(), o)
	if err != context.Canceled {
		t.Errorf("Train after cancel: %v, want context.Canceled", err)
	}
	if epochs != 1 {
		t.Errorf("%d epochs ran, want 1 before the cancel was seen", epochs)
	}
}

func TestTrainErrors(t *testing.T) {
	for name, c := range map[string]struct {
		pairs []Pair
		opts  Options
	}{
		"no pairs":     {nil, tinyOptions()},
		"max_out 256":  {tinyPairs(), Options{MaxOut: 256}},
		"negative lr":  {tinyPairs(), Options{LR: -1}},
		"negative dim": {tinyPairs(), Options{Hidden: -3}},
	} {
		if _, err := Train(context.Background(), c.pairs, c.opts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestValidationKeepsBest(t *testing.T) {
	o := tinyOptions()
	o.Epochs = 8
	o.Validation = tinyPairs()[:8]
	var epochs []Epoch
	o.Progress = func(e Epoch) { epochs = append(epochs, e) }
	m, err := Train(context.Background(), tinyPairs(), o)
	if err != nil {
		t.Fatal(err)
	}
	best := epochs[0]
	for _, e := range epochs {
		if e.ValLoss <= 0 {
			t.Fatalf("epoch %d: val loss %v", e.Epoch, e.ValLoss)
		}
		if e.ValLoss < best.ValLoss {
			best = e
		}
	}
	if m.Meta().BestEpoch != best.Epoch || m.Meta().ValLoss != best.ValLoss || !epochs[best.Epoch-1].Best {
		t.Errorf("meta best epoch %d (val %.4f), want %d (%.4f)", m.Meta().BestEpoch, m.Meta().ValLoss, best.Epoch, best.ValLoss)
	}
}

// TestGenerateConcurrent shares one model between goroutines (run it
// under -race): each answer is the one a lone call gives.
func TestGenerateConcurrent(t *testing.T) {
	m, _ := trainedTiny(t)
	pairs := tinyPairs()
	want := make([]string, len(pairs))
	for i, p := range pairs {
		want[i] = m.Generate(p.Question, 2)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < len(pairs); i += 2 {
				if got := m.Generate(pairs[i].Question, 2); got != want[i] {
					t.Errorf("%q: %q side by side, %q alone", pairs[i].Question, got, want[i])
				}
			}
		})
	}
	wg.Wait()
}
