package seq2seq

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// example is a pair as token ids: the question cut to MaxIn tokens (never
// empty), the answer cut to MaxOut tokens with </s> when it fits.
type example struct{ src, tgt []int32 }

// maxValPairs caps the validation pairs scored after each epoch, a fixed
// sample, so that validation stays a small part of an epoch.
const maxValPairs = 256

// clipNorm caps the global norm of each batch's gradient, against the
// exploding gradients of recurrent networks.
const clipNorm = 5

// Train trains a model on pairs. It returns ctx.Err() when ctx is
// cancelled, and an error for empty data, bad options or a diverged run.
// The same pairs, options and seed give the same model.
func Train(ctx context.Context, pairs []Pair, opts Options) (*Model, error) {
	start := time.Now()
	o := opts.withDefaults()
	if err := o.check(); err != nil {
		return nil, fmt.Errorf("train seq2seq: %w", err)
	}
	if len(pairs) == 0 {
		return nil, errors.New("train seq2seq: no pairs")
	}
	qs, as := make([][]string, len(pairs)), make([][]string, len(pairs))
	for i, p := range pairs {
		qs[i], as[i] = Tokenize(p.Question), Tokenize(p.Answer)
	}
	m := &Model{in: buildVocab(qs, o.MinCount), out: buildVocab(as, o.MinCount)}
	m.meta = Meta{Version: formatVersion, Vocab: m.out.len(), InVocab: m.in.len(), Hidden: o.Hidden, Embed: o.Embed,
		MaxIn: o.MaxIn, MaxOut: o.MaxOut, MinCount: o.MinCount, Pairs: len(pairs), Seed: o.Seed}
	rng := rand.New(rand.NewPCG(o.Seed, 0x5e25e9))
	m.initWeights(rng)
	data := make([]example, len(pairs))
	for i := range pairs {
		data[i] = m.example(qs[i], as[i])
	}
	m.unigramBias(data)
	var val []example
	for i, p := range o.Validation {
		if i == maxValPairs {
			break
		}
		val = append(val, m.example(Tokenize(p.Question), Tokenize(p.Answer)))
	}

	gr, err := buildGraph(m, o.Batch, o.MaxIn, o.MaxOut)
	if err != nil {
		return nil, fmt.Errorf("train seq2seq: %w", err)
	}
	defer gr.close()
	opt := newAdam(m.w[:], o.LR)
	best, bestLoss := m.w, math.Inf(1)
	perEpoch := len(data)
	if o.MaxPairs > 0 {
		perEpoch = min(perEpoch, o.MaxPairs)
	}
	order := make([]int, len(data))
	for i := range order {
		order[i] = i
	}
	epochs := 0
	for ep := range o.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var sum float64
		var tokens int
		for lo := 0; lo < perEpoch; lo += o.Batch {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if o.Budget > 0 && time.Since(start) > o.Budget && lo > 0 {
				break // score what this epoch reached
			}
			batch := order[lo:min(lo+o.Batch, perEpoch)]
			n := gr.fill(m, data, batch)
			loss, err := gr.run()
			if err != nil {
				return nil, fmt.Errorf("train seq2seq: %w", err)
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return nil, fmt.Errorf("train seq2seq: training diverged (loss %v): lower the learning rate", loss)
			}
			if err := opt.step(gr, m); err != nil {
				return nil, fmt.Errorf("train seq2seq: %w", err)
			}
			gr.reset()
			sum += loss * float64(n)
			tokens += n
		}
		epochs = ep + 1
		e := Epoch{Epoch: epochs, Epochs: o.Epochs, Loss: sum / float64(max(tokens, 1))}
		if len(val) > 0 {
			if e.ValLoss, err = gr.valLoss(ctx, m, val); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, fmt.Errorf("train seq2seq: validate: %w", err)
			}
		}
		score := e.ValLoss
		if len(val) == 0 {
			score = e.Loss
		}
		if score < bestLoss {
			bestLoss, e.Best = score, true
			best = cloneWeights(m.w)
			m.meta.BestEpoch, m.meta.ValLoss = epochs, e.ValLoss
		}
		e.Elapsed = time.Since(start)
		if o.Progress != nil {
			o.Progress(e)
		}
		if o.Budget > 0 && e.Elapsed > o.Budget {
			break
		}
	}
	if len(val) > 0 {
		m.w = best
	}
	m.meta.Epochs = epochs
	m.meta.TrainSeconds = time.Since(start).Seconds()
	return m, nil
}

// example turns a tokenized pair into ids.
func (m *Model) example(q, a []string) example {
	src := m.in.encode(q[:min(len(q), m.meta.MaxIn)])
	if len(src) == 0 {
		src = []int32{unkID}
	}
	tgt := m.out.encode(a[:min(len(a), m.meta.MaxOut)])
	if len(tgt) < m.meta.MaxOut {
		tgt = append(tgt, eosID)
	}
	return example{src: src, tgt: tgt}
}

// valLoss is the mean loss per target token of data, run through the graph
// (whose gradients are discarded).
func (gr *graph) valLoss(ctx context.Context, m *Model, data []example) (float64, error) {
	var sum float64
	var tokens int
	batch := make([]int, 0, gr.b)
	for lo := 0; lo < len(data); lo += gr.b {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		batch = batch[:0]
		for i := lo; i < min(lo+gr.b, len(data)); i++ {
			batch = append(batch, i)
		}
		n := gr.fill(m, data, batch)
		loss, err := gr.run()
		gr.reset()
		if err != nil {
			return 0, err
		}
		sum += loss * float64(n)
		tokens += n
	}
	return sum / float64(max(tokens, 1)), nil
}

// unigramBias starts the output bias at the log-frequencies of the answer
// tokens, so that training does not spend its first steps learning them.
func (m *Model) unigramBias(data []example) {
	v := m.out.len()
	counts := make([]float64, v)
	var total float64
	for _, ex := range data {
		for _, id := range ex.tgt {
			counts[id]++
			total++
		}
	}
	bias := m.w[pWo][m.meta.Embed*v:]
	for id, c := range counts {
		bias[id] = float32(math.Log((c + 0.1) / (total + 0.1*float64(v))))
	}
}

func cloneWeights(w [numParams][]float32) [numParams][]float32 {
	var c [numParams][]float32
	for i := range w {
		c[i] = append([]float32(nil), w[i]...)
	}
	return c
}

// adam is the Adam optimiser over the model's weights, updated in place
// (the graph reads the same slices).
type adam struct {
	w, m, v [][]float32
	grads   [][]float32 // per weight: its gradient, the embeddings' gathered here
	t       int
	lr      float64
}

func newAdam(w [][]float32, lr float64) *adam {
	a := &adam{w: w, lr: lr}
	for _, x := range w {
		a.m = append(a.m, make([]float32, len(x)))
		a.v = append(a.v, make([]float32, len(x)))
	}
	return a
}

// step applies one update from the gradients in the graph (and, for the
// embeddings, those of the step inputs), clipped to a global norm of
// clipNorm.
func (a *adam) step(gr *graph, m *Model) error {
	if a.grads == nil {
		a.grads = make([][]float32, len(a.w))
		a.grads[pEmbIn] = make([]float32, len(m.w[pEmbIn]))
		a.grads[pEmbOut] = make([]float32, len(m.w[pEmbOut]))
	}
	grads := a.grads
	clear(grads[pEmbIn])
	clear(grads[pEmbOut])
	if err := embedGrads(gr.xInNodes, gr.src, grads[pEmbIn], gr.e); err != nil {
		return err
	}
	if err := embedGrads(gr.xOutNodes, gr.tgtIn, grads[pEmbOut], gr.e); err != nil {
		return err
	}
	var norm float64
	for i := range grads {
		if n := gr.weights[i]; n != nil {
			g, err := n.Grad()
			if err != nil {
				return fmt.Errorf("gradient of %s: %w", n.Name(), err)
			}
			grads[i] = g.Data().([]float32)
		}
		for _, x := range grads[i] {
			norm += float64(x) * float64(x)
		}
	}
	scale := float32(1)
	if norm = math.Sqrt(norm); norm > clipNorm {
		scale = float32(clipNorm / norm)
	}
	const b1, b2, eps = 0.9, 0.999, 1e-8
	a.t++
	t := float64(a.t)
	lr := float32(a.lr * math.Sqrt(1-math.Pow(b2, t)) / (1 - math.Pow(b1, t)))
	for i, g := range grads {
		w, m, v := a.w[i], a.m[i], a.v[i]
		for j, gj := range g {
			gj *= scale
			mj := b1*m[j] + (1-b1)*gj
			vj := b2*v[j] + (1-b2)*gj*gj
			m[j], v[j] = mj, vj
			w[j] -= lr * mj / (float32(math.Sqrt(float64(vj))) + eps)
		}
	}
	return nil
}
