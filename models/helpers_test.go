package models

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// synth returns n rows of d features in k classes: each class is a Gaussian
// blob around its own random centre, spread so the classes overlap a little.
func synth(n, d, k int, seed uint64) ([][]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	centres := make([][]float64, k)
	for c := range centres {
		centres[c] = make([]float64, d)
		for j := range centres[c] {
			centres[c][j] = rng.NormFloat64()
		}
	}
	X := make([][]float64, n)
	y := make([]int, n)
	for i := range X {
		c := i % k
		y[i] = c
		X[i] = make([]float64, d)
		for j := range X[i] {
			X[i][j] = centres[c][j] + 1.5*rng.NormFloat64()
		}
	}
	return X, y
}

// saved returns what Save writes.
func saved(t testing.TB, m interface{ Save(io.Writer) error }) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
