package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTrainTune(t *testing.T) {
	dir := t.TempDir()
	data := tinyNLUFile(t, dir)
	model := filepath.Join(dir, "model")
	code, out, errOut := run(t, "", "train", "--data", data, "--out", model, "--seed", "3", "--tune", "--folds", "2")
	if code != 0 {
		t.Fatalf("train --tune exit %d: %s %s", code, out, errOut)
	}
	for _, want := range []string{
		"tuning: 6 candidates, 2-fold cross-validation on the 21 training examples",
		"tune 1/6  defaults      fold 1/2  accuracy ",
		"tune 6/6  min_df 1      fold 2/2  accuracy ",
		"| candidate | fold 1 | fold 2 | mean ± sd |",
		" (winner) |",
		"tuning: training with ",
		"wrote ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("train --tune output lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "tuning: training with") > strings.Index(out, "epoch") {
		t.Errorf("the final training started before the cross-validation ended:\n%s", out)
	}
	b, err := os.ReadFile(filepath.Join(model, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Config json.RawMessage `json:"config"`
		Tuning *struct {
			Folds int `json:"folds"`
			Best  int `json:"best"`
			Rows  []struct {
				Candidate struct {
					Name   string          `json:"name"`
					Config json.RawMessage `json:"config"`
				} `json:"candidate"`
				Accuracies []float64 `json:"accuracies"`
			} `json:"rows"`
		} `json:"tuning"`
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	tu := meta.Tuning
	if tu == nil || tu.Folds != 2 || len(tu.Rows) != 6 || tu.Best < 0 || tu.Best >= len(tu.Rows) {
		t.Fatalf("meta.json tuning: %s", b)
	}
	for _, row := range tu.Rows {
		if len(row.Accuracies) != 2 {
			t.Errorf("row %s: %d accuracies, want one per fold", row.Candidate.Name, len(row.Accuracies))
		}
	}
	// The model was trained with the winner's settings (the seed aside).
	var won, used map[string]any
	if err := json.Unmarshal(tu.Rows[tu.Best].Candidate.Config, &won); err != nil || len(won) == 0 {
		t.Fatalf("winner's config %s: %v", tu.Rows[tu.Best].Candidate.Config, err)
	}
	if err := json.Unmarshal(meta.Config, &used); err != nil || len(used) == 0 {
		t.Fatalf("model config %s: %v", meta.Config, err)
	}
	delete(won, "seed")
	delete(used, "seed")
	if wb, ub := mustJSON(t, won), mustJSON(t, used); !bytes.Equal(wb, ub) {
		t.Errorf("model config %s, winner %s", ub, wb)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTrainCPUProfile(t *testing.T) {
	dir := t.TempDir()
	data := tinyNLUFile(t, dir)
	prof := filepath.Join(dir, "cpu.prof")
	code, out, errOut := run(t, "", "train", "--data", data, "--out", filepath.Join(dir, "model"), "--cpuprofile", prof)
	if code != 0 {
		t.Fatalf("train --cpuprofile exit %d: %s %s", code, out, errOut)
	}
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b { // pprof writes gzipped protocol buffers
		t.Errorf("profile of %d bytes is not a pprof file", len(b))
	}
}
