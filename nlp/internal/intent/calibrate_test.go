package intent

import (
	"math"
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

func scoredRange(n int) []Scored {
	out := make([]Scored, n)
	for i := range out {
		out[i] = Scored{Confidence: float64(i) / float64(n), Correct: true}
	}
	return out
}
