package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
)

func TestParseSklearnOutput(t *testing.T) {
	eval := map[string][]string{"test": {"a", "b"}, "val": {"c"}}
	const good = `{"system": "scikit-learn", "sklearn_version": "1.2.1", "train_seconds": 1.5, "model_bytes": 10,
 "latency_us": {"p50": 900, "p99": 1500, "n": 2},
 "predictions": {"test": {"label": ["x", "y"], "score": [0.5, -0.25]}, "val": {"label": ["x"], "score": [1]}}}`
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{name: "good", in: good},
		{name: "not json", in: "Traceback (most recent call last):", wantErr: "decode output"},
		{name: "unknown field", in: strings.Replace(good, `"model_bytes"`, `"model_size"`, 1), wantErr: "unknown field"},
		{name: "other system", in: strings.Replace(good, `"scikit-learn"`, `"fastText"`, 1), wantErr: "system"},
		{name: "missing split", in: strings.Replace(good, `"val"`, `"dev"`, 1), wantErr: `no predictions for "val"`},
		{name: "short scores", in: strings.Replace(good, `[0.5, -0.25]`, `[0.5]`, 1), wantErr: "1 scores for 2"},
		{name: "p99 under p50", in: strings.Replace(good, `"p99": 1500`, `"p99": 100`, 1), wantErr: "inconsistent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := parseSklearnOutput([]byte(tc.in), eval)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Predictions["test"].Score[1] != -0.25 || res.Latency.P99 != 1500 {
				t.Errorf("decoded %+v", res)
			}
		})
	}
}

func FuzzParseSklearnOutput(f *testing.F) {
	f.Add(`{"system": "scikit-learn", "train_seconds": 1, "model_bytes": 1, "latency_us": {"p50": 1, "p99": 2, "n": 1}, "predictions": {"test": {"label": ["x"], "score": [0.5]}}}`)
	f.Add(`{"system": "scikit-learn", "predictions": {}}`)
	eval := map[string][]string{"test": {"a"}}
	f.Fuzz(func(t *testing.T, in string) {
		res, err := parseSklearnOutput([]byte(in), eval)
		if err != nil {
			return
		}
		p := res.Predictions["test"]
		if len(p.Label) != 1 || len(p.Score) != 1 {
			t.Fatalf("accepted %d labels and %d scores for one message", len(p.Label), len(p.Score))
		}
	})
}

// sklearnPython returns the interpreter when it has scikit-learn.
func sklearnPython() (string, bool) {
	const py = "/usr/bin/python3"
	return py, exec.Command(py, "-c", "import sklearn").Run() == nil
}

func TestRunSklearn(t *testing.T) {
	py, ok := sklearnPython()
	needTool(t, ok, "scikit-learn for /usr/bin/python3")
	cfg := sklearnConfig{Python: py, Script: "sklearn_peer.py", Seed: 1, LatencyMessages: 5}
	train := tinyTrain()
	eval := map[string][]string{"test": texts(train), "val": {"what's my balance?", "hello!!"}}
	run, version, err := runSklearn(context.Background(), cfg, t.TempDir(), train, eval)
	if err != nil {
		t.Fatal(err)
	}
	if version == "" {
		t.Error("no scikit-learn version")
	}
	acc, _, err := closedSet(labels(train), run.Predictions["test"])
	if err != nil {
		t.Fatal(err)
	}
	if acc != 1 {
		t.Errorf("training-set accuracy %.2f, want 1: %v", acc, run.Predictions["test"])
	}
	val := run.Predictions["val"]
	if len(val) != 2 || val[0].Label != "check balance" || val[1].Label != "__label__greeting" {
		t.Errorf("val predictions %v", val)
	}
	if run.TrainSeconds <= 0 || run.ModelBytes <= 0 || run.LatencyBatch || run.LatencyP50 <= 0 || run.LatencyP99 < run.LatencyP50 {
		t.Errorf("costs %+v", run)
	}
}
