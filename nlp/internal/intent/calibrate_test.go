package intent

import (
	"math"
	"slices"
	"testing"
)

func TestFitTemperature(t *testing.T) {
	// Logits of 4 to 0 for a class that is right 73.1% of the time:
	// sigmoid(4/T) = 0.731 = sigmoid(1) gives T = 4.
	var logits [][]float32
	var labels []int
	for i := 0; i < 1000; i++ {
		logits = append(logits, []float32{4, 0})
		if i%1000 < 731 {
			labels = append(labels, 0)
		} else {
			labels = append(labels, 1)
		}
	}
	if got := FitTemperature(logits, labels); math.Abs(got-4) > 0.02 {
		t.Fatalf("temperature %v, want about 4", got)
	}
	if got := FitTemperature(nil, nil); got != 1 {
		t.Fatalf("temperature without data %v, want 1", got)
	}
}

func TestCalibrateThreshold(t *testing.T) {
	cases := []struct {
		name   string
		scored []Scored
		check  func(t *testing.T, th float64, m OOSMetrics)
	}{
		{
			name: "separable",
			scored: []Scored{
				{0.9, true, false}, {0.8, true, false}, {0.7, true, false},
				{0.3, false, true}, {0.2, false, true}, {0.1, false, true},
			},
			check: func(t *testing.T, th float64, m OOSMetrics) {
				if th <= 0.3 || th > 0.7 || m.InScopeAccuracy != 1 || m.Recall != 1 || m.Precision != 1 {
					t.Fatalf("threshold %v, metrics %+v", th, m)
				}
			},
		},
		{
			name: "wrong in-scope answers are not worth keeping",
			scored: []Scored{
				{0.9, true, false}, {0.5, false, false}, {0.4, false, false},
				{0.45, false, true},
			},
			check: func(t *testing.T, th float64, m OOSMetrics) {
				if m.Recall != 1 || m.InScopeAccuracy != 1.0/3 {
					t.Fatalf("threshold %v, metrics %+v", th, m)
				}
			},
		},
		{
			name: "the smaller of in-scope accuracy and recall is what counts",
			scored: []Scored{
				{0.1, false, true}, {0.2, false, true}, {0.3, false, true},
				{0.5, true, false}, {0.6, false, true},
				{0.7, true, false}, {0.8, true, false}, {0.9, true, false},
				{0.95, false, true},
			},
			check: func(t *testing.T, th float64, m OOSMetrics) {
				// 0.4 would give 100% / 60%, a better mean but a worse minimum.
				if math.Abs(th-0.65) > 1e-12 || m.InScopeAccuracy != 0.75 || m.Recall != 0.8 {
					t.Fatalf("threshold %v, metrics %+v", th, m)
				}
			},
		},
		{
			name: "of equally good thresholds the middle one",
			scored: []Scored{
				{0.1, false, true}, {0.2, false, true}, {0.3, false, true},
				{0.6, true, false}, {0.65, false, true},
				{0.7, true, false}, {0.8, true, false}, {0.9, true, false},
			},
			check: func(t *testing.T, th float64, m OOSMetrics) {
				// 0.45, 0.625 and 0.675 all give a minimum of 75%.
				if math.Abs(th-0.5625) > 1e-12 {
					t.Fatalf("threshold %v, want 0.5625", th)
				}
			},
		},
		{
			name: "a recall measured on few examples counts at its lower bound",
			// 50 in-scope and 5 out-of-scope messages. At 0.45 in-scope
			// accuracy is 50/50 and recall 4/5; at 0.8, 39/50 and 5/5. The
			// smaller figure is larger at 0.45 (0.8 against 0.78), but that
			// recall was measured on five messages only.
			scored: slices.Concat(repeat(Scored{0.9, true, false}, 39), repeat(Scored{0.6, true, false}, 11),
				repeat(Scored{0.3, false, true}, 4), []Scored{{0.7, false, true}}),
			check: func(t *testing.T, th float64, m OOSMetrics) {
				if math.Abs(th-0.8) > 1e-12 || m.Recall != 1 || m.InScopeAccuracy != 0.78 {
					t.Fatalf("threshold %v, metrics %+v: want every out-of-scope message rejected", th, m)
				}
			},
		},
		{
			name:   "no out-of-scope data keeps 95% of the right answers",
			scored: scoredRange(100),
			check: func(t *testing.T, th float64, m OOSMetrics) {
				if th != 0.05 {
					t.Fatalf("threshold %v, want 0.05", th)
				}
			},
		},
		{
			name:   "no data accepts everything",
			scored: nil,
			check: func(t *testing.T, th float64, m OOSMetrics) {
				if th != 0 {
					t.Fatalf("threshold %v", th)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			th := CalibrateThreshold(tc.scored)
			tc.check(t, th, MeasureOOS(tc.scored, th))
		})
	}
}

func repeat(s Scored, n int) []Scored {
	out := make([]Scored, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func scoredRange(n int) []Scored {
	out := make([]Scored, n)
	for i := range out {
		out[i] = Scored{Confidence: float64(i) / float64(n), Correct: true}
	}
	return out
}

func TestAUROC(t *testing.T) {
	for _, tc := range []struct {
		pos, neg []float64
		want     float64
	}{
		{[]float64{3, 2}, []float64{1, 2}, 0.875}, // three wins and a tie out of four pairs
		{[]float64{1}, []float64{2, 3}, 0},
		{[]float64{5, 6}, []float64{1}, 1},
		{nil, []float64{1}, 0.5},
	} {
		if got := AUROC(tc.pos, tc.neg); got != tc.want {
			t.Errorf("AUROC(%v, %v) = %v, want %v", tc.pos, tc.neg, got, tc.want)
		}
	}
}

func TestWilsonLower(t *testing.T) {
	for _, tc := range []struct {
		p    float64
		n    int
		want float64
	}{
		{0.8, 100, 0.7571175358995123},
		{0.5, 4, 0.276393202250021}, // few trials: a wide interval
		{1, 10, 10.0 / 11},
		{0, 10, 0},
		{0.5, 0, 0},
	} {
		if got := WilsonLower(tc.p, tc.n); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("WilsonLower(%v, %d) = %v, want %v", tc.p, tc.n, got, tc.want)
		}
	}
}
