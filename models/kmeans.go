package models

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

const kmeansVersion = 1

// KMeans clusters rows into K groups by Lloyd's algorithm from k-means++
// seeds (the greedy variant scikit-learn uses: 2+ln K candidates per seed,
// keeping the one that lowers the inertia most), keeping the best of NInit
// runs. Use it to group customers or conversations without labels; pick K
// by comparing Inertia across values.
//
// Training draws random numbers only from Seed: the same Seed and data give
// an identical model.
type KMeans struct {
	// K is the number of clusters (required, >= 1).
	K int
	// NInit is the number of runs from different seeds; the one with the
	// lowest inertia is kept. 0 means 10.
	NInit int
	// MaxIter bounds the Lloyd iterations of one run; 0 means 300.
	MaxIter int
	// Tol stops a run when the centres move less than Tol times the mean
	// feature variance (sum of squared moves), as in scikit-learn; 0 means
	// 1e-4.
	Tol float64
	// Seed seeds the k-means++ draws.
	Seed uint64

	d       int
	centers []float64 // K*d, row-major
	inertia float64
	iters   int
}

func (m *KMeans) params() (nInit, maxIter int, tol float64, err error) {
	nInit, maxIter, tol = m.NInit, m.MaxIter, m.Tol
	if nInit == 0 {
		nInit = 10
	}
	if maxIter == 0 {
		maxIter = 300
	}
	if tol == 0 {
		tol = 1e-4
	}
	if m.K < 1 || nInit < 1 || maxIter < 1 || !(tol > 0) || math.IsInf(tol, 0) {
		return 0, 0, 0, fmt.Errorf("%w: K=%d NInit=%d MaxIter=%d Tol=%v", ErrParam, m.K, m.NInit, m.MaxIter, m.Tol)
	}
	return nInit, maxIter, tol, nil
}

// Fit clusters X. It returns ErrParam for bad hyperparameters, ErrEmpty,
// ErrDimension, ErrNonFinite for bad rows, and ErrTooFewSamples when X has
// fewer distinct rows than K.
func (m *KMeans) Fit(X [][]float64) error {
	nInit, maxIter, tol, err := m.params()
	if err != nil {
		return fmt.Errorf("kmeans fit: %w", err)
	}
	xm, err := checkRows(X, 0)
	if err != nil {
		return fmt.Errorf("kmeans fit: %w", err)
	}
	if xm.n < m.K {
		return fmt.Errorf("kmeans fit: %w: %d samples for %d clusters", ErrTooFewSamples, xm.n, m.K)
	}
	tol *= meanVariance(xm)
	rng := rand.New(rand.NewPCG(m.Seed, 0x6b6d65616e73)) // "kmeans"
	best := kmeansRun{inertia: math.Inf(1)}
	for range nInit {
		centers, err := kmeansPlusPlus(xm, m.K, rng)
		if err != nil {
			return fmt.Errorf("kmeans fit: %w", err)
		}
		r := lloyd(xm, centers, m.K, maxIter, tol)
		if r.inertia < best.inertia {
			best = r
		}
	}
	m.d, m.centers, m.inertia, m.iters = xm.d, best.centers, best.inertia, best.iters
	return nil
}

type kmeansRun struct {
	centers []float64
	inertia float64
	iters   int
}

func meanVariance(xm matrix) float64 {
	var total float64
	for f := 0; f < xm.d; f++ {
		var mean float64
		for i := 0; i < xm.n; i++ {
			mean += xm.v[i*xm.d+f]
		}
		mean /= float64(xm.n)
		var v float64
		for i := 0; i < xm.n; i++ {
			dx := xm.v[i*xm.d+f] - mean
			v += dx * dx
		}
		total += v / float64(xm.n)
	}
	return total / float64(xm.d)
}

// SqDist returns the squared Euclidean distance between a and b, which must
// have the same length (b at least as long as a).
func SqDist(a, b []float64) float64 {
	var s float64
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}

// kmeansPlusPlus picks k seeds: the first uniformly, each next one among
// 2+ln k candidates drawn with probability proportional to the squared
// distance to the nearest seed, keeping the candidate that lowers the total
// most.
func kmeansPlusPlus(xm matrix, k int, rng *rand.Rand) ([]float64, error) {
	centers := make([]float64, 0, k*xm.d)
	first := rng.IntN(xm.n)
	centers = append(centers, xm.row(first)...)
	closest := make([]float64, xm.n)
	var pot float64
	for i := range closest {
		closest[i] = SqDist(xm.row(i), xm.row(first))
		pot += closest[i]
	}
	trials := 2 + int(math.Log(float64(k)))
	cum := make([]float64, xm.n)
	cand := make([]float64, xm.n)
	bestDist := make([]float64, xm.n)
	for c := 1; c < k; c++ {
		if !(pot > 0) {
			return nil, fmt.Errorf("%w: only %d distinct points for %d clusters", ErrTooFewSamples, c, k)
		}
		var s float64
		for i, d := range closest {
			s += d
			cum[i] = s
		}
		bestPot, bestID := math.Inf(1), -1
		for range trials {
			id := sort.SearchFloat64s(cum, rng.Float64()*s)
			id = min(id, xm.n-1)
			var p float64
			for i := range cand {
				cand[i] = min(closest[i], SqDist(xm.row(i), xm.row(id)))
				p += cand[i]
			}
			if p < bestPot {
				bestPot, bestID = p, id
				copy(bestDist, cand)
			}
		}
		centers = append(centers, xm.row(bestID)...)
		copy(closest, bestDist)
		pot = bestPot
	}
	return centers, nil
}

// lloyd refines centers until the labels stop changing, the centres move
// less than tol in total, or maxIter passes.
func lloyd(xm matrix, centers []float64, k, maxIter int, tol float64) kmeansRun {
	d := xm.d
	labels := make([]int, xm.n)
	prev := make([]int, xm.n)
	dist := make([]float64, xm.n)
	next := make([]float64, k*d)
	counts := make([]int, k)
	iters := 0
	for iters < maxIter {
		assign(xm, centers, k, labels, dist)
		iters++
		clear(next)
		clear(counts)
		for i, c := range labels {
			counts[c]++
			axpy(1, xm.row(i), next[c*d:(c+1)*d])
		}
		relocateEmpty(xm, labels, dist, counts, next, k)
		var shift float64
		for c := 0; c < k; c++ {
			nc := next[c*d : (c+1)*d]
			if counts[c] == 0 {
				// Unreachable with n >= K, but never divide by zero.
				copy(nc, centers[c*d:(c+1)*d])
				continue
			}
			for j := range nc {
				nc[j] /= float64(counts[c])
			}
			shift += SqDist(nc, centers[c*d:(c+1)*d])
		}
		centers, next = next, centers
		if iters > 1 && slices.Equal(labels, prev) {
			break
		}
		if shift <= tol {
			break
		}
		copy(prev, labels)
	}
	// Label once more with the final centres so the inertia matches them.
	assign(xm, centers, k, labels, dist)
	var inertia float64
	for _, v := range dist {
		inertia += v
	}
	return kmeansRun{centers: centers, inertia: inertia, iters: iters}
}

// assign labels each row with its nearest centre and records the squared
// distance.
func assign(xm matrix, centers []float64, k int, labels []int, dist []float64) {
	d := xm.d
	for i := 0; i < xm.n; i++ {
		x := xm.row(i)
		best, bd := 0, math.Inf(1)
		for c := 0; c < k; c++ {
			if v := SqDist(x, centers[c*d:(c+1)*d]); v < bd {
				best, bd = c, v
			}
		}
		labels[i], dist[i] = best, bd
	}
}

// relocateEmpty gives every empty cluster the point farthest from its
// centre among those not yet moved, as scikit-learn does.
func relocateEmpty(xm matrix, labels []int, dist []float64, counts []int, sums []float64, k int) {
	d := xm.d
	var empty []int
	for c := 0; c < k; c++ {
		if counts[c] == 0 {
			empty = append(empty, c)
		}
	}
	if len(empty) == 0 {
		return
	}
	idx := make([]int, xm.n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return -cmpFloat(dist[a], dist[b]) })
	taken := 0
	for _, c := range empty {
		// Skip points whose cluster would become empty in turn.
		for taken < len(idx) && counts[labels[idx[taken]]] <= 1 {
			taken++
		}
		if taken == len(idx) {
			return
		}
		i := idx[taken]
		taken++
		old := labels[i]
		counts[old]--
		axpy(-1, xm.row(i), sums[old*d:(old+1)*d])
		labels[i] = c
		counts[c] = 1
		copy(sums[c*d:(c+1)*d], xm.row(i))
		dist[i] = 0
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Inertia returns the sum of squared distances of the training rows to
// their nearest centre (0 before Fit).
func (m *KMeans) Inertia() float64 { return m.inertia }

// Iterations returns the Lloyd iterations of the kept run.
func (m *KMeans) Iterations() int { return m.iters }

// Centers returns a copy of the cluster centres, one row per cluster; nil
// before Fit.
func (m *KMeans) Centers() [][]float64 {
	if m.d == 0 {
		return nil
	}
	k := len(m.centers) / m.d
	out := make([][]float64, k)
	for c := range out {
		out[c] = slices.Clone(m.centers[c*m.d : (c+1)*m.d])
	}
	return out
}

// Predict returns the index of the nearest centre of each row. It returns
// ErrNotFitted, or ErrEmpty, ErrDimension, ErrNonFinite for bad rows.
func (m *KMeans) Predict(X [][]float64) ([]int, error) {
	if m.d == 0 {
		return nil, fmt.Errorf("kmeans predict: %w", ErrNotFitted)
	}
	if _, err := validRows(X, m.d); err != nil {
		return nil, fmt.Errorf("kmeans predict: %w", err)
	}
	k := len(m.centers) / m.d
	labels := make([]int, len(X))
	for i, x := range X {
		bd := math.Inf(1)
		for c := 0; c < k; c++ {
			if v := SqDist(x, m.centers[c*m.d:(c+1)*m.d]); v < bd {
				labels[i], bd = c, v
			}
		}
	}
	return labels, nil
}

type kmeansJSON struct {
	K       int         `json:"k"`
	NInit   int         `json:"n_init"`
	MaxIter int         `json:"max_iter"`
	Tol     float64     `json:"tol"`
	Seed    uint64      `json:"seed"`
	Centers [][]float64 `json:"centers"`
	Inertia float64     `json:"inertia"`
}

// Save writes the fitted model to w. It returns ErrNotFitted before Fit, or
// the writer's error.
func (m *KMeans) Save(w io.Writer) error {
	if m.d == 0 {
		return fmt.Errorf("kmeans save: %w", ErrNotFitted)
	}
	return save(w, kindKMeans, kmeansVersion, kmeansJSON{K: m.K, NInit: m.NInit, MaxIter: m.MaxIter, Tol: m.Tol,
		Seed: m.Seed, Centers: m.Centers(), Inertia: m.inertia})
}

// Load replaces m with a model saved by Save. It returns ErrFormat, ErrKind
// or ErrVersion when r does not hold a readable k-means model; m is
// unchanged then.
func (m *KMeans) Load(r io.Reader) error {
	env, err := readEnvelope(r)
	if err != nil {
		return fmt.Errorf("kmeans load: %w", err)
	}
	var j kmeansJSON
	if err := env.open(kindKMeans, kmeansVersion, &j); err != nil {
		return fmt.Errorf("kmeans load: %w", err)
	}
	if j.K < 1 || len(j.Centers) != j.K || len(j.Centers[0]) == 0 {
		return fmt.Errorf("kmeans load: %w: %d centres for K=%d", ErrFormat, len(j.Centers), j.K)
	}
	t := KMeans{K: j.K, NInit: j.NInit, MaxIter: j.MaxIter, Tol: j.Tol, Seed: j.Seed, d: len(j.Centers[0]), inertia: j.Inertia}
	for _, c := range j.Centers {
		if len(c) != t.d || !finite(c) {
			return fmt.Errorf("kmeans load: %w: bad centre", ErrFormat)
		}
		t.centers = append(t.centers, c...)
	}
	*m = t
	return nil
}
