package intent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Sample is one training sentence: its feature vector and class.
type Sample struct {
	Vec   Vector
	Label int
}

// Config holds the training hyper-parameters.
type Config struct {
	Dim       int     `json:"dim"`        // hidden size
	Epochs    int     `json:"epochs"`     // upper bound on epochs
	Patience  int     `json:"patience"`   // epochs without validation improvement before stopping
	Batch     int     `json:"batch"`      // minibatch size
	LR        float64 `json:"lr"`         // Adam learning rate
	Dropout   float64 `json:"dropout"`    // dropout on the hidden layer, training only
	InDropout float64 `json:"in_dropout"` // dropout on the input features, training only
	Smoothing float64 `json:"smoothing"`  // label smoothing
	Decay     float64 `json:"decay"`      // the learning rate is multiplied by this after each epoch
	Seed      uint64  `json:"seed"`
}

// DefaultConfig is what `bot train` uses.
var DefaultConfig = Config{
	Dim:       100,
	Epochs:    15,
	Patience:  4,
	Batch:     64,
	LR:        0.003,
	Dropout:   0.5,
	InDropout: 0.1,
	Smoothing: 0.05,
	Decay:     0.9,
	Seed:      1,
}

// ErrConfig means a Config value is out of range.
var ErrConfig = errors.New("invalid training configuration")

func (c Config) validate() error {
	switch {
	case c.Dim < 1, c.Epochs < 1, c.Patience < 1, c.Batch < 1:
		return fmt.Errorf("%w: dim, epochs, patience and batch must be positive", ErrConfig)
	case !(c.LR > 0), !(c.Decay > 0 && c.Decay <= 1):
		return fmt.Errorf("%w: lr must be positive and decay in (0, 1]", ErrConfig)
	case !(c.Dropout >= 0 && c.Dropout < 1), !(c.InDropout >= 0 && c.InDropout < 1), !(c.Smoothing >= 0 && c.Smoothing < 1):
		return fmt.Errorf("%w: dropouts and smoothing must be in [0, 1)", ErrConfig)
	}
	return nil
}

// Epoch reports the progress of training after one epoch.
type Epoch struct {
	Epoch, Epochs int
	Loss          float64 // mean training loss
	ValAccuracy   float64 // NaN when there is no validation data
	Elapsed       time.Duration
	Best          bool // the best validation accuracy so far: these weights are kept
}

// Errors from Train.
var (
	ErrNoData     = errors.New("no training examples")
	ErrOneClass   = errors.New("training data needs at least two intents")
	ErrNoFeatures = errors.New("no features in the training data")
)

// maxLen caps the features of one training sentence; longer sentences keep
// their strongest features. Inference has no cap.
const maxLen = 512

// Train fits a Net with Adam on minibatches, evaluates on val after every
// epoch and keeps the best weights (early stopping). With no validation data
// it trains for cfg.Epochs epochs. The feature tables of the result are
// rounded to half precision, as Save stores them. init, if not nil, may change the seeded
// initial weights (pre-trained vectors); progress may be nil.
func Train(ctx context.Context, train, val []Sample, features, classes int, cfg Config, init func(*Net), progress func(Epoch)) (*Net, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	switch {
	case len(train) == 0:
		return nil, ErrNoData
	case classes < 2:
		return nil, ErrOneClass
	case features == 0:
		return nil, ErrNoFeatures
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	net := newNet(features, cfg.Dim, classes, rng)
	if init != nil {
		init(net)
	}
	t := &trainer{net: net, cfg: cfg, classes: classes, graphs: map[[3]int]*graph{}}
	defer t.close()
	if err := t.bindWeights(); err != nil {
		return nil, err
	}

	best, bestAcc := net.clone(), -1.0
	sinceBest := 0
	start := time.Now()
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		loss, err := t.epoch(ctx, train, rng)
		if err != nil {
			return nil, err
		}
		for i := range t.params {
			t.params[i].sync()
			t.params[i].lr *= cfg.Decay
		}
		e := Epoch{Epoch: epoch, Epochs: cfg.Epochs, Loss: loss, ValAccuracy: math.NaN()}
		if len(val) > 0 {
			e.ValAccuracy = Accuracy(net, val)
			if e.ValAccuracy > bestAcc {
				best.copyFrom(net)
				bestAcc, sinceBest, e.Best = e.ValAccuracy, 0, true
			} else {
				sinceBest++
			}
		}
		e.Elapsed = time.Since(start)
		if progress != nil {
			progress(e)
		}
		if len(val) > 0 && sinceBest >= cfg.Patience {
			break
		}
	}
	if len(val) > 0 {
		net = best
	}
	net.roundHalf()
	return net, nil
}

// Accuracy is the fraction of samples whose argmax is their label.
func Accuracy(net *Net, samples []Sample) float64 {
	z := make([]float32, net.Dim)
	logits := make([]float32, net.Classes)
	correct := 0
	for _, s := range samples {
		net.Forward(s.Vec, z, logits)
		if argmax(logits) == s.Label {
			correct++
		}
	}
	return float64(correct) / float64(len(samples))
}

func argmax(xs []float32) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

// trainer owns the Gorgonia graphs of one training run. Sentences differ in
// length, so there is one graph per shape; all graphs share the Net's weight
// tensors. The weights are updated with Adam (lazyAdam, which for the two
// feature tables touches only the rows a batch used).
type trainer struct {
	net     *Net
	cfg     Config
	classes int

	dense  []*tensor.Dense // B1, W2, B2, backed by the Net's slices
	graphs map[[3]int]*graph
	params []lazyAdam // for E, L, B1, W2, B2, in the order of graph.learnables
}

// graph is the training graph for one shape. The feature tables it sees are
// not all of E and L but the rows the batch uses ([U, Dim] and [U, Classes]),
// so that the gradient Gorgonia computes for the lookups is U rows instead of
// the whole tables; the trainer copies the rows in and applies their
// gradients.
type graph struct {
	g          *G.ExprGraph
	vm         G.VM
	rows       [2]*G.Node   // the batch's rows of E and of L
	rowData    [2][]float32 // their values: the trainer copies the rows in
	idx, wts   *G.Node      // row per feature slot [B*L] and weights [B,1,L]
	mask, y    *G.Node      // dropout mask [B,Dim], targets [B,C]
	learnables G.Nodes      // rows[0], rows[1], b1, W2, b2
	logits     *G.Node      // [B, C], read by tests
	loss       *G.Node
}

func (t *trainer) bindWeights() error {
	n := t.net
	t.dense = []*tensor.Dense{
		tensor.New(tensor.WithShape(n.Dim), tensor.WithBacking(n.B1)),
		tensor.New(tensor.WithShape(n.Dim, n.Classes), tensor.WithBacking(n.W2)),
		tensor.New(tensor.WithShape(n.Classes), tensor.WithBacking(n.B2)),
	}

	lr := t.cfg.LR
	t.params = []lazyAdam{
		newLazyAdam(n.E, n.Dim, lr), newLazyAdam(n.L, n.Classes, lr),
		// The dense weights are tables of one row.
		newLazyAdam(n.B1, len(n.B1), lr), newLazyAdam(n.W2, len(n.W2), lr), newLazyAdam(n.B2, len(n.B2), lr),
	}

	return nil
}

func (t *trainer) close() {
	for _, g := range t.graphs {
		g.vm.Close()
	}
}

// denseRow is the one row of a dense weight seen as a table.
var denseRow = []int32{0}

// padRows rounds the number of distinct rows in a batch up to a multiple of
// 256, so a few graph shapes serve all batches.
func padRows(n int) int { return (n + 255) / 256 * 256 }

// padLen rounds a sentence length up to one of a few graph sizes.
func padLen(n int) int {
	for _, l := range []int{32, 64, 96, 128, 192, 256, 384} {
		if n <= l {
			return l
		}
	}
	return maxLen
}

// graphBuild serialises the building of training graphs: Gorgonia numbers
// some ops from a global counter without a lock (Rectify's group, in
// internal/encoding), so two trainers must not build at once. Running the
// built graphs side by side is safe.
var graphBuild sync.Mutex

// graphFor returns the graph for batch size b, padded length l and u rows.
func (t *trainer) graphFor(b, l, u int) (*graph, error) {
	key := [3]int{b, l, u}
	if g, ok := t.graphs[key]; ok {
		return g, nil
	}
	graphBuild.Lock()
	defer graphBuild.Unlock()
	n := t.net
	gr := &graph{g: G.NewGraph()}
	g := gr.g
	for i, width := range []int{n.Dim, n.Classes} {
		gr.rowData[i] = make([]float32, u*width)
		val := tensor.New(tensor.WithShape(u, width), tensor.WithBacking(gr.rowData[i]))
		gr.rows[i] = G.NewMatrix(g, tensor.Float32, G.WithShape(u, width), G.WithValue(val), G.WithName(fmt.Sprintf("rows%d", i)))
	}
	b1 := G.NewVector(g, tensor.Float32, G.WithShape(n.Dim), G.WithValue(t.dense[0]), G.WithName("b1"))
	w2 := G.NewMatrix(g, tensor.Float32, G.WithShape(n.Dim, n.Classes), G.WithValue(t.dense[1]), G.WithName("W2"))
	b2 := G.NewVector(g, tensor.Float32, G.WithShape(n.Classes), G.WithValue(t.dense[2]), G.WithName("b2"))
	gr.learnables = G.Nodes{gr.rows[0], gr.rows[1], b1, w2, b2}

	gr.idx = G.NewVector(g, tensor.Int, G.WithShape(b*l), G.WithName("idx"))
	gr.wts = G.NewTensor(g, tensor.Float32, 3, G.WithShape(b, 1, l), G.WithName("wts"))
	gr.mask = G.NewMatrix(g, tensor.Float32, G.WithShape(b, n.Dim), G.WithName("mask"))
	gr.y = G.NewMatrix(g, tensor.Float32, G.WithShape(b, n.Classes), G.WithName("y"))

	var err error
	build := func(f func() (*G.Node, error)) *G.Node {
		if err != nil {
			return nil
		}
		var out *G.Node
		out, err = f()
		return out
	}
	// bag returns sum_i x_i * rows[idx_i] per sentence: [B, width].
	bag := func(rows *G.Node, width int) *G.Node {
		out := build(func() (*G.Node, error) { return G.ByIndices(rows, gr.idx, 0) })
		out = build(func() (*G.Node, error) { return G.Reshape(out, tensor.Shape{b, l, width}) })
		out = build(func() (*G.Node, error) { return G.BatchedMatMul(gr.wts, out) })
		return build(func() (*G.Node, error) { return G.Reshape(out, tensor.Shape{b, width}) })
	}
	h := bag(gr.rows[0], n.Dim)
	wide := bag(gr.rows[1], n.Classes)
	h = build(func() (*G.Node, error) { return G.BroadcastAdd(h, b1, nil, []byte{0}) })
	z := build(func() (*G.Node, error) { return G.Rectify(h) })
	z = build(func() (*G.Node, error) { return G.HadamardProd(z, gr.mask) })
	logits := build(func() (*G.Node, error) { return G.Mul(z, w2) })
	logits = build(func() (*G.Node, error) { return G.BroadcastAdd(logits, b2, nil, []byte{0}) })
	logits = build(func() (*G.Node, error) { return G.Add(logits, wide) })
	gr.logits = logits
	logp := build(func() (*G.Node, error) { return G.LogSoftMax(logits) })
	picked := build(func() (*G.Node, error) { return G.HadamardProd(logp, gr.y) })
	total := build(func() (*G.Node, error) { return G.Sum(picked) })
	gr.loss = build(func() (*G.Node, error) { return G.Mul(total, G.NewConstant(float32(-1)/float32(b))) })
	if err != nil {
		return nil, fmt.Errorf("build training graph: %w", err)
	}
	if _, err := G.Grad(gr.loss, gr.learnables...); err != nil {
		return nil, fmt.Errorf("build gradients: %w", err)
	}
	gr.vm = G.NewTapeMachine(g, G.BindDualValues(gr.learnables...))
	t.graphs[key] = gr
	return gr, nil
}

// epoch runs one pass over train in shuffled, length-bucketed minibatches and
// returns the mean loss.
func (t *trainer) epoch(ctx context.Context, train []Sample, rng *rand.Rand) (float64, error) {
	batches := t.batches(train, rng)
	var lossSum float64
	var seen int
	for _, batch := range batches {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		loss, err := t.step(train, batch, rng)
		if err != nil {
			return 0, err
		}
		lossSum += loss * float64(len(batch))
		seen += len(batch)
	}
	return lossSum / float64(seen), nil
}

// minSteps is the fewest minibatches an epoch has: small training sets get
// smaller batches rather than an epoch of one step.
const minSteps = 20

// batches shuffles the samples, sorts windows of them by length so that a
// batch needs little padding, and shuffles the order of the batches.
func (t *trainer) batches(train []Sample, rng *rand.Rand) [][]int {
	perm := rng.Perm(len(train))
	bs := max(1, min(t.cfg.Batch, len(train)/minSteps))
	window := bs * 32
	var out [][]int
	for w := 0; w < len(perm); w += window {
		chunk := perm[w:min(w+window, len(perm))]
		slices.SortStableFunc(chunk, func(a, b int) int { return len(train[a].Vec.Rows) - len(train[b].Vec.Rows) })
		for i := 0; i < len(chunk); i += bs {
			out = append(out, chunk[i:min(i+bs, len(chunk))])
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// step runs forward, backward and one Adam update on one batch.
func (t *trainer) step(train []Sample, batch []int, rng *rand.Rand) (float64, error) {
	gr, used, loss, err := t.pass(train, batch, rng)
	if err != nil {
		return 0, err
	}
	defer gr.vm.Reset()
	for i, node := range gr.learnables {
		grad, err := node.Grad()
		if err != nil {
			return 0, fmt.Errorf("gradient of %s: %w", node.Name(), err)
		}
		rows := used
		if i >= len(gr.rows) {
			rows = denseRow
		}
		t.params[i].step(rows, grad.Data().([]float32))
		// Gorgonia adds into gradients: they are ours to zero.
		grad.(*tensor.Dense).Zero()
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, fmt.Errorf("training diverged (loss %v): lower the learning rate", loss)
	}
	return loss, nil
}

// pass runs the graph for one batch forward and backward and returns it with
// its gradients in place (the caller resets its machine), the table rows the
// batch used, and the loss.
func (t *trainer) pass(train []Sample, batch []int, rng *rand.Rand) (*graph, []int32, float64, error) {
	longest := 1
	for _, i := range batch {
		longest = max(longest, len(train[i].Vec.Rows))
	}
	b, l := len(batch), padLen(longest)
	n := t.net
	// The batch's distinct rows of E, in first-use order, and each feature
	// slot's position among them. Padding slots point at row 0 with weight 0.
	local := map[int32]int{}
	var used []int32
	idx := make([]int, b*l)
	wts := make([]float32, b*l)
	y := make([]float32, b*n.Classes)
	mask := make([]float32, b*n.Dim)
	off := float32(t.cfg.Smoothing / float64(n.Classes))
	on := float32(1-t.cfg.Smoothing) + off
	keep := 1 - t.cfg.Dropout
	keepIn := 1 - t.cfg.InDropout
	for k, i := range batch {
		v := train[i].Vec
		rows, ws := v.Rows, v.Weights
		if len(rows) > l {
			rows, ws = strongest(v, l)
		}
		for j, r := range rows {
			w := ws[j]
			if keepIn < 1 {
				if rng.Float64() >= keepIn {
					continue
				}
				w /= float32(keepIn)
			}
			p, ok := local[r]
			if !ok {
				p = len(used)
				local[r] = p
				used = append(used, r)
			}
			idx[k*l+j] = p
			wts[k*l+j] = w
		}
		for c := 0; c < n.Classes; c++ {
			y[k*n.Classes+c] = off
		}
		y[k*n.Classes+train[i].Label] = on
		for j := 0; j < n.Dim; j++ {
			if rng.Float64() < keep {
				mask[k*n.Dim+j] = float32(1 / keep)
			}
		}
	}
	u := padRows(max(len(used), 1))
	gr, err := t.graphFor(b, l, u)
	if err != nil {
		return nil, nil, 0, err
	}
	for i, table := range [][]float32{n.E, n.L} {
		width := len(table) / n.Features
		for p, r := range used {
			copy(gr.rowData[i][p*width:(p+1)*width], table[int(r)*width:int(r+1)*width])
		}
	}
	lets := []struct {
		node *G.Node
		val  *tensor.Dense
	}{
		{gr.idx, tensor.New(tensor.WithShape(b*l), tensor.WithBacking(idx))},
		{gr.wts, tensor.New(tensor.WithShape(b, 1, l), tensor.WithBacking(wts))},
		{gr.y, tensor.New(tensor.WithShape(b, n.Classes), tensor.WithBacking(y))},
		{gr.mask, tensor.New(tensor.WithShape(b, n.Dim), tensor.WithBacking(mask))},
	}

	for _, lt := range lets {
		if err := G.Let(lt.node, lt.val); err != nil {
			return nil, nil, 0, fmt.Errorf("set input %s: %w", lt.node.Name(), err)
		}
	}
	if err := gr.vm.RunAll(); err != nil {
		gr.vm.Reset()
		return nil, nil, 0, fmt.Errorf("run training graph: %w", err)
	}
	return gr, used, float64(gr.loss.Value().Data().(float32)), nil
}

// strongest returns the l features of v with the largest weights, in row order.
func strongest(v Vector, l int) ([]int32, []float32) {
	order := make([]int, len(v.Rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(v.Weights[b], v.Weights[a]) })
	order = order[:l]
	slices.Sort(order)
	rows := make([]int32, l)
	ws := make([]float32, l)
	for k, i := range order {
		rows[k], ws[k] = v.Rows[i], v.Weights[i]
	}
	return rows, ws
}
