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
			"hold-out, the networks are trained again on all the examples.")
	data := fs.String("data", "", "training data `file` (required)")
	format := fs.String("format", "auto", "data format: auto, parley, clinc150, csv or rasa")
	out := fs.String("out", "model", "model `directory` to write (created if missing)")
	seed := fs.Uint64("seed", 1, "random seed: the same data and seed give the same model")
	typos := fs.Int("typos", 0, "also train on `N` copies of each example with typos, as customers type in a chat\n"+
		"(\"retrun\", \"hedphones\"): for small, carefully written data such as the demo shop's")
	vectors := fs.String("vectors", "", "pre-trained word vectors `file` (word2vec binary or text, GloVe text) to initialise the embeddings")
	tokenizer := fs.String("tokenizer", "", "use this tokenizer.json `file` instead of building one from the data")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" {
		fmt.Fprintln(fs.Output(), "--data is required")
		fs.Usage()
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
	if path := os.Getenv(cpuProfileEnv); path != "" {
		stop, err := startCPUProfile(path)
		if err != nil {
			return err
		}
		defer stop()
	}
	fmt.Fprintf(m.Stdout, "training on %s (%s): %d training, %d validation examples\n", *data, ds.Format, len(ds.Train), len(ds.Val))
	model, err := nlp.Train(ctx, ds, nlp.TrainOptions{
		Seed:      *seed,
		Typos:     *typos,
		Vectors:   *vectors,
		Tokenizer: *tokenizer,
		Progress:  func(p nlp.Progress) { printProgress(m, p) },
	})
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
	heap, err := watch.stop()
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "peak memory: %d MiB heap in use", heap>>20)
	if hwm, ok := peakRSS(); ok {
		fmt.Fprintf(m.Stdout, ", %d MiB resident (VmHWM)", hwm>>20)
	}
	fmt.Fprintln(m.Stdout)
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
