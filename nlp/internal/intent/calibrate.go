package intent

import (
	"math"
	"slices"
)

// FitTemperature returns the softmax temperature T that minimises the
// negative log-likelihood of labels under softmax(logits/T) (temperature
// scaling, Guo et al. 2017). It searches log T in [-3, 3]; with no samples it
// returns 1.
func FitTemperature(logits [][]float32, labels []int) float64 {
	if len(logits) == 0 {
		return 1
	}
	nll := func(logT float64) float64 {
		t := math.Exp(logT)
		var sum float64
		for i, l := range logits {
			maxv := math.Inf(-1)
			for _, x := range l {
				maxv = math.Max(maxv, float64(x))
			}
			var z float64
			for _, x := range l {
				z += math.Exp((float64(x) - maxv) / t)
			}
			sum += math.Log(z) - (float64(l[labels[i]])-maxv)/t
		}
		return sum
	}
	// Golden-section search: the NLL is unimodal in log T.
	lo, hi := -3.0, 3.0
	g := (math.Sqrt(5) - 1) / 2
	a, b := hi-g*(hi-lo), lo+g*(hi-lo)
	fa, fb := nll(a), nll(b)
	for hi-lo > 1e-4 {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - g*(hi-lo)
			fa = nll(a)
		} else {
			lo, a, fa = a, b, fb
			b = lo + g*(hi-lo)
			fb = nll(b)
		}
	}
	return math.Exp((lo + hi) / 2)
}

// Scored is one validation message seen through the model: its top
// confidence, whether the top intent is right, and whether the message is
// out of scope (then correct is false).
type Scored struct {
	Confidence float64
	Correct    bool
	OOS        bool
}

// OOSMetrics are the out-of-scope figures at a threshold: a message is
// accepted when its top confidence is at least the threshold.
type OOSMetrics struct {
	Threshold       float64 `json:"threshold"`
	InScopeAccuracy float64 `json:"in_scope_accuracy"` // in-scope messages right and accepted
	Recall          float64 `json:"recall"`            // out-of-scope messages rejected
	Precision       float64 `json:"precision"`         // rejected messages that are out of scope
}

// MeasureOOS computes the out-of-scope figures of scored at threshold.
func MeasureOOS(scored []Scored, threshold float64) OOSMetrics {
	var in, inOK, oos, oosRejected, rejected int
	for _, s := range scored {
		accepted := s.Confidence >= threshold
		if !accepted {
			rejected++
		}
		if s.OOS {
			oos++
			if !accepted {
				oosRejected++
			}
			continue
		}
		in++
		if accepted && s.Correct {
			inOK++
		}
	}
	return OOSMetrics{
		Threshold:       threshold,
		InScopeAccuracy: ratio(inOK, in),
		Recall:          ratio(oosRejected, oos),
		Precision:       ratio(oosRejected, rejected),
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// fallbackKeep is the share of correctly classified validation messages the
// threshold keeps when there are no out-of-scope examples to calibrate on.
const fallbackKeep = 0.95

// CalibrateThreshold chooses the confidence threshold on validation data.
// With out-of-scope examples it maximises the smaller of in-scope accuracy
// and out-of-scope recall, so that neither is bought with the other, each
// taken at the lower end of its confidence interval (Wilson score, one
// standard error): validation data has far fewer out-of-scope examples than
// in-scope ones, so the recall measured on them is the less certain figure,
// and the threshold leans its way. Of the thresholds that do as well, it
// takes the middle one. Without out-of-scope examples it keeps 95% of the
// correctly classified messages (rejecting the least confident 5%). With no
// data at all it returns 0 (accept everything).
func CalibrateThreshold(scored []Scored) float64 {
	var nOOS int
	var correct []float64
	for _, s := range scored {
		if s.OOS {
			nOOS++
		}
		if s.Correct {
			correct = append(correct, s.Confidence)
		}
	}
	nIn := len(scored) - nOOS
	if nOOS == 0 {
		if len(correct) == 0 {
			return 0
		}
		slices.Sort(correct)
		return correct[int(float64(len(correct))*(1-fallbackKeep))]
	}
	candidates := make([]float64, 0, len(scored)+1)
	for _, s := range scored {
		candidates = append(candidates, s.Confidence)
	}
	slices.Sort(candidates)
	candidates = slices.Compact(candidates)
	lo, hi, bestScore := 0.0, 0.0, -1.0
	// Thresholds half-way between neighbouring scores generalise better than
	// the scores themselves.
	prev := 0.0
	for _, c := range candidates {
		t := (prev + c) / 2
		prev = c
		m := MeasureOOS(scored, t)
		switch score := min(WilsonLower(m.InScopeAccuracy, nIn), WilsonLower(m.Recall, nOOS)); {
		case score > bestScore:
			lo, hi, bestScore = t, t, score
		case score == bestScore:
			hi = t
		}
	}
	return (lo + hi) / 2
}

// WilsonLower is the lower end of the Wilson score interval, one standard
// error wide, of a proportion p measured on n trials; 0 when n is 0.
func WilsonLower(p float64, n int) float64 {
	if n == 0 {
		return 0
	}
	const z = 1
	nf := float64(n)
	centre := p + z*z/(2*nf)
	spread := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	return (centre - spread) / (1 + z*z/nf)
}

// AUROC is the probability that a random positive scores above a random
// negative (ties count half): how well the score separates the two groups.
// It is 0.5 when either group is empty.
func AUROC(pos, neg []float64) float64 {
	if len(pos) == 0 || len(neg) == 0 {
		return 0.5
	}
	neg = slices.Sorted(slices.Values(neg))
	var wins float64
	for _, p := range pos {
		below, _ := slices.BinarySearch(neg, p) // negatives strictly below p
		equal := below
		for equal < len(neg) && neg[equal] == p {
			equal++
		}
		wins += float64(below) + float64(equal-below)/2
	}
	return wins / float64(len(pos)*len(neg))
}
