package triage

import (
	"math"
	"slices"
	"testing"
)

func TestScore(t *testing.T) {
	tests := []struct {
		name        string
		truth, pred []int
		acc, f1     float64
	}{
		{"perfect", []int{0, 1, 2, 1}, []int{0, 1, 2, 1}, 1, 1},
		// class 0: tp 1, fp 1, fn 1 -> 0.5; class 1: tp 1 fp 1 fn 1 -> 0.5
		{"half", []int{0, 0, 1, 1}, []int{0, 1, 1, 0}, 0.5, 0.5},
		// majority always: class 0 f1 = 2*3/(6+1) = 6/7, class 1 f1 = 0
		{"majority", []int{0, 0, 0, 1}, []int{0, 0, 0, 0}, 0.75, 3.0 / 7},
		{"empty", nil, nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := score(tt.truth, tt.pred)
			if math.Abs(s.Accuracy-tt.acc) > 1e-12 || math.Abs(s.MacroF1-tt.f1) > 1e-12 {
				t.Errorf("score = %+v, want accuracy %v macro F1 %v", s, tt.acc, tt.f1)
			}
		})
	}
}

func TestAUCAndBrier(t *testing.T) {
	tests := []struct {
		name       string
		p          []float64
		y          []int
		auc, brier float64
	}{
		{"separated", []float64{0.1, 0.2, 0.8, 0.9}, []int{0, 0, 1, 1}, 1, (0.01 + 0.04 + 0.04 + 0.01) / 4},
		{"reversed", []float64{0.9, 0.8, 0.2, 0.1}, []int{0, 0, 1, 1}, 0, (0.81 + 0.64 + 0.64 + 0.81) / 4},
		{"all tied", []float64{0.5, 0.5, 0.5, 0.5}, []int{0, 1, 0, 1}, 0.5, 0.25},
		// pairs (pos, neg): (0.4 vs 0.1) win, (0.4 vs 0.4) tie, (0.8 vs both) win -> 3.5/4
		{"one tie", []float64{0.1, 0.4, 0.4, 0.8}, []int{0, 0, 1, 1}, 3.5 / 4, (0.01 + 0.16 + 0.36 + 0.04) / 4},
		{"one class", []float64{0.3, 0.7}, []int{1, 1}, 0.5, (0.49 + 0.09) / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auc(tt.p, tt.y); math.Abs(got-tt.auc) > 1e-12 {
				t.Errorf("auc = %v, want %v", got, tt.auc)
			}
			if got := brier(tt.p, tt.y); math.Abs(got-tt.brier) > 1e-12 {
				t.Errorf("brier = %v, want %v", got, tt.brier)
			}
		})
	}
}

func TestFolds(t *testing.T) {
	labels := []int{0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}
	a := folds(labels, 3, 7)
	if !slices.Equal(a, folds(labels, 3, 7)) {
		t.Error("same seed, different folds")
	}
	if slices.Equal(a, folds(labels, 3, 8)) {
		t.Error("another seed gives the same folds")
	}
	for f := range 3 {
		per := map[int]int{}
		n := 0
		for i, x := range a {
			if x == f {
				per[labels[i]]++
				n++
			}
		}
		if n < 6 || n > 7 {
			t.Errorf("fold %d has %d samples, want 6 or 7", f, n)
		}
		if per[0] != 2 || per[1] != 1 || per[2] < 3 || per[2] > 4 {
			t.Errorf("fold %d is not stratified: %v", f, per)
		}
	}
}

func TestThreshold(t *testing.T) {
	tests := []struct {
		name string
		p    []float64
		y    []int
		want float64
	}{
		// At 0.7 all three flagged are low: precision 1 beats the extra
		// recall of 0.6.
		{"precise cut", []float64{0.1, 0.2, 0.6, 0.7, 0.8, 0.9, 0.6}, []int{0, 0, 0, 1, 1, 1, 1}, 0.7},
		{"never below one half", []float64{0.1, 0.2, 0.3, 0.4}, []int{0, 1, 0, 1}, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _, _ := threshold(tt.p, tt.y); got != tt.want {
				t.Errorf("threshold = %v, want %v", got, tt.want)
			}
		})
	}
}
