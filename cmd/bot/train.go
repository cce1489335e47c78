package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/parleyhq/parley/nlp"
	"github.com/parleyhq/parley/nlp/dataset"
)

func runTrain(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("train", "--data PATH [flags]",
		"Trains an NLU model (tokenizer, intent classifier with out-of-scope detection,\n"+
			"entities) from a training-data file and writes it to a model directory.\n"+
			"Validation data (the file's validation split, or a seeded 10% hold-out)\n"+
			"decides when to stop and calibrates the out-of-scope decision; after a\n"+
			"hold-out, the networks are trained again on all the examples.\n"+
			"With --tune, k-fold cross-validation on the training examples alone\n"+
			"first compares a small grid of the intent model's hyper-parameters, and\n"+
			"the model is trained with the winner, which meta.json records.")
	data := fs.String("data", "", "training data `file` (required)")
	format := fs.String("format", "auto", "data format: auto, parley, clinc150, csv or rasa")
	out := fs.String("out", "model", "model `directory` to write (created if missing)")
	seed := fs.Uint64("seed", 1, "random seed: the same data and seed give the same model")
	typos := fs.Int("typos", 0, "also train on `N` copies of each example with typos, as customers type in a chat\n"+
		"(\"retrun\", \"hedphones\"): for small, carefully written data such as the demo shop's")
	vectors := fs.String("vectors", "", "pre-trained word vectors `file` (word2vec binary or text, GloVe text) to initialise the embeddings")
	tokenizer := fs.String("tokenizer", "", "use this tokenizer.json `file` instead of building one from the data")
	tune := fs.Bool("tune", false, "choose the intent model's hyper-parameters by k-fold cross-validation on the\n"+
		"training examples (a grid of 6 candidates: 6 x folds trainings before the final one)")
	folds := fs.Int("folds", 3, "`k` of the cross-validation of --tune")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of training to `file` (go tool pprof)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data", *data); err != nil {
		return err
	}
	if *folds < 2 {
		fmt.Fprintln(fs.Output(), "--folds must be at least 2")
		return errUsage
	}
	f, err := dataset.ParseFormat(*format)
	if err != nil {
		return err
	}
	ds, err := dataset.Load(*data, f)
	if err != nil {
		return err
	}
	watch := startMemWatch(os.Getenv(memProfileEnv))
	defer watch.stop()
	path := *cpuProfile
	if path == "" {
		path = os.Getenv(cpuProfileEnv)
	}
	if path != "" {
		stop, err := startCPUProfile(path)
		if err != nil {
			return err
		}
		defer stop()
	}
	opts := nlp.TrainOptions{
		Seed:      *seed,
		Typos:     *typos,
		Vectors:   *vectors,
		Tokenizer: *tokenizer,
		Progress:  func(p nlp.Progress) { printProgress(m, p) },
	}
	if *tune {
		if err := tuneOptions(ctx, m, ds, *folds, &opts); err != nil {
			return err
		}
	}
	fmt.Fprintf(m.Stdout, "training on %s (%s): %d training, %d validation examples\n", *data, ds.Format, len(ds.Train), len(ds.Val))
	model, err := nlp.Train(ctx, ds, opts)
	if err != nil {
		return err
	}
	if err := model.Save(*out); err != nil {
		return err
	}
	meta := model.Meta()
	fmt.Fprintf(m.Stdout, "validation: accuracy %.2f%% on %d examples", 100*meta.Validation.Accuracy, meta.Validation.N)
	if o := meta.Validation.OOS; o != nil {
		fmt.Fprintf(m.Stdout, "; at threshold %.3f in-scope accuracy %.2f%%, out-of-scope recall %.2f%%",
			o.Threshold, 100*o.InScopeAccuracy, 100*o.Recall)
	}
	fmt.Fprintf(m.Stdout, "\nwrote %s in %.1fs\n", filepath.Clean(*out), meta.TrainSeconds)
	return printPeakMemory(m, watch)
}

// tuneOptions cross-validates the default grid on the training examples of
// ds, prints a line per fold and the table, and sets opts to the winner.
func tuneOptions(ctx context.Context, m *Main, ds *dataset.Dataset, folds int, opts *nlp.TrainOptions) error {
	grid := nlp.DefaultGrid()
	fmt.Fprintf(m.Stdout, "tuning: %d candidates, %d-fold cross-validation on the %d training examples\n", len(grid), folds, len(ds.Train))
	res, err := nlp.Tune(ctx, ds, nlp.TuneOptions{
		Folds: folds,
		Grid:  grid,
		Train: *opts,
		Progress: func(f nlp.TuneFold) {
			fmt.Fprintf(m.Stdout, "tune %d/%d  %-12s  fold %d/%d  accuracy %.2f%%  elapsed %s\n",
				f.Index, f.Count, f.Candidate, f.Fold, f.Folds, 100*f.Accuracy, f.Elapsed.Round(time.Second))
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "cross-validation (closed-set accuracy %%, %d folds):\n%s", folds, res.Table())
	w := res.Winner()
	cfg := w.Config
	cfg.Seed = opts.Seed
	opts.Config, opts.MinDF, opts.Tuning = &cfg, w.MinDF, res
	fmt.Fprintf(m.Stdout, "tuning: training with %q\n", w.Name)
	return nil
}

func printProgress(m *Main, p nlp.Progress) {
	switch p.Stage {
	case "epoch":
		e := p.Epoch
		best := ""
		if e.Best {
			best = " *"
		}
		fmt.Fprintf(m.Stdout, "net %d/%d  epoch %2d/%d  loss %.4f  val accuracy %.2f%%  elapsed %s  eta <= %s%s\n",
			p.Member, p.Members, e.Epoch, e.Epochs, e.Loss, 100*e.ValAccuracy, e.Elapsed.Round(time.Second), p.ETA.Round(time.Second), best)
	case "refit":
		e := p.Epoch
		fmt.Fprintf(m.Stdout, "net %d/%d  retraining on all examples  epoch %2d/%d  loss %.4f  elapsed %s  eta %s\n",
			p.Member, p.Members, e.Epoch, e.Epochs, e.Loss, e.Elapsed.Round(time.Second), p.ETA.Round(time.Second))
	default:
		if p.Note != "" {
			fmt.Fprintf(m.Stdout, "%s: %s\n", p.Stage, p.Note)
		}
	}
}
