package models

import (
	"fmt"
	"math"
)

// linear is the fitted state shared by LogisticRegression and LinearSVM: one
// weight row and intercept per decision function. A two-class model has a
// single row whose positive side is class 1 (as scikit-learn stores it).
type linear struct {
	d, k int       // features, classes; zero until fitted
	w    []float64 // rows()*d weights, row-major
	b    []float64 // rows() intercepts
}

// rows is the number of decision functions: 1 for two classes, else k.
func (l *linear) rows() int {
	if l.k == 2 {
		return 1
	}
	return l.k
}

// scoreRows returns the len(X)*rows() decision values X·Wᵀ + b, row-major,
// row by row without copying X (a copy would cost as much as the products
// for the few decision functions there are).
func (l *linear) scoreRows(X [][]float64) []float64 {
	r := l.rows()
	z := make([]float64, len(X)*r)
	for i, x := range X {
		for j := 0; j < r; j++ {
			z[i*r+j] = dot(l.w[j*l.d:(j+1)*l.d], x) + l.b[j]
		}
	}
	return z
}

// predict turns decision values into classes: the sign for two classes, the
// largest value otherwise.
func (l *linear) predict(z []float64, n int) []int {
	r := l.rows()
	out := make([]int, n)
	for i := range out {
		if r == 1 {
			if z[i] > 0 {
				out[i] = 1
			}
			continue
		}
		out[i] = argmax(z[i*r : (i+1)*r])
	}
	return out
}

// coef returns copies of the weights and intercepts.
func (l *linear) coef() ([][]float64, []float64) {
	r := l.rows()
	w := make([][]float64, r)
	for j := range w {
		w[j] = append([]float64(nil), l.w[j*l.d:(j+1)*l.d]...)
	}
	return w, append([]float64(nil), l.b...)
}

// linearJSON is the saved form of a linear model.
type linearJSON struct {
	Features  int         `json:"features"`
	Classes   int         `json:"classes"`
	Coef      [][]float64 `json:"coef"`
	Intercept []float64   `json:"intercept"`
}

func (l *linear) toJSON() linearJSON {
	w, b := l.coef()
	return linearJSON{Features: l.d, Classes: l.k, Coef: w, Intercept: b}
}

// fromJSON checks a saved linear model and installs it.
func (l *linear) fromJSON(j linearJSON) error {
	if j.Features < 1 || j.Classes < 2 {
		return fmt.Errorf("%w: %d features, %d classes", ErrFormat, j.Features, j.Classes)
	}
	t := linear{d: j.Features, k: j.Classes}
	r := t.rows()
	if len(j.Coef) != r || len(j.Intercept) != r {
		return fmt.Errorf("%w: %d weight rows and %d intercepts, want %d", ErrFormat, len(j.Coef), len(j.Intercept), r)
	}
	for _, row := range j.Coef {
		if len(row) != t.d {
			return fmt.Errorf("%w: weight row of %d values, want %d", ErrFormat, len(row), t.d)
		}
		t.w = append(t.w, row...)
	}
	t.b = append([]float64(nil), j.Intercept...)
	if !finite(t.w) || !finite(t.b) {
		return fmt.Errorf("%w: non-finite weight", ErrFormat)
	}
	*l = t
	return nil
}

// softmaxInPlace turns scores into probabilities.
func softmaxInPlace(z []float64) {
	m := z[argmax(z)]
	var s float64
	for i, v := range z {
		z[i] = math.Exp(v - m)
		s += z[i]
	}
	for i := range z {
		z[i] /= s
	}
}

// sigmoid is the logistic function, stable for large |z|.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// log1pexp is log(1+e^z) without overflow.
func log1pexp(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}
