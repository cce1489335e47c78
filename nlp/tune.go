package nlp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/internal/intent"
)

// Candidate is one setting of the intent model's hyper-parameters that Tune
// tries.
type Candidate struct {
	Name   string        `json:"name"`
	Config intent.Config `json:"config"`
	MinDF  int           `json:"min_df"` // TrainOptions.MinDF; 0 means its default
}

// DefaultGrid is what Tune tries unless told otherwise: the defaults and,
// one at a time, a change to each of the main hyper-parameters: the
// learning rate, the dropout of the hidden layer, the minibatch size, the
// hidden size, and the rarest n-grams kept as features. It is small on
// purpose: each candidate costs one training per fold.
func DefaultGrid() []Candidate {
	base := intent.DefaultConfig
	with := func(name string, f func(*intent.Config)) Candidate {
		c := base
		f(&c)
		return Candidate{Name: name, Config: c}
	}
	return []Candidate{
		{Name: "defaults", Config: base},
		with("lr 0.005", func(c *intent.Config) { c.LR = 0.005 }),
		with("dropout 0.3", func(c *intent.Config) { c.Dropout = 0.3 }),
		with("batch 128", func(c *intent.Config) { c.Batch = 128 }),
		with("dim 150", func(c *intent.Config) { c.Dim = 150 }),
		{Name: "min_df 1", Config: base, MinDF: 1},
	}
}

// TuneOptions are the settings of Tune.
type TuneOptions struct {
	// Folds is k of the k-fold cross-validation; 0 means 3.
	Folds int
	// Grid is the candidates to compare; nil means DefaultGrid().
	Grid []Candidate
	// Train holds the other settings of each training (Seed, Ensemble,
	// Typos, Vectors, Tokenizer); its Config and MinDF are replaced by each
	// candidate's, and its Progress is not called.
	Train TrainOptions
	// Progress, when set, is called after each fold of each candidate.
	Progress func(TuneFold)
}

// TuneFold is the result of one candidate on one fold.
type TuneFold struct {
	Candidate    string
	Fold, Folds  int
	Accuracy     float64 // closed-set accuracy on the held-out fold's in-scope examples
	Elapsed      time.Duration
	Index, Count int // the candidate's position in the grid, from 1, and the grid's size
}

// TuneRow is one candidate's cross-validation result.
type TuneRow struct {
	Candidate Candidate `json:"candidate"`
	// Accuracies holds the closed-set accuracy on each held-out fold.
	Accuracies []float64 `json:"accuracies"`
	Mean       float64   `json:"mean"`
	Std        float64   `json:"std"` // sample standard deviation over the folds
	// OOSRecall is the mean out-of-scope recall at the calibrated threshold
	// over the folds; nil when the data has no out-of-scope examples.
	OOSRecall *float64 `json:"oos_recall,omitempty"`
	Seconds   float64  `json:"seconds"` // training and scoring time, all folds
}

// TuneResult is the outcome of Tune: a row per candidate and the winner.
type TuneResult struct {
	Folds    int       `json:"folds"`
	Examples int       `json:"examples"` // training examples cross-validated
	Rows     []TuneRow `json:"rows"`
	Best     int       `json:"best"` // index in Rows of the winner
}

// Winner returns the candidate with the best mean accuracy.
func (r *TuneResult) Winner() Candidate { return r.Rows[r.Best].Candidate }

// ErrFolds means TuneOptions.Folds is out of range.
var ErrFolds = errors.New("folds must be at least 2 and at most the number of training examples")

// Tune compares the candidates by stratified k-fold cross-validation on
// the training examples only (ds.Train): the validation and test splits are
// never read, so they stay an honest measure of the model trained with the
// winner. Each fold trains on the other k-1 folds (holding out a seeded
// tenth of them to stop early and calibrate, as Train does without a
// validation split, but without training again on all of them) and scores
// the closed-set accuracy of the held-out fold. The winner has the best mean accuracy; of candidates within 0.05
// points of it, the first in the grid wins, so the defaults win ties. An
// intent with fewer examples than folds is held out of some folds whose
// training part lacks it, and counts as wrong there, for every candidate
// alike. It returns ErrFolds for a bad Folds and the first training error.
func Tune(ctx context.Context, ds *dataset.Dataset, opts TuneOptions) (*TuneResult, error) {
	k := opts.Folds
	if k == 0 {
		k = 3
	}
	if k < 2 || k > len(ds.Train) {
		return nil, fmt.Errorf("tune: %w (got %d)", ErrFolds, k)
	}
	grid := opts.Grid
	if grid == nil {
		grid = DefaultGrid()
	}
	if len(grid) == 0 {
		return nil, errors.New("tune: no candidates")
	}
	folds := stratifiedFolds(ds.Train, k, opts.Train.Seed)
	res := &TuneResult{Folds: k, Examples: len(ds.Train)}
	for ci, c := range grid {
		row := TuneRow{Candidate: c}
		start := time.Now()
		var recallSum float64
		var recallN int
		for f := range k {
			topts := opts.Train
			cfg := c.Config
			topts.Config, topts.MinDF, topts.Progress, topts.Tuning = &cfg, c.MinDF, nil, nil
			fitDS, held := foldSplit(ds, folds, f, topts)
			m, err := Train(ctx, fitDS, topts)
			if err != nil {
				return nil, fmt.Errorf("tune %s, fold %d: %w", c.Name, f+1, err)
			}
			rep, err := Evaluate(ctx, m, held)
			if err != nil {
				return nil, fmt.Errorf("tune %s, fold %d: %w", c.Name, f+1, err)
			}
			row.Accuracies = append(row.Accuracies, rep.Accuracy)
			if rep.OOS != nil {
				recallSum += rep.OOS.Recall
				recallN++
			}
			if opts.Progress != nil {
				opts.Progress(TuneFold{Candidate: c.Name, Fold: f + 1, Folds: k, Accuracy: rep.Accuracy,
					Elapsed: time.Since(start), Index: ci + 1, Count: len(grid)})
			}
		}
		row.Mean, row.Std = meanStd(row.Accuracies)
		if recallN > 0 {
			r := recallSum / float64(recallN)
			row.OOSRecall = &r
		}
		row.Seconds = math.Round(time.Since(start).Seconds()*10) / 10
		res.Rows = append(res.Rows, row)
	}
	for i, row := range res.Rows {
		if row.Mean > res.Rows[res.Best].Mean+tuneTie {
			res.Best = i
		}
	}
	return res, nil
}

// tuneTie is the margin of mean accuracy a candidate needs over the one
// before it in the grid to win: differences below it are noise, and the
// earlier candidate (the defaults first) is the safer choice.
const tuneTie = 0.0005

// stratifiedFolds assigns each training example a fold in [0, k): per
// intent (the out-of-scope examples as one more), a seeded shuffle dealt
// round-robin, so every fold has each intent's share. The dealing starts
// where the previous intent's stopped, so that the folds' sizes differ by at
// most one.
func stratifiedFolds(train []dataset.Example, k int, seed uint64) []int {
	byIntent := map[string][]int{}
	var order []string
	for i, ex := range train {
		if _, ok := byIntent[ex.Intent]; !ok {
			order = append(order, ex.Intent)
		}
		byIntent[ex.Intent] = append(byIntent[ex.Intent], i)
	}
	rng := rand.New(rand.NewPCG(seed, 0xf01d5))
	fold := make([]int, len(train))
	next := 0
	for _, name := range order {
		idx := byIntent[name]
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for _, i := range idx {
			fold[i] = next
			next = (next + 1) % k
		}
	}
	return fold
}

// foldSplit returns the dataset to train fold f on and the examples of
// fold f. The examples of the other folds are split, as Train would split
// data without a validation split (a seeded tenth per intent), into its
// training and validation splits: given a validation split, Train does not
// train again on all the examples, which would double the cost of a fold.
func foldSplit(ds *dataset.Dataset, folds []int, f int, opts TrainOptions) (*dataset.Dataset, []dataset.Example) {
	var rest, held []dataset.Example
	for i, ex := range ds.Train {
		if folds[i] == f {
			held = append(held, ex)
		} else {
			rest = append(rest, ex)
		}
	}
	fit := &dataset.Dataset{Source: ds.Source, Format: ds.Format, EntityDefs: ds.EntityDefs}
	fit.Train, fit.Val = splitValidation(&dataset.Dataset{Train: rest}, opts)
	return fit, held
}

func meanStd(xs []float64) (mean, std float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

// Table formats the result as a Markdown table: one row per candidate with
// its accuracy on each fold, the mean and standard deviation, and the
// out-of-scope recall when measured; the winner is marked.
func (r *TuneResult) Table() string {
	var b strings.Builder
	b.WriteString("| candidate |")
	for f := range r.Folds {
		fmt.Fprintf(&b, " fold %d |", f+1)
	}
	b.WriteString(" mean ± sd | OOS recall | time |\n|---|")
	b.WriteString(strings.Repeat("---:|", r.Folds+3) + "\n")
	for i, row := range r.Rows {
		name := row.Candidate.Name
		if i == r.Best {
			name += " (winner)"
		}
		fmt.Fprintf(&b, "| %s |", name)
		for _, a := range row.Accuracies {
			fmt.Fprintf(&b, " %.2f |", 100*a)
		}
		fmt.Fprintf(&b, " %.2f ± %.2f |", 100*row.Mean, 100*row.Std)
		if row.OOSRecall != nil {
			fmt.Fprintf(&b, " %.2f |", 100**row.OOSRecall)
		} else {
			b.WriteString(" – |")
		}
		fmt.Fprintf(&b, " %.0fs |\n", row.Seconds)
	}
	return b.String()
}
