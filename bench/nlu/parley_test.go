package main

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const parleyJSON = `{"n": 5500, "accuracy": 0.93, "macro_f1": 0.92, "latency_us": {"p50": 180, "p99": 420},
 "oos": {"threshold": 0.41, "in_scope_accuracy": 0.88, "recall": 0.7, "precision": 0.66}, "extra": [1, 2]}`

func TestParseParleyEval(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		check   func(*parleyEval) bool
		wantErr string
	}{
		{
			name: "with oos, unknown fields ignored",
			in:   parleyJSON,
			check: func(e *parleyEval) bool {
				return e.N == 5500 && e.OOS != nil && *e.OOS.Precision == 0.66 && e.LatencyUS.P99 == 420
			},
		},
		{
			name:  "without oos",
			in:    `{"n": 3080, "accuracy": 0.9, "macro_f1": 0.9, "latency_us": {"p50": 1, "p99": 2}}`,
			check: func(e *parleyEval) bool { return e.OOS == nil },
		},
		{
			name:  "null precision",
			in:    strings.Replace(parleyJSON, `"precision": 0.66`, `"precision": null`, 1),
			check: func(e *parleyEval) bool { return e.OOS.Precision == nil },
		},
		{name: "percent instead of fraction", in: strings.Replace(parleyJSON, `"accuracy": 0.93`, `"accuracy": 93`, 1), wantErr: "outside [0, 1]"},
		{name: "no items", in: strings.Replace(parleyJSON, `"n": 5500`, `"n": 0`, 1), wantErr: "n = 0"},
		{name: "p99 under p50", in: strings.Replace(parleyJSON, `"p99": 420`, `"p99": 1`, 1), wantErr: "latency"},
		{name: "text output", in: "accuracy 93.0%", wantErr: "decode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseParleyEval([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(got) {
				t.Errorf("decoded %+v", got)
			}
		})
	}
}

func FuzzParseParleyEval(f *testing.F) {
	f.Add(parleyJSON)
	f.Add(`{"n": 1, "accuracy": 1, "macro_f1": 1, "latency_us": {"p50": 0, "p99": 0}}`)
	f.Fuzz(func(t *testing.T, in string) {
		ev, err := parseParleyEval([]byte(in))
		if err != nil {
			return
		}
		if ev.N <= 0 || ev.Accuracy < 0 || ev.Accuracy > 1 || math.IsNaN(ev.MacroF1) {
			t.Fatalf("accepted %+v", ev)
		}
	})
}

// fakeBot writes a shell script that acts as "bot": train logs its
// arguments and writes a model directory, eval logs them and prints JSON.
func fakeBot(t *testing.T, evalOut string) (bin, argLog string) {
	t.Helper()
	dir := t.TempDir()
	bin, argLog = filepath.Join(dir, "bot"), filepath.Join(dir, "args")
	script := `#!/bin/sh
echo "$@" >> '` + argLog + `'
case "$1" in
train)
	while [ $# -gt 0 ]; do [ "$1" = --out ] && out=$2; shift; done
	mkdir -p "$out" && printf '{"train_seconds": 2.5}' > "$out/meta.json" && head -c 1000000 /dev/zero > "$out/weights.bin" ;;
eval)
	printf '%s' '` + evalOut + `' ;;
esac
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, argLog
}

func TestRunParley(t *testing.T) {
	d := &dataset{ParleyFormat: "clinc150", ParleyTrain: "/data/full.json", ParleyTest: "/data/full.json"}
	tests := []struct {
		name, vectors string
		wantArgs      []string
	}{
		{"plain", "", []string{
			"train --data /data/full.json --format clinc150 --out MODEL --seed 1",
			"eval --model MODEL --data /data/full.json --format clinc150 --split test --json",
		}},
		{"with vectors", "/v/glove.bin", []string{
			"train --data /data/full.json --format clinc150 --out MODEL --seed 1 --vectors /v/glove.bin",
			"eval --model MODEL --data /data/full.json --format clinc150 --split test --json",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bin, argLog := fakeBot(t, strings.ReplaceAll(parleyJSON, "\n", " "))
			tmp := t.TempDir()
			run, err := runParley(context.Background(), bin, tmp, "m", d, tc.vectors, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			log, err := os.ReadFile(argLog)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.ReplaceAll(strings.TrimSpace(string(log)), filepath.Join(tmp, "m"), "MODEL")
			if want := strings.Join(tc.wantArgs, "\n"); got != want {
				t.Errorf("commands:\n%s\nwant:\n%s", got, want)
			}
			if run.MetaSeconds != 2.5 || run.ModelBytes < 1000000 || run.ModelBytes > 1000100 || run.Eval.Accuracy != 0.93 {
				t.Errorf("run %+v", run)
			}
			if _, err := os.Stat(filepath.Join(tmp, "m")); !os.IsNotExist(err) {
				t.Errorf("model directory left behind: %v", err)
			}
		})
	}
}

func TestRunParleyBadEval(t *testing.T) {
	bin, _ := fakeBot(t, "accuracy 93%")
	d := &dataset{ParleyFormat: "csv", ParleyTrain: "train.csv", ParleyTest: "test.csv"}
	_, err := runParley(context.Background(), bin, t.TempDir(), "m", d, "", io.Discard)
	if err == nil || !strings.Contains(err.Error(), "bot eval") {
		t.Fatalf("err = %v, want a bot eval error", err)
	}
}
