package models

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Step is one decision on the path of a sample through a DecisionTree.
type Step struct {
	Feature   int     // feature index
	Name      string  // feature name, or x[i] without FeatureNames
	Threshold float64 // the split: left when value <= Threshold
	Value     float64 // the sample's value of the feature
	Left      bool    // the sample went left (Value <= Threshold)
	binary    bool    // the feature was 0/1 in training
}

// String renders the step: "tier=gold" or "not tier=gold" for a 0/1
// feature, "tenure_months > 24.5 (is 30)" otherwise.
func (s Step) String() string {
	if s.binary && (s.Value == 0 || s.Value == 1) {
		if s.Left {
			return "not " + s.Name
		}
		return s.Name
	}
	op := ">"
	if s.Left {
		op = "<="
	}
	return fmt.Sprintf("%s %s %s (is %s)", s.Name, op, num(s.Threshold), num(s.Value))
}

// Path is the decision path of one sample: the steps from the root and the
// leaf it ends in.
type Path struct {
	Steps     []Step
	Class     int       // predicted class (majority of the leaf)
	ClassName string    // its name, or "class 2" without ClassNames
	Proba     []float64 // class fractions of the leaf's training samples
	Samples   int       // training samples in the leaf
}

// String renders the path in the form of a rule:
// "if intent=complaint and tier=gold -> urgent (12 samples, 92%)".
func (p Path) String() string {
	conds := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		conds[i] = s.String()
	}
	return rule(conds, p.ClassName, p.Samples, p.Proba[p.Class])
}

func rule(conds []string, class string, samples int, frac float64) string {
	head := "always"
	if len(conds) > 0 {
		head = "if " + strings.Join(conds, " and ")
	}
	return fmt.Sprintf("%s -> %s (%d samples, %.0f%%)", head, class, samples, 100*frac)
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

func (m *DecisionTree) featureName(f int) string {
	if m.FeatureNames != nil {
		return m.FeatureNames[f]
	}
	return fmt.Sprintf("x[%d]", f)
}

func (m *DecisionTree) className(c int) string {
	if m.ClassNames != nil {
		return m.ClassNames[c]
	}
	return fmt.Sprintf("class %d", c)
}

// Explain returns the decision path of x. It returns ErrNotFitted, or
// ErrDimension or ErrNonFinite for a bad x.
func (m *DecisionTree) Explain(x []float64) (Path, error) {
	if len(m.nodes) == 0 {
		return Path{}, fmt.Errorf("decision tree explain: %w", ErrNotFitted)
	}
	if err := checkRow(x, m.d); err != nil {
		return Path{}, fmt.Errorf("decision tree explain: %w", err)
	}
	var p Path
	i := 0
	for m.nodes[i].Feature >= 0 {
		nd := &m.nodes[i]
		s := Step{Feature: nd.Feature, Name: m.featureName(nd.Feature), Threshold: nd.Threshold,
			Value: x[nd.Feature], Left: x[nd.Feature] <= nd.Threshold, binary: m.binary[nd.Feature]}
		p.Steps = append(p.Steps, s)
		if s.Left {
			i = nd.Left
		} else {
			i = nd.Right
		}
	}
	leaf := &m.nodes[i]
	p.Class = majority(leaf.Counts)
	p.ClassName = m.className(p.Class)
	p.Samples = leaf.samples
	p.Proba = make([]float64, m.k)
	for c, n := range leaf.Counts {
		p.Proba[c] = float64(n) / float64(leaf.samples)
	}
	return p, nil
}

// bounds is what a root-to-node path says about one feature:
// lo < x <= hi.
type bounds struct{ lo, hi float64 }

// Rules returns the tree as one rule per leaf, in depth-first order, such as
//
//	if intent=complaint and tier=gold -> urgent (12 samples, 92%)
//	if intent=complaint and not tier=gold and sentiment <= -0.45 -> urgent (30 samples, 80%)
//
// Conditions on the same feature are merged into one range, 0/1 features
// read as "name" / "not name", and the percentage is the share of the
// leaf's training samples in the predicted class. It returns nil before Fit.
func (m *DecisionTree) Rules() []string {
	if len(m.nodes) == 0 {
		return nil
	}
	var out []string
	var order []int // features in order of first use on the current path
	b := map[int]bounds{}
	var walk func(i int)
	walk = func(i int) {
		nd := &m.nodes[i]
		if nd.Feature < 0 {
			c := majority(nd.Counts)
			conds := make([]string, len(order))
			for j, f := range order {
				conds[j] = m.condition(f, b[f])
			}
			out = append(out, rule(conds, m.className(c), nd.samples, float64(nd.Counts[c])/float64(nd.samples)))
			return
		}
		f := nd.Feature
		old, seen := b[f]
		if !seen {
			old = bounds{math.Inf(-1), math.Inf(1)}
			order = append(order, f)
		}
		b[f] = bounds{old.lo, math.Min(old.hi, nd.Threshold)}
		walk(nd.Left)
		b[f] = bounds{math.Max(old.lo, nd.Threshold), old.hi}
		walk(nd.Right)
		if seen {
			b[f] = old
		} else {
			delete(b, f)
			order = order[:len(order)-1]
		}
	}
	walk(0)
	return out
}

// condition renders the range a path allows for feature f.
func (m *DecisionTree) condition(f int, r bounds) string {
	name := m.featureName(f)
	if m.binary[f] {
		switch {
		case r.hi < 1 && r.hi >= 0:
			return "not " + name
		case r.lo >= 0 && r.lo < 1:
			return name
		}
	}
	switch {
	case math.IsInf(r.lo, -1):
		return name + " <= " + num(r.hi)
	case math.IsInf(r.hi, 1):
		return name + " > " + num(r.lo)
	default:
		return num(r.lo) + " < " + name + " <= " + num(r.hi)
	}
}
