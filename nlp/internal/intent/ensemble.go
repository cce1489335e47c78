package intent

import "math"

// Ensemble is several nets trained on the same features with different
// seeds. Its logits are the mean of theirs, and its embedding is their
// hidden layers side by side. It is read-only and safe for concurrent use.
type Ensemble struct {
	Nets []*Net // at least one; all with the same Features, Dim and Classes
}

// Dim returns the length of the embedding.
func (e *Ensemble) Dim() int { return len(e.Nets) * e.Nets[0].Dim }

// Classes returns the number of classes.
func (e *Ensemble) Classes() int { return e.Nets[0].Classes }

// Forward computes the embedding z (length Dim()) and the mean logits
// (length Classes()) of one sparse vector.
func (e *Ensemble) Forward(v Vector, z, logits []float32) {
	d := e.Nets[0].Dim
	if len(e.Nets) == 1 {
		e.Nets[0].Forward(v, z, logits)
		return
	}
	clear(logits)
	one := make([]float32, len(logits))
	for k, n := range e.Nets {
		n.Forward(v, z[k*d:(k+1)*d], one)
		for i, l := range one {
			logits[i] += l
		}
	}
	inv := 1 / float32(len(e.Nets))
	for i := range logits {
		logits[i] *= inv
	}
}

// roundHalf rounds the feature tables to half precision (what Save stores),
// so that a model behaves the same before it is saved and after it is
// loaded.
func (n *Net) roundHalf() {
	for _, t := range [][]float32{n.E, n.L} {
		for i, x := range t {
			t[i] = halfToFloat(floatToHalf(x))
		}
	}
}

// floatToHalf converts to IEEE 754 binary16, rounding to nearest even;
// values past its range become infinities (weights never are: training
// rejects a diverged model and the tables stay far below 65504).
func floatToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case exp >= 31: // overflow (or NaN/Inf)
		if b&0x7fffffff > 0x7f800000 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp <= 0: // subnormal or zero in half precision
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint(14 - exp)
		half := uint16(mant >> shift)
		rest := mant & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rest > mid || (rest == mid && half&1 == 1) {
			half++
		}
		return sign | half
	}
	half := sign | uint16(exp)<<10 | uint16(mant>>13)
	rest := mant & 0x1fff
	if rest > 0x1000 || (rest == 0x1000 && half&1 == 1) {
		half++ // may carry into the exponent, which is still correct
	}
	return half
}

// halfToFloat converts IEEE 754 binary16 to float32 exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h >> 10 & 0x1f)
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		for mant&0x400 == 0 {
			mant <<= 1
			exp--
		}
		exp++
		mant &= 0x3ff
	case exp == 31:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}
