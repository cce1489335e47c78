package encoder

import "math"

// lazyAdam is Adam that updates only the rows a batch used (the "lazy"
// variant): a feature absent from a batch keeps its weights and moments,
// rather than drifting by its decaying momentum, which for a table of
// hundred thousands of rows is most of the cost of dense Adam and changes
// little. Dense weights are tables of one row, updated densely.
type lazyAdam struct {
	w, m, v []float32
	dim     int
	t       int
	lr      float64
}

const (
	adamB1  = 0.9
	adamB2  = 0.999
	adamEps = 1e-8
)

func newLazyAdam(w []float32, dim int, lr float64) *lazyAdam {
	return &lazyAdam{w: w, m: make([]float32, len(w)), v: make([]float32, len(w)), dim: dim, lr: lr}
}

// step applies one update; row p of grad is the gradient of row rows[p].
func (a *lazyAdam) step(rows []int32, grad []float32) {
	a.t++
	t := float64(a.t)
	lr := float32(a.lr * math.Sqrt(1-math.Pow(adamB2, t)) / (1 - math.Pow(adamB1, t)))
	for p, r := range rows {
		off := int(r) * a.dim
		g := grad[p*a.dim : (p+1)*a.dim]
		w, m, v := a.w[off:off+len(g)], a.m[off:off+len(g)], a.v[off:off+len(g)]
		for j, gj := range g {
			mj := adamB1*m[j] + (1-adamB1)*gj
			vj := adamB2*v[j] + (1-adamB2)*gj*gj
			m[j], v[j] = mj, vj
			w[j] -= lr * mj / (float32(math.Sqrt(float64(vj))) + adamEps)
		}
	}
}
