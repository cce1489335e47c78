package models

import (
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"
)

const logRegVersion = 1

// LogisticRegression is an L2-regularised logistic regression: binary
// (sigmoid) for two classes, multinomial (softmax) for more. It minimises
//
//	sum_i log-loss_i + ||W||² / (2C)
//
// with L-BFGS, the intercepts unpenalised, exactly like scikit-learn's
// LogisticRegression(solver="lbfgs"), so coefficients agree with it. Training
// is deterministic (it starts from zero and draws no random numbers).
//
// The zero value is ready to use with scikit-learn's defaults.
type LogisticRegression struct {
	// C is the inverse regularisation strength (1/lambda); 0 means 1.
	// Smaller values regularise more.
	C float64
	// MaxIter bounds the L-BFGS iterations; 0 means 100.
	MaxIter int
	// Tol stops training when the largest absolute gradient component is
	// below it; 0 means 1e-4. Training also stops when an iteration
	// improves the loss by less than about 2.2e-9 relative (SciPy's
	// default for L-BFGS-B).
	Tol float64

	lin       linear
	iters     int
	converged bool
}

// ftol is SciPy's default relative-reduction stop for L-BFGS-B
// (factr = 1e7 times machine epsilon), which scikit-learn inherits.
const ftol = 1e7 * 2.220446049250313e-16

func (m *LogisticRegression) params() (c float64, maxIter int, tol float64, err error) {
	c, maxIter, tol = m.C, m.MaxIter, m.Tol
	if c == 0 {
		c = 1
	}
	if maxIter == 0 {
		maxIter = 100
	}
	if tol == 0 {
		tol = 1e-4
	}
	if !(c > 0) || math.IsInf(c, 0) || maxIter < 0 || !(tol > 0) {
		return 0, 0, 0, fmt.Errorf("%w: C=%v MaxIter=%d Tol=%v (need C>0, MaxIter>=0, Tol>0)", ErrParam, m.C, m.MaxIter, m.Tol)
	}
	return c, maxIter, tol, nil
}

// Fit trains on X and y. It returns ErrParam for bad hyperparameters,
// ErrEmpty, ErrDimension, ErrNonFinite for bad features, ErrLabel and
// ErrSingleClass for bad labels. Running out of iterations is not an error:
// Iterations reports it.
func (m *LogisticRegression) Fit(X [][]float64, y []int) error {
	c, maxIter, tol, err := m.params()
	if err != nil {
		return fmt.Errorf("logistic regression fit: %w", err)
	}
	xm, err := checkRows(X, 0)
	if err != nil {
		return fmt.Errorf("logistic regression fit: %w", err)
	}
	k, err := checkLabels(y, xm.n)
	if err != nil {
		return fmt.Errorf("logistic regression fit: %w", err)
	}
	obj := &logLoss{x: xm, y: y, lin: linear{d: xm.d, k: k}, invC: 1 / c}
	r := obj.lin.rows()
	dim := r*xm.d + r
	obj.lin.w = make([]float64, r*xm.d)
	obj.lin.b = make([]float64, r)

	settings := &optimize.Settings{
		GradientThreshold: tol,
		MajorIterations:   maxIter,
		Converger:         &relConverger{tol: ftol},
	}
	prob := optimize.Problem{Func: obj.f, Grad: obj.grad}
	res, err := optimize.Minimize(prob, make([]float64, dim), settings, &optimize.LBFGS{Store: 10})
	if res == nil || !finite(res.X) || math.IsNaN(res.F) || math.IsInf(res.F, 0) {
		if err == nil {
			err = errors.New("no finite solution")
		}
		return fmt.Errorf("logistic regression fit: %w", err)
	}
	// A failed line search this close to the optimum (tiny Tol) still
	// leaves the best point found, which is what we keep; it is reported
	// as not converged.
	obj.set(res.X)
	if k > 2 {
		// The softmax is unchanged by shifting all intercepts; centre them
		// so the model is unique (scikit-learn's come out centred too).
		var mean float64
		for _, v := range obj.lin.b {
			mean += v / float64(k)
		}
		for j := range obj.lin.b {
			obj.lin.b[j] -= mean
		}
	}
	m.lin = obj.lin
	m.iters = res.Stats.MajorIterations
	m.converged = err == nil && res.Status != optimize.IterationLimit
	return nil
}

// Iterations returns the L-BFGS iterations the last Fit used and whether it
// converged before MaxIter.
func (m *LogisticRegression) Iterations() (n int, converged bool) { return m.iters, m.converged }

// Dims returns the number of features and classes (zeros before Fit).
func (m *LogisticRegression) Dims() (features, classes int) { return m.lin.d, m.lin.k }

// Coef returns copies of the weights, one row per class (a single row for
// class 1 when there are two classes, as in scikit-learn's coef_), and the
// intercepts. Both are nil before Fit.
func (m *LogisticRegression) Coef() (coef [][]float64, intercept []float64) {
	if m.lin.k == 0 {
		return nil, nil
	}
	return m.lin.coef()
}

// Predict returns the most probable class of each row. It returns
// ErrNotFitted, or ErrEmpty, ErrDimension, ErrNonFinite for bad rows.
func (m *LogisticRegression) Predict(X [][]float64) ([]int, error) {
	if err := m.check(X); err != nil {
		return nil, fmt.Errorf("logistic regression predict: %w", err)
	}
	return m.lin.predict(m.lin.scoreRows(X), len(X)), nil
}

// PredictProba returns the class probabilities of each row (k values that
// sum to 1). Errors as for Predict.
func (m *LogisticRegression) PredictProba(X [][]float64) ([][]float64, error) {
	if err := m.check(X); err != nil {
		return nil, fmt.Errorf("logistic regression predict proba: %w", err)
	}
	z := m.lin.scoreRows(X)
	k := m.lin.k
	out := make([][]float64, len(X))
	flat := make([]float64, len(X)*k)
	for i := range out {
		p := flat[i*k : (i+1)*k]
		if k == 2 {
			p[1] = sigmoid(z[i])
			p[0] = 1 - p[1]
		} else {
			copy(p, z[i*k:(i+1)*k])
			softmaxInPlace(p)
		}
		out[i] = p
	}
	return out, nil
}

func (m *LogisticRegression) check(X [][]float64) error {
	if m.lin.k == 0 {
		return ErrNotFitted
	}
	_, err := validRows(X, m.lin.d)
	return err
}

type logRegJSON struct {
	C       float64 `json:"c"`
	MaxIter int     `json:"max_iter"`
	Tol     float64 `json:"tol"`
	linearJSON
}

// Save writes the fitted model to w. It returns ErrNotFitted before Fit, or
// the writer's error.
func (m *LogisticRegression) Save(w io.Writer) error {
	if m.lin.k == 0 {
		return fmt.Errorf("logistic regression save: %w", ErrNotFitted)
	}
	return save(w, kindLogReg, logRegVersion, logRegJSON{C: m.C, MaxIter: m.MaxIter, Tol: m.Tol, linearJSON: m.lin.toJSON()})
}

// Load replaces m with a model saved by Save. It returns ErrFormat, ErrKind
// or ErrVersion when r does not hold a readable logistic regression; m is
// unchanged then.
func (m *LogisticRegression) Load(r io.Reader) error {
	env, err := readEnvelope(r)
	if err == nil {
		err = m.fromEnvelope(env)
	}
	if err != nil {
		return fmt.Errorf("logistic regression load: %w", err)
	}
	return nil
}

func (m *LogisticRegression) fromEnvelope(env envelope) error {
	var j logRegJSON
	if err := env.open(kindLogReg, logRegVersion, &j); err != nil {
		return err
	}
	var lin linear
	if err := lin.fromJSON(j.linearJSON); err != nil {
		return err
	}
	*m = LogisticRegression{C: j.C, MaxIter: j.MaxIter, Tol: j.Tol, lin: lin, converged: true}
	return nil
}

// logLoss is the L-BFGS objective. Func and Grad are called separately at
// the same point, so one evaluation computes both and caches them by x.
type logLoss struct {
	x    matrix
	y    []int
	lin  linear
	invC float64

	at    []float64 // point of the cached evaluation
	val   float64
	g     []float64
	parts []float64 // per chunk: gradient then loss
}

// set installs the parameter vector [W row-major, b] into lin.
func (o *logLoss) set(p []float64) {
	nw := len(o.lin.w)
	copy(o.lin.w, p[:nw])
	copy(o.lin.b, p[nw:])
}

func (o *logLoss) f(p []float64) float64 {
	o.eval(p)
	return o.val
}

func (o *logLoss) grad(g, p []float64) {
	o.eval(p)
	copy(g, o.g)
}

// evalChunk is the number of rows one partial sum covers. The chunks are
// fixed by n alone, and their partial sums are added in order, so the
// result is bit-identical whatever the number of cores.
const evalChunk = 2048

// eval computes the loss and gradient at p in one pass over X: for each row
// the scores, the residuals (probabilities minus the one-hot target), and
// the residual-weighted row added into the gradient, while the row is still
// in cache. Chunks of rows run in parallel.
func (o *logLoss) eval(p []float64) {
	if o.at != nil && equal(o.at, p) {
		return
	}
	o.set(p)
	n, d, rows := o.x.n, o.x.d, o.lin.rows()
	nw := rows * d
	chunks := (n + evalChunk - 1) / evalChunk
	if o.g == nil {
		o.g = make([]float64, len(p))
		o.parts = make([]float64, chunks*(len(p)+1))
	}
	clear(o.parts)
	var wg sync.WaitGroup
	next := make(chan int, chunks)
	for c := range chunks {
		next <- c
	}
	close(next)
	for range min(runtime.GOMAXPROCS(0), chunks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			z := make([]float64, rows)
			for c := range next {
				part := o.parts[c*(len(p)+1) : (c+1)*(len(p)+1)]
				gw, gb := part[:nw], part[nw:len(p)]
				var loss float64
				for i := c * evalChunk; i < min(n, (c+1)*evalChunk); i++ {
					x := o.x.row(i)
					for j := range z {
						z[j] = floats.Dot(o.lin.w[j*d:(j+1)*d], x) + o.lin.b[j]
					}
					loss += o.residuals(z, o.y[i])
					for j, r := range z {
						if r != 0 {
							floats.AddScaled(gw[j*d:(j+1)*d], r, x)
						}
						gb[j] += r
					}
				}
				part[len(p)] = loss
			}
		}()
	}
	wg.Wait()
	clear(o.g)
	var loss float64
	for c := range chunks {
		part := o.parts[c*(len(p)+1) : (c+1)*(len(p)+1)]
		floats.Add(o.g, part[:len(p)])
		loss += part[len(p)]
	}
	var reg float64
	for j, w := range o.lin.w {
		reg += w * w
		o.g[j] += w * o.invC
	}
	o.val = loss + 0.5*o.invC*reg
	o.at = append(o.at[:0], p...)
}

// residuals replaces the scores z of one row with label t by the residuals
// (p - onehot(t)) and returns the row's log-loss. One score means the
// binary model, whose score is class 1's logit.
func (o *logLoss) residuals(z []float64, t int) float64 {
	if len(z) == 1 {
		y := float64(t)
		loss := log1pexp(z[0]) - y*z[0]
		z[0] = sigmoid(z[0]) - y
		return loss
	}
	mx := z[argmax(z)]
	zt := z[t]
	var s float64
	for j, v := range z {
		z[j] = math.Exp(v - mx)
		s += z[j]
	}
	for j := range z {
		z[j] /= s
	}
	z[t]--
	return mx + math.Log(s) - zt
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// relConverger stops when an iteration reduces the loss by at most
// tol·max(|f_prev|, |f|, 1), SciPy L-BFGS-B's rule.
type relConverger struct {
	tol   float64
	prev  float64
	first bool
}

func (c *relConverger) Init(int) { c.first = true }

func (c *relConverger) Converged(l *optimize.Location) optimize.Status {
	if c.first {
		c.first = false
		c.prev = l.F
		return optimize.NotTerminated
	}
	scale := math.Max(math.Max(math.Abs(c.prev), math.Abs(l.F)), 1)
	if c.prev-l.F <= c.tol*scale {
		return optimize.FunctionConvergence
	}
	c.prev = l.F
	return optimize.NotTerminated
}
