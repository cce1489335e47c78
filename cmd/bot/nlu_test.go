package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/nlp"
)

const tinyNLU = `version: 1
intents:
  - name: order_status
    examples: [where is my order, has my order shipped, track my package, when will my parcel arrive, order status please, is my order on the way]
  - name: refund
    examples: [i want a refund, give me my money back, refund my purchase, how do refunds work, can i get a refund, refund the broken item]
  - name: password
    examples: [i forgot my password, reset my password, cannot log in, my login fails, change my password, locked out of my account]
  - name: oos
    examples: [what is the weather, tell me a joke, who won the game]
validation:
  - name: order_status
    examples: [where's my parcel, did my order ship]
  - name: refund
    examples: [money back please, refund me]
  - name: password
    examples: [password reset, forgot login]
  - name: oos
    examples: [sing a song, what time is it in tokyo]
`

// tinyNLUFile writes tinyNLU to dir/nlu.yml and returns its path.
func tinyNLUFile(t *testing.T, dir string) string {
	t.Helper()
	data := filepath.Join(dir, "nlu.yml")
	if err := os.WriteFile(data, []byte(tinyNLU), 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

// trainTiny trains tinyNLU with "bot train" into dir/model and returns that
// directory.
func trainTiny(t *testing.T, dir string) string {
	t.Helper()
	data := tinyNLUFile(t, dir)
	model := filepath.Join(dir, "model")
	if code, out, errOut := run(t, "", "train", "--data", data, "--out", model, "--seed", "3"); code != 0 {
		t.Fatalf("train exit %d: %s %s", code, out, errOut)
	}
	return model
}

func TestTrainEvalParse(t *testing.T) {
	dir := t.TempDir()
	data := tinyNLUFile(t, dir)
	model := filepath.Join(dir, "model")
	code, out, errOut := run(t, "", "train", "--data", data, "--out", model, "--seed", "3")
	if code != 0 {
		t.Fatalf("train exit %d: %s %s", code, out, errOut)
	}
	for _, want := range []string{"epoch", "val accuracy", "wrote", "peak memory: "} {
		if !strings.Contains(out, want) {
			t.Errorf("train output lacks %q:\n%s", want, out)
		}
	}
	for _, f := range []string{"meta.json", "tokenizer.json", "weights.bin"} {
		if _, err := os.Stat(filepath.Join(model, f)); err != nil {
			t.Errorf("model directory: %v", err)
		}
	}
	var meta map[string]any
	b, _ := os.ReadFile(filepath.Join(model, "meta.json"))
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"format_version", "labels", "threshold", "seed", "data_hash", "validation", "train_seconds"} {
		if _, ok := meta[key]; !ok {
			t.Errorf("meta.json lacks %q", key)
		}
	}

	code, out, errOut = run(t, "", "eval", "--model", model, "--data", data, "--split", "val", "--json")
	if code != 0 {
		t.Fatalf("eval exit %d: %s %s", code, out, errOut)
	}
	var rep struct {
		N        int     `json:"n"`
		Accuracy float64 `json:"accuracy"`
		MacroF1  float64 `json:"macro_f1"`
		Latency  struct {
			P50, P99 float64
		} `json:"latency_us"`
		OOS *struct {
			Threshold, InScopeAccuracy, Recall, Precision float64
		} `json:"oos"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval --json is not one JSON object: %v\n%s", err, out)
	}
	if rep.N != 8 || rep.OOS == nil || rep.Latency.P50 <= 0 {
		t.Fatalf("eval report %+v", rep)
	}

	code, out, _ = run(t, "", "eval", "--model", model, "--data", data, "--split", "val")
	if code != 0 || !strings.Contains(out, "macro-F1") || !strings.Contains(out, "out of scope at threshold") {
		t.Fatalf("readable eval report (exit %d):\n%s", code, out)
	}

	code, out, errOut = run(t, "where is my order #12345\n\ni forgot my password\n", "parse", "--model", model)
	if code != 0 || !strings.Contains(out, "order_status") || !strings.Contains(out, "password") || !strings.Contains(out, `= 12345`) {
		t.Fatalf("parse exit %d:\n%s\n%s", code, out, errOut)
	}
}

func TestCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("version: 1\nintents:\n  - name: x\n    examples: [\"\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A demo model written by an older build: bot says how to have it
	// trained again.
	oldData := filepath.Join(dir, "old")
	if err := os.MkdirAll(filepath.Join(oldData, "model"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(oldData, "model", nlp.MetaFile), []byte(`{"format_version": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		args     []string
		code     int
		mentions string
	}{
		{"no command", nil, 2, "Commands:"},
		{"old demo model", []string{"parse", "--data-dir", oldData}, 1, "remove " + filepath.Join(oldData, "model")},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"train without data", []string{"train"}, 2, "--data is required"},
		{"bad flag", []string{"train", "--nope"}, 2, "flag provided but not defined"},
		{"one fold, checked before the data is read", []string{"train", "--data", filepath.Join(dir, "none.yml"), "--folds", "1"}, 2, "--folds must be at least 2"},
		{"eval without data", []string{"eval"}, 2, "--data is required"},
		{"bad format", []string{"train", "--data", bad, "--format", "xml"}, 1, "want one of"},
		{"missing data file", []string{"train", "--data", filepath.Join(dir, "none.yml")}, 1, "none.yml"},
		{"data error has file and line", []string{"train", "--data", bad}, 1, "bad.yml:4"},
		{"missing model", []string{"eval", "--model", filepath.Join(dir, "nomodel"), "--data", bad}, 1, "model file missing"},
		{"help for a command", []string{"help", "eval"}, 0, "-split"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, "", tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.mentions) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s%s", code, tc.code, tc.mentions, out, errOut)
			}
		})
	}
}
