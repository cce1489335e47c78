package main

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestRenderTable compares the table with testdata/table.golden.md; run
// "go test ./bench/nlu -run TestRenderTable -update" after a deliberate change.
func TestRenderTable(t *testing.T) {
	results := []result{
		{Dataset: "CLINC150", System: "fastText", N: 5500, Accuracy: 0.895, MacroF1: 0.8949,
			OOS:          &oosMetrics{Threshold: 0.9463, InScopeAccuracy: 0.721, Recall: 0.927, Precision: 0.437},
			TrainSeconds: 9.5, LatencyP50: 21, LatencyP99: 21, LatencyBatch: true, ModelBytes: 802_200_000},
		{Dataset: "CLINC150", System: "scikit-learn", N: 5500, Accuracy: 0.924, MacroF1: 0.923,
			OOS:          &oosMetrics{Threshold: -0.1938, InScopeAccuracy: 0.878, Recall: 0, Precision: math.NaN()},
			TrainSeconds: 9.3, LatencyP50: 1057, LatencyP99: 1602, ModelBytes: 79_200_000},
		{Dataset: "CLINC150", System: "Parley", N: 5500, Accuracy: 0.93, MacroF1: 0.93,
			OOS:          &oosMetrics{Threshold: 0.41, InScopeAccuracy: 0.88, Recall: 0.7, Precision: 0.66},
			TrainSeconds: 19, LatencyP50: 180, LatencyP99: 420, ModelBytes: 12_500_000},
		{Dataset: "Banking77", System: "fastText", N: 3080, Accuracy: 0.893, MacroF1: 0.893,
			TrainSeconds: 8.7, LatencyP50: 14, LatencyP99: 14, LatencyBatch: true, ModelBytes: 801_000_000},
		{Dataset: "Banking77", System: "Parley + GloVe", Err: errors.New("bot train: exit status 1 | see log")},
	}
	var got bytes.Buffer
	if err := renderTable(&got, results, []string{"a note"}); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "table.golden.md")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("table differs from %s:\n%s", golden, got.String())
	}
}
