package models

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/floats"
)

const svmVersion = 1

// SVMLoss selects the loss a LinearSVM minimises.
type SVMLoss int

const (
	// SquaredHinge is max(0, 1-y·f(x))², scikit-learn LinearSVC's default:
	// smooth, so the solution is unique and usually fits a little better.
	SquaredHinge SVMLoss = iota
	// Hinge is max(0, 1-y·f(x)), the classic SVM loss.
	Hinge
)

// LinearSVM is a linear support vector machine trained by dual coordinate
// descent (the LIBLINEAR algorithm scikit-learn's LinearSVC wraps), one
// binary problem per class against the rest when there are more than two.
// It minimises
//
//	||w||²/2 + C·sum_i loss(y_i, w·x_i + b)
//
// where, as in LIBLINEAR, the intercept b is learnt as the weight of an extra
// constant feature 1 and so is regularised too. It gives decision values,
// not probabilities.
//
// The zero value is ready to use with LinearSVC's defaults.
type LinearSVM struct {
	// C weighs the loss against the regularisation; 0 means 1.
	C float64
	// Loss is SquaredHinge (the default) or Hinge.
	Loss SVMLoss
	// MaxIter bounds the passes over the data per binary problem; 0 means
	// 1000.
	MaxIter int
	// Tol stops a binary problem when the spread of its projected
	// gradients is at most Tol; 0 means 1e-4.
	Tol float64
	// Seed fixes the order in which samples are visited: the same seed and
	// data give an identical model.
	Seed uint64

	lin       linear
	iters     int
	converged bool
}

func (m *LinearSVM) params() (c float64, maxIter int, tol float64, err error) {
	c, maxIter, tol = m.C, m.MaxIter, m.Tol
	if c == 0 {
		c = 1
	}
	if maxIter == 0 {
		maxIter = 1000
	}
	if tol == 0 {
		tol = 1e-4
	}
	if !(c > 0) || math.IsInf(c, 0) || maxIter < 0 || !(tol > 0) || (m.Loss != SquaredHinge && m.Loss != Hinge) {
		return 0, 0, 0, fmt.Errorf("%w: C=%v Loss=%d MaxIter=%d Tol=%v", ErrParam, m.C, m.Loss, m.MaxIter, m.Tol)
	}
	return c, maxIter, tol, nil
}

// Fit trains on X and y, one binary problem per class in parallel when there
// are more than two. It returns ErrParam for bad hyperparameters, ErrEmpty,
// ErrDimension, ErrNonFinite for bad features, ErrLabel and ErrSingleClass
// for bad labels. Running out of iterations is not an error: Iterations
// reports it.
func (m *LinearSVM) Fit(X [][]float64, y []int) error {
	c, maxIter, tol, err := m.params()
	if err != nil {
		return fmt.Errorf("linear svm fit: %w", err)
	}
	xm, err := checkRows(X, 0)
	if err != nil {
		return fmt.Errorf("linear svm fit: %w", err)
	}
	k, err := checkLabels(y, xm.n)
	if err != nil {
		return fmt.Errorf("linear svm fit: %w", err)
	}
	lin := linear{d: xm.d, k: k}
	rows := lin.rows()
	lin.w = make([]float64, rows*xm.d)
	lin.b = make([]float64, rows)

	// Squared norms of the rows with the constant bias feature, shared by
	// every binary problem.
	sq := make([]float64, xm.n)
	for i := range sq {
		sq[i] = dot(xm.row(i), xm.row(i)) + 1
	}
	iters := make([]int, rows)
	conv := make([]bool, rows)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for j := 0; j < rows; j++ {
		pos := j
		if rows == 1 {
			pos = 1
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			s := dcd{x: xm, sq: sq, c: c, hinge: m.Loss == Hinge, maxIter: maxIter, tol: tol,
				rng: rand.New(rand.NewPCG(m.Seed, uint64(j)))}
			s.sign = make([]float64, xm.n)
			for i, label := range y {
				s.sign[i] = -1
				if label == pos {
					s.sign[i] = 1
				}
			}
			// Solve into goroutine-local memory: the intercepts (and the
			// ends of neighbouring weight rows) share cache lines, and
			// writing them from several cores on every step is slow.
			w := make([]float64, xm.d)
			var b float64
			iters[j], conv[j] = s.solve(w, &b)
			copy(lin.w[j*xm.d:(j+1)*xm.d], w)
			lin.b[j] = b
		}()
	}
	wg.Wait()
	m.lin = lin
	m.iters, m.converged = 0, true
	for j := range iters {
		m.iters = max(m.iters, iters[j])
		m.converged = m.converged && conv[j]
	}
	return nil
}

// Iterations returns the most passes any binary problem of the last Fit
// used and whether all of them converged before MaxIter.
func (m *LinearSVM) Iterations() (n int, converged bool) { return m.iters, m.converged }

// Dims returns the number of features and classes (zeros before Fit).
func (m *LinearSVM) Dims() (features, classes int) { return m.lin.d, m.lin.k }

// Coef returns copies of the weights (one row per class, a single row for
// class 1 when there are two classes, as in LinearSVC's coef_) and the
// intercepts. Both are nil before Fit.
func (m *LinearSVM) Coef() (coef [][]float64, intercept []float64) {
	if m.lin.k == 0 {
		return nil, nil
	}
	return m.lin.coef()
}

// Predict returns the class with the largest decision value for each row
// (for two classes: 1 when the value is positive). It returns ErrNotFitted,
// or ErrEmpty, ErrDimension, ErrNonFinite for bad rows.
func (m *LinearSVM) Predict(X [][]float64) ([]int, error) {
	if err := m.check(X); err != nil {
		return nil, fmt.Errorf("linear svm predict: %w", err)
	}
	return m.lin.predict(m.lin.scoreRows(X), len(X)), nil
}

// DecisionFunction returns w·x + b for each row: one value (class 1's side)
// for two classes, one per class otherwise. Errors as for Predict.
func (m *LinearSVM) DecisionFunction(X [][]float64) ([][]float64, error) {
	if err := m.check(X); err != nil {
		return nil, fmt.Errorf("linear svm decision function: %w", err)
	}
	z := m.lin.scoreRows(X)
	r := m.lin.rows()
	out := make([][]float64, len(X))
	for i := range out {
		out[i] = z[i*r : (i+1)*r : (i+1)*r]
	}
	return out, nil
}

func (m *LinearSVM) check(X [][]float64) error {
	if m.lin.k == 0 {
		return ErrNotFitted
	}
	_, err := validRows(X, m.lin.d)
	return err
}

type svmJSON struct {
	C       float64 `json:"c"`
	Loss    SVMLoss `json:"loss"`
	MaxIter int     `json:"max_iter"`
	Tol     float64 `json:"tol"`
	Seed    uint64  `json:"seed"`
	linearJSON
}

// Save writes the fitted model to w. It returns ErrNotFitted before Fit, or
// the writer's error.
func (m *LinearSVM) Save(w io.Writer) error {
	if m.lin.k == 0 {
		return fmt.Errorf("linear svm save: %w", ErrNotFitted)
	}
	return save(w, kindSVM, svmVersion, svmJSON{C: m.C, Loss: m.Loss, MaxIter: m.MaxIter, Tol: m.Tol, Seed: m.Seed, linearJSON: m.lin.toJSON()})
}

// Load replaces m with a model saved by Save. It returns ErrFormat, ErrKind
// or ErrVersion when r does not hold a readable linear SVM; m is unchanged
// then.
func (m *LinearSVM) Load(r io.Reader) error {
	env, err := readEnvelope(r)
	if err == nil {
		err = m.fromEnvelope(env)
	}
	if err != nil {
		return fmt.Errorf("linear svm load: %w", err)
	}
	return nil
}

func (m *LinearSVM) fromEnvelope(env envelope) error {
	var j svmJSON
	if err := env.open(kindSVM, svmVersion, &j); err != nil {
		return err
	}
	var lin linear
	if err := lin.fromJSON(j.linearJSON); err != nil {
		return err
	}
	*m = LinearSVM{C: j.C, Loss: j.Loss, MaxIter: j.MaxIter, Tol: j.Tol, Seed: j.Seed, lin: lin, converged: true}
	return nil
}

// dcd is one binary problem for dual coordinate descent with shrinking
// (Hsieh et al. 2008, LIBLINEAR's solve_l2r_l1l2_svc).
type dcd struct {
	x       matrix
	sq      []float64 // ||x_i||² + 1 (bias feature)
	sign    []float64 // +1 / -1 targets
	c       float64
	hinge   bool
	maxIter int
	tol     float64
	rng     *rand.Rand
}

// solve fills w and b and returns the passes made and whether it converged.
func (s *dcd) solve(w []float64, b *float64) (int, bool) {
	n := s.x.n
	diag, upper := 0.5/s.c, math.Inf(1) // squared hinge
	if s.hinge {
		diag, upper = 0, s.c
	}
	alpha := make([]float64, n)
	qd := make([]float64, n)
	index := make([]int, n)
	for i := range index {
		index[i] = i
		qd[i] = s.sq[i] + diag
	}
	pgMaxOld, pgMinOld := math.Inf(1), math.Inf(-1)
	active := n
	iter := 0
	bias := *b
	defer func() { *b = bias }()
	for iter < s.maxIter {
		pgMax, pgMin := math.Inf(-1), math.Inf(1)
		for i := 0; i < active; i++ {
			j := i + s.rng.IntN(active-i)
			index[i], index[j] = index[j], index[i]
		}
		for p := 0; p < active; p++ {
			i := index[p]
			yi := s.sign[i]
			xi := s.x.row(i)
			g := yi*(dot(w, xi)+bias) - 1 + alpha[i]*diag
			pg := 0.0
			switch {
			case alpha[i] == 0:
				if g > pgMaxOld {
					active--
					index[p], index[active] = index[active], index[p]
					p--
					continue
				}
				if g < 0 {
					pg = g
				}
			case alpha[i] == upper:
				if g < pgMinOld {
					active--
					index[p], index[active] = index[active], index[p]
					p--
					continue
				}
				if g > 0 {
					pg = g
				}
			default:
				pg = g
			}
			pgMax = math.Max(pgMax, pg)
			pgMin = math.Min(pgMin, pg)
			if math.Abs(pg) > 1e-12 {
				old := alpha[i]
				alpha[i] = math.Min(math.Max(old-g/qd[i], 0), upper)
				delta := (alpha[i] - old) * yi
				axpy(delta, xi, w)
				bias += delta
			}
		}
		iter++
		if pgMax-pgMin <= s.tol {
			if active == n {
				return iter, true
			}
			// Converged on the active set: check every sample again.
			active = n
			pgMaxOld, pgMinOld = math.Inf(1), math.Inf(-1)
			continue
		}
		pgMaxOld, pgMinOld = pgMax, pgMin
		if pgMaxOld <= 0 {
			pgMaxOld = math.Inf(1)
		}
		if pgMinOld >= 0 {
			pgMinOld = math.Inf(-1)
		}
	}
	return iter, false
}

// dot and axpy use gonum's assembly kernels; the hot loops of the SVM,
// k-means and prediction are made of them.
func dot(a, b []float64) float64 { return floats.Dot(a, b) }

// axpy does y += a·x.
func axpy(a float64, x, y []float64) { floats.AddScaled(y, a, x) }
