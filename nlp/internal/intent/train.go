package intent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
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
	t := newTrainer(net, cfg, batchSize(cfg, len(train)))
	defer t.close()

	// The best weights so far, with the feature tables in half precision:
	// the result is rounded so anyway, and the copy is half the size.
	var best *snapshot
	bestAcc := -1.0
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
				best = best.take(net)
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
	if best != nil {
		best.restore(net)
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

// batchSize is the size of the minibatches of n training samples (the
// last of an epoch may be smaller).
func batchSize(cfg Config, n int) int { return max(1, min(cfg.Batch, n/minSteps)) }

// batches shuffles the samples, sorts windows of them by length so that a
// batch needs little padding, and shuffles the order of the batches.
func (t *trainer) batches(train []Sample, rng *rand.Rand) [][]int {
	perm := rng.Perm(len(train))
	bs := t.batch
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
