package seq2seq

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGradientsNumeric compares the graph's gradients (with the embedding
// gradients Go gathers) with finite differences of its loss, for a few
// entries of every weight of a small untrained model: it guards against
// ops whose gradients are silently wrong (such as Gorgonia's slices past
// index 255).
func TestGradientsNumeric(t *testing.T) {
	pairs := tinyPairs()
	var qs, as [][]string
	for _, p := range pairs {
		qs, as = append(qs, Tokenize(p.Question)), append(as, Tokenize(p.Answer))
	}
	m := &Model{in: buildVocab(qs, 1), out: buildVocab(as, 1)}
	m.meta = Meta{Hidden: 6, Embed: 5, MaxIn: 5, MaxOut: 6}
	rng := rand.New(rand.NewPCG(3, 4))
	m.initWeights(rng)
	for i := range m.w { // non-zero biases too, so that their paths are tested
		for j := range m.w[i] {
			m.w[i][j] += float32(rng.NormFloat64() * 0.3)
		}
	}
	data := []example{m.example(qs[0], as[0]), m.example(qs[13], as[13])}
	data[1].src = data[1].src[:2] // padding in the question
	gr, err := buildGraph(m, 2, m.meta.MaxIn, m.meta.MaxOut)
	if err != nil {
		t.Fatal(err)
	}
	defer gr.close()
	batch := []int{0, 1}
	loss := func() float64 {
		gr.fill(m, data, batch)
		l, err := gr.run()
		gr.reset()
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	gr.fill(m, data, batch)
	if _, err := gr.run(); err != nil {
		t.Fatal(err)
	}
	opt := newAdam(m.w[:], 0) // only to gather the gradients
	opt.grads = make([][]float32, len(m.w))
	opt.grads[pEmbIn] = make([]float32, len(m.w[pEmbIn]))
	opt.grads[pEmbOut] = make([]float32, len(m.w[pEmbOut]))
	if err := embedGrads(gr.xInNodes, gr.src, opt.grads[pEmbIn], gr.e); err != nil {
		t.Fatal(err)
	}
	if err := embedGrads(gr.xOutNodes, gr.tgtIn, opt.grads[pEmbOut], gr.e); err != nil {
		t.Fatal(err)
	}
	analytic := make([][]float32, len(m.w))
	for i := range m.w {
		if n := gr.weights[i]; n != nil {
			g, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			analytic[i] = append([]float32(nil), g.Data().([]float32)...)
		} else {
			analytic[i] = opt.grads[i]
		}
	}
	gr.reset()
	const eps = 1e-2
	checked := 0
	for i := range m.w {
		// Entries with the largest gradients, plus a few at random.
		picks := []int{argmaxAbs(analytic[i])}
		for range 3 {
			picks = append(picks, rng.IntN(len(m.w[i])))
		}
		for _, j := range picks {
			old := m.w[i][j]
			m.w[i][j] = old + eps
			up := loss()
			m.w[i][j] = old - eps
			down := loss()
			m.w[i][j] = old
			num := (up - down) / (2 * eps)
			a := float64(analytic[i][j])
			if math.Abs(num-a) > 2e-3+0.05*math.Abs(num) {
				t.Errorf("weight %d[%d]: gradient %.5f, finite difference %.5f", i, j, a, num)
			}
			checked++
		}
	}
	t.Logf("%d gradient entries checked", checked)
}

func argmaxAbs(x []float32) int {
	best := 0
	for i, v := range x {
		if math.Abs(float64(v)) > math.Abs(float64(x[best])) {
			best = i
		}
	}
	return best
}
