package models

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
)

const treeVersion = 1

// Criterion is the impurity a DecisionTree minimises.
type Criterion int

const (
	// Gini impurity, 1 - sum p_c²  (the default).
	Gini Criterion = iota
	// Entropy, -sum p_c·log2 p_c (information gain).
	Entropy
)

// featureEps is the smallest gap between two sorted values that a split may
// fall into; closer values count as equal (scikit-learn's FEATURE_THRESHOLD).
const featureEps = 1e-7

// DecisionTree is a CART classification tree with axis-aligned binary splits
// "feature <= threshold", grown depth-first with the best split at every
// node, as scikit-learn's DecisionTreeClassifier(splitter="best") does.
// Thresholds are midpoints between neighbouring training values.
//
// Exact ties between equally good splits on different features are common
// (on 0/1 features, and in small nodes of a deep tree, where any feature that
// separates two samples will do). Like scikit-learn, each node visits the
// features in a random order drawn from Seed and keeps the first best split,
// so ties do not always favour low feature indices; the same Seed and data
// give an identical tree.
//
// The zero value grows a full Gini tree. FeatureNames and ClassNames are
// optional and only used to print Rules and Explain paths; they are saved
// with the model.
type DecisionTree struct {
	Criterion Criterion
	// MaxDepth limits the depth (the root is depth 0); 0 means unlimited.
	MaxDepth int
	// MinSamplesSplit is the fewest samples a node needs to be split; 0
	// means 2.
	MinSamplesSplit int
	// MinSamplesLeaf is the fewest samples each child of a split must get;
	// 0 means 1.
	MinSamplesLeaf int
	// FeatureNames names the features for Rules and Explain (for example
	// "tier=gold" for a one-hot column); nil prints x[3] and so on. If set
	// it must have one name per feature.
	FeatureNames []string
	// ClassNames names the classes; nil prints "class 2" and so on. If set
	// it must have one name per class.
	ClassNames []string
	// Seed drives the order features are tried in (see above).
	Seed uint64

	nodes       []treeNode
	d, k        int
	binary      []bool    // feature took only the values 0 and 1 in training
	importances []float64 // normalised impurity decrease per feature
}

// treeNode is one node; the root is nodes[0] and children always come after
// their parent.
type treeNode struct {
	Feature   int     `json:"f"` // -1 for a leaf
	Threshold float64 `json:"t,omitempty"`
	Left      int     `json:"l,omitempty"`
	Right     int     `json:"r,omitempty"`
	Counts    []int   `json:"c"` // training samples per class
	samples   int
	impurity  float64
}

func (m *DecisionTree) params() (minSplit, minLeaf int, err error) {
	minSplit, minLeaf = m.MinSamplesSplit, m.MinSamplesLeaf
	if minSplit == 0 {
		minSplit = 2
	}
	if minLeaf == 0 {
		minLeaf = 1
	}
	if m.Criterion != Gini && m.Criterion != Entropy || m.MaxDepth < 0 || minSplit < 2 || minLeaf < 1 {
		return 0, 0, fmt.Errorf("%w: Criterion=%d MaxDepth=%d MinSamplesSplit=%d MinSamplesLeaf=%d", ErrParam,
			m.Criterion, m.MaxDepth, m.MinSamplesSplit, m.MinSamplesLeaf)
	}
	return minSplit, minLeaf, nil
}

// Fit grows the tree on X and y. It returns ErrParam for bad
// hyperparameters, ErrEmpty, ErrDimension (also for FeatureNames or
// ClassNames of the wrong length), ErrNonFinite for bad features, ErrLabel
// and ErrSingleClass for bad labels.
func (m *DecisionTree) Fit(X [][]float64, y []int) error {
	minSplit, minLeaf, err := m.params()
	if err != nil {
		return fmt.Errorf("decision tree fit: %w", err)
	}
	xm, err := checkRows(X, 0)
	if err != nil {
		return fmt.Errorf("decision tree fit: %w", err)
	}
	k, err := checkLabels(y, xm.n)
	if err != nil {
		return fmt.Errorf("decision tree fit: %w", err)
	}
	if err := checkNames(m.FeatureNames, m.ClassNames, xm.d, k); err != nil {
		return fmt.Errorf("decision tree fit: %w", err)
	}
	b := newTreeBuilder(xm, y, k, m.Criterion)
	b.rng = rand.New(rand.NewPCG(m.Seed, 0x74726565)) // "tree"
	b.maxDepth, b.minSplit, b.minLeaf = m.MaxDepth, minSplit, minLeaf
	b.grow(0, xm.n, 0)
	m.nodes, m.d, m.k = b.nodes, xm.d, k
	m.binary = make([]bool, xm.d)
	for f, col := range b.cols {
		m.binary[f] = !slices.ContainsFunc(col, func(v float64) bool { return v != 0 && v != 1 })
	}
	m.importances = m.computeImportances()
	return nil
}

func checkNames(features, classes []string, d, k int) error {
	if features != nil && len(features) != d {
		return fmt.Errorf("%w: %d feature names for %d features", ErrDimension, len(features), d)
	}
	if classes != nil && len(classes) != k {
		return fmt.Errorf("%w: %d class names for %d classes", ErrDimension, len(classes), k)
	}
	return nil
}

// treeBuilder grows a tree with presorted columns: order[f] lists the
// samples sorted by feature f, and every node owns the same range [lo,hi)
// of every order[f], kept sorted by stable partitioning after each split.
// A level of the tree then costs O(n·d) instead of a sort per node.
type treeBuilder struct {
	cols     [][]float64 // column-major features
	y        []int
	k        int
	crit     Criterion
	order    [][]int32
	goLeft   []bool
	tmp      []int32
	feats    []int // feature visiting order, reshuffled per node
	rng      *rand.Rand
	nodes    []treeNode
	maxDepth int
	minSplit int
	minLeaf  int
}

func newTreeBuilder(xm matrix, y []int, k int, crit Criterion) *treeBuilder {
	b := &treeBuilder{y: y, k: k, crit: crit, goLeft: make([]bool, xm.n), tmp: make([]int32, xm.n), feats: make([]int, xm.d)}
	for f := range b.feats {
		b.feats[f] = f
	}
	b.cols = make([][]float64, xm.d)
	b.order = make([][]int32, xm.d)
	for f := range b.cols {
		col := make([]float64, xm.n)
		ord := make([]int32, xm.n)
		for i := range col {
			col[i] = xm.v[i*xm.d+f]
			ord[i] = int32(i)
		}
		slices.SortFunc(ord, func(a, c int32) int {
			if r := cmp.Compare(col[a], col[c]); r != 0 {
				return r
			}
			return cmp.Compare(a, c)
		})
		b.cols[f], b.order[f] = col, ord
	}
	return b
}

// impurity of a node with the given class counts and total n.
func impurity(crit Criterion, counts []int, n int) float64 {
	if n == 0 {
		return 0
	}
	fn := float64(n)
	if crit == Entropy {
		var h float64
		for _, c := range counts {
			if c > 0 {
				p := float64(c) / fn
				h -= p * math.Log2(p)
			}
		}
		return h
	}
	var s float64
	for _, c := range counts {
		s += float64(c) * float64(c)
	}
	return 1 - s/(fn*fn)
}

// grow builds the subtree of the samples in [lo,hi) and returns its index.
func (b *treeBuilder) grow(lo, hi, depth int) int {
	counts := make([]int, b.k)
	for _, s := range b.order[0][lo:hi] {
		counts[b.y[s]]++
	}
	n := hi - lo
	id := len(b.nodes)
	b.nodes = append(b.nodes, treeNode{Feature: -1, Counts: counts, samples: n, impurity: impurity(b.crit, counts, n)})
	if (b.maxDepth > 0 && depth >= b.maxDepth) || n < b.minSplit || n < 2*b.minLeaf || b.nodes[id].impurity <= 1e-15 {
		return id
	}
	f, thr, nLeft, ok := b.bestSplit(lo, hi, counts)
	if !ok {
		return id
	}
	col := b.cols[f]
	for _, s := range b.order[f][lo:hi] {
		b.goLeft[s] = col[s] <= thr
	}
	for g := range b.order {
		ord := b.order[g][lo:hi]
		l, r := 0, 0
		for _, s := range ord {
			if b.goLeft[s] {
				ord[l] = s
				l++
			} else {
				b.tmp[r] = s
				r++
			}
		}
		copy(ord[l:], b.tmp[:r])
	}
	left := b.grow(lo, lo+nLeft, depth+1)
	right := b.grow(lo+nLeft, hi, depth+1)
	b.nodes[id].Feature, b.nodes[id].Threshold = f, thr
	b.nodes[id].Left, b.nodes[id].Right = left, right
	return id
}

// bestSplit scans every feature for the split that leaves the least
// weighted child impurity. ok is false when no split respects MinSamplesLeaf
// (or every feature is constant here).
func (b *treeBuilder) bestSplit(lo, hi int, counts []int) (feature int, threshold float64, nLeft int, ok bool) {
	n := hi - lo
	left := make([]int, b.k)
	right := make([]int, b.k)
	best := math.Inf(1) // weighted child impurity, lower is better
	b.rng.Shuffle(len(b.feats), func(i, j int) { b.feats[i], b.feats[j] = b.feats[j], b.feats[i] })
	for _, f := range b.feats {
		col, ord := b.cols[f], b.order[f][lo:hi]
		if col[ord[n-1]] <= col[ord[0]]+featureEps {
			continue
		}
		clear(left)
		copy(right, counts)
		// Gini tracks sums of squared counts incrementally.
		var sl2, sr2 float64
		for _, c := range counts {
			sr2 += float64(c) * float64(c)
		}
		for p := 1; p < n; p++ {
			c := b.y[ord[p-1]]
			sl2 += float64(2*left[c] + 1)
			sr2 -= float64(2*right[c] - 1)
			left[c]++
			right[c]--
			if p < b.minLeaf || n-p < b.minLeaf {
				continue
			}
			prev, next := col[ord[p-1]], col[ord[p]]
			if next <= prev+featureEps {
				continue
			}
			nl, nr := float64(p), float64(n-p)
			var w float64
			if b.crit == Gini {
				w = nl - sl2/nl + nr - sr2/nr
			} else {
				w = nl*impurity(Entropy, left, p) + nr*impurity(Entropy, right, n-p)
			}
			if w < best {
				best, feature, nLeft, ok = w, f, p, true
				threshold = prev/2 + next/2
				if threshold == next || math.IsInf(threshold, 0) || math.IsNaN(threshold) {
					threshold = prev
				}
			}
		}
	}
	return feature, threshold, nLeft, ok
}

// computeImportances sums each feature's weighted impurity decrease over its
// splits and normalises the result to sum to 1 (all zeros for a stump).
func (m *DecisionTree) computeImportances() []float64 {
	imp := make([]float64, m.d)
	var total float64
	for _, nd := range m.nodes {
		if nd.Feature < 0 {
			continue
		}
		l, r := m.nodes[nd.Left], m.nodes[nd.Right]
		dec := float64(nd.samples)*nd.impurity - float64(l.samples)*l.impurity - float64(r.samples)*r.impurity
		imp[nd.Feature] += dec
		total += dec
	}
	if total > 0 {
		for f := range imp {
			imp[f] /= total
		}
	}
	return imp
}

// FeatureImportances returns a copy of the normalised total impurity
// decrease of each feature (summing to 1 unless the tree is a single leaf);
// nil before Fit.
func (m *DecisionTree) FeatureImportances() []float64 {
	return slices.Clone(m.importances)
}

// Dims returns the number of features and classes (zeros before Fit).
func (m *DecisionTree) Dims() (features, classes int) { return m.d, m.k }

// NodeCount returns the number of nodes (0 before Fit).
func (m *DecisionTree) NodeCount() int { return len(m.nodes) }

// LeafCount returns the number of leaves (0 before Fit).
func (m *DecisionTree) LeafCount() int {
	n := 0
	for _, nd := range m.nodes {
		if nd.Feature < 0 {
			n++
		}
	}
	return n
}

// Depth returns the length of the longest root-to-leaf path (0 for a single
// leaf or before Fit).
func (m *DecisionTree) Depth() int {
	if len(m.nodes) == 0 {
		return 0
	}
	depth := make([]int, len(m.nodes))
	most := 0
	for i, nd := range m.nodes { // parents come before children
		if nd.Feature >= 0 {
			depth[nd.Left], depth[nd.Right] = depth[i]+1, depth[i]+1
		}
		most = max(most, depth[i])
	}
	return most
}

// leaf returns the index of the leaf x falls into.
func (m *DecisionTree) leaf(x []float64) int {
	i := 0
	for m.nodes[i].Feature >= 0 {
		nd := &m.nodes[i]
		if x[nd.Feature] <= nd.Threshold {
			i = nd.Left
		} else {
			i = nd.Right
		}
	}
	return i
}

// majority returns the most frequent class of a node (lowest on ties).
func majority(counts []int) int {
	best := 0
	for c, n := range counts {
		if n > counts[best] {
			best = c
		}
	}
	return best
}

// Predict returns the majority training class of the leaf each row falls
// into. It returns ErrNotFitted, or ErrEmpty, ErrDimension, ErrNonFinite
// for bad rows.
func (m *DecisionTree) Predict(X [][]float64) ([]int, error) {
	if err := m.check(X); err != nil {
		return nil, fmt.Errorf("decision tree predict: %w", err)
	}
	out := make([]int, len(X))
	for i, x := range X {
		out[i] = majority(m.nodes[m.leaf(x)].Counts)
	}
	return out, nil
}

// PredictProba returns, for each row, the class fractions of the training
// samples in its leaf. Errors as for Predict.
func (m *DecisionTree) PredictProba(X [][]float64) ([][]float64, error) {
	if err := m.check(X); err != nil {
		return nil, fmt.Errorf("decision tree predict proba: %w", err)
	}
	out := make([][]float64, len(X))
	flat := make([]float64, len(X)*m.k)
	for i, x := range X {
		nd := &m.nodes[m.leaf(x)]
		p := flat[i*m.k : (i+1)*m.k]
		for c, n := range nd.Counts {
			p[c] = float64(n) / float64(nd.samples)
		}
		out[i] = p
	}
	return out, nil
}

func (m *DecisionTree) check(X [][]float64) error {
	if len(m.nodes) == 0 {
		return ErrNotFitted
	}
	_, err := validRows(X, m.d)
	return err
}

type treeJSON struct {
	Criterion       Criterion  `json:"criterion"`
	Seed            uint64     `json:"seed"`
	MaxDepth        int        `json:"max_depth"`
	MinSamplesSplit int        `json:"min_samples_split"`
	MinSamplesLeaf  int        `json:"min_samples_leaf"`
	FeatureNames    []string   `json:"feature_names,omitempty"`
	ClassNames      []string   `json:"class_names,omitempty"`
	Features        int        `json:"features"`
	Classes         int        `json:"classes"`
	Binary          []bool     `json:"binary"`
	Nodes           []treeNode `json:"nodes"`
}

// Save writes the fitted tree (with its names) to w. It returns ErrNotFitted
// before Fit, or the writer's error.
func (m *DecisionTree) Save(w io.Writer) error {
	if len(m.nodes) == 0 {
		return fmt.Errorf("decision tree save: %w", ErrNotFitted)
	}
	return save(w, kindTree, treeVersion, treeJSON{
		Criterion: m.Criterion, Seed: m.Seed, MaxDepth: m.MaxDepth, MinSamplesSplit: m.MinSamplesSplit, MinSamplesLeaf: m.MinSamplesLeaf,
		FeatureNames: m.FeatureNames, ClassNames: m.ClassNames,
		Features: m.d, Classes: m.k, Binary: m.binary, Nodes: m.nodes,
	})
}

// Load replaces m with a tree saved by Save. It returns ErrFormat, ErrKind
// or ErrVersion when r does not hold a readable, consistent tree; m is
// unchanged then.
func (m *DecisionTree) Load(r io.Reader) error {
	env, err := readEnvelope(r)
	if err == nil {
		err = m.fromEnvelope(env)
	}
	if err != nil {
		return fmt.Errorf("decision tree load: %w", err)
	}
	return nil
}

func (m *DecisionTree) fromEnvelope(env envelope) error {
	var j treeJSON
	if err := env.open(kindTree, treeVersion, &j); err != nil {
		return err
	}
	t := DecisionTree{Criterion: j.Criterion, Seed: j.Seed, MaxDepth: j.MaxDepth, MinSamplesSplit: j.MinSamplesSplit,
		MinSamplesLeaf: j.MinSamplesLeaf, FeatureNames: j.FeatureNames, ClassNames: j.ClassNames,
		nodes: j.Nodes, d: j.Features, k: j.Classes, binary: j.Binary}
	if err := t.validate(); err != nil {
		return err
	}
	t.importances = t.computeImportances()
	*m = t
	return nil
}

// validate checks a loaded tree so that prediction cannot index out of
// range or loop, and fills the derived node fields.
func (m *DecisionTree) validate() error {
	if _, _, err := m.params(); err != nil {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if m.d < 1 || m.k < 2 || len(m.nodes) == 0 || len(m.binary) != m.d {
		return fmt.Errorf("%w: %d features, %d classes, %d nodes, %d binary flags", ErrFormat, m.d, m.k, len(m.nodes), len(m.binary))
	}
	if err := checkNames(m.FeatureNames, m.ClassNames, m.d, m.k); err != nil {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	parents := make([]int, len(m.nodes))
	for i := range m.nodes {
		nd := &m.nodes[i]
		if len(nd.Counts) != m.k {
			return fmt.Errorf("%w: node %d has %d class counts, want %d", ErrFormat, i, len(nd.Counts), m.k)
		}
		nd.samples = 0
		for _, c := range nd.Counts {
			if c < 0 || c > math.MaxInt32 || nd.samples > math.MaxInt32 {
				return fmt.Errorf("%w: node %d has bad class counts", ErrFormat, i)
			}
			nd.samples += c
		}
		if nd.samples == 0 {
			return fmt.Errorf("%w: node %d has no samples", ErrFormat, i)
		}
		nd.impurity = impurity(m.Criterion, nd.Counts, nd.samples)
		if nd.Feature < 0 {
			if nd.Feature != -1 || nd.Left != 0 || nd.Right != 0 {
				return fmt.Errorf("%w: leaf %d has children", ErrFormat, i)
			}
			continue
		}
		if nd.Feature >= m.d || math.IsNaN(nd.Threshold) || math.IsInf(nd.Threshold, 0) ||
			nd.Left <= i || nd.Right <= i || nd.Left >= len(m.nodes) || nd.Right >= len(m.nodes) || nd.Left == nd.Right {
			return fmt.Errorf("%w: node %d has a bad split", ErrFormat, i)
		}
		parents[nd.Left]++
		parents[nd.Right]++
	}
	for i := 1; i < len(parents); i++ {
		if parents[i] != 1 {
			return fmt.Errorf("%w: node %d has %d parents", ErrFormat, i, parents[i])
		}
	}
	for i, nd := range m.nodes {
		if nd.Feature < 0 {
			continue
		}
		l, r := m.nodes[nd.Left].Counts, m.nodes[nd.Right].Counts
		for c := range nd.Counts {
			if l[c]+r[c] != nd.Counts[c] {
				return fmt.Errorf("%w: node %d counts differ from its children's", ErrFormat, i)
			}
		}
	}
	return nil
}
