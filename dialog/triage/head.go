package triage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/parleyhq/parley/models"
)

// Kind is a learner a model can use.
type Kind string

// Learners. Auto tries each and keeps the one with the best cross-validated
// score.
const (
	Auto   Kind = "auto"
	Tree   Kind = "tree"
	LogReg Kind = "logreg"
	SVM    Kind = "svm"
)

// ParseKind reads a learner's name; "" means Auto.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case "":
		return Auto, nil
	case Auto, Tree, LogReg, SVM:
		return k, nil
	}
	return "", fmt.Errorf("%w: unknown model %q (want auto, tree, logreg or svm)", ErrOption, s)
}

// Learner is one learner with its hyperparameters: the tree's depth
// limit, or the linear learners' C (inverse regularisation).
type Learner struct {
	Kind  Kind    `json:"kind"`
	Depth int     `json:"depth,omitempty"` // trees
	C     float64 `json:"c,omitempty"`     // logreg, svm
}

// String names the learner: "tree(depth 6)", "logreg(C=1)".
func (l Learner) String() string {
	if l.Kind == Tree {
		return fmt.Sprintf("tree(depth %d)", l.Depth)
	}
	return fmt.Sprintf("%s(C=%g)", l.Kind, l.C)
}

// treeMinLeaf keeps every rule backed by a few conversations.
const treeMinLeaf = 3

// candidates are the learners model selection tries for kind, simplest
// first (ties go to the earlier one). The grids are small: the data sets
// are a few hundred conversations.
func candidates(kind Kind) []Learner {
	trees := []Learner{{Kind: Tree, Depth: 4}, {Kind: Tree, Depth: 6}, {Kind: Tree, Depth: 8}}
	logreg := []Learner{{Kind: LogReg, C: 0.1}, {Kind: LogReg, C: 1}}
	svm := []Learner{{Kind: SVM, C: 0.1}, {Kind: SVM, C: 1}}
	switch kind {
	case Tree:
		return trees
	case LogReg:
		return logreg
	case SVM:
		return svm
	}
	return slices.Concat(trees, logreg, svm)
}

// head is one fitted classifier over the features of a Spec: its learner,
// class names, and for the linear learners the standardisation of the
// features (trees split on raw values, which read better in a rule).
type head struct {
	learner Learner
	classes []string
	mean    []float64 // nil for trees
	scale   []float64
	clf     models.Classifier
}

// newClassifier returns an unfitted classifier for l.
func newClassifier(l Learner, names, classes []string, seed uint64) (models.Classifier, error) {
	switch l.Kind {
	case Tree:
		return &models.DecisionTree{MaxDepth: l.Depth, MinSamplesLeaf: treeMinLeaf, FeatureNames: names, ClassNames: classes, Seed: seed}, nil
	case LogReg:
		return &models.LogisticRegression{C: l.C, MaxIter: 300}, nil
	case SVM:
		return &models.LinearSVM{C: l.C, Seed: seed}, nil
	}
	return nil, fmt.Errorf("%w: no learner %q", ErrOption, l.Kind)
}

// fitHead trains a head of kind on X and y (class indices into classes).
// Errors: ErrNoData for no rows, ErrOneClass when y holds one class, the
// learner's errors (models.ErrNonFinite, models.ErrDimension, ...) for bad
// rows.
func fitHead(l Learner, names, classes []string, X [][]float64, y []int, seed uint64) (*head, error) {
	if len(X) == 0 {
		return nil, ErrNoData
	}
	if len(X) != len(y) {
		return nil, fmt.Errorf("%w: %d rows, %d labels", models.ErrDimension, len(X), len(y))
	}
	for i, row := range X {
		if len(row) != len(names) {
			return nil, fmt.Errorf("%w: row %d has %d features, want %d", models.ErrDimension, i, len(row), len(names))
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%w: row %d feature %s is %v", models.ErrNonFinite, i, names[j], v)
			}
		}
	}
	// The learners want every class 0..k-1 present: fit on the classes
	// this data has and map back.
	present := map[int]bool{}
	for _, c := range y {
		if c < 0 || c >= len(classes) {
			return nil, fmt.Errorf("%w: label %d of %d classes", models.ErrLabel, c, len(classes))
		}
		present[c] = true
	}
	if len(present) < 2 {
		return nil, fmt.Errorf("%w: every sample is %s", ErrOneClass, classes[y[0]])
	}
	var local []string
	remap := map[int]int{}
	for c := range classes {
		if present[c] {
			remap[c] = len(local)
			local = append(local, classes[c])
		}
	}
	ly := make([]int, len(y))
	for i, c := range y {
		ly[i] = remap[c]
	}
	h := &head{learner: l, classes: local}
	rows := X
	if l.Kind != Tree {
		h.mean, h.scale = standardiser(X)
		rows = make([][]float64, len(X))
		for i, r := range X {
			rows[i] = h.standardise(r)
		}
	}
	clf, err := newClassifier(l, names, local, seed)
	if err != nil {
		return nil, err
	}
	if err := clf.Fit(rows, ly); err != nil {
		return nil, err
	}
	h.clf = clf
	return h, nil
}

// standardiser returns each feature's mean and standard deviation (1 for
// a constant feature).
func standardiser(X [][]float64) (mean, scale []float64) {
	d := len(X[0])
	mean, scale = make([]float64, d), make([]float64, d)
	for _, r := range X {
		for j, v := range r {
			mean[j] += v
		}
	}
	n := float64(len(X))
	for j := range mean {
		mean[j] /= n
	}
	for _, r := range X {
		for j, v := range r {
			scale[j] += (v - mean[j]) * (v - mean[j])
		}
	}
	for j := range scale {
		scale[j] = math.Sqrt(scale[j] / n)
		if scale[j] < 1e-12 {
			scale[j] = 1
		}
	}
	return mean, scale
}

func (h *head) standardise(x []float64) []float64 {
	if h.mean == nil {
		return x
	}
	z := make([]float64, len(x))
	for j, v := range x {
		z[j] = (v - h.mean[j]) / h.scale[j]
	}
	return z
}

// predict returns the class name of x.
func (h *head) predict(x []float64) (string, error) {
	p, err := h.clf.Predict([][]float64{h.standardise(x)})
	if err != nil {
		return "", err
	}
	return h.classes[p[0]], nil
}

// proba returns the probability of each class (trees: the leaf's class
// fractions). Only logistic regression and trees have them.
func (h *head) proba(x []float64) ([]float64, error) {
	pc, ok := h.clf.(models.ProbaClassifier)
	if !ok {
		return nil, fmt.Errorf("%w: %s gives no probabilities", ErrOption, h.learner)
	}
	p, err := pc.PredictProba([][]float64{h.standardise(x)})
	if err != nil {
		return nil, err
	}
	return p[0], nil
}

// explain says why x gets class: the tree's path, or the features that
// pushed a linear model most towards the class ("intent=refund_status
// (+1.52) + ..."). A tree's path is shortened to what the conversation
// has: features it shows ("intent=complaint") and thresholds it passes
// ("wait_minutes > 9.3 (is 12)", the tightest bounds per feature); the
// steps on features it lacks ("not intent=greet") are left out, unless
// nothing else is left.
func (h *head) explain(x []float64, names []string, class string) (string, error) {
	if t, ok := h.clf.(*models.DecisionTree); ok {
		p, err := t.Explain(x)
		if err != nil {
			return "", err
		}
		return strings.Join(pathConditions(p), " + ") + " -> " + class, nil
	}
	cs, err := h.pushes(x, names, class)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, ct := range cs[:min(3, len(cs))] {
		parts = append(parts, fmt.Sprintf("%s (+%.2f)", ct.name, ct.v))
	}
	if len(parts) == 0 {
		parts = []string{"no single feature stands out"}
	}
	return fmt.Sprintf("%s -> %s", strings.Join(parts, " + "), class), nil
}

// contrib is one feature's push towards a class in a linear model: its
// weight times its standardised value.
type contrib struct {
	name string
	v    float64
}

// pushes returns the features of x (those it has, non-zero) that push a
// linear head towards class, strongest first.
func (h *head) pushes(x []float64, names []string, class string) ([]contrib, error) {
	var coef [][]float64
	switch m := h.clf.(type) {
	case *models.LogisticRegression:
		coef, _ = m.Coef()
	case *models.LinearSVM:
		coef, _ = m.Coef()
	}
	c := slices.Index(h.classes, class)
	if coef == nil || c < 0 || len(coef[0]) != len(x) {
		return nil, fmt.Errorf("%w: cannot explain %s", ErrFormat, h.learner)
	}
	// Two classes share one row of weights, for class 1.
	w, sign := coef[0], 1.0
	if len(coef) > 1 {
		w = coef[c]
	} else if c == 0 {
		sign = -1
	}
	z := h.standardise(x)
	var cs []contrib
	for j := range w {
		if v := sign * w[j] * z[j]; v > 0 && x[j] != 0 {
			cs = append(cs, contrib{names[j], v})
		}
	}
	sort.SliceStable(cs, func(a, b int) bool { return cs[a].v > cs[b].v })
	return cs, nil
}

// savedHead is a head on disk.
type savedHead struct {
	Learner Learner         `json:"learner"`
	Classes []string        `json:"classes"`
	Mean    []float64       `json:"mean,omitempty"`
	Scale   []float64       `json:"scale,omitempty"`
	Model   json.RawMessage `json:"model"`
}

func (h *head) save() (savedHead, error) {
	var buf bytes.Buffer
	if err := h.clf.Save(&buf); err != nil {
		return savedHead{}, err
	}
	return savedHead{Learner: h.learner, Classes: h.classes, Mean: h.mean, Scale: h.scale, Model: buf.Bytes()}, nil
}

// load checks a saved head against the feature count d and returns it.
func (s savedHead) load(d int) (*head, error) {
	if _, err := ParseKind(string(s.Learner.Kind)); err != nil || s.Learner.Kind == Auto {
		return nil, fmt.Errorf("%w: learner %q", ErrFormat, s.Learner.Kind)
	}
	if len(s.Classes) < 2 {
		return nil, fmt.Errorf("%w: %d classes", ErrFormat, len(s.Classes))
	}
	clf, err := models.LoadClassifier(bytes.NewReader(s.Model))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	kindOK := false
	switch clf.(type) {
	case *models.DecisionTree:
		kindOK = s.Learner.Kind == Tree
	case *models.LogisticRegression:
		kindOK = s.Learner.Kind == LogReg
	case *models.LinearSVM:
		kindOK = s.Learner.Kind == SVM
	}
	if !kindOK {
		return nil, fmt.Errorf("%w: learner %s holds another kind of model", ErrFormat, s.Learner.Kind)
	}
	if f, k := clf.Dims(); f != d || k != len(s.Classes) {
		return nil, fmt.Errorf("%w: model has %d features and %d classes, the file names %d and %d",
			models.ErrDimension, f, k, d, len(s.Classes))
	}
	h := &head{learner: s.Learner, classes: s.Classes, clf: clf}
	if s.Learner.Kind != Tree {
		if len(s.Mean) != d || len(s.Scale) != d {
			return nil, fmt.Errorf("%w: standardisation of %d and %d features, want %d", models.ErrDimension, len(s.Mean), len(s.Scale), d)
		}
		for j := range d {
			if !finite(s.Mean[j]) || !finite(s.Scale[j]) || s.Scale[j] <= 0 {
				return nil, fmt.Errorf("%w: bad standardisation of feature %d", ErrFormat, j)
			}
		}
		h.mean, h.scale = s.Mean, s.Scale
	}
	return h, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// pathConditions renders a tree path as the conditions a reader needs; see
// explain.
func pathConditions(p models.Path) []string {
	type bounds struct {
		lo, hi       float64
		hasLo, hasHi bool
		value        float64
	}
	var order []string
	num := map[string]*bounds{}
	var present, absent []string
	for _, s := range p.Steps {
		switch str := s.String(); str {
		case s.Name:
			present = append(present, str)
			continue
		case "not " + s.Name:
			absent = append(absent, str)
			continue
		}
		b := num[s.Name]
		if b == nil {
			b = &bounds{value: s.Value}
			num[s.Name] = b
			order = append(order, s.Name)
		}
		if s.Left && (!b.hasHi || s.Threshold < b.hi) {
			b.hi, b.hasHi = s.Threshold, true
		}
		if !s.Left && (!b.hasLo || s.Threshold > b.lo) {
			b.lo, b.hasLo = s.Threshold, true
		}
	}
	conds := present
	for _, n := range order {
		b := num[n]
		var c string
		switch {
		case b.hasLo && b.hasHi:
			c = fmt.Sprintf("%.3g < %s <= %.3g", b.lo, n, b.hi)
		case b.hasLo:
			c = fmt.Sprintf("%s > %.3g", n, b.lo)
		default:
			c = fmt.Sprintf("%s <= %.3g", n, b.hi)
		}
		conds = append(conds, fmt.Sprintf("%s (is %.3g)", c, b.value))
	}
	if len(conds) == 0 {
		conds = absent
	}
	if len(conds) == 0 {
		conds = []string{"most conversations"}
	}
	return conds
}
