package intent

import "math"

// lazyAdam is Adam for an embedding table whose rows a batch touches
// sparsely. Dense Adam would update every row at every step: a row the batch
// did not use still moves, by its decaying momentum. lazyAdam gives the same
// result without touching idle rows: when a row is used again (or at sync),
// the steps it missed are applied at once, since with a zero gradient m
// decays by b1 and v by b2 per step, and the missed movement is a sum of
// known terms. (The only approximation: eps is added to sqrt(v) once.)
//
// It keeps sqrt(v) rather than v: the catch-up needs the root of the old v
// and the step that of the new one, and a square is cheaper than a root.
// With the two moves of a catching-up row summed over one division, a
// weight costs one square root and one division per step: those two share
// one slow unit of the processor, and Adam was half the time of training.
//
// The two moments of a weight lie side by side in ms, so that a step reads
// two arrays (the table and ms) rather than three: Adam is bound by memory
// more than by arithmetic once it takes one root a weight.
type lazyAdam struct {
	w     []float32 // the table, [rows, dim]
	ms    []float32 // per weight: its first moment m and the root s of its second, [rows, dim, 2]
	last  []int     // per row: the step it was last brought up to date
	t     int       // steps taken
	sizes []float64 // sizes[t] is the bias-corrected step size at step t
	dim   int
	lr    float64

	// missed[k] is the movement factor of k missed steps that end at step
	// missedEnd (see catchUp), for k below missedWindow.
	missed    []float64
	missedEnd int
}

const (
	adamB1  = 0.9
	adamB2  = 0.999
	adamEps = 1e-8
)

// missedWindow bounds the table of catch-up factors. A row idle for longer
// is rare, and its factor is summed term by term.
const missedWindow = 1024

// decay1 and decay2 hold b1^k and b2^k for k below missedWindow.
var decay1, decay2 = powers(adamB1), powers(adamB2)

func powers(b float64) []float32 {
	p := make([]float32, missedWindow)
	for k := range p {
		p[k] = float32(math.Pow(b, float64(k)))
	}
	return p
}

func newLazyAdam(w []float32, dim int, lr float64) lazyAdam {
	return lazyAdam{
		w: w, ms: make([]float32, 2*len(w)),
		last: make([]int, len(w)/dim), dim: dim, lr: lr, missedEnd: -1,
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
// A row the previous steps skipped first catches up, in the same pass.
func (a *lazyAdam) step(rows []int32, grad []float32) {
	a.t++
	lr := float32(a.stepSize(a.t))
	k := adamConsts{c1: adamB1, c1m: 1 - adamB1, c2: adamB2, c2m: 1 - adamB2, eps: adamEps, lr: lr}
	nv := kernelLen(a.dim) // the weights of a row the kernel does; the loops below do the rest
	for p, r := range rows {
		off := int(r) * a.dim
		g := grad[p*a.dim : (p+1)*a.dim]
		// Slices of one length let the compiler drop the bounds checks.
		w, ms := a.w[off:off+len(g)], a.ms[2*off:2*(off+len(g))]
		if scale, d1, d2, ok := a.catchUp(int(r), a.t-1); ok {
			// w moves by -scale*m/(s+eps) for the missed steps, then by
			// -lr*m'/(s'+eps) for this one: one division for both.
			b1, b2 := adamB1*d1, adamB2*d2
			if nv > 0 {
				k.scale, k.b1, k.b2 = scale, b1, b2
				adamCatchUpSSE(&w[0], &ms[0], &g[0], nv, &k)
				w, ms, g = w[nv:], ms[2*nv:], g[nv:]
			}
			for j, gj := range g {
				p := ms[2*j : 2*j+2 : 2*j+2]
				mj, sj := p[0], p[1]
				mn := b1*mj + (1-adamB1)*gj
				sn := sqrt32(b2*sj*sj + (1-adamB2)*gj*gj)
				p[0], p[1] = mn, sn
				den, denN := sj+adamEps, sn+adamEps
				w[j] -= (scale*mj*denN + lr*mn*den) / (den * denN)
			}
		} else {
			if nv > 0 {
				adamPlainSSE(&w[0], &ms[0], &g[0], nv, &k)
				w, ms, g = w[nv:], ms[2*nv:], g[nv:]
			}
			for j, gj := range g {
				p := ms[2*j : 2*j+2 : 2*j+2]
				mj := adamB1*p[0] + (1-adamB1)*gj
				sj := sqrt32(adamB2*p[1]*p[1] + (1-adamB2)*gj*gj)
				p[0], p[1] = mj, sj
				w[j] -= lr * mj / (sj + adamEps)
			}
		}
		a.last[r] = a.t
	}
}

// sqrt32 is the square root in single precision (one SQRTSS on amd64).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// catchUp says how row r moves over the zero-gradient steps from
// a.last[r]+1 to upTo, and marks it up to date there: w moves by
// -scale * m / sqrt(v), then m decays by d1 and v by d2. ok is false when
// there is nothing to apply (the row is up to date, or was never used and
// has m = v = 0).
func (a *lazyAdam) catchUp(r, upTo int) (scale, d1, d2 float32, ok bool) {
	last := a.last[r]
	k := upTo - last
	a.last[r] = max(last, upTo)
	if k <= 0 || last == 0 {
		return 0, 1, 1, false
	}
	if k < missedWindow {
		return float32(a.missedFactor(k, upTo)), decay1[k], decay2[k], true
	}
	// Step i after the last update moves w by lr_i * b1^i m / (sqrt(b2^i v)),
	// so the k missed steps move it by m/sqrt(v) * sum_{i=1..k} lr_i q^i.
	// The terms vanish after a few hundred steps.
	var sum float64
	qi := 1.0
	for i := 1; i <= k && qi > 1e-12; i++ {
		qi *= missedRatio
		sum += a.stepSize(last+i) * qi
	}
	return float32(sum), float32(math.Pow(adamB1, float64(k))), float32(math.Pow(adamB2, float64(k))), true
}

// missedRatio is q in catchUp's sum.
var missedRatio = adamB1 / math.Sqrt(adamB2)

// missedFactor returns sum_{i=1..k} lr_{upTo-k+i} q^i for k below
// missedWindow. The sums for every k that ends at upTo share their terms:
// with D(k) that sum, D(k+1) = q (D(k) + lr_{upTo-k}), so one table per
// step serves every row that catches up in it.
func (a *lazyAdam) missedFactor(k, upTo int) float64 {
	if a.missedEnd != upTo {
		a.missedEnd = upTo
		a.missed = a.missed[:0]
		d := 0.0
		a.missed = append(a.missed, d)
		for j := 0; j+1 < missedWindow && upTo-j >= 1; j++ {
			d = missedRatio * (d + a.stepSize(upTo-j))
			a.missed = append(a.missed, d)
		}
	}
	return a.missed[k]
}

// sync brings every row up to date, so the table is what dense Adam would
// hold after the same steps.
func (a *lazyAdam) sync() {
	for r := range a.last {
		scale, d1, d2, ok := a.catchUp(r, a.t)
		if !ok {
			continue
		}
		off := r * a.dim
		w, ms := a.w[off:off+a.dim], a.ms[2*off:2*(off+a.dim)]
		ds := sqrt32(d2) // v decays by d2, its root by sqrt(d2)
		for j := range w {
			p := ms[2*j : 2*j+2 : 2*j+2]
			w[j] -= scale * p[0] / (p[1] + adamEps)
			p[0] *= d1
			p[1] *= ds
		}
	}
}
