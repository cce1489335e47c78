package encoder

import (
	"fmt"
	"math"
	"time"
)

// Options are Train's hyper-parameters and hooks. A zero numeric field
// takes its value from DefaultOptions; Symmetric does not (false is a
// choice), so start from DefaultOptions to get its default.
type Options struct {
	Dim         int     // length of the vectors
	Epochs      int     // passes over the pairs
	Batch       int     // pairs per batch: each answer is a negative for the batch's other questions
	LR          float64 // Adam's learning rate
	Temperature float64 // the similarities are divided by it before the softmax
	// Symmetric adds the answer-to-question direction to the loss (each
	// answer must pick its question among the batch's questions).
	Symmetric bool
	// Shared gives both towers one embedding table (each keeps its dense
	// layer): a word means the same in a question and in an answer, which
	// lets the encoder match words as BM25 does and halves the table.
	Shared    bool
	InDropout float64 // share of a text's features dropped at each training step
	MinDF     int     // features in fewer training texts are dropped
	MaxTokens int     // words read from one text; answers are longer than messages
	Seed      uint64  // same pairs and seed: byte-identical weights

	// Validation, if not empty, is measured after every epoch (recall at 1
	// of each question's answer among all validation answers), and the
	// best epoch's weights are kept.
	Validation []Pair

	// Vectors, if not nil, gives pretrained word vectors of VectorDim
	// values: the embedding of every training word it knows starts from its
	// vector (projected to Dim) instead of random.
	Vectors   func(word string) ([]float32, bool)
	VectorDim int

	// Tokenizer is a tokenizer.json to use; nil builds one from the pairs.
	Tokenizer []byte

	// Progress, if not nil, is called after every epoch.
	Progress func(Epoch)
}

// Epoch reports training progress after one epoch.
type Epoch struct {
	Epoch, Epochs int
	Loss          float64 // mean in-batch softmax loss
	ValR1         float64 // recall at 1 on Options.Validation; NaN without it
	Best          bool    // the best ValR1 so far: these weights are kept
	Elapsed       time.Duration
}

// DefaultOptions were chosen on the Bitext sample's validation split
// (recall at 1 among its 456 responses: Dim 128 and Temperature 0.05 gave
// 45.8%, 256 and 0.1 gave 58.6%); they train on its 3,585 training pairs in
// about 40 s on two shared cores, at a peak of 0.5 GB.
var DefaultOptions = Options{
	Dim:         256,
	Epochs:      12,
	Batch:       64,
	LR:          0.003,
	Temperature: 0.1,
	Symmetric:   true,
	Shared:      true,
	InDropout:   0.1,
	MinDF:       2,
	MaxTokens:   256,
	Seed:        1,
}

// withDefaults fills zero fields and checks the ranges.
func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions
	if o.Dim == 0 {
		o.Dim = d.Dim
	}
	if o.Epochs == 0 {
		o.Epochs = d.Epochs
	}
	if o.Batch == 0 {
		o.Batch = d.Batch
	}
	if o.LR == 0 {
		o.LR = d.LR
	}
	if o.Temperature == 0 {
		o.Temperature = d.Temperature
	}
	if o.MinDF == 0 {
		o.MinDF = d.MinDF
	}
	if o.MaxTokens == 0 {
		o.MaxTokens = d.MaxTokens
	}
	switch {
	case o.Dim < 1 || o.Dim > 4096, o.Epochs < 1, o.Batch < 2, o.MinDF < 1, o.MaxTokens < 1:
		return o, fmt.Errorf("%w: dim (1..4096), epochs, min_df and max_tokens must be positive and batch at least 2", ErrOptions)
	case !(o.LR > 0) || math.IsInf(o.LR, 0), !(o.Temperature > 0) || math.IsInf(o.Temperature, 0):
		return o, fmt.Errorf("%w: lr and temperature must be positive and finite", ErrOptions)
	case !(o.InDropout >= 0 && o.InDropout < 1):
		return o, fmt.Errorf("%w: in_dropout must be in [0, 1)", ErrOptions)
	case o.Vectors != nil && o.VectorDim < 1:
		return o, fmt.Errorf("%w: vectors given without their dimension", ErrOptions)
	}
	return o, nil
}
