package triage

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Score is a classifier's cross-validated quality on one target.
type Score struct {
	Accuracy float64 // share of conversations given the agents' class
	MacroF1  float64 // F1 averaged over the classes, each counting the same
}

// folds assigns each of the labels to one of k folds, class by class in a
// shuffled order, so that every fold has about the same mix of classes
// (stratified k-fold). The shuffle is drawn from seed.
func folds(labels []int, k int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 0xf01d))
	byClass := map[int][]int{}
	var classes []int
	for i, c := range labels {
		if _, ok := byClass[c]; !ok {
			classes = append(classes, c)
		}
		byClass[c] = append(byClass[c], i)
	}
	slices.Sort(classes)
	fold := make([]int, len(labels))
	next := 0 // continue round-robin across classes so fold sizes stay even
	for _, c := range classes {
		idx := byClass[c]
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		for _, i := range idx {
			fold[i] = next % k
			next++
		}
	}
	return fold
}

// score compares predictions with the truth: accuracy, and the macro F1
// over every class that occurs in either (as scikit-learn's f1_score with
// average="macro" does).
func score(truth, pred []int) Score {
	if len(truth) == 0 {
		return Score{}
	}
	tp, fp, fn := map[int]int{}, map[int]int{}, map[int]int{}
	classes := map[int]bool{}
	right := 0
	for i, t := range truth {
		p := pred[i]
		classes[t], classes[p] = true, true
		if t == p {
			right++
			tp[t]++
		} else {
			fp[p]++
			fn[t]++
		}
	}
	// Sum in class order: the same numbers give the same bits.
	order := make([]int, 0, len(classes))
	for c := range classes {
		order = append(order, c)
	}
	slices.Sort(order)
	f1 := 0.0
	for _, c := range order {
		if d := 2*tp[c] + fp[c] + fn[c]; d > 0 {
			f1 += 2 * float64(tp[c]) / float64(d)
		}
	}
	return Score{Accuracy: float64(right) / float64(len(truth)), MacroF1: f1 / float64(len(classes))}
}

// auc is the area under the ROC curve of scores p for binary labels y: the
// chance that a random positive scores above a random negative, ties
// counting half. It is 0.5 when y holds one class only.
func auc(p []float64, y []int) float64 {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && p[idx[j]] == p[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2 // average 1-based rank of the tie group
		for _, k := range idx[i:j] {
			if y[k] == 1 {
				rankSum += mid
				pos++
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		return 0.5
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// brier is the mean squared difference between p and the 0/1 labels.
func brier(p []float64, y []int) float64 {
	if len(p) == 0 {
		return math.NaN()
	}
	s := 0.0
	for i, v := range p {
		d := v - float64(y[i])
		s += d * d
	}
	return s / float64(len(p))
}

// threshold picks the risk at which to escalate from out-of-fold
// predictions: the one with the best F0.5 (precision weighs twice as much
// as recall, since every escalation costs an agent's time), never below
// 0.5, so that the engine escalates only when a low rating is more likely
// than not. It returns the threshold and its precision and recall.
func threshold(p []float64, y []int) (t, precision, recall float64) {
	cands := slices.Clone(p)
	slices.Sort(cands)
	cands = slices.Compact(cands)
	positives := 0
	for _, v := range y {
		positives += v
	}
	best := -1.0
	t = 0.5
	for _, c := range cands {
		if c < 0.5 {
			continue
		}
		tp, fp := 0, 0
		for i, v := range p {
			if v >= c {
				if y[i] == 1 {
					tp++
				} else {
					fp++
				}
			}
		}
		if tp == 0 {
			continue
		}
		pr, rc := float64(tp)/float64(tp+fp), float64(tp)/float64(max(positives, 1))
		if f := 1.25 * pr * rc / (0.25*pr + rc); f > best {
			best, t, precision, recall = f, c, pr, rc
		}
	}
	return t, precision, recall
}
