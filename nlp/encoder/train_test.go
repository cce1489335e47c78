package encoder

import (
	"errors"
	"math"
	"sync"
	"testing"
)

func TestTrainLearnsSyntheticTopics(t *testing.T) {
	var losses []float64
	o := tinyOptions()
	o.Validation = syntheticPairs(40, 2)
	o.Progress = func(ep Epoch) { losses = append(losses, ep.Loss); t.Logf("%+v", ep) }
	e, err := Train(t.Context(), syntheticPairs(120, 1), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(losses) != o.Epochs || !(losses[len(losses)-1] < losses[0]) {
		t.Fatalf("losses %v: want one per epoch, falling", losses)
	}
	test := syntheticPairs(60, 3)
	qs, as, gold := Candidates(test)
	m := Recall(EncoderScores(e, qs, as), gold)
	t.Logf("test: %v", m)
	if m.R1 < 0.9 {
		t.Errorf("R@1 %.2f on held-out synthetic questions, want >= 0.9", m.R1)
	}
	if e.Meta().ValR1 == nil || *e.Meta().ValR1 < 0.9 {
		t.Errorf("meta ValR1 %v, want the best validation R@1 >= 0.9", e.Meta().ValR1)
	}
}

func TestEncodeGivesUnitVectors(t *testing.T) {
	e := trainTiny(t)
	for _, text := range []string{"how do i track my parcel", "To reset your password, open the login screen.", "zzzz qqqq", "", "\xff\xfe"} {
		for _, side := range []Side{Question, Answer} {
			v := e.Encode(side, text)
			if len(v) != e.Dim() {
				t.Fatalf("%q: %d values, want %d", text, len(v), e.Dim())
			}
			var n float64
			for _, x := range v {
				if math.IsNaN(float64(x)) {
					t.Fatalf("%q: NaN", text)
				}
				n += float64(x) * float64(x)
			}
			if math.Abs(n-1) > 1e-4 {
				t.Errorf("%q side %d: squared norm %g, want 1", text, side, n)
			}
		}
	}
}

func TestTrainIsDeterministic(t *testing.T) {
	a, b := trainTiny(t), trainTiny(t)
	for s := range a.towers {
		for name, pair := range map[string][2][]float32{"E": {a.towers[s].E, b.towers[s].E}, "W": {a.towers[s].W, b.towers[s].W}, "B": {a.towers[s].B, b.towers[s].B}} {
			for i := range pair[0] {
				if math.Float32bits(pair[0][i]) != math.Float32bits(pair[1][i]) {
					t.Fatalf("tower %d %s[%d]: %v vs %v", s, name, i, pair[0][i], pair[1][i])
				}
			}
		}
	}
	o := tinyOptions()
	o.Seed = 2
	c, err := Train(t.Context(), syntheticPairs(120, 1), o)
	if err != nil {
		t.Fatal(err)
	}
	if c.towers[0].E[0] == a.towers[0].E[0] && c.towers[0].W[0] == a.towers[0].W[0] {
		t.Error("another seed gave the same weights")
	}
}

func TestTrainRejectsBadInput(t *testing.T) {
	good := syntheticPairs(10, 1)
	for _, tc := range []struct {
		name  string
		pairs []Pair
		opts  Options
		want  error
	}{
		{"no pairs", nil, DefaultOptions, ErrNoData},
		{"one pair", good[:1], DefaultOptions, ErrNoData},
		{"empty answer", append([]Pair{{Question: "hi there", Answer: " "}}, good...), DefaultOptions, ErrNoData},
		{"batch of one", good, Options{Batch: 1}, ErrOptions},
		{"negative lr", good, Options{LR: -1}, ErrOptions},
		{"vectors without dim", good, Options{Vectors: func(string) ([]float32, bool) { return nil, false }}, ErrOptions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Train(t.Context(), tc.pairs, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestTrainStopsWhenCancelled(t *testing.T) {
	ctx, cancel := contextWithCancel(t)
	cancel()
	if _, err := Train(ctx, syntheticPairs(40, 1), tinyOptions()); err == nil {
		t.Fatal("Train of a cancelled context succeeded")
	}
}

func TestEncodeIsSafeForConcurrentUse(t *testing.T) {
	e := trainTiny(t)
	want := e.EncodeQuestion("how can i track my parcel")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				got := e.EncodeQuestion("how can i track my parcel")
				for i := range got {
					if got[i] != want[i] {
						t.Error("concurrent Encode gave another vector")
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// TestTrainWithPretrainedVectors: words the lookup knows start from their
// vectors, which changes training's result, and training still learns.
func TestTrainWithPretrainedVectors(t *testing.T) {
	known := map[string][]float32{"parcel": {1, 0, 0, 0}, "refund": {0, 1, 0, 0}, "password": {0, 0, 1, 0}, "invoice": {0, 0, 0, 1}}
	o := tinyOptions()
	o.VectorDim = 4
	o.Vectors = func(w string) ([]float32, bool) { v, ok := known[w]; return v, ok }
	e, err := Train(t.Context(), syntheticPairs(120, 1), o)
	if err != nil {
		t.Fatal(err)
	}
	plain := trainTiny(t)
	same := true
	for i := range e.towers[0].E {
		if e.towers[0].E[i] != plain.towers[0].E[i] {
			same = false
			break
		}
	}
	if same {
		t.Error("pretrained vectors changed nothing")
	}
	qs, as, gold := Candidates(syntheticPairs(60, 3))
	if m := Recall(EncoderScores(e, qs, as), gold); m.R1 < 0.9 {
		t.Errorf("R@1 %.2f with pretrained vectors, want >= 0.9", m.R1)
	}
}
