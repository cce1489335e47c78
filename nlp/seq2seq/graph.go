package seq2seq

import (
	"fmt"
	"slices"

	"github.com/parleyhq/parley/nlp/internal/intent"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// graph is the training graph for batches of exactly b pairs, unrolled for
// ti encoder and to decoder steps. The weights are the model's own slices,
// so an optimiser step in Go is seen by the next run. The embedding lookups
// happen in Go: the graph's inputs are each step's embedded tokens, whose
// gradients Go adds back to the embedding rows (Gorgonia's ByIndices has a
// dense gradient, and slicing one [steps, b, ...] tensor per step makes a
// full-size gradient per step: both cost more than the whole network).
type graph struct {
	g      *G.ExprGraph
	vm     G.VM
	b      int
	ti, to int
	e, h   int

	src, tgtIn []int32   // [ti*b], [to*b], time-major: question ids, and <s> then the answer
	xIn, xOut  []float32 // [ti, b, e], [to, b, e]: their embeddings, inputs of the graph
	srcMask    []float32 // [ti, b, h]: 1 for real tokens, 0 for padding
	bias       []float32 // [b, to, ti]: 0 for real question tokens, -1e4 for padding
	target     []float32 // [b*to, vocab]: the weight of each gold token in the loss

	weights    G.Nodes // one node per model weight, nil for the embeddings
	xInNodes   G.Nodes // per encoder step: [b, e]
	xOutNodes  G.Nodes // per decoder step: [b, e]
	learnables G.Nodes // the weights' nodes, then the step inputs
	logits     *G.Node // [b*to, vocab]
	loss       *G.Node
}

// gruNodes are one GRU's weights in the graph.
type gruNodes struct{ w, u, b [3]*G.Node }

// builder chains graph calls, keeping the first error.
type builder struct{ err error }

func (bd *builder) do(f func() (*G.Node, error)) *G.Node {
	if bd.err != nil {
		return nil
	}
	n, err := f()
	if err != nil {
		bd.err = err
	}
	return n
}

// newInput is a float32 node over data, which the trainer writes in place.
func newInput(g *G.ExprGraph, name string, data []float32, shape ...int) *G.Node {
	val := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
	return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(val))
}

// buildGraph builds
//
//	encoder:   h_t = GRU(h_{t-1}, EmbIn[x_t]), kept at padding      (t < ti)
//	decoder:   s_t = GRU(s_{t-1}, EmbOut[y_{t-1}]), s_{-1} = h_last (t < to)
//	attention: a_t = softmax_j(s_t·Wa·h_jᵀ + bias_j);  c_t = Σ_j a_tj h_j
//	output:    o_t = tanh(s_t·Wc1 + c_t·Wc2 + bc);  logits_t = [o_t, 1]·Wo
//	loss      = -Σ_t target_t · log softmax(logits_t)
//
// (the embeddings EmbIn[x_t], EmbOut[y_{t-1}] are looked up in Go),
// and a GRU step is z = σ(x·Wz + h·Uz + bz), r = σ(x·Wr + h·Ur + br),
// n = tanh(x·Wn + bn + r⊙(h·Un)), h' = n + z⊙(h - n). Every slice index
// stays below 256 (see Options.check).
func buildGraph(m *Model, b, ti, to int) (*graph, error) {
	intent.GraphBuild.Lock() // one lock for every Gorgonia graph built in the process
	defer intent.GraphBuild.Unlock()
	h, e, vo := m.meta.Hidden, m.meta.Embed, m.out.len()
	gr := &graph{g: G.NewGraph(), b: b, ti: ti, to: to, e: e, h: h}
	g := gr.g
	sh := shapes(m.in.len(), vo, h, e)
	gr.weights = make(G.Nodes, numParams)
	for i := range m.w {
		if i == pEmbIn || i == pEmbOut {
			continue
		}
		gr.weights[i] = newInput(g, fmt.Sprintf("w%d", i), m.w[i], sh[i]...)
		gr.learnables = append(gr.learnables, gr.weights[i])
	}
	gr.src, gr.tgtIn = make([]int32, ti*b), make([]int32, to*b)
	gr.xIn, gr.xOut = make([]float32, ti*b*e), make([]float32, to*b*e)
	gr.srcMask = make([]float32, ti*b*h)
	gr.bias = make([]float32, b*to*ti)
	gr.target = make([]float32, b*to*vo)
	var masks G.Nodes
	for t := range ti {
		gr.xInNodes = append(gr.xInNodes, newInput(g, fmt.Sprintf("xin%d", t), gr.xIn[t*b*e:(t+1)*b*e], b, e))
		masks = append(masks, newInput(g, fmt.Sprintf("mask%d", t), gr.srcMask[t*b*h:(t+1)*b*h], b, h))
	}
	for t := range to {
		gr.xOutNodes = append(gr.xOutNodes, newInput(g, fmt.Sprintf("xout%d", t), gr.xOut[t*b*e:(t+1)*b*e], b, e))
	}
	gr.learnables = append(append(gr.learnables, gr.xInNodes...), gr.xOutNodes...)
	bias := newInput(g, "bias", gr.bias, b, to, ti)
	target := newInput(g, "target", gr.target, b*to, vo)
	zero := newInput(g, "h0", make([]float32, b*h), b, h)
	ones := newInput(g, "ones", slices.Repeat([]float32{1}, b*to), b*to, 1)

	bd := &builder{}
	gru := func(base int) gruNodes {
		var n gruNodes
		for k := range 3 {
			n.w[k], n.u[k], n.b[k] = gr.weights[base+k], gr.weights[base+3+k], gr.weights[base+6+k]
		}
		return n
	}
	step := func(x *G.Node, n gruNodes, hPrev *G.Node) *G.Node {
		var xw, hu [3]*G.Node
		for k := range 3 {
			xw[k] = bd.do(func() (*G.Node, error) { return G.Mul(x, n.w[k]) })
			xw[k] = bd.do(func() (*G.Node, error) { return G.BroadcastAdd(xw[k], n.b[k], nil, []byte{0}) })
			hu[k] = bd.do(func() (*G.Node, error) { return G.Mul(hPrev, n.u[k]) })
		}
		z := bd.do(func() (*G.Node, error) { return G.Add(xw[0], hu[0]) })
		z = bd.do(func() (*G.Node, error) { return G.Sigmoid(z) })
		r := bd.do(func() (*G.Node, error) { return G.Add(xw[1], hu[1]) })
		r = bd.do(func() (*G.Node, error) { return G.Sigmoid(r) })
		c := bd.do(func() (*G.Node, error) { return G.HadamardProd(r, hu[2]) })
		c = bd.do(func() (*G.Node, error) { return G.Add(xw[2], c) })
		c = bd.do(func() (*G.Node, error) { return G.Tanh(c) })
		d := bd.do(func() (*G.Node, error) { return G.Sub(hPrev, c) })
		d = bd.do(func() (*G.Node, error) { return G.HadamardProd(z, d) })
		return bd.do(func() (*G.Node, error) { return G.Add(c, d) })
	}
	asStep := func(s *G.Node) *G.Node {
		return bd.do(func() (*G.Node, error) { return G.Reshape(s, tensor.Shape{b, 1, h}) })
	}

	enc := gru(pEncW)
	hPrev := zero
	var encOut G.Nodes
	for t := range ti {
		hNew := step(gr.xInNodes[t], enc, hPrev)
		d := bd.do(func() (*G.Node, error) { return G.Sub(hNew, hPrev) })
		d = bd.do(func() (*G.Node, error) { return G.HadamardProd(masks[t], d) })
		hPrev = bd.do(func() (*G.Node, error) { return G.Add(hPrev, d) })
		encOut = append(encOut, asStep(hPrev))
	}
	hs := encOut[0]
	if ti > 1 {
		hs = bd.do(func() (*G.Node, error) { return G.Concat(1, encOut...) }) // [b, ti, h]
	}

	dec := gru(pDecW)
	var decOut G.Nodes
	for t := range to {
		hPrev = step(gr.xOutNodes[t], dec, hPrev)
		decOut = append(decOut, asStep(hPrev))
	}
	ss := decOut[0]
	if to > 1 {
		ss = bd.do(func() (*G.Node, error) { return G.Concat(1, decOut...) }) // [b, to, h]
	}

	keys := bd.do(func() (*G.Node, error) { return G.Reshape(hs, tensor.Shape{b * ti, h}) })
	keys = bd.do(func() (*G.Node, error) { return G.Mul(keys, gr.weights[pWa]) })
	keys = bd.do(func() (*G.Node, error) { return G.Reshape(keys, tensor.Shape{b, ti, h}) })
	scores := bd.do(func() (*G.Node, error) { return G.BatchedMatMul(ss, keys, false, true) }) // [b, to, ti]
	scores = bd.do(func() (*G.Node, error) { return G.Add(scores, bias) })
	scores = bd.do(func() (*G.Node, error) { return G.Reshape(scores, tensor.Shape{b * to, ti}) })
	att := bd.do(func() (*G.Node, error) { return G.SoftMax(scores) })
	att = bd.do(func() (*G.Node, error) { return G.Reshape(att, tensor.Shape{b, to, ti}) })
	ctx := bd.do(func() (*G.Node, error) { return G.BatchedMatMul(att, hs) }) // [b, to, h]

	s2 := bd.do(func() (*G.Node, error) { return G.Reshape(ss, tensor.Shape{b * to, h}) })
	c2 := bd.do(func() (*G.Node, error) { return G.Reshape(ctx, tensor.Shape{b * to, h}) })
	o1 := bd.do(func() (*G.Node, error) { return G.Mul(s2, gr.weights[pWc1]) })
	o2 := bd.do(func() (*G.Node, error) { return G.Mul(c2, gr.weights[pWc2]) })
	o := bd.do(func() (*G.Node, error) { return G.Add(o1, o2) })
	o = bd.do(func() (*G.Node, error) { return G.BroadcastAdd(o, gr.weights[pBc], nil, []byte{0}) })
	o = bd.do(func() (*G.Node, error) { return G.Tanh(o) })
	// A column of ones picks up the bias row of Wo, cheaper than
	// broadcasting a bias over [b*to, vocab].
	o = bd.do(func() (*G.Node, error) { return G.Concat(1, o, ones) })
	gr.logits = bd.do(func() (*G.Node, error) { return G.Mul(o, gr.weights[pWo]) })
	logp := bd.do(func() (*G.Node, error) { return G.LogSoftMax(gr.logits) })
	picked := bd.do(func() (*G.Node, error) { return G.HadamardProd(logp, target) })
	sum := bd.do(func() (*G.Node, error) { return G.Sum(picked) })
	gr.loss = bd.do(func() (*G.Node, error) { return G.Neg(sum) })
	if bd.err != nil {
		return nil, fmt.Errorf("build training graph: %w", bd.err)
	}
	if _, err := G.Grad(gr.loss, gr.learnables...); err != nil {
		return nil, fmt.Errorf("build gradients: %w", err)
	}
	gr.vm = G.NewTapeMachine(g, G.BindDualValues(gr.learnables...))
	return gr, nil
}

// fill writes the inputs for the pairs of batch (ids into data) into the
// graph; rows past len(batch) repeat the first pair with no weight in the
// loss. It returns the number of target tokens, over which the loss is a
// mean.
func (gr *graph) fill(m *Model, data []example, batch []int) int {
	b, ti, to := gr.b, gr.ti, gr.to
	h := len(gr.srcMask) / (ti * b)
	vo := len(gr.target) / (b * to)
	clear(gr.target)
	clear(gr.srcMask)
	tokens := 0
	for k := range b {
		ex := data[batch[0]]
		if k < len(batch) {
			ex = data[batch[k]]
			tokens += min(len(ex.tgt), to)
		}
		for t := range ti {
			id := int32(padID)
			if t < len(ex.src) {
				id = ex.src[t]
				row := gr.srcMask[(t*b+k)*h : (t*b+k+1)*h]
				for j := range row {
					row[j] = 1
				}
			}
			gr.src[t*b+k] = id
		}
		for t := range to {
			id := int32(bosID)
			if t > 0 {
				id = padID
				if t-1 < len(ex.tgt) {
					id = ex.tgt[t-1]
				}
			}
			gr.tgtIn[t*b+k] = id
			bias := gr.bias[(k*to+t)*ti : (k*to+t+1)*ti]
			for j := range bias {
				bias[j] = 0
				if j >= len(ex.src) {
					bias[j] = -1e4
				}
			}
		}
	}
	embed(gr.xIn, gr.src, m.w[pEmbIn], gr.e)
	embed(gr.xOut, gr.tgtIn, m.w[pEmbOut], gr.e)
	share := float32(1) / float32(max(tokens, 1))
	for k := range min(len(batch), b) {
		ex := data[batch[k]]
		for t := range min(len(ex.tgt), to) {
			gr.target[(k*to+t)*vo+int(ex.tgt[t])] = share
		}
	}
	return tokens
}

// embed copies the embedding row of each id into x.
func embed(x []float32, ids []int32, table []float32, e int) {
	for i, id := range ids {
		copy(x[i*e:(i+1)*e], table[int(id)*e:(int(id)+1)*e])
	}
}

// embedGrads adds the gradients of the step inputs nodes (rows of ids, in
// order) to the rows of the embedding gradient grad.
func embedGrads(nodes G.Nodes, ids []int32, grad []float32, e int) error {
	per := len(ids) / len(nodes)
	for t, n := range nodes {
		g, err := n.Grad()
		if err != nil {
			return fmt.Errorf("gradient of %s: %w", n.Name(), err)
		}
		d := g.Data().([]float32)
		for k, id := range ids[t*per : (t+1)*per] {
			row := grad[int(id)*e : (int(id)+1)*e]
			for j, x := range d[k*e : (k+1)*e] {
				row[j] += x
			}
		}
	}
	return nil
}

// run runs the graph forward and backward on the filled inputs and
// returns the loss; the weights' gradients are then in their nodes until
// reset.
func (gr *graph) run() (float64, error) {
	if err := gr.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("run training graph: %w", err)
	}
	return float64(gr.loss.Value().Data().(float32)), nil
}

// reset zeroes the gradients (Gorgonia adds into them) and resets the
// machine for the next run.
func (gr *graph) reset() {
	for _, n := range gr.learnables {
		if g, err := n.Grad(); err == nil {
			g.(*tensor.Dense).Zero()
		}
	}
	gr.vm.Reset()
}

func (gr *graph) close() { gr.vm.Close() }
