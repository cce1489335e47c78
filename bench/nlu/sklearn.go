package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// sklearnConfig is how the scikit-learn peer runs.
type sklearnConfig struct {
	Python string // an interpreter that has scikit-learn: /usr/bin/python3 on Debian
	Script string // path of sklearn_peer.py
	Seed   int
	// LatencyMessages is how many test messages are timed one by one.
	LatencyMessages int
}

// sklearnJob is the input file of sklearn_peer.py.
type sklearnJob struct {
	Train   [][2]string         `json:"train"`
	Eval    map[string][]string `json:"eval"`
	Latency []string            `json:"latency"`
	Seed    int                 `json:"seed"`
}

// sklearnOutput is the one JSON object sklearn_peer.py prints.
type sklearnOutput struct {
	System         string  `json:"system"`
	SklearnVersion string  `json:"sklearn_version"`
	TrainSeconds   float64 `json:"train_seconds"`
	ModelBytes     int64   `json:"model_bytes"`
	Latency        struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
		N   int     `json:"n"`
	} `json:"latency_us"`
	Predictions map[string]struct {
		Label []string  `json:"label"`
		Score []float64 `json:"score"`
	} `json:"predictions"`
}

// runSklearn writes a job for sklearn_peer.py into dir, runs it and returns
// its predictions for every split in eval. It returns an error when the
// script fails or prints something that is not the expected object.
func runSklearn(ctx context.Context, cfg sklearnConfig, dir string, train []example, eval map[string][]string) (*peerRun, string, error) {
	job := sklearnJob{Eval: eval, Seed: cfg.Seed}
	for _, e := range train {
		job.Train = append(job.Train, [2]string{e.Text, e.Label})
	}
	test := eval["test"]
	job.Latency = test[:min(len(test), cfg.LatencyMessages)]
	data, err := json.Marshal(job)
	if err != nil {
		return nil, "", fmt.Errorf("sklearn: %w", err)
	}
	file := filepath.Join(dir, "sklearn-job.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		return nil, "", fmt.Errorf("sklearn: %w", err)
	}
	defer os.Remove(file)

	cmd := exec.CommandContext(ctx, cfg.Python, cfg.Script, file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, "", fmt.Errorf("sklearn_peer.py: %w: %s", err, lastLines(stderr.Bytes(), 5))
	}
	res, err := parseSklearnOutput(out, eval)
	if err != nil {
		return nil, "", fmt.Errorf("sklearn_peer.py: %w", err)
	}
	run := &peerRun{
		Predictions:  map[string][]prediction{},
		TrainSeconds: res.TrainSeconds,
		LatencyP50:   res.Latency.P50,
		LatencyP99:   res.Latency.P99,
		ModelBytes:   res.ModelBytes,
	}
	for name := range eval {
		p := res.Predictions[name]
		preds := make([]prediction, len(p.Label))
		for i := range preds {
			preds[i] = prediction{Label: p.Label[i], Score: p.Score[i]}
		}
		run.Predictions[name] = preds
	}
	return run, res.SklearnVersion, nil
}

// parseSklearnOutput decodes the script's JSON and checks that it has one
// label and one score per message of every split in eval.
func parseSklearnOutput(out []byte, eval map[string][]string) (*sklearnOutput, error) {
	var res sklearnOutput
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		return nil, fmt.Errorf("decode output: %w", err)
	}
	if res.System != "scikit-learn" {
		return nil, fmt.Errorf("output is from system %q, want scikit-learn", res.System)
	}
	if res.TrainSeconds < 0 || res.ModelBytes < 0 || res.Latency.P50 < 0 || res.Latency.P99 < res.Latency.P50 {
		return nil, errors.New("output has negative or inconsistent costs")
	}
	for name, msgs := range eval {
		p, ok := res.Predictions[name]
		if !ok {
			return nil, fmt.Errorf("output has no predictions for %q", name)
		}
		if len(p.Label) != len(msgs) || len(p.Score) != len(msgs) {
			return nil, fmt.Errorf("%q: %d labels and %d scores for %d messages", name, len(p.Label), len(p.Score), len(msgs))
		}
	}
	return &res, nil
}
