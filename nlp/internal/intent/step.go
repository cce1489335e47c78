package intent

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// trainer owns the Gorgonia graph of one training run and the buffers of
// its steps, which every step reuses. The weights are updated with Adam
// (lazyAdam, which for the two feature tables touches only the rows a batch
// used).
//
// The bags, sum_i x_i * E[row_i] and sum_i x_i * L[row_i] per sentence, are
// computed here in Go, and their gradients scattered back to the rows: a bag
// is linear in the rows, so its backward pass is one multiply-add per
// feature. In the graph they would have to be Gorgonia's ByIndices, whose
// output and gradient are [sentences x padded length x width] dense
// tensors, and one graph per shape of batch: CLINC150 built some fifty
// graphs per network, each holding its last run's tensors, and training
// peaked at 5 GB. The graph sees the bags as inputs and computes the loss
// and the gradients of everything after them, in one shape for all batches.
type trainer struct {
	net   *Net
	cfg   Config
	batch int // the graph's batch size; a smaller batch is padded to it

	dense  []*tensor.Dense // B1, W2, B2, backed by the Net's slices
	gr     *graph          // built at the first step
	params []lazyAdam      // for E, L, B1, W2, B2, in the order of graph.learnables

	// The step's scratch, reused.
	pos   []int32   // per table row: its position in used, or -1
	used  []int32   // the table rows the batch uses, sorted
	start []int     // per sentence k of the batch: its slots are start[k]:start[k+1]
	slot  []int32   // per slot (a feature of a sentence): the position of its row in used
	wt    []float32 // per slot: the feature's weight
	// The slots again, grouped by row: those of used[p] are byRow[rowStart[p]:rowStart[p+1]],
	// each a sentence and a weight, in the order of the sentences.
	rowStart []int32
	byRow    []rowSlot
	grads    [2][]float32 // the gradients of the used rows of E and L, [len(used), width]
}

// rowSlot is a feature of sentence k of the batch with weight w.
type rowSlot struct {
	k int32
	w float32
}

// graph is the training graph. Its inputs are the bags of the batch's
// sentences; padding sentences have zero bags, targets and mask, and so add
// nothing to the loss or the gradients.
type graph struct {
	g          *G.ExprGraph
	vm         G.VM
	bags       [2]*G.Node   // the bags of E and of L, [B, Dim] and [B, C]
	bagData    [2][]float32 // their values: the trainer writes them
	mask, y    *G.Node      // dropout mask [B, Dim]; targets [B, C], each row divided by the batch's real size
	maskData   *tensor.Dense
	yData      *tensor.Dense
	learnables G.Nodes // bags[0], bags[1], b1, W2, b2
	logits     *G.Node // [B, C], read by tests
	loss       *G.Node
}

// newTrainer returns a trainer of net in minibatches of up to batch
// sentences.
func newTrainer(net *Net, cfg Config, batch int) *trainer {
	t := &trainer{net: net, cfg: cfg, batch: batch, pos: make([]int32, net.Features)}
	for i := range t.pos {
		t.pos[i] = -1
	}
	t.dense = []*tensor.Dense{
		tensor.New(tensor.WithShape(net.Dim), tensor.WithBacking(net.B1)),
		tensor.New(tensor.WithShape(net.Dim, net.Classes), tensor.WithBacking(net.W2)),
		tensor.New(tensor.WithShape(net.Classes), tensor.WithBacking(net.B2)),
	}
	lr := cfg.LR
	t.params = []lazyAdam{
		newLazyAdam(net.E, net.Dim, lr), newLazyAdam(net.L, net.Classes, lr),
		// The dense weights are tables of one row.
		newLazyAdam(net.B1, len(net.B1), lr), newLazyAdam(net.W2, len(net.W2), lr), newLazyAdam(net.B2, len(net.B2), lr),
	}
	return t
}

func (t *trainer) close() {
	if t.gr != nil {
		t.gr.vm.Close()
	}
}

// denseRow is the one row of a dense weight seen as a table.
var denseRow = []int32{0}

// GraphBuild serialises the building of Gorgonia graphs in the process:
// Gorgonia numbers some ops from a global counter without a lock
// (Rectify's group, in internal/encoding), so no two trainers, of this
// package or another (the sentence encoder), may build at once. Running the
// built graphs side by side is safe.
var GraphBuild sync.Mutex

// buildGraph builds the training graph for batches of b sentences.
func (t *trainer) buildGraph(b int) (*graph, error) {
	GraphBuild.Lock()
	defer GraphBuild.Unlock()
	n := t.net
	gr := &graph{g: G.NewGraph()}
	g := gr.g
	for i, width := range []int{n.Dim, n.Classes} {
		gr.bagData[i] = make([]float32, b*width)
		val := tensor.New(tensor.WithShape(b, width), tensor.WithBacking(gr.bagData[i]))
		gr.bags[i] = G.NewMatrix(g, tensor.Float32, G.WithShape(b, width), G.WithValue(val), G.WithName(fmt.Sprintf("bag%d", i)))
	}
	b1 := G.NewVector(g, tensor.Float32, G.WithShape(n.Dim), G.WithValue(t.dense[0]), G.WithName("b1"))
	w2 := G.NewMatrix(g, tensor.Float32, G.WithShape(n.Dim, n.Classes), G.WithValue(t.dense[1]), G.WithName("W2"))
	b2 := G.NewVector(g, tensor.Float32, G.WithShape(n.Classes), G.WithValue(t.dense[2]), G.WithName("b2"))
	gr.learnables = G.Nodes{gr.bags[0], gr.bags[1], b1, w2, b2}
	gr.mask = G.NewMatrix(g, tensor.Float32, G.WithShape(b, n.Dim), G.WithName("mask"))
	gr.y = G.NewMatrix(g, tensor.Float32, G.WithShape(b, n.Classes), G.WithName("y"))
	gr.maskData = tensor.New(tensor.WithShape(b, n.Dim), tensor.Of(tensor.Float32))
	gr.yData = tensor.New(tensor.WithShape(b, n.Classes), tensor.Of(tensor.Float32))

	var err error
	build := func(f func() (*G.Node, error)) *G.Node {
		if err != nil {
			return nil
		}
		var out *G.Node
		out, err = f()
		return out
	}
	h := build(func() (*G.Node, error) { return G.BroadcastAdd(gr.bags[0], b1, nil, []byte{0}) })
	z := build(func() (*G.Node, error) { return G.Rectify(h) })
	z = build(func() (*G.Node, error) { return G.HadamardProd(z, gr.mask) })
	logits := build(func() (*G.Node, error) { return G.Mul(z, w2) })
	logits = build(func() (*G.Node, error) { return G.BroadcastAdd(logits, b2, nil, []byte{0}) })
	logits = build(func() (*G.Node, error) { return G.Add(logits, gr.bags[1]) })
	gr.logits = logits
	logp := build(func() (*G.Node, error) { return G.LogSoftMax(logits) })
	picked := build(func() (*G.Node, error) { return G.HadamardProd(logp, gr.y) })
	total := build(func() (*G.Node, error) { return G.Sum(picked) })
	gr.loss = build(func() (*G.Node, error) { return G.Neg(total) })
	if err != nil {
		return nil, fmt.Errorf("build training graph: %w", err)
	}
	if _, err := G.Grad(gr.loss, gr.learnables...); err != nil {
		return nil, fmt.Errorf("build gradients: %w", err)
	}
	gr.vm = G.NewTapeMachine(g, G.BindDualValues(gr.learnables...))
	return gr, nil
}

// step runs forward, backward and one Adam update on one batch.
func (t *trainer) step(train []Sample, batch []int, rng *rand.Rand) (float64, error) {
	loss, err := t.pass(train, batch, rng)
	if err != nil {
		return 0, err
	}
	t.params[0].step(t.used, t.grads[0])
	t.params[1].step(t.used, t.grads[1])
	for i, node := range t.gr.learnables[len(t.gr.bags):] {
		grad, err := node.Grad()
		if err != nil {
			t.endPass()
			return 0, fmt.Errorf("gradient of %s: %w", node.Name(), err)
		}
		t.params[len(t.gr.bags)+i].step(denseRow, grad.Data().([]float32))
	}
	t.endPass()
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, fmt.Errorf("training diverged (loss %v): lower the learning rate", loss)
	}
	return loss, nil
}

// pass runs one batch forward and backward and returns its mean loss. It
// leaves the gradients of the rows in t.used in t.grads and those of the
// dense weights in the graph; endPass must follow before the next pass.
func (t *trainer) pass(train []Sample, batch []int, rng *rand.Rand) (float64, error) {
	if len(batch) > t.batch {
		return 0, fmt.Errorf("run training graph: batch of %d, the graph takes %d", len(batch), t.batch)
	}
	if t.gr == nil {
		gr, err := t.buildGraph(t.batch)
		if err != nil {
			return 0, err
		}
		t.gr = gr
	}
	gr, n := t.gr, t.net
	t.gather(train, batch, rng)

	// The bags: sum_i x_i * E[row_i] and sum_i x_i * L[row_i]. They go
	// row by row, so that a row read from memory serves every sentence
	// that uses it; a bag still sums its features in row order, as a
	// sentence lists them, so the sums are the same.
	d, c := n.Dim, n.Classes
	clear(gr.bagData[0])
	clear(gr.bagData[1])
	for p, r := range t.used {
		e, l := n.E[int(r)*d:int(r+1)*d], n.L[int(r)*c:int(r+1)*c]
		for _, rs := range t.byRow[t.rowStart[p]:t.rowStart[p+1]] {
			k := int(rs.k)
			Axpy(rs.w, e, gr.bagData[0][k*d:(k+1)*d])
			Axpy(rs.w, l, gr.bagData[1][k*c:(k+1)*c])
		}
	}
	if err := G.Let(gr.y, gr.yData); err != nil {
		t.endPass()
		return 0, fmt.Errorf("set targets: %w", err)
	}
	if err := G.Let(gr.mask, gr.maskData); err != nil {
		t.endPass()
		return 0, fmt.Errorf("set dropout mask: %w", err)
	}
	if err := gr.vm.RunAll(); err != nil {
		t.endPass()
		return 0, fmt.Errorf("run training graph: %w", err)
	}

	// The rows' gradients: the bag of sentence k has gradient dBag[k], so
	// row r gets x_i * dBag[k] from each of its features i in sentence k.
	for i, width := range []int{d, c} {
		g, err := gr.bags[i].Grad()
		if err != nil {
			t.endPass()
			return 0, fmt.Errorf("gradient of %s: %w", gr.bags[i].Name(), err)
		}
		dbag := g.Data().([]float32)
		grads := growClear(&t.grads[i], len(t.used)*width)
		for p := range t.used {
			gp := grads[p*width : (p+1)*width]
			for _, rs := range t.byRow[t.rowStart[p]:t.rowStart[p+1]] {
				k := int(rs.k)
				Axpy(rs.w, dbag[k*width:(k+1)*width], gp)
			}
		}
	}
	return float64(gr.loss.Value().Data().(float32)), nil
}

// gather lists the batch's features (after input dropout) in t.slot and
// t.wt, and the distinct table rows they use in t.used, sorted.
// It also sets the graph's targets, with label smoothing and each row
// divided by the batch's size so that the graph's sum is the mean loss, and
// its dropout mask, which scales the kept units by 1/keep. Padding rows
// get zero targets and mask.
func (t *trainer) gather(train []Sample, batch []int, rng *rand.Rand) {
	t.used, t.slot, t.wt, t.start = t.used[:0], t.slot[:0], t.wt[:0], t.start[:0]
	d, c := t.net.Dim, t.net.Classes
	y, mask := t.gr.yData.Data().([]float32), t.gr.maskData.Data().([]float32)
	clear(y)
	clear(mask)
	inv := 1 / float32(len(batch))
	off := float32(t.cfg.Smoothing/float64(c)) * inv
	on := float32(1-t.cfg.Smoothing)*inv + off
	keep := 1 - t.cfg.Dropout
	keepIn := 1 - t.cfg.InDropout
	for k, i := range batch {
		t.start = append(t.start, len(t.slot))
		v := train[i].Vec
		rows, ws := v.Rows, v.Weights
		if len(rows) > maxLen {
			rows, ws = strongest(v, maxLen)
		}
		for j, r := range rows {
			w := ws[j]
			if keepIn < 1 {
				if rng.Float64() >= keepIn {
					continue
				}
				w /= float32(keepIn)
			}
			if t.pos[r] < 0 {
				t.pos[r] = 0 // seen; numbered below
				t.used = append(t.used, r)
			}
			t.slot = append(t.slot, r)
			t.wt = append(t.wt, w)
		}
		for j := range c {
			y[k*c+j] = off
		}
		y[k*c+train[i].Label] = on
		for j := range d {
			if rng.Float64() < keep {
				mask[k*d+j] = float32(1 / keep)
			}
		}
	}
	t.start = append(t.start, len(t.slot))
	// Number the rows in table order, so that the bags and Adam walk the
	// tables forwards (5% faster than in order of first use).
	slices.Sort(t.used)
	for p, r := range t.used {
		t.pos[r] = int32(p)
	}
	for s, r := range t.slot {
		t.slot[s] = t.pos[r]
	}
	// Group the slots by row (a counting sort, stable: each row's
	// sentences stay in batch order).
	t.rowStart = slices.Grow(t.rowStart[:0], len(t.used)+1)[:len(t.used)+1]
	clear(t.rowStart)
	for _, p := range t.slot {
		t.rowStart[p+1]++
	}
	for p := range t.used {
		t.rowStart[p+1] += t.rowStart[p]
	}
	t.byRow = slices.Grow(t.byRow[:0], len(t.slot))[:len(t.slot)]
	for k := range len(t.start) - 1 {
		for s := t.start[k]; s < t.start[k+1]; s++ {
			p := t.slot[s]
			t.byRow[t.rowStart[p]] = rowSlot{k: int32(k), w: t.wt[s]}
			t.rowStart[p]++
		}
	}
	// The fill moved each start to the next row's: shift them back.
	copy(t.rowStart[1:], t.rowStart[:len(t.used)])
	t.rowStart[0] = 0
}

// endPass readies the trainer for the next pass: it forgets the batch's
// rows, zeroes the dense gradients (Gorgonia adds into them) and resets the
// machine.
func (t *trainer) endPass() {
	for _, r := range t.used {
		t.pos[r] = -1
	}
	for _, node := range t.gr.learnables {
		if grad, err := node.Grad(); err == nil {
			grad.(*tensor.Dense).Zero()
		}
	}
	t.gr.vm.Reset()
}

// growClear sets *buf to n zeros, reusing its memory when it is large
// enough, and returns it.
func growClear(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n, n+n/4)
	}
	*buf = (*buf)[:n]
	clear(*buf)
	return *buf
}

// Axpy adds a*x to y (len(y) >= len(x)). The bags are most of a training
// step after Adam: on amd64 a kernel does four at a time (the same products
// and sums, so the same results), elsewhere a loop unrolled by four, which
// takes a quarter less time than the plain one.
func Axpy(a float32, x, y []float32) {
	y = y[:len(x)]
	if n := kernelLen(len(x)); n > 0 {
		axpySSE(a, &x[0], &y[0], n)
		x, y = x[n:], y[n:]
	}
	i := 0
	for ; i+4 <= len(x); i += 4 {
		xs, ys := x[i:i+4:i+4], y[i:i+4:i+4]
		ys[0] += a * xs[0]
		ys[1] += a * xs[1]
		ys[2] += a * xs[2]
		ys[3] += a * xs[3]
	}
	for ; i < len(x); i++ {
		y[i] += a * x[i]
	}
}
