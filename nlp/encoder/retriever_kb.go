package encoder

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/nlp/kb"
)

// KBWeight is the encoder's weight beside BM25's 1 in a help centre's
// hybrid searcher (NewKBSearcher), and KBCalibration the calibration
// fitted for that pair of signals: both chosen on the demo shop's 218
// validation questions (tuneKB in retriever_kb_test.go: the weight with
// the best top-1, then kb.FitCV at kb.WrongLimit: held out, 113 of 218
// questions answered, 4 wrong) with the encoder trained on the demo
// articles' KBPairs, their example questions included, with KBOptions.
// The test half only measures. TestKBSearcherIsTuned retunes them and
// fails, printing the new numbers, when the articles, the encoder or the
// scorer changed. For another help centre they are a starting point:
// refit them on its own labelled questions (kb.Evaluate, kb.FitCV).
const KBWeight = 6

// KBCalibration: see KBWeight.
var KBCalibration = kb.Calibration{Score: 0.4090, Margin: 0.2087, Coverage: 1.2967, Bias: -3.8964, Threshold: 0.7734}

// NewKBSearcher returns the hybrid searcher of ix: BM25 (weight 1) and r's
// cosine (KBWeight), with KBCalibration.
func NewKBSearcher(ix *kb.Index, r *Retriever) *kb.Searcher {
	return &kb.Searcher{Index: ix, Calibration: KBCalibration, Signals: []kb.Signal{
		{Retriever: ix.BM25Retriever(), Weight: 1}, {Retriever: r, Weight: KBWeight},
	}}
}

// OpenKB returns the encoder for the help centre ix: the one saved in the
// model directory dir when it was trained with KBOptions on exactly ix's
// KBPairs, else a new one trained so (seconds for a few dozen articles;
// deterministic) and saved to dir, replacing what was there. trained says
// which. progress, if not nil, hears every epoch of a training. A
// directory that is missing, damaged or of another version is retrained,
// not an error; errors are a failed training (ctx done included) or save.
func OpenKB(ctx context.Context, ix *kb.Index, dir string, progress func(Epoch)) (e *Encoder, trained bool, err error) {
	pairs := KBPairs(ix)
	if len(pairs) == 0 {
		return nil, false, fmt.Errorf("open kb encoder: the articles give no training pairs")
	}
	if old, err := Load(dir); err == nil && trainedFor(old.Meta(), KBOptions, pairs) {
		return old, false, nil
	} else if err != nil && !errors.Is(err, ErrMissing) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrCorrupt) {
		return nil, false, fmt.Errorf("open kb encoder: %w", err)
	}
	o := KBOptions
	o.Progress = progress
	e, err = Train(ctx, pairs, o)
	if err != nil {
		return nil, false, fmt.Errorf("open kb encoder: %w", err)
	}
	if err := e.Save(dir); err != nil {
		return nil, false, fmt.Errorf("open kb encoder: %w", err)
	}
	return e, true, nil
}

// trainedFor reports whether a model with meta m was trained with o on
// exactly pairs (o without Validation, Vectors or a Tokenizer of its own).
func trainedFor(m Meta, o Options, pairs []Pair) bool {
	o, err := o.withDefaults()
	if err != nil {
		return false
	}
	return m.DataHash == hashPairs(pairs) && m.Pairs == len(pairs) && m.Dim == o.Dim && m.Epochs == o.Epochs &&
		m.Batch == min(o.Batch, len(pairs)) && m.LR == o.LR && m.Temperature == o.Temperature && m.Symmetric == o.Symmetric &&
		m.Shared == o.Shared && m.InDropout == o.InDropout && m.MinDF == o.MinDF && m.MaxTokens == o.MaxTokens && m.Seed == o.Seed
}
