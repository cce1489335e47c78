package insight

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"unicode"

	"github.com/parleyhq/parley/models"
)

// silhouetteSample bounds the points the silhouette is computed on: it
// takes time and memory quadratic in them.
const silhouetteSample = 1000

// point is one kind of message: the messages with the same text up to
// case, spacing and numbers ("where is order 1042" and "Where is order
// 977" are one point), with the mean of their unit embeddings scaled to unit
// length.
type point struct {
	vec  []float64
	msgs []int // indices into the analysed messages, in reading order
	text string
}

// makePoints checks the embeddings, scales them to unit length and merges
// messages of the same shape into points, in order of first appearance. A
// point's text is its most frequent message text.
func makePoints(msgs []message) ([]point, error) {
	d := len(msgs[0].res.embedding)
	var pts []point
	index := map[string]int{}
	for i, m := range msgs {
		e := m.res.embedding
		if len(e) != d {
			return nil, fmt.Errorf("conversation %s message %d: %w: %d values, the first message analysed has %d (stored by different models? parse them again)",
				m.conversationID, m.seq, ErrDimension, len(e), d)
		}
		var norm float64
		for _, v := range e {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("conversation %s message %d: %w", m.conversationID, m.seq, ErrNonFinite)
			}
			norm += v * v
		}
		if norm = math.Sqrt(norm); math.IsInf(norm, 0) {
			return nil, fmt.Errorf("conversation %s message %d: %w: its length overflows", m.conversationID, m.seq, ErrNonFinite)
		}
		key := shape(m.text)
		p, ok := index[key]
		if !ok {
			p = len(pts)
			index[key] = p
			pts = append(pts, point{vec: make([]float64, d)})
		}
		pts[p].msgs = append(pts[p].msgs, i)
		if norm > 0 {
			for j, v := range e {
				pts[p].vec[j] += v / norm
			}
		}
	}
	for p := range pts {
		unit(pts[p].vec)
		pts[p].text = commonText(msgs, pts[p].msgs)
	}
	return pts, nil
}

// shape is text lower-cased, with runs of white space made one space and
// runs of digits made one 0: messages that differ only there ask the same.
func shape(text string) string {
	var b strings.Builder
	space, digit := false, false
	for _, r := range strings.ToLower(strings.TrimSpace(text)) {
		switch {
		case unicode.IsSpace(r):
			if !space {
				b.WriteByte(' ')
			}
			space, digit = true, false
		case unicode.IsDigit(r):
			if !digit {
				b.WriteByte('0')
			}
			space, digit = false, true
		default:
			b.WriteRune(r)
			space, digit = false, false
		}
	}
	return b.String()
}

// unit scales v to length 1 (a zero vector stays zero).
func unit(v []float64) {
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	if norm = math.Sqrt(norm); norm > 0 {
		for j := range v {
			v[j] /= norm
		}
	}
}

// distinctVectors counts the points with different vectors: k-means cannot
// make more clusters than that.
func distinctVectors(pts []point) int {
	seen := map[string]bool{}
	var key []byte
	for _, p := range pts {
		key = key[:0]
		for _, v := range p.vec {
			key = binary.LittleEndian.AppendUint64(key, math.Float64bits(v+0)) // +0 folds -0 into 0
		}
		seen[string(key)] = true
	}
	return len(seen)
}

// commonText returns the most frequent text among the messages, the first
// seen on a tie.
func commonText(msgs []message, idx []int) string {
	counts := map[string]int{}
	best := msgs[idx[0]].text
	for _, i := range idx {
		t := msgs[i].text
		counts[t]++
		if counts[t] > counts[best] {
			best = t
		}
	}
	return best
}

// clustering is the k-means result over the points.
type clustering struct {
	labels  []int
	centers [][]float64
}

// cluster picks k, fits k-means and records the choice in r.
func cluster(ctx context.Context, pts []point, opts Options, r *Report) (clustering, error) {
	X := make([][]float64, len(pts))
	for i := range pts {
		X[i] = pts[i].vec
	}
	distinct := distinctVectors(pts)
	if opts.K > 0 {
		if opts.K > distinct {
			return clustering{}, fmt.Errorf("%w: k=%d, but only %d different messages to analyse (%d in all)", ErrTooFewMessages, opts.K, distinct, r.Analysed)
		}
		cl, err := fitKMeans(X, opts.K, opts.Seed)
		if err != nil {
			return clustering{}, err
		}
		r.K, r.KChosenBy = opts.K, "given"
		if opts.K > 1 && opts.K < distinct {
			idx := sample(len(X), opts.Seed)
			r.Silhouette = silhouette(pairwise(X, idx), cl.labels, idx, opts.K)
		}
		return cl.clustering, nil
	}
	if distinct < 3 {
		r.K, r.KChosenBy = 1, "too few points"
		cl, err := fitKMeans(X, 1, opts.Seed)
		return cl.clustering, err
	}
	idx := sample(len(X), opts.Seed)
	dist := pairwise(X, idx)
	var best clustering
	bestS := math.Inf(-1)
	for k := 2; k <= min(opts.MaxK, distinct-1); k++ {
		if err := ctx.Err(); err != nil {
			return clustering{}, err
		}
		cl, err := fitKMeans(X, k, opts.Seed)
		if err != nil {
			return clustering{}, err
		}
		s := silhouette(dist, cl.labels, idx, k)
		r.Candidates = append(r.Candidates, KScore{K: k, Silhouette: s, Inertia: cl.inertia})
		if s > bestS {
			best, bestS, r.K, r.Silhouette = cl.clustering, s, k, s
		}
	}
	r.KChosenBy = "silhouette"
	return best, nil
}

type fitted struct {
	clustering
	inertia float64
}

func fitKMeans(X [][]float64, k int, seed uint64) (fitted, error) {
	km := models.KMeans{K: k, Seed: seed}
	if err := km.Fit(X); err != nil {
		return fitted{}, fmt.Errorf("cluster: %w", err)
	}
	labels, err := km.Predict(X)
	if err != nil {
		return fitted{}, fmt.Errorf("cluster: %w", err)
	}
	return fitted{clustering{labels: labels, centers: km.Centers()}, km.Inertia()}, nil
}

// sample returns the indices of at most silhouetteSample of n points, drawn
// with the seed, in increasing order; all of them when n is small enough.
func sample(n int, seed uint64) []int {
	if n <= silhouetteSample {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	rng := rand.New(rand.NewPCG(seed, 0x73696c686f7565)) // "silhoue"
	keep := make([]bool, n)
	for _, i := range rng.Perm(n)[:silhouetteSample] {
		keep[i] = true
	}
	idx := make([]int, 0, silhouetteSample)
	for i, k := range keep {
		if k {
			idx = append(idx, i)
		}
	}
	return idx
}

// pairwise returns the Euclidean distances between the sampled points, row
// by row (len(idx)² values).
func pairwise(X [][]float64, idx []int) []float64 {
	n := len(idx)
	dist := make([]float64, n*n)
	for a := range n {
		for b := a + 1; b < n; b++ {
			d := math.Sqrt(models.SqDist(X[idx[a]], X[idx[b]]))
			dist[a*n+b], dist[b*n+a] = d, d
		}
	}
	return dist
}

// silhouette returns the mean silhouette coefficient of the sampled points
// under labels: for each point, (b-a)/max(a,b), where a is its mean distance
// to the other points of its cluster and b the smallest mean distance to the
// points of another cluster; 0 for a point alone in its cluster (as
// scikit-learn's silhouette_score).
func silhouette(dist []float64, labels, idx []int, k int) float64 {
	n := len(idx)
	size := make([]int, k)
	for _, i := range idx {
		size[labels[i]]++
	}
	sums := make([]float64, k)
	var total float64
	for a := range n {
		clear(sums)
		row := dist[a*n : (a+1)*n]
		for b, d := range row {
			sums[labels[idx[b]]] += d
		}
		own := labels[idx[a]]
		if size[own] < 2 {
			continue
		}
		in := sums[own] / float64(size[own]-1)
		out := math.Inf(1)
		for c := range k {
			if c != own && size[c] > 0 {
				out = math.Min(out, sums[c]/float64(size[c]))
			}
		}
		if m := math.Max(in, out); m > 0 && !math.IsInf(out, 1) {
			total += (out - in) / m
		}
	}
	return total / float64(n)
}

// project places every analysed message on the first two principal
// components of the points (a lone point sits at the origin).
func project(r *Report, msgs []message, pts []point, labels []int) error {
	xy := make([][]float64, len(pts))
	if len(pts) >= 2 {
		X := make([][]float64, len(pts))
		for i := range pts {
			X[i] = pts[i].vec
		}
		pca := models.PCA{NComponents: min(2, len(pts), len(X[0]))}
		if err := pca.Fit(X); err != nil {
			return fmt.Errorf("map: %w", err)
		}
		var err error
		if xy, err = pca.Transform(X); err != nil {
			return fmt.Errorf("map: %w", err)
		}
		copy(r.MapVariance[:], pca.ExplainedVarianceRatio())
	}
	r.Map = make([]Point, len(msgs))
	for p, pt := range pts {
		var x, y float64
		if z := xy[p]; len(z) > 0 {
			x = z[0]
			if len(z) > 1 {
				y = z[1]
			}
		}
		for _, i := range pt.msgs {
			m := &msgs[i]
			r.Map[i] = Point{ConversationID: m.conversationID, Seq: m.seq, Cluster: labels[p], X: x, Y: y, Text: m.text}
		}
	}
	return nil
}
