package models

import (
	"bytes"
	"math"
	"runtime"
	"testing"
)

// TestLogLossGradient compares the analytic gradient with central
// differences, for the binary and the multinomial objective.
func TestLogLossGradient(t *testing.T) {
	for _, k := range []int{2, 4} {
		X, y := synth(40, 3, k, uint64(k))
		xm, err := checkRows(X, 0)
		if err != nil {
			t.Fatal(err)
		}
		o := &logLoss{x: xm, y: y, lin: linear{d: 3, k: k}, invC: 1 / 0.8}
		r := o.lin.rows()
		o.lin.w, o.lin.b = make([]float64, r*3), make([]float64, r)
		p := make([]float64, r*3+r)
		for i := range p {
			p[i] = 0.3*math.Sin(float64(i+1)) - 0.1
		}
		g := make([]float64, len(p))
		o.grad(g, p)
		for i := range p {
			h := 1e-6
			q := append([]float64(nil), p...)
			q[i] += h
			fp := o.f(q)
			q[i] -= 2 * h
			fm := o.f(q)
			num := (fp - fm) / (2 * h)
			if math.Abs(num-g[i]) > 1e-5*math.Max(1, math.Abs(num)) {
				t.Errorf("k=%d: d/dp[%d] analytic %.8g, numeric %.8g", k, i, g[i], num)
			}
		}
	}
}

func TestLogisticRegressionBehaviour(t *testing.T) {
	X, y := synth(400, 6, 3, 11)
	cases := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"probabilities sum to one and agree with Predict", func(t *testing.T) {
			m := &LogisticRegression{}
			if err := m.Fit(X, y); err != nil {
				t.Fatal(err)
			}
			proba, _ := m.PredictProba(X)
			pred, _ := m.Predict(X)
			for i, p := range proba {
				var s float64
				for _, v := range p {
					s += v
				}
				if math.Abs(s-1) > 1e-12 || argmax(p) != pred[i] {
					t.Fatalf("row %d: proba %v, predicted %d", i, p, pred[i])
				}
			}
			if acc := accuracy(pred, y); acc < 0.7 {
				t.Fatalf("training accuracy %.3f on overlapping blobs (chance 0.33)", acc)
			}
		}},
		{"smaller C shrinks weights", func(t *testing.T) {
			norm := func(c float64) float64 {
				m := &LogisticRegression{C: c}
				if err := m.Fit(X, y); err != nil {
					t.Fatal(err)
				}
				w, _ := m.Coef()
				var s float64
				for _, row := range w {
					for _, v := range row {
						s += v * v
					}
				}
				return s
			}
			if strong, weak := norm(1e-4), norm(100); !(strong < weak/10) {
				t.Fatalf("|w|² with C=1e-4 is %.4g, with C=100 %.4g", strong, weak)
			}
		}},
		{"separable data stays finite", func(t *testing.T) {
			Xs := [][]float64{{-2}, {-1}, {1}, {2}}
			m := &LogisticRegression{C: 1e6}
			if err := m.Fit(Xs, []int{0, 0, 1, 1}); err != nil {
				t.Fatal(err)
			}
			p, _ := m.PredictProba([][]float64{{-3}, {3}})
			if !(p[0][0] > 0.99 && p[1][1] > 0.99) || !finite(p[0]) {
				t.Fatalf("proba %v", p)
			}
		}},
		{"iteration limit is reported", func(t *testing.T) {
			m := &LogisticRegression{MaxIter: 2, Tol: 1e-12}
			if err := m.Fit(X, y); err != nil {
				t.Fatal(err)
			}
			if n, ok := m.Iterations(); ok || n > 2 {
				t.Fatalf("Iterations() = %d, %v; want <= 2, false", n, ok)
			}
		}},
		{"deterministic whatever the core count", func(t *testing.T) {
			// Enough rows for several parallel chunks of the loss.
			Xl, yl := synth(3*evalChunk+17, 5, 3, 13)
			fit := func(procs int) []byte {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				m := &LogisticRegression{}
				if err := m.Fit(Xl, yl); err != nil {
					t.Fatal(err)
				}
				return saved(t, m)
			}
			one, two, four := fit(1), fit(2), fit(4)
			if !bytes.Equal(one, two) || !bytes.Equal(one, four) {
				t.Fatal("fits with 1, 2 and 4 cores differ")
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, c.check)
	}
}

func TestLinearSVMBehaviour(t *testing.T) {
	X, y := synth(300, 5, 4, 12)
	sep := [][]float64{{-2, 0}, {-1, 1}, {-1.5, -1}, {2, 0}, {1, -1}, {1.5, 1}}
	sepY := []int{0, 0, 0, 1, 1, 1}
	cases := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"both losses separate separable data with margin", func(t *testing.T) {
			for _, loss := range []SVMLoss{SquaredHinge, Hinge} {
				m := &LinearSVM{Loss: loss, C: 10, Tol: 1e-8, MaxIter: 10000}
				if err := m.Fit(sep, sepY); err != nil {
					t.Fatal(err)
				}
				dec, _ := m.DecisionFunction(sep)
				for i, d := range dec {
					if len(d) != 1 || (d[0] > 0) != (sepY[i] == 1) || math.Abs(d[0]) < 0.9 {
						t.Fatalf("loss %d row %d: decision %v", loss, i, d)
					}
				}
				if _, ok := m.Iterations(); !ok {
					t.Fatalf("loss %d did not converge", loss)
				}
			}
		}},
		{"one vs rest gives one value per class", func(t *testing.T) {
			m := &LinearSVM{}
			if err := m.Fit(X, y); err != nil {
				t.Fatal(err)
			}
			dec, _ := m.DecisionFunction(X[:5])
			pred, _ := m.Predict(X)
			for i, d := range dec {
				if len(d) != 4 || argmax(d) != pred[i] {
					t.Fatalf("row %d: decision %v, predicted %d", i, d, pred[i])
				}
			}
			if acc := accuracy(pred, y); acc < 0.6 {
				t.Fatalf("training accuracy %.3f on overlapping blobs (chance 0.25)", acc)
			}
		}},
		{"same seed same model, other seed same optimum", func(t *testing.T) {
			fit := func(seed uint64) *LinearSVM {
				m := &LinearSVM{Seed: seed, Tol: 1e-6, MaxIter: 5000}
				if err := m.Fit(X, y); err != nil {
					t.Fatal(err)
				}
				return m
			}
			a, b, c := fit(1), fit(1), fit(2)
			if !bytes.Equal(saved(t, a), saved(t, b)) {
				t.Fatal("same seed, different models")
			}
			wa, _ := a.Coef()
			wc, _ := c.Coef()
			for j := range wa {
				for f := range wa[j] {
					if math.Abs(wa[j][f]-wc[j][f]) > 1e-3 {
						t.Fatalf("seeds 1 and 2 reach different optima: %v vs %v", wa[j], wc[j])
					}
				}
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, c.check)
	}
}
