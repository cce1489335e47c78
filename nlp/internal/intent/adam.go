package intent

import "math"

// lazyAdam is Adam for an embedding table whose rows a batch touches
// sparsely. Dense Adam would update every row at every step: a row the batch
// did not use still moves, by its decaying momentum. lazyAdam gives the same
// result without touching idle rows: when a row is used again (or at sync),
// the steps it missed are applied at once, since with a zero gradient m
// decays by b1 and v by b2 per step, and the missed movement is a sum of
// known terms. (The only approximation: eps is added to sqrt(v) once.)
type lazyAdam struct {
	w, m, v []float32 // the table and its moments, [rows, dim]
	last    []int     // per row: the step it was last brought up to date
	t       int       // steps taken
	sizes   []float64 // sizes[t] is the bias-corrected step size at step t
	dim     int
	lr      float64
}

const (
	adamB1  = 0.9
	adamB2  = 0.999
	adamEps = 1e-8
)

func newLazyAdam(w []float32, dim int, lr float64) lazyAdam {
	return lazyAdam{
		w: w, m: make([]float32, len(w)), v: make([]float32, len(w)),
		last: make([]int, len(w)/dim), dim: dim, lr: lr,
	}
}

// stepSize is the bias-corrected learning rate at step t.
func (a *lazyAdam) stepSize(t int) float64 {
	for len(a.sizes) <= t {
		n := float64(len(a.sizes))
		a.sizes = append(a.sizes, a.lr*math.Sqrt(1-math.Pow(adamB2, n))/(1-math.Pow(adamB1, n)))
	}
	return a.sizes[t]
}

// step takes one Adam step; row p of grad is the gradient of table row rows[p].
func (a *lazyAdam) step(rows []int32, grad []float32) {
	a.t++
	lr := float32(a.stepSize(a.t))
	for p, r := range rows {
		a.catchUp(int(r), a.t-1)
		off := int(r) * a.dim
		g := grad[p*a.dim : (p+1)*a.dim]
		w, m, v := a.w[off:off+a.dim], a.m[off:off+a.dim], a.v[off:off+a.dim]
		for j, gj := range g {
			m[j] = adamB1*m[j] + (1-adamB1)*gj
			v[j] = adamB2*v[j] + (1-adamB2)*gj*gj
			w[j] -= lr * m[j] / (float32(math.Sqrt(float64(v[j]))) + adamEps)
		}
		a.last[r] = a.t
	}
}

// catchUp applies to row r the zero-gradient steps from a.last[r]+1 to upTo.
func (a *lazyAdam) catchUp(r, upTo int) {
	k := upTo - a.last[r]
	if k <= 0 || a.last[r] == 0 { // up to date, or never used (m = v = 0)
		a.last[r] = max(a.last[r], upTo)
		return
	}
	// Step i after the last update moves w by lr_i * b1^i m / (sqrt(b2^i v)),
	// so the k missed steps move it by m/sqrt(v) * sum_{i=1..k} lr_i q^i.
	// The terms vanish after a few hundred steps.
	q := adamB1 / math.Sqrt(adamB2)
	var sum float64
	qi := 1.0
	for i := 1; i <= k && qi > 1e-9; i++ {
		qi *= q
		sum += a.stepSize(a.last[r]+i) * qi
	}
	scale := float32(sum)
	d1, d2 := float32(math.Pow(adamB1, float64(k))), float32(math.Pow(adamB2, float64(k)))
	off := r * a.dim
	w, m, v := a.w[off:off+a.dim], a.m[off:off+a.dim], a.v[off:off+a.dim]
	for j := range w {
		w[j] -= scale * m[j] / (float32(math.Sqrt(float64(v[j]))) + adamEps)
		m[j] *= d1
		v[j] *= d2
	}
	a.last[r] = upTo
}

// sync brings every row up to date, so the table is what dense Adam would
// hold after the same steps.
func (a *lazyAdam) sync() {
	for r := range a.last {
		a.catchUp(r, a.t)
	}
}
