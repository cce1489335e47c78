package main

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/parleyhq/parley/nlp"
)

// prediction is a system's answer for one message: its top in-scope label
// and that label's confidence (fastText: probability; scikit-learn: LinearSVC
// decision value). Label is empty when the system gave no answer.
type prediction struct {
	Label string
	Score float64
}

// oosMetrics are the out-of-scope figures at one threshold: a message is
// accepted when its score is >= Threshold and rejected (called out of scope)
// otherwise.
type oosMetrics struct {
	Threshold float64
	// InScopeAccuracy is the fraction of in-scope items predicted correctly
	// and accepted.
	InScopeAccuracy float64
	// Recall is the fraction of OOS items rejected.
	Recall float64
	// Precision is rejected OOS items / all rejected items; 0 when nothing
	// is rejected (as Parley reports it).
	Precision float64
}

// objective is what calibration maximises, for nIn in-scope and nOOS
// out-of-scope items.
func (m oosMetrics) objective(nIn, nOOS int) float64 {
	return min(nlp.WilsonLower(m.InScopeAccuracy, nIn), nlp.WilsonLower(m.Recall, nOOS))
}

// closedSet returns the accuracy and macro-F1 of argmax predictions over the
// in-scope items of gold (OOS items are skipped), as nlp.Evaluate computes
// them: macro-F1 averages the F1 of every label with gold items; a wrong
// prediction also lowers the predicted label's precision. It returns an error
// when the lengths differ or there is no in-scope item.
func closedSet(gold []string, preds []prediction) (accuracy, macroF1 float64, err error) {
	if len(gold) != len(preds) {
		return 0, 0, fmt.Errorf("closed-set metrics: %d gold labels, %d predictions", len(gold), len(preds))
	}
	type counts struct{ tp, fp, fn int }
	per := map[string]*counts{}
	get := func(l string) *counts {
		c := per[l]
		if c == nil {
			c = &counts{}
			per[l] = c
		}
		return c
	}
	n, correct := 0, 0
	for i, g := range gold {
		if g == outOfScope {
			continue
		}
		n++
		p := preds[i].Label
		if p == g {
			correct++
			get(g).tp++
			continue
		}
		get(g).fn++
		if p != "" {
			get(p).fp++
		}
	}
	if n == 0 {
		return 0, 0, errors.New("closed-set metrics: no in-scope item")
	}
	var sum float64
	var support int
	for _, c := range per {
		if c.tp+c.fn == 0 {
			continue // predicted only: not averaged
		}
		support++
		sum += 2 * float64(c.tp) / float64(2*c.tp+c.fp+c.fn)
	}
	return float64(correct) / float64(n), sum / float64(support), nil
}

// evalOOS returns the out-of-scope metrics of preds against gold at
// threshold. It returns an error when the lengths differ or gold lacks
// in-scope or OOS items.
func evalOOS(gold []string, preds []prediction, threshold float64) (oosMetrics, error) {
	if len(gold) != len(preds) {
		return oosMetrics{}, fmt.Errorf("oos metrics: %d gold labels, %d predictions", len(gold), len(preds))
	}
	var nIn, nOOS, accepted, rejected, rejectedOOS int
	for i, g := range gold {
		accept := preds[i].Score >= threshold && preds[i].Label != ""
		if !accept {
			rejected++
		}
		if g == outOfScope {
			nOOS++
			if !accept {
				rejectedOOS++
			}
			continue
		}
		nIn++
		if accept && preds[i].Label == g {
			accepted++
		}
	}
	if nIn == 0 || nOOS == 0 {
		return oosMetrics{}, fmt.Errorf("oos metrics: need in-scope and OOS items, have %d and %d", nIn, nOOS)
	}
	m := oosMetrics{
		Threshold:       threshold,
		InScopeAccuracy: float64(accepted) / float64(nIn),
		Recall:          float64(rejectedOOS) / float64(nOOS),
	}
	if rejected > 0 {
		m.Precision = float64(rejectedOOS) / float64(rejected)
	}
	return m, nil
}

// calibrate chooses the threshold that maximises the smaller of in-scope
// accuracy and OOS recall, each at the lower end of its Wilson interval,
// over gold and preds, which must be the validation split, by Parley's rule
// (nlp/internal/intent.CalibrateThreshold): the candidates lie half-way
// between neighbouring distinct scores, and below the lowest score (Parley
// takes half the lowest confidence, as its confidences are >= 0; a lowest
// score <= 0, as a LinearSVC decision value may be, is taken itself); of
// equally good thresholds it takes the middle one. Missing answers and NaN
// scores are rejected by every threshold. It runs in O(n log n). It returns
// an error when the lengths differ or gold lacks in-scope or OOS items.
func calibrate(gold []string, preds []prediction) (oosMetrics, error) {
	if len(gold) != len(preds) {
		return oosMetrics{}, fmt.Errorf("calibrate: %d gold labels, %d predictions", len(gold), len(preds))
	}
	var order []int // the items that have a score, by score
	var nIn, nOOS, correctAccepted, rejectedOOS int
	for i, g := range gold {
		answered := preds[i].Label != "" && !math.IsNaN(preds[i].Score)
		if answered {
			order = append(order, i)
		}
		switch {
		case g == outOfScope:
			nOOS++
			if !answered {
				rejectedOOS++
			}
		case preds[i].Label == g && answered:
			nIn++
			correctAccepted++
		default:
			nIn++
		}
	}
	if nIn == 0 || nOOS == 0 {
		return oosMetrics{}, fmt.Errorf("calibrate: need in-scope and OOS items, have %d and %d", nIn, nOOS)
	}
	sort.SliceStable(order, func(a, b int) bool { return preds[order[a]].Score < preds[order[b]].Score })

	// Start from "accept every answer" and reject answers in score order.
	best, lo, hi := -1.0, 0.0, 0.0
	prev := 0.0
	for k := 0; k < len(order); {
		score := preds[order[k]].Score
		threshold := (prev + score) / 2
		if k == 0 && score <= 0 {
			threshold = score
		}
		prev = score
		m := oosMetrics{InScopeAccuracy: float64(correctAccepted) / float64(nIn), Recall: float64(rejectedOOS) / float64(nOOS)}
		switch v := m.objective(nIn, nOOS); {
		case v > best:
			best, lo, hi = v, threshold, threshold
		case v == best:
			hi = threshold
		}
		for ; k < len(order) && preds[order[k]].Score == score; k++ {
			i := order[k]
			if gold[i] == outOfScope {
				rejectedOOS++
			} else if preds[i].Label == gold[i] {
				correctAccepted--
			}
		}
	}
	return evalOOS(gold, preds, (lo+hi)/2)
}
