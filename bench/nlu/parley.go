package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// parleyEval is the part of "bot eval --json" the benchmark reads. Rates
// are fractions in [0, 1].
type parleyEval struct {
	N         int     `json:"n"`
	Accuracy  float64 `json:"accuracy"`
	MacroF1   float64 `json:"macro_f1"`
	LatencyUS struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
	} `json:"latency_us"`
	OOS *struct {
		Threshold       float64  `json:"threshold"`
		InScopeAccuracy float64  `json:"in_scope_accuracy"`
		Recall          float64  `json:"recall"`
		Precision       *float64 `json:"precision"` // null when nothing was rejected
	} `json:"oos"`
}

// parseParleyEval decodes the output of "bot eval --json" and checks that
// the figures are in range. It returns an error otherwise.
func parseParleyEval(out []byte) (*parleyEval, error) {
	var ev parleyEval
	if err := json.Unmarshal(bytes.TrimSpace(out), &ev); err != nil {
		return nil, fmt.Errorf("decode eval json: %w", err)
	}
	rates := []float64{ev.Accuracy, ev.MacroF1}
	if ev.OOS != nil {
		rates = append(rates, ev.OOS.InScopeAccuracy, ev.OOS.Recall)
		if ev.OOS.Precision != nil {
			rates = append(rates, *ev.OOS.Precision)
		}
	}
	for _, r := range rates {
		if !(r >= 0 && r <= 1) {
			return nil, fmt.Errorf("eval json: rate %v outside [0, 1]", r)
		}
	}
	if ev.N <= 0 {
		return nil, fmt.Errorf("eval json: n = %d", ev.N)
	}
	if ev.LatencyUS.P50 < 0 || ev.LatencyUS.P99 < ev.LatencyUS.P50 {
		return nil, errors.New("eval json: negative or inconsistent latency")
	}
	return &ev, nil
}

// buildParley builds cmd/bot from the module at root into dir and returns the
// binary's path.
func buildParley(ctx context.Context, root, dir string, stderr io.Writer) (string, error) {
	bin := filepath.Join(dir, "bot")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/bot")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build parley: %w", err)
	}
	return bin, nil
}

// parleyRun is one trained and evaluated Parley model.
type parleyRun struct {
	Eval         *parleyEval
	TrainSeconds float64 // wall clock of "bot train"
	MetaSeconds  float64 // train_seconds from meta.json; NaN when absent
	ModelBytes   int64   // the model directory, all files
}

// runParley trains with "bot train" into dir/name and evaluates the model on
// the test split with "bot eval --json". vectors, when not empty, is passed
// as --vectors. The commands' progress goes to stderr.
func runParley(ctx context.Context, bin, dir, name string, d *dataset, vectors string, stderr io.Writer) (*parleyRun, error) {
	model := filepath.Join(dir, name)
	args := []string{"train", "--data", d.ParleyTrain, "--format", d.ParleyFormat, "--out", model, "--seed", "1"}
	if vectors != "" {
		args = append(args, "--vectors", vectors)
	}
	train := exec.CommandContext(ctx, bin, args...)
	train.Stdout, train.Stderr = stderr, stderr
	start := time.Now()
	if err := train.Run(); err != nil {
		return nil, fmt.Errorf("bot train: %w", err)
	}
	run := &parleyRun{TrainSeconds: time.Since(start).Seconds(), MetaSeconds: math.NaN()}
	defer os.RemoveAll(model)

	var err error
	if run.ModelBytes, err = dirSize(model); err != nil {
		return nil, fmt.Errorf("model size: %w", err)
	}
	if meta, err := os.ReadFile(filepath.Join(model, "meta.json")); err == nil {
		var m struct {
			TrainSeconds *float64 `json:"train_seconds"`
		}
		if json.Unmarshal(meta, &m) == nil && m.TrainSeconds != nil {
			run.MetaSeconds = *m.TrainSeconds
		}
	}

	eval := exec.CommandContext(ctx, bin, "eval", "--model", model, "--data", d.ParleyTest,
		"--format", d.ParleyFormat, "--split", "test", "--json")
	eval.Stderr = stderr
	out, err := eval.Output()
	if err != nil {
		return nil, fmt.Errorf("bot eval: %w", err)
	}
	if run.Eval, err = parseParleyEval(out); err != nil {
		return nil, fmt.Errorf("bot eval: %w", err)
	}
	return run, nil
}

// dirSize returns the total size of the regular files under dir.
func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	return total, err
}
