package intent

import (
	"math"
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
