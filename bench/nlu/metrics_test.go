package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func preds(pairs ...any) []prediction {
	var out []prediction
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, prediction{Label: pairs[i].(string), Score: pairs[i+1].(float64)})
	}
	return out
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) < 1e-9
}

func TestClosedSet(t *testing.T) {
	tests := []struct {
		name        string
		gold        []string
		preds       []prediction
		wantAcc, f1 float64
		wantErr     bool
	}{
		{
			name:    "all right",
			gold:    []string{"a", "b"},
			preds:   preds("a", 0.9, "b", 0.8),
			wantAcc: 1, f1: 1,
		},
		{
			name: "oos items are skipped whatever they predict",
			gold: []string{"a", "oos", "b", "oos"},
			// a: tp1; b: fn1 (predicted a) -> a fp1. F1(a)=2/3, F1(b)=0.
			preds:   preds("a", 0.9, "b", 0.1, "a", 0.5, "a", 0.2),
			wantAcc: 0.5, f1: (2.0 / 3) / 2,
		},
		{
			name:    "a label that is only predicted is not averaged",
			gold:    []string{"a", "a"},
			preds:   preds("a", 1.0, "c", 1.0),
			wantAcc: 0.5, f1: 2.0 / 3,
		},
		{
			name:    "no answer is wrong but adds no label",
			gold:    []string{"a", "a"},
			preds:   preds("a", 1.0, "", 0.0),
			wantAcc: 0.5, f1: 2.0 / 3,
		},
		{name: "only oos", gold: []string{"oos"}, preds: preds("a", 1.0), wantErr: true},
		{name: "length mismatch", gold: []string{"a", "b"}, preds: preds("a", 1.0), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acc, f1, err := closedSet(tc.gold, tc.preds)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && (!near(acc, tc.wantAcc) || !near(f1, tc.f1)) {
				t.Errorf("accuracy, macro-F1 = %v, %v; want %v, %v", acc, f1, tc.wantAcc, tc.f1)
			}
		})
	}
}

func TestEvalOOS(t *testing.T) {
	gold := []string{"a", "b", "a", "oos", "oos"}
	p := preds("a", 0.9, "b", 0.4, "b", 0.8, "a", 0.3, "b", 0.85)
	tests := []struct {
		name      string
		threshold float64
		want      oosMetrics
	}{
		// Accept all: in-scope right 2/3, no OOS rejected, nothing rejected.
		{"accept all, precision 0", math.Inf(-1), oosMetrics{InScopeAccuracy: 2.0 / 3, Recall: 0, Precision: 0}},
		// Rejects 0.4 (in-scope, right) and 0.3 (OOS).
		{"middle", 0.5, oosMetrics{InScopeAccuracy: 1.0 / 3, Recall: 0.5, Precision: 0.5}},
		// The score equal to the threshold is accepted.
		{"boundary accepts", 0.85, oosMetrics{InScopeAccuracy: 1.0 / 3, Recall: 0.5, Precision: 1.0 / 3}},
		{"reject all", math.Inf(1), oosMetrics{InScopeAccuracy: 0, Recall: 1, Precision: 2.0 / 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := evalOOS(gold, p, tc.threshold)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got.InScopeAccuracy, tc.want.InScopeAccuracy) || !near(got.Recall, tc.want.Recall) || !near(got.Precision, tc.want.Precision) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if _, err := evalOOS([]string{"a"}, preds("a", 1.0), 0); err == nil {
		t.Error("no OOS item: want an error")
	}
}

func TestCalibrate(t *testing.T) {
	tests := []struct {
		name          string
		gold          []string
		preds         []prediction
		wantThreshold float64
		wantMin       float64 // the smaller of in-scope accuracy and recall there
	}{
		{
			name:          "separable: half-way between the classes",
			gold:          []string{"a", "b", "oos", "oos"},
			preds:         preds("a", 0.9, "b", 0.7, "a", 0.2, "b", 0.5),
			wantThreshold: 0.6, wantMin: 1,
		},
		{
			name: "ties take the middle threshold",
			// 0.6 and 0.8 both give min(1/2, 1): rejecting the wrong 0.7
			// item costs nothing.
			gold:          []string{"a", "oos", "a"},
			preds:         preds("a", 0.9, "b", 0.5, "b", 0.7),
			wantThreshold: 0.7, wantMin: 0.5,
		},
		{
			name:          "the smaller of the two counts, not the mean",
			gold:          []string{"oos", "a", "oos", "a", "oos"},
			preds:         preds("b", 0.1, "a", 0.5, "b", 0.6, "a", 0.8, "b", 0.9),
			wantThreshold: 0.7, wantMin: 0.5,
		},
		{
			name:          "equal scores move together",
			gold:          []string{"a", "oos", "a"},
			preds:         preds("a", 0.5, "b", 0.5, "a", 0.9),
			wantThreshold: 0.7, wantMin: 0.5,
		},
		{
			name:          "accept all is half the lowest confidence",
			gold:          []string{"a", "oos"},
			preds:         []prediction{{"a", 0.1}, {"", 0}},
			wantThreshold: 0.05, wantMin: 1,
		},
		{
			name:          "no answer and NaN are always rejected",
			gold:          []string{"a", "oos", "oos"},
			preds:         []prediction{{"a", 0.3}, {"", 0}, {"b", math.NaN()}},
			wantThreshold: 0.15, wantMin: 1,
		},
		{
			name:          "negative decision values",
			gold:          []string{"a", "oos", "b"},
			preds:         preds("a", -0.1, "a", -0.9, "b", 0.4),
			wantThreshold: -0.5, wantMin: 1,
		},
		{
			name:          "accept all with a negative lowest score is that score",
			gold:          []string{"a", "oos"},
			preds:         []prediction{{"a", -0.2}, {"", 0}},
			wantThreshold: -0.2, wantMin: 1,
		},
	}
	// 50 in-scope and 5 OOS items: at 0.45 accuracy is 50/50 and recall
	// 4/5, at 0.8 39/50 and 5/5. The plain minimum prefers 0.45 (0.8
	// against 0.78); a recall measured on five items counts at its lower
	// bound, and 0.8 wins.
	few := struct {
		gold  []string
		preds []prediction
	}{}
	for i := range 50 {
		few.gold = append(few.gold, "a")
		few.preds = append(few.preds, prediction{"a", map[bool]float64{true: 0.9, false: 0.6}[i < 39]})
	}
	for i := range 5 {
		few.gold = append(few.gold, "oos")
		few.preds = append(few.preds, prediction{"b", map[bool]float64{true: 0.3, false: 0.7}[i < 4]})
	}
	tests = append(tests, struct {
		name          string
		gold          []string
		preds         []prediction
		wantThreshold float64
		wantMin       float64 // the smaller of in-scope accuracy and recall there
	}{"a recall on few items counts at its lower bound", few.gold, few.preds, 0.8, 0.78})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := calibrate(tc.gold, tc.preds)
			if err != nil {
				t.Fatal(err)
			}
			if m := min(got.InScopeAccuracy, got.Recall); !near(got.Threshold, tc.wantThreshold) || !near(m, tc.wantMin) {
				t.Errorf("threshold %v, smaller figure %v; want %v and %v", got.Threshold, m, tc.wantThreshold, tc.wantMin)
			}
		})
	}
	for _, bad := range []struct {
		name string
		gold []string
		p    []prediction
	}{
		{"no oos", []string{"a"}, preds("a", 1.0)},
		{"no in-scope", []string{"oos"}, preds("a", 1.0)},
		{"length mismatch", []string{"a", "oos"}, preds("a", 1.0)},
	} {
		t.Run(bad.name, func(t *testing.T) {
			if _, err := calibrate(bad.gold, bad.p); err == nil {
				t.Error("want an error")
			}
		})
	}
}

// parleyRule is nlp/internal/intent.CalibrateThreshold written out plainly,
// O(n²): the reference the sweep in calibrate must agree with.
func parleyRule(gold []string, p []prediction) float64 {
	cands := slices.Sorted(slices.Values(scoresOf(p)))
	cands = slices.Compact(cands)
	var nIn, nOOS int
	for _, g := range gold {
		if g == outOfScope {
			nOOS++
		} else {
			nIn++
		}
	}
	lo, hi, bestScore, prev := 0.0, 0.0, -1.0, 0.0
	for k, c := range cands {
		t := (prev + c) / 2
		if k == 0 && c <= 0 {
			t = c // Parley's confidences are >= 0; see calibrate
		}
		prev = c
		m, _ := evalOOS(gold, p, t)
		switch v := m.objective(nIn, nOOS); {
		case v > bestScore:
			lo, hi, bestScore = t, t, v
		case v == bestScore:
			hi = t
		}
	}
	return (lo + hi) / 2
}

// TestCalibrateMatchesParleyRule checks the sweep against the plain rule on
// random data with many ties and negative scores.
func TestCalibrateMatchesParleyRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		n := 2 + rng.IntN(30)
		gold := make([]string, n)
		p := make([]prediction, n)
		offset := float64(rng.IntN(2)) // half the trials have negative scores
		for i := range gold {
			gold[i] = []string{"a", "b", "oos"}[rng.IntN(3)]
			p[i] = prediction{Label: []string{"a", "b"}[rng.IntN(2)], Score: float64(rng.IntN(6))/4 - offset}
		}
		gold[0], gold[1] = "a", "oos"
		got, err := calibrate(gold, p)
		if err != nil {
			t.Fatal(err)
		}
		if want := parleyRule(gold, p); got.Threshold != want {
			t.Fatalf("trial %d: calibrate chose %v, the plain rule %v (gold %v, preds %v)", trial, got.Threshold, want, gold, p)
		}
	}
}

func scoresOf(p []prediction) []float64 {
	out := make([]float64, len(p))
	for i := range p {
		out[i] = p[i].Score
	}
	return out
}

func BenchmarkCalibrate(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 5500 // CLINC150 test size
	gold := make([]string, n)
	p := make([]prediction, n)
	for i := range gold {
		gold[i] = []string{"a", "b", "c", "oos"}[rng.IntN(4)]
		p[i] = prediction{Label: []string{"a", "b", "c"}[rng.IntN(3)], Score: rng.Float64()}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := calibrate(gold, p); err != nil {
			b.Fatal(err)
		}
	}
}
