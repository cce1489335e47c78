package models

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
)

// matrix is a dense row-major copy of the caller's rows: one allocation,
// contiguous for BLAS and cache-friendly loops.
type matrix struct {
	n, d int
	v    []float64 // n*d values, row i at v[i*d:(i+1)*d]
}

func (m matrix) row(i int) []float64 { return m.v[i*m.d : (i+1)*m.d] }

// checkRows validates a feature matrix (see validRows) and returns the
// rows copied into a dense matrix.
func checkRows(X [][]float64, want int) (matrix, error) {
	d, err := validRows(X, want)
	if err != nil {
		return matrix{}, err
	}
	m := matrix{n: len(X), d: d, v: make([]float64, 0, len(X)*d)}
	for _, row := range X {
		m.v = append(m.v, row...)
	}
	return m, nil
}

// validRows checks that X has at least one row, that every row has the same
// non-zero width (want, when want > 0) and that every value is finite. It
// returns the width.
func validRows(X [][]float64, want int) (int, error) {
	if len(X) == 0 {
		return 0, fmt.Errorf("%w: no samples", ErrEmpty)
	}
	d := len(X[0])
	if want > 0 {
		d = want
	}
	if d == 0 {
		return 0, fmt.Errorf("%w: samples have no features", ErrEmpty)
	}
	// x·0 is 0 for finite x and NaN for NaN or ±Inf, so one SIMD dot
	// product with zeros checks a whole row; the culprit is looked up only
	// when there is one. Validation is then a small part of prediction.
	zeros := make([]float64, d)
	for i, row := range X {
		if len(row) != d {
			return 0, fmt.Errorf("%w: row %d has %d features, want %d", ErrDimension, i, len(row), d)
		}
		if floats.Dot(row, zeros) == 0 {
			continue
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, fmt.Errorf("%w: row %d feature %d is %v", ErrNonFinite, i, j, v)
			}
		}
	}
	return d, nil
}

// checkRow validates one sample against the fitted width d.
func checkRow(x []float64, d int) error {
	if len(x) != d {
		return fmt.Errorf("%w: sample has %d features, want %d", ErrDimension, len(x), d)
	}
	for j, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: feature %d is %v", ErrNonFinite, j, v)
		}
	}
	return nil
}

// checkLabels validates class labels for n >= 1 samples and returns the
// number of classes k = max(y)+1. There must be two distinct labels and
// every class in 0..k-1 must occur.
func checkLabels(y []int, n int) (int, error) {
	if len(y) != n {
		return 0, fmt.Errorf("%w: %d labels for %d samples", ErrDimension, len(y), n)
	}
	k := 0
	for i, c := range y {
		if c < 0 {
			return 0, fmt.Errorf("%w: label %d of sample %d is negative", ErrLabel, c, i)
		}
		if c >= n {
			// More classes than samples means some class is empty.
			return 0, fmt.Errorf("%w: label %d of sample %d leaves classes without samples", ErrLabel, c, i)
		}
		k = max(k, c+1)
	}
	counts := make([]int, k)
	for _, c := range y {
		counts[c]++
	}
	if counts[y[0]] == n {
		return 0, fmt.Errorf("%w: all %d samples are class %d", ErrSingleClass, n, y[0])
	}
	for c, cnt := range counts {
		if cnt == 0 {
			return 0, fmt.Errorf("%w: class %d has no samples (labels must be 0..%d)", ErrLabel, c, k-1)
		}
	}
	return k, nil
}

// finite reports whether every value is finite.
func finite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// argmax returns the index of the largest value (the first on ties).
func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
