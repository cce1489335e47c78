package intent

import (
	"math"
	"math/rand/v2"
	"testing"
)

// denseAdam is the textbook Adam over the whole table, the reference lazyAdam
// must match.
func denseAdam(w, m, v, g []float32, t int, lr float64) {
	c1 := 1 - math.Pow(adamB1, float64(t))
	c2 := 1 - math.Pow(adamB2, float64(t))
	for j := range w {
		m[j] = adamB1*m[j] + (1-adamB1)*g[j]
		v[j] = adamB2*v[j] + (1-adamB2)*g[j]*g[j]
		mh := float64(m[j]) / c1
		vh := float64(v[j]) / c2
		w[j] -= float32(lr * mh / (math.Sqrt(vh) + adamEps))
	}
}

func TestLazyAdamMatchesDense(t *testing.T) {
	const rows, dim, steps = 50, 4, 2500
	rng := rand.New(rand.NewPCG(1, 2))
	dense := make([]float32, rows*dim)
	for i := range dense {
		dense[i] = float32(rng.NormFloat64())
	}
	lazyW := append([]float32(nil), dense...)
	m := make([]float32, rows*dim)
	v := make([]float32, rows*dim)
	lazy := newLazyAdam(lazyW, dim, 0.01)
	for s := 1; s <= steps; s++ {
		// Each step uses a few rows; rows with a higher index are rarer.
		var used []int32
		for r := 0; r < rows; r++ {
			// The last row sleeps longer than the catch-up table covers.
			if r == rows-1 {
				if s == 1 || s == missedWindow+500 {
					used = append(used, int32(r))
				}
				continue
			}
			if rng.Float64() < 1/float64(1+r) {
				used = append(used, int32(r))
			}
		}
		full := make([]float32, rows*dim)
		grad := make([]float32, len(used)*dim)
		for p, r := range used {
			for j := 0; j < dim; j++ {
				g := float32(rng.NormFloat64() * 0.01)
				grad[p*dim+j] = g
				full[int(r)*dim+j] = g
			}
		}
		denseAdam(dense, m, v, full, s, 0.01)
		lazy.step(used, grad)
	}
	lazy.sync()
	var maxDiff float64
	for i := range dense {
		maxDiff = math.Max(maxDiff, math.Abs(float64(dense[i]-lazyW[i])))
	}
	if maxDiff > 0.002 {
		t.Fatalf("lazy Adam drifts from dense Adam by %v", maxDiff)
	}
	t.Logf("max difference %v", maxDiff)
}

// TestAdamKernelMatchesScalar runs the same steps, rows that catch up
// included, with the kernels (on amd64) and with the scalar loops alone:
// the weights and moments must agree bit for bit.
func TestAdamKernelMatchesScalar(t *testing.T) {
	for _, dim := range []int{1, 4, 7, 100, 151} {
		run := func(kernel bool) ([]float32, []float32) {
			saved := useKernels
			useKernels = kernel
			defer func() { useKernels = saved }()
			const rows = 40
			rng := rand.New(rand.NewPCG(uint64(dim), 9))
			w := make([]float32, rows*dim)
			for i := range w {
				w[i] = float32(rng.NormFloat64())
			}
			a := newLazyAdam(w, dim, 0.003)
			for range 300 {
				var used []int32
				for r := range rows {
					if rng.Float64() < 2/float64(2+r) {
						used = append(used, int32(r))
					}
				}
				grad := make([]float32, len(used)*dim)
				for i := range grad {
					grad[i] = float32(rng.NormFloat64() * 0.05)
				}
				a.step(used, grad)
			}
			a.sync()
			return w, a.ms
		}
		w1, ms1 := run(true)
		w0, ms0 := run(false)
		for i := range w0 {
			if math.Float32bits(w0[i]) != math.Float32bits(w1[i]) {
				t.Fatalf("dim %d: weight %d is %v with the kernel, %v without", dim, i, w1[i], w0[i])
			}
		}
		for i := range ms0 {
			if math.Float32bits(ms0[i]) != math.Float32bits(ms1[i]) {
				t.Fatalf("dim %d: moment %d is %v with the kernel, %v without", dim, i, ms1[i], ms0[i])
			}
		}
	}
}

func TestAxpyKernelMatchesLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 3, 4, 5, 8, 12, 100, 151} {
		x, y := make([]float32, n), make([]float32, n+2)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		for i := range y {
			y[i] = float32(rng.NormFloat64())
		}
		a := float32(rng.NormFloat64())
		got := append([]float32(nil), y...)
		Axpy(a, x, got)
		for i := range y {
			want := y[i]
			if i < n {
				want += a * x[i]
			}
			if math.Float32bits(got[i]) != math.Float32bits(want) {
				t.Fatalf("n=%d: y[%d] = %v, want %v", n, i, got[i], want)
			}
		}
	}
}
