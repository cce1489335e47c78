package models

import (
	"fmt"
	"io"
	"math"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

const pcaVersion = 1

// PCA is principal component analysis of the centred data, with the results
// of scikit-learn's PCA(svd_solver="full"), including its sign convention
// (the largest entry of each left singular vector is positive), so
// components match it sign for sign. With more rows than features it
// eigendecomposes the d x d scatter matrix XᵀX (one pass over the data,
// several times faster than an SVD of X; the squared condition number only
// blurs components whose variance is below about 1e-16 of the largest);
// otherwise it takes a thin SVD of X. Use it to look at or compress dense
// features; it is deterministic.
type PCA struct {
	// NComponents is how many components to keep; 0 keeps min(n, d).
	NComponents int

	d          int
	mean       []float64
	components []float64 // c*d, row-major, unit rows
	variance   []float64 // explained variance per component
	ratio      []float64 // explained variance ratio per component
}

// Fit computes the components of X. It returns ErrParam when NComponents is
// negative or above min(n, d), ErrEmpty, ErrDimension, ErrNonFinite for bad
// rows, and ErrTooFewSamples for fewer than two rows.
func (m *PCA) Fit(X [][]float64) error {
	xm, err := checkRows(X, 0)
	if err != nil {
		return fmt.Errorf("pca fit: %w", err)
	}
	if xm.n < 2 {
		return fmt.Errorf("pca fit: %w: need at least 2 samples, got %d", ErrTooFewSamples, xm.n)
	}
	r := min(xm.n, xm.d)
	nc := m.NComponents
	if nc == 0 {
		nc = r
	}
	if nc < 1 || nc > r {
		return fmt.Errorf("pca fit: %w: NComponents=%d, want 1..%d", ErrParam, m.NComponents, r)
	}
	mean := make([]float64, xm.d)
	for i := 0; i < xm.n; i++ {
		axpy(1, xm.row(i), mean)
	}
	for j := range mean {
		mean[j] /= float64(xm.n)
	}
	for i := 0; i < xm.n; i++ {
		axpy(-1, mean, xm.row(i))
	}
	var vals []float64  // squared singular values, decreasing
	var vecs *mat.Dense // d x r right singular vectors, by column
	var total float64   // sum of all squared singular values
	if xm.n > xm.d {
		vals, vecs, total = gramEigen(xm)
	} else {
		var svd mat.SVD
		if !svd.Factorize(mat.NewDense(xm.n, xm.d, xm.v), mat.SVDThin) {
			return fmt.Errorf("pca fit: svd did not converge")
		}
		vecs = new(mat.Dense)
		svd.VTo(vecs)
		for _, sv := range svd.Values(nil) {
			vals = append(vals, sv*sv)
			total += sv * sv
		}
	}
	// scikit-learn's sign convention: the entry of largest magnitude in
	// each left singular vector u = X·v/s is positive.
	var u mat.Dense
	u.Mul(mat.NewDense(xm.n, xm.d, xm.v), vecs.Slice(0, xm.d, 0, nc))
	t := PCA{NComponents: m.NComponents, d: xm.d, mean: mean}
	denom := float64(xm.n - 1)
	for c := 0; c < nc; c++ {
		big := 0.0
		for i := 0; i < xm.n; i++ {
			if x := u.At(i, c); math.Abs(x) > math.Abs(big) {
				big = x
			}
		}
		sign := 1.0
		if big < 0 {
			sign = -1
		}
		for j := 0; j < xm.d; j++ {
			t.components = append(t.components, sign*vecs.At(j, c))
		}
		t.variance = append(t.variance, vals[c]/denom)
		ratio := 0.0
		if total > 0 {
			ratio = vals[c] / total
		}
		t.ratio = append(t.ratio, ratio)
	}
	*m = t
	return nil
}

// gramEigen returns the eigenvalues (decreasing, clamped at 0), the
// eigenvectors (columns, same order) and the trace of XᵀX for centred X.
func gramEigen(xm matrix) ([]float64, *mat.Dense, float64) {
	g := blas64.Symmetric{N: xm.d, Stride: xm.d, Uplo: blas.Upper, Data: make([]float64, xm.d*xm.d)}
	blas64.Syrk(blas.Trans, 1, blas64.General{Rows: xm.n, Cols: xm.d, Stride: xm.d, Data: xm.v}, 0, g)
	var sym mat.SymDense
	sym.SetRawSymmetric(g)
	var total float64
	for j := 0; j < xm.d; j++ {
		total += g.Data[j*xm.d+j]
	}
	var eig mat.EigenSym
	if !eig.Factorize(&sym, true) {
		// EigenSym does not fail on finite input; fall back to zeros.
		return make([]float64, xm.d), mat.NewDense(xm.d, xm.d, nil), total
	}
	asc := eig.Values(nil)
	var ev mat.Dense
	eig.VectorsTo(&ev)
	// Reverse to decreasing order.
	vals := make([]float64, xm.d)
	vecs := mat.NewDense(xm.d, xm.d, nil)
	for c := 0; c < xm.d; c++ {
		src := xm.d - 1 - c
		vals[c] = math.Max(asc[src], 0)
		for j := 0; j < xm.d; j++ {
			vecs.Set(j, c, ev.At(j, src))
		}
	}
	return vals, vecs, total
}

// Components returns a copy of the principal axes, one unit row of d values
// per component, by decreasing variance; nil before Fit.
func (m *PCA) Components() [][]float64 {
	if m.d == 0 {
		return nil
	}
	out := make([][]float64, len(m.variance))
	for c := range out {
		out[c] = slices.Clone(m.components[c*m.d : (c+1)*m.d])
	}
	return out
}

// ExplainedVariance returns the variance (with n-1 in the denominator)
// along each component; nil before Fit.
func (m *PCA) ExplainedVariance() []float64 { return slices.Clone(m.variance) }

// ExplainedVarianceRatio returns each component's share of the total
// variance; nil before Fit.
func (m *PCA) ExplainedVarianceRatio() []float64 { return slices.Clone(m.ratio) }

// Mean returns the per-feature mean that Transform subtracts; nil before
// Fit.
func (m *PCA) Mean() []float64 { return slices.Clone(m.mean) }

// Transform projects each row onto the components: (x - mean)·componentsᵀ.
// It returns ErrNotFitted, or ErrEmpty, ErrDimension, ErrNonFinite for bad
// rows.
func (m *PCA) Transform(X [][]float64) ([][]float64, error) {
	if m.d == 0 {
		return nil, fmt.Errorf("pca transform: %w", ErrNotFitted)
	}
	if _, err := validRows(X, m.d); err != nil {
		return nil, fmt.Errorf("pca transform: %w", err)
	}
	nc := len(m.variance)
	shift := make([]float64, nc) // component · mean
	for c := range shift {
		shift[c] = dot(m.components[c*m.d:(c+1)*m.d], m.mean)
	}
	out := make([][]float64, len(X))
	flat := make([]float64, len(X)*nc)
	for i, x := range X {
		z := flat[i*nc : (i+1)*nc : (i+1)*nc]
		for c := range z {
			z[c] = dot(m.components[c*m.d:(c+1)*m.d], x) - shift[c]
		}
		out[i] = z
	}
	return out, nil
}

type pcaJSON struct {
	NComponents int         `json:"n_components"`
	Mean        []float64   `json:"mean"`
	Components  [][]float64 `json:"components"`
	Variance    []float64   `json:"explained_variance"`
	Ratio       []float64   `json:"explained_variance_ratio"`
}

// Save writes the fitted model to w. It returns ErrNotFitted before Fit, or
// the writer's error.
func (m *PCA) Save(w io.Writer) error {
	if m.d == 0 {
		return fmt.Errorf("pca save: %w", ErrNotFitted)
	}
	return save(w, kindPCA, pcaVersion, pcaJSON{NComponents: m.NComponents, Mean: m.mean,
		Components: m.Components(), Variance: m.variance, Ratio: m.ratio})
}

// Load replaces m with a model saved by Save. It returns ErrFormat, ErrKind
// or ErrVersion when r does not hold a readable PCA; m is unchanged then.
func (m *PCA) Load(r io.Reader) error {
	env, err := readEnvelope(r)
	if err != nil {
		return fmt.Errorf("pca load: %w", err)
	}
	var j pcaJSON
	if err := env.open(kindPCA, pcaVersion, &j); err != nil {
		return fmt.Errorf("pca load: %w", err)
	}
	d, nc := len(j.Mean), len(j.Components)
	if d == 0 || nc == 0 || nc > d || len(j.Variance) != nc || len(j.Ratio) != nc || j.NComponents < 0 ||
		!finite(j.Mean) || !finite(j.Variance) || !finite(j.Ratio) {
		return fmt.Errorf("pca load: %w: inconsistent shapes or values", ErrFormat)
	}
	t := PCA{NComponents: j.NComponents, d: d, mean: j.Mean, variance: j.Variance, ratio: j.Ratio}
	for _, c := range j.Components {
		if len(c) != d || !finite(c) {
			return fmt.Errorf("pca load: %w: bad component", ErrFormat)
		}
		t.components = append(t.components, c...)
	}
	*m = t
	return nil
}
