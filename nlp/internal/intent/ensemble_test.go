package intent

import (
	"math"
	"slices"
	"testing"
)

func TestHalfPrecision(t *testing.T) {
	cases := []struct {
		in, want float32
	}{
		{0, 0},
		{1, 1},
		{-2.5, -2.5},
		{0.1, 0.0999755859375},
		{65504, 65504},
		{1e-7, 1.1920929e-07}, // subnormal in half precision
		{1.00048828125, 1},    // exactly half-way: rounds to even
		{1.0014648, 1.0019531},
	}
	for _, tc := range cases {
		if got := halfToFloat(floatToHalf(tc.in)); got != tc.want {
			t.Errorf("%v: got %v, want %v", tc.in, got, tc.want)
		}
	}
	if !math.IsInf(float64(halfToFloat(floatToHalf(1e6))), 1) {
		t.Error("1e6 does not overflow to +Inf")
	}
	// Every half value survives the round trip.
	for h := uint16(0); h < 0x7c00; h++ {
		if got := floatToHalf(halfToFloat(h)); got != h {
			t.Fatalf("half %#04x came back as %#04x", h, got)
		}
	}
}

// TestSnapshotIsHalfPrecision checks that the best weights Train keeps
// come back as the rounded net: the copy holds the tables in half
// precision, and rounding is what Train does to its result anyway.
func TestSnapshotIsHalfPrecision(t *testing.T) {
	_, n := tinyNet(t, 8, 2)
	for i := range n.E { // values that half precision does not hold exactly
		n.E[i] += 1e-4 * float32(i%7)
	}
	want := &Net{E: slices.Clone(n.E), L: slices.Clone(n.L), B1: slices.Clone(n.B1), W2: slices.Clone(n.W2), B2: slices.Clone(n.B2)}
	want.roundHalf()
	s := (*snapshot)(nil).take(n)
	for i := range n.E { // training goes on after the snapshot
		n.E[i], n.L[i%len(n.L)], n.W2[i%len(n.W2)] = 5, 5, 5
	}
	s.restore(n)
	for name, pair := range map[string][2][]float32{"E": {n.E, want.E}, "L": {n.L, want.L}, "B1": {n.B1, want.B1}, "W2": {n.W2, want.W2}, "B2": {n.B2, want.B2}} {
		if !slices.Equal(pair[0], pair[1]) {
			t.Errorf("%s restored from the snapshot differs from the rounded net", name)
		}
	}
}
