package intent

import (
	"math"
	"math/rand/v2"
)

// Net is the intent classifier, a "wide and deep" network over the sparse
// TF-IDF vector x of a sentence: a linear model on x (the wide part, which
// alone would be multinomial logistic regression) plus a ReLU hidden layer
// over a TF-IDF weighted bag of feature embeddings (the deep part).
//
//	z      = relu(sum_i x_i * E[row_i] + B1)                 (Dim; the sentence embedding)
//	logits = sum_i x_i * L[row_i] + z * W2 + B2              (Classes)
//
// The weights are plain float32 slices: the Gorgonia training graph wraps them
// as tensors without copying, and Forward reads the same memory, so what was
// trained is exactly what runs. A Net is read-only after training and safe for
// concurrent use.
type Net struct {
	Features int
	Dim      int
	Classes  int

	E  []float32 // [Features, Dim]
	L  []float32 // [Features, Classes]
	B1 []float32 // [Dim]
	W2 []float32 // [Dim, Classes]
	B2 []float32 // [Classes]
}

// initScale is the standard deviation of the initial embeddings. A TF-IDF
// vector has norm sqrt(2) (two L2-normalised groups), so h starts with
// roughly unit variance.
const initScale = 0.7

// newNet returns a Net with seeded random weights.
func newNet(features, dim, classes int, rng *rand.Rand) *Net {
	n := &Net{
		Features: features, Dim: dim, Classes: classes,
		E:  make([]float32, features*dim),
		L:  make([]float32, features*classes),
		B1: make([]float32, dim),
		W2: make([]float32, dim*classes),
		B2: make([]float32, classes),
	}
	for i := range n.E {
		n.E[i] = float32(rng.NormFloat64() * initScale)
	}
	s := math.Sqrt(6 / float64(dim+classes))
	for i := range n.W2 {
		n.W2[i] = float32((rng.Float64()*2 - 1) * s)
	}

	return n
}

// Forward computes the hidden layer z and the logits of one sparse vector.
// z must have length Dim and logits length Classes.
func (n *Net) Forward(v Vector, z, logits []float32) {
	copy(z, n.B1)
	copy(logits, n.B2)
	d, c := n.Dim, n.Classes
	for i, r := range v.Rows {
		w := v.Weights[i]
		for j, e := range n.E[int(r)*d : int(r)*d+d] {
			z[j] += w * e
		}
		for k, l := range n.L[int(r)*c : int(r)*c+c] {
			logits[k] += w * l
		}
	}

	for j, zj := range z {
		if zj <= 0 {
			z[j] = 0
			continue
		}
		row := n.W2[j*c : j*c+c]
		for k, w := range row {
			logits[k] += zj * w
		}
	}
}

// snapshot is a copy of a Net's weights with the feature tables in half
// precision, which is how Train returns them: keeping the best weights so
// far this way costs half the memory of a full copy and loses nothing.
type snapshot struct {
	E, L       []uint16
	B1, W2, B2 []float32
}

// take copies the weights of n into s, allocated when s is nil, and returns
// s.
func (s *snapshot) take(n *Net) *snapshot {
	if s == nil {
		s = &snapshot{
			E: make([]uint16, len(n.E)), L: make([]uint16, len(n.L)),
			B1: make([]float32, len(n.B1)), W2: make([]float32, len(n.W2)), B2: make([]float32, len(n.B2)),
		}
	}
	for i, x := range n.E {
		s.E[i] = floatToHalf(x)
	}
	for i, x := range n.L {
		s.L[i] = floatToHalf(x)
	}
	copy(s.B1, n.B1)
	copy(s.W2, n.W2)
	copy(s.B2, n.B2)
	return s
}

// restore overwrites the weights of n with those of s (same shapes).
func (s *snapshot) restore(n *Net) {
	for i, h := range s.E {
		n.E[i] = halfToFloat(h)
	}
	for i, h := range s.L {
		n.L[i] = halfToFloat(h)
	}
	copy(n.B1, s.B1)
	copy(n.W2, s.W2)
	copy(n.B2, s.B2)
}

// Softmax writes the softmax of logits/temperature into p.
func Softmax(logits []float32, temperature float64, p []float64) {
	maxv := math.Inf(-1)
	for _, l := range logits {
		maxv = math.Max(maxv, float64(l))
	}
	var sum float64
	for i, l := range logits {
		p[i] = math.Exp((float64(l) - maxv) / temperature)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
}
