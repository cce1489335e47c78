package encoder

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/parleyhq/parley/nlp/internal/intent"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// trainer owns one training run's Gorgonia graph, optimiser state and step
// buffers. The bags (TF-IDF weighted sums of embedding rows) are computed
// in Go and are the graph's inputs; the graph computes the dense layers,
// the normalisation, the similarity matrix and the loss, and the gradient
// of the loss with respect to the bags, which Go scatters back to the rows.
type trainer struct {
	enc   *Encoder
	opts  Options
	batch int
	gr    *graph
	// adam[s] updates tower s: its table E (lazily, the rows a batch used),
	// then W and B as tables of one row. With Shared, adam[1][0] is nil:
	// the one table is updated once with both sides' gradients.
	adam [2][3]*lazyAdam
	// rows[s] lists the table rows a batch uses; with Shared both sides
	// point at rows[0].
	rows [2]*rowSet
	side [2]sideScratch
	rng  *rand.Rand // input dropout
}

// rowSet is the distinct table rows of a batch and their gradients.
type rowSet struct {
	pos  []int32   // per table row: its position in used, or -1
	used []int32   // rows the batch uses, in order of first use
	grad []float32 // gradients of the used rows, [len(used), dim]
}

// sideScratch is one tower's per-step lists, reused.
type sideScratch struct {
	start []int     // per pair k: its slots are start[k]:start[k+1]
	slot  []int32   // per slot: the position of its row in used
	wt    []float32 // per slot: the feature's weight
}

// graph is the dense part of a training step for batches of exactly b
// pairs.
type graph struct {
	g          *G.ExprGraph
	vm         G.VM
	bags       [2]*G.Node   // [b, dim] each: the questions' and answers' bags
	bagData    [2][]float32 // their values, written in place by the trainer
	maskData   []float32    // [b, b]: -1e4 where column j also answers row i (a duplicate), else 0
	learnables G.Nodes      // bags, then W and B of each tower
	loss       *G.Node
}

func newTrainer(e *Encoder, o Options, batch int, rng *rand.Rand) (*trainer, error) {
	t := &trainer{enc: e, opts: o, batch: batch, rng: rng}
	for s := range t.side {
		tw := &e.towers[s]
		t.adam[s] = [3]*lazyAdam{nil, newLazyAdam(tw.W, len(tw.W), o.LR), newLazyAdam(tw.B, len(tw.B), o.LR)}
		if s == 1 && o.Shared {
			t.rows[1] = t.rows[0]
			continue
		}
		t.adam[s][0] = newLazyAdam(tw.E, e.dim, o.LR)
		rs := &rowSet{pos: make([]int32, e.feat.Len())}
		for i := range rs.pos {
			rs.pos[i] = -1
		}
		t.rows[s] = rs
	}
	gr, err := t.buildGraph()
	if err != nil {
		return nil, err
	}
	t.gr = gr
	return t, nil
}

func (t *trainer) close() { t.gr.vm.Close() }

// buildGraph builds
//
//	h_s  = bag_s · W_s + B_s;  n_s = h_s / |h_s|            (per row, s = question, answer)
//	S    = n_q · n_aᵀ / temperature + mask
//	loss = -mean_i log softmax(S)_ii  [+ the same for Sᵀ, halved]
func (t *trainer) buildGraph() (*graph, error) {
	intent.GraphBuild.Lock() // one lock for every Gorgonia trainer of the process
	defer intent.GraphBuild.Unlock()
	b, d := t.batch, t.enc.dim
	gr := &graph{g: G.NewGraph()}
	g := gr.g
	var err error
	do := func(f func() (*G.Node, error)) *G.Node {
		if err != nil {
			return nil
		}
		var n *G.Node
		n, err = f()
		return n
	}
	var outs [2]*G.Node
	var dense G.Nodes
	for s := range gr.bags {
		gr.bagData[s] = make([]float32, b*d)
		gr.bags[s] = G.NewMatrix(g, tensor.Float32, G.WithShape(b, d), G.WithName(fmt.Sprintf("bag%d", s)),
			G.WithValue(tensor.New(tensor.WithShape(b, d), tensor.WithBacking(gr.bagData[s]))))
		tw := &t.enc.towers[s]
		w := G.NewMatrix(g, tensor.Float32, G.WithShape(d, d), G.WithName(fmt.Sprintf("W%d", s)),
			G.WithValue(tensor.New(tensor.WithShape(d, d), tensor.WithBacking(tw.W))))
		bias := G.NewVector(g, tensor.Float32, G.WithShape(d), G.WithName(fmt.Sprintf("B%d", s)),
			G.WithValue(tensor.New(tensor.WithShape(d), tensor.WithBacking(tw.B))))
		dense = append(dense, w, bias)
		h := do(func() (*G.Node, error) { return G.Mul(gr.bags[s], w) })
		h = do(func() (*G.Node, error) { return G.BroadcastAdd(h, bias, nil, []byte{0}) })
		sq := do(func() (*G.Node, error) { return G.Square(h) })
		ss := do(func() (*G.Node, error) { return G.Sum(sq, 1) })
		ss = do(func() (*G.Node, error) { return G.Add(ss, G.NewConstant(float32(1e-12))) })
		nrm := do(func() (*G.Node, error) { return G.Sqrt(ss) })
		outs[s] = do(func() (*G.Node, error) { return G.BroadcastHadamardDiv(h, nrm, nil, []byte{1}) })
	}
	gr.maskData = make([]float32, b*b)
	mask := G.NewMatrix(g, tensor.Float32, G.WithShape(b, b), G.WithName("mask"),
		G.WithValue(tensor.New(tensor.WithShape(b, b), tensor.WithBacking(gr.maskData))))
	// The targets: the diagonal, each divided by the batch size (and by two
	// for a symmetric loss), so that the graph's sum is the mean loss.
	share := 1 / float32(b)
	if t.opts.Symmetric {
		share /= 2
	}
	yData := make([]float32, b*b)
	for i := range b {
		yData[i*b+i] = share
	}
	y := G.NewMatrix(g, tensor.Float32, G.WithShape(b, b), G.WithName("y"),
		G.WithValue(tensor.New(tensor.WithShape(b, b), tensor.WithBacking(yData))))

	at := do(func() (*G.Node, error) { return G.Transpose(outs[1]) })
	sim := do(func() (*G.Node, error) { return G.Mul(outs[0], at) })
	sim = do(func() (*G.Node, error) { return G.Mul(sim, G.NewConstant(float32(1/t.opts.Temperature))) })
	sim = do(func() (*G.Node, error) { return G.Add(sim, mask) })
	nll := func(logits *G.Node) *G.Node {
		logp := do(func() (*G.Node, error) { return G.LogSoftMax(logits) })
		picked := do(func() (*G.Node, error) { return G.HadamardProd(logp, y) })
		return do(func() (*G.Node, error) { return G.Sum(picked) })
	}
	total := nll(sim)
	if t.opts.Symmetric {
		simT := do(func() (*G.Node, error) { return G.Transpose(sim) })
		back := nll(simT)
		total = do(func() (*G.Node, error) { return G.Add(total, back) })
	}
	gr.loss = do(func() (*G.Node, error) { return G.Neg(total) })
	if err != nil {
		return nil, fmt.Errorf("build training graph: %w", err)
	}
	gr.learnables = append(G.Nodes{gr.bags[0], gr.bags[1]}, dense...)
	if _, err := G.Grad(gr.loss, gr.learnables...); err != nil {
		return nil, fmt.Errorf("build gradients: %w", err)
	}
	gr.vm = G.NewTapeMachine(g, G.BindDualValues(gr.learnables...))
	return gr, nil
}

// denseRow is the one row of a dense weight seen as a table.
var denseRow = []int32{0}

// step runs one batch (exactly t.batch pairs) forward and backward and
// updates the weights; it returns the batch's mean loss.
func (t *trainer) step(data *trainData, batch []int) (float64, error) {
	gr, d := t.gr, t.enc.dim
	defer t.endPass()
	for s := range t.side {
		vecs := data.qv
		if s == 1 {
			vecs = data.av
		}
		sc, rs := &t.side[s], t.rows[s]
		if s == 0 || !t.opts.Shared {
			rs.used = rs.used[:0]
		}
		sc.gather(rs, vecs, batch, t.opts.InDropout, t.rng)
		table := t.enc.towers[s].E
		bags := gr.bagData[s]
		clear(bags)
		for k := range batch {
			bk := bags[k*d : (k+1)*d]
			for i := sc.start[k]; i < sc.start[k+1]; i++ {
				r := int(rs.used[sc.slot[i]])
				intent.Axpy(sc.wt[i], table[r*d:(r+1)*d], bk)
			}
		}
	}
	b := len(batch)
	for i, pi := range batch {
		for j, pj := range batch {
			m := float32(0)
			if i != j && (data.aid[pi] == data.aid[pj] || data.qid[pi] == data.qid[pj]) {
				m = -1e4
			}
			gr.maskData[i*b+j] = m
		}
	}
	if err := gr.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("run training graph: %w", err)
	}
	loss := float64(gr.loss.Value().Data().(float32))
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, fmt.Errorf("training diverged (loss %v): lower the learning rate", loss)
	}
	for s := range t.side {
		g, err := gr.bags[s].Grad()
		if err != nil {
			return 0, fmt.Errorf("gradient of %s: %w", gr.bags[s].Name(), err)
		}
		dbag := g.Data().([]float32)
		sc, rs := &t.side[s], t.rows[s]
		if s == 0 || !t.opts.Shared {
			growClear(&rs.grad, len(rs.used)*d)
		}
		for k := range batch {
			dk := dbag[k*d : (k+1)*d]
			for i := sc.start[k]; i < sc.start[k+1]; i++ {
				p := int(sc.slot[i])
				intent.Axpy(sc.wt[i], dk, rs.grad[p*d:(p+1)*d])
			}
		}
		if s == 1 && t.opts.Shared {
			t.adam[0][0].step(rs.used, rs.grad)
		} else if !t.opts.Shared {
			t.adam[s][0].step(rs.used, rs.grad)
		}
		for j, node := range gr.learnables[2+2*s : 4+2*s] {
			g, err := node.Grad()
			if err != nil {
				return 0, fmt.Errorf("gradient of %s: %w", node.Name(), err)
			}
			t.adam[s][1+j].step(denseRow, g.Data().([]float32))
		}
	}
	return loss, nil
}

// gather lists the batch's features in slot and wt, and adds the rows they
// use to rs. Each feature is dropped with probability drop (the others
// scaled by 1/(1-drop)), so that no answer is known by one rare feature.
func (sc *sideScratch) gather(rs *rowSet, vecs []intent.Vector, batch []int, drop float64, rng *rand.Rand) {
	sc.slot, sc.wt, sc.start = sc.slot[:0], sc.wt[:0], sc.start[:0]
	keep := 1 - drop
	for _, i := range batch {
		sc.start = append(sc.start, len(sc.slot))
		v := vecs[i]
		for j, r := range v.Rows {
			w := v.Weights[j]
			if drop > 0 {
				if rng.Float64() >= keep {
					continue
				}
				w /= float32(keep)
			}
			p := rs.pos[r]
			if p < 0 {
				p = int32(len(rs.used))
				rs.pos[r] = p
				rs.used = append(rs.used, r)
			}
			sc.slot = append(sc.slot, p)
			sc.wt = append(sc.wt, w)
		}
	}
	sc.start = append(sc.start, len(sc.slot))
}

// endPass forgets the batch's rows, zeroes the dense gradients (Gorgonia
// adds into them) and resets the machine.
func (t *trainer) endPass() {
	for _, rs := range t.rows {
		for _, r := range rs.used {
			rs.pos[r] = -1
		}
	}
	for _, node := range t.gr.learnables {
		if g, err := node.Grad(); err == nil {
			g.(*tensor.Dense).Zero()
		}
	}
	t.gr.vm.Reset()
}

// growClear sets *buf to n zeros, reusing its memory, and returns it.
func growClear(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n, n+n/4)
	}
	*buf = (*buf)[:n]
	clear(*buf)
	return *buf
}
