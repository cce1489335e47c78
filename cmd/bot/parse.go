package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/nlp"
	"github.com/parleyhq/parley/nlp/dataset"
)

func runParse(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("parse", "[flags]",
		"Reads customer messages, one per line, and prints what the NLU understood:\n"+
			"the ranked intents, whether the message is in scope, and its entities.\n"+
			"Without --model it uses DATA-DIR/model, training the embedded demo-shop\n"+
			"model there first if it is missing ("+demoTrainTime+").")
	modelDir := fs.String("model", "", "model `directory` (default: DATA-DIR/model)")
	dataDir := dataDirFlag(fs)
	asJSON := fs.Bool("json", false, "print each result as one line of JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	model, dir, err := loadModel(ctx, m, *modelDir, *dataDir)
	if err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintf(m.Stderr, "model %s: %d intents. Type a message (Ctrl-D to end).\n", dir, len(model.Labels()))
	}
	in := bufio.NewScanner(m.Stdin)
	in.Buffer(make([]byte, 64*1024), 1<<20)
	for in.Scan() {
		res, err := model.Parse(ctx, in.Text())
		if errors.Is(err, nlp.ErrEmptyText) {
			continue
		}
		if err != nil {
			fmt.Fprintf(m.Stdout, "error: %v\n", err)
			continue
		}
		if *asJSON {
			if err := json.NewEncoder(m.Stdout).Encode(res); err != nil {
				return err
			}
			continue
		}
		printResult(m, res)
	}
	return in.Err()
}

func printResult(m *Main, res *nlp.Result) {
	scope := "in scope"
	if !res.InScope {
		scope = "OUT OF SCOPE"
	}
	var ranked []string
	for _, r := range res.Ranking[:min(3, len(res.Ranking))] {
		ranked = append(ranked, fmt.Sprintf("%s %.2f", r.Intent, r.Confidence))
	}
	fmt.Fprintf(m.Stdout, "  %s (%s)\n", strings.Join(ranked, ", "), scope)
	for _, e := range res.Entities {
		fmt.Fprintf(m.Stdout, "  %s %q = %s [%d:%d]\n", e.Type, e.Text, e.Value, e.Start, e.End)
	}
}

// loadModel loads the model in modelDir or, when that is empty, in
// DATA-DIR/model, training the demo-shop model there first if it is missing.
// It returns the directory it used.
func loadModel(ctx context.Context, m *Main, modelDir, dataDir string) (*nlp.Model, string, error) {
	demo := modelDir == ""
	if demo {
		modelDir = filepath.Join(dataDir, "model")
		if err := ensureShopModel(ctx, m, modelDir); err != nil {
			return nil, "", err
		}
	}
	model, err := nlp.Load(modelDir, nil)
	if demo && errors.Is(err, nlp.ErrModelVersion) {
		err = fmt.Errorf("%w (to have the demo-shop model trained again, remove %s)", err, modelDir)
	}
	return model, modelDir, err
}

// demoTrainTime is how long the first start takes to train the demo-shop
// model on the two-core development machine, as the README and the help
// texts say it (TestReadmeSamples holds them to this).
const demoTrainTime = "about ten seconds on two cores"

// demoNLU is the demo-shop model's training data; tests swap in smaller data.
var demoNLU = shop.NLU

// ensureShopModel trains the embedded demo-shop model into dir unless a
// model is already there.
func ensureShopModel(ctx context.Context, m *Main, dir string) error {
	_, err := os.Stat(filepath.Join(dir, nlp.MetaFile))
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	fmt.Fprintf(m.Stderr, "no model in %s: training the demo-shop model\n", dir)
	err = trainShopModel(ctx, m, dir)
	// The trained model was saved and is loaded from dir like any other;
	// what training built is garbage now (see releaseTrainingMemory).
	releaseTrainingMemory()
	return err
}

// trainShopModel trains the demo-shop model with seed 1 and shop.Typos
// and saves it in dir.
func trainShopModel(ctx context.Context, m *Main, dir string) error {
	ds, err := dataset.Parse("shop/nlu.yml", demoNLU(), dataset.FormatParley)
	if err != nil {
		return err
	}
	model, err := nlp.Train(ctx, ds, nlp.TrainOptions{Seed: 1, Typos: shop.Typos, Progress: func(p nlp.Progress) {
		if p.Stage == "epoch" { // the shop data has a validation split: no "refit"
			fmt.Fprintf(m.Stderr, "  net %d/%d epoch %d, validation accuracy %.1f%%\n", p.Member, p.Members, p.Epoch.Epoch, 100*p.Epoch.ValAccuracy)
		}
	}})
	if err != nil {
		return err
	}
	return model.Save(dir)
}

// releaseTrainingMemory collects the garbage a training left and returns
// the freed memory to the OS now. Training the demo models on first start
// takes 600-800 MB that are garbage once it returns (a heap profile shows
// nothing of it alive), but the runtime gives freed memory back to the OS
// only slowly: without this the first "bot serve" stayed at 15 times the
// resident size of a restarted one. It costs one collection (a few ms on a
// small live heap), once per training.
func releaseTrainingMemory() { debug.FreeOSMemory() }
