package seq2seq

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Pair is one training example: a customer's question and the answer.
type Pair struct{ Question, Answer string }

// Options configure Train. Zero sizes, Epochs, Batch, MinCount and LR take
// DefaultOptions' values; Seed is used as given; for MaxPairs, Budget,
// Validation and Progress zero or nil means none.
type Options struct {
	Hidden, Embed, Epochs, Batch, MaxIn, MaxOut, MinCount int
	LR                                                    float64
	Seed                                                  uint64
	// MaxPairs is how many pairs each epoch samples (0 = all of them), so
	// that an epoch on a small machine stays short.
	MaxPairs int
	// Budget stops training after this much time (0 = no limit); the
	// weights of the best validation epoch are kept.
	Budget time.Duration
	// Validation pairs give a loss after each epoch (at most
	// maxValPairs of them, a fixed sample); the epoch with the lowest
	// validation loss is the one kept. Without them the last epoch is kept.
	Validation []Pair
	// Progress, when not nil, is called after each epoch.
	Progress func(Epoch)
}

// DefaultOptions train five full epochs on the Bitext sample (3,585
// training pairs), 8.6 minutes on two cores, so that a run gives the same
// model on a fast machine and a slow one; the Budget only guards against
// a much slower machine (see the package documentation for the numbers). Answers are truncated to 128 tokens (the median answer has 132).
var DefaultOptions = Options{
	Hidden: 128, Embed: 64, Epochs: 5, Batch: 32, MaxIn: 16, MaxOut: 128, MinCount: 5,
	LR: 8e-3, Seed: 1, Budget: 14 * time.Minute,
}

// Epoch reports one epoch of training: the mean training loss per target
// token, the validation loss (0 without validation pairs), whether it is
// the best epoch so far, and the time since training started.
type Epoch struct {
	Epoch, Epochs int
	Loss, ValLoss float64
	Best          bool
	Elapsed       time.Duration
}

// Meta describes a trained model.
type Meta struct {
	Version      int     `json:"version"`
	Vocab        int     `json:"vocab"`    // output vocabulary, special tokens included
	InVocab      int     `json:"in_vocab"` // question vocabulary
	Hidden       int     `json:"hidden"`
	Embed        int     `json:"embed"`
	MaxIn        int     `json:"max_in"`
	MaxOut       int     `json:"max_out"`
	MinCount     int     `json:"min_count"`
	Pairs        int     `json:"pairs"`  // training pairs
	Epochs       int     `json:"epochs"` // epochs run
	BestEpoch    int     `json:"best_epoch"`
	ValLoss      float64 `json:"val_loss,omitempty"`
	TrainSeconds float64 `json:"train_seconds"`
	Seed         uint64  `json:"seed"`
}

// Errors of Load.
var (
	ErrNoModel = errors.New("no seq2seq model")
	ErrFormat  = errors.New("unsupported seq2seq model format")
	ErrCorrupt = errors.New("corrupt seq2seq model")
)

// Weights, in the order of the weights file. Each GRU has three gates,
// z (update), r (reset) and n (candidate), each with an input matrix W
// [embed, hidden], a recurrent matrix U [hidden, hidden] and a bias.
const (
	pEmbIn    = iota // [inVocab, embed]
	pEmbOut          // [vocab, embed]
	pEncW            // 3 gates
	pEncU     = pEncW + 3
	pEncB     = pEncU + 3
	pDecW     = pEncB + 3
	pDecU     = pDecW + 3
	pDecB     = pDecU + 3
	pWa       = pDecB + 3 // [hidden, hidden]: attention score s·Wa·hᵀ
	pWc1      = pWa + 1   // [hidden, embed]: attentional vector from the state
	pWc2      = pWa + 2   // [hidden, embed]: ... and from the context
	pBc       = pWa + 3   // [embed]
	pWo       = pWa + 4   // [embed+1, vocab]: output logits, the last row their bias
	numParams = pWa + 5
)

// Model is a trained encoder-decoder. It is read-only after Train or Load
// and safe for concurrent use.
type Model struct {
	in, out *vocab
	w       [numParams][]float32
	meta    Meta
}

// Meta returns the model's description.
func (m *Model) Meta() Meta { return m.meta }

// shapes returns each weight's shape for the model's sizes.
func shapes(inV, outV, h, e int) [numParams][]int {
	var s [numParams][]int
	s[pEmbIn], s[pEmbOut] = []int{inV, e}, []int{outV, e}
	for g := range 3 {
		s[pEncW+g], s[pDecW+g] = []int{e, h}, []int{e, h}
		s[pEncU+g], s[pDecU+g] = []int{h, h}, []int{h, h}
		s[pEncB+g], s[pDecB+g] = []int{h}, []int{h}
	}
	s[pWa] = []int{h, h}
	s[pWc1], s[pWc2], s[pBc] = []int{h, e}, []int{h, e}, []int{e}
	s[pWo] = []int{e + 1, outV}
	return s
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// initWeights draws matrices uniformly in ±sqrt(6/(fan_in+fan_out))
// (embeddings in ±0.1) and sets biases to zero.
func (m *Model) initWeights(rng *rand.Rand) {
	sh := shapes(m.in.len(), m.out.len(), m.meta.Hidden, m.meta.Embed)
	for i, s := range sh {
		w := make([]float32, size(s))
		if len(s) == 2 {
			lim := math.Sqrt(6 / float64(s[0]+s[1]))
			if i == pEmbIn || i == pEmbOut {
				lim = 0.1
			}
			for j := range w {
				w[j] = float32((rng.Float64()*2 - 1) * lim)
			}
			if i == pWo {
				clear(w[s[0]*s[1]-s[1]:]) // the bias row
			}
		}
		m.w[i] = w
	}
}

// check validates opts after defaults were applied.
func (o *Options) check() error {
	switch {
	case o.Hidden < 1 || o.Embed < 1 || o.Batch < 1 || o.Epochs < 1:
		return fmt.Errorf("hidden %d, embed %d, batch %d and epochs %d must be positive", o.Hidden, o.Embed, o.Batch, o.Epochs)
	case o.MaxIn < 1 || o.MaxIn > 255 || o.MaxOut < 1 || o.MaxOut > 255:
		// Gorgonia v0.9.18 mixes up slices at index 256 and above.
		return fmt.Errorf("max_in %d and max_out %d must be in 1..255", o.MaxIn, o.MaxOut)
	case o.LR <= 0 || math.IsNaN(o.LR):
		return fmt.Errorf("learning rate %v must be positive", o.LR)
	}
	return nil
}

// withDefaults fills zero fields from DefaultOptions.
func (o Options) withDefaults() Options {
	d := DefaultOptions
	for _, f := range []struct{ v, d *int }{{&o.Hidden, &d.Hidden}, {&o.Embed, &d.Embed}, {&o.Epochs, &d.Epochs},
		{&o.Batch, &d.Batch}, {&o.MaxIn, &d.MaxIn}, {&o.MaxOut, &d.MaxOut}, {&o.MinCount, &d.MinCount}} {
		if *f.v == 0 {
			*f.v = *f.d
		}
	}
	if o.LR == 0 {
		o.LR = d.LR
	}
	return o
}
