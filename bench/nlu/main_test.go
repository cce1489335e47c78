package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     string
		check   func(*Main) string // "" when fine
		wantErr string
	}{
		{
			name: "defaults find shared beside the repository",
			check: func(m *Main) string {
				if m.Datasets != filepath.Join(filepath.Dir(m.Root), "shared", "datasets") ||
					!strings.HasSuffix(m.Vectors, filepath.Join("shared", "embeddings", "glove-6b-100d-top50k.bin")) ||
					m.Sklearn.Script != filepath.Join(m.Root, "bench", "nlu", "sklearn_peer.py") {
					return fmt.Sprintf("datasets %q vectors %q script %q", m.Datasets, m.Vectors, m.Sklearn.Script)
				}
				return ""
			},
		},
		{
			name: "environment",
			env:  "/env/datasets",
			check: func(m *Main) string {
				if m.Datasets != "/env/datasets" {
					return m.Datasets
				}
				return ""
			},
		},
		{
			name: "flag beats environment",
			args: []string{"-datasets", "/flag", "-only", "banking77", "-skip-parley", "-out", "t.md"},
			env:  "/env/datasets",
			check: func(m *Main) string {
				if m.Datasets != "/flag" || m.Only != "banking77" || !m.SkipParley || m.Out != "t.md" {
					return fmt.Sprintf("%+v", m)
				}
				return ""
			},
		},
		{
			name: "-only bitext",
			args: []string{"-only", "bitext"},
			check: func(m *Main) string {
				if m.Only != "bitext" {
					return m.Only
				}
				return ""
			},
		},
		{name: "bad -only", args: []string{"-only", "snips"}, wantErr: "want one of clinc150, banking77, bitext"},
		{name: "stray argument", args: []string{"clinc150"}, wantErr: "unexpected arguments"},
		{name: "help", args: []string{"-h"}, wantErr: flag.ErrHelp.Error()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PARLEY_DATASETS", tc.env)
			m := &Main{Stdout: io.Discard, Stderr: io.Discard}
			err := m.ParseFlags(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := tc.check(m); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestModuleRoot(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "bench", "nlu")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	// A go.mod of another module in between must not stop the walk.
	if err := os.WriteFile(filepath.Join(root, "bench", "go.mod"), []byte("module example.com/other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := moduleRoot(deep); err == nil {
		t.Fatal("no Parley go.mod: want an error")
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module github.com/parleyhq/parley\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := moduleRoot(deep); err != nil || got != root {
		t.Fatalf("moduleRoot = %q, %v; want %q", got, err, root)
	}
}

// writeTinyDatasets lays out team-written data in the shape of the real
// datasets folder.
func writeTinyDatasets(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	pairs := func(ex []example) [][2]string {
		var out [][2]string
		for _, e := range ex {
			out = append(out, [2]string{e.Text, e.Label})
		}
		return out
	}
	train := tinyTrain()
	inScope := []example{{"what's my balance now", "check balance"}, {"hello bot", "__label__greeting"}, {"my card is lost", "card_lost"}}
	oos := []example{{"what's the weather in paris", "oos"}, {"play some jazz", "oos"}}
	clinc := map[string][][2]string{
		"train": pairs(train), "oos_train": pairs(oos[:1]),
		"val": pairs(inScope), "oos_val": pairs(oos),
		"test": pairs(inScope), "oos_test": pairs(oos),
	}
	data, err := json.Marshal(clinc)
	if err != nil {
		t.Fatal(err)
	}
	var csvTrain, csvTest strings.Builder
	csvTrain.WriteString("text,category\n")
	for _, e := range train {
		fmt.Fprintf(&csvTrain, "\"%s\",%s\n", e.Text, strings.ReplaceAll(e.Label, " ", "_"))
	}
	csvTest.WriteString("text,category\n\"what is my\nbalance\",check_balance\nhi,__label__greeting\n")
	// Bitext: the hash split puts every tiny training item but "hello",
	// "card missing" and "lost card" (validation) and "i lost my card"
	// (test) in train; "hiya" goes to test.
	var bitext strings.Builder
	bitext.WriteString("context,role,instruction,intent,category,response\n")
	for _, e := range append(train, example{"hiya", "__label__greeting"}) {
		fmt.Fprintf(&bitext, "cs,va,%s,%s,X,\"a reply\nover two lines\"\n", e.Text, e.Label)
	}
	files := map[string]string{
		"clinc150/data_full.json": string(data),
		"banking77/train.csv":     csvTrain.String(),
		"banking77/test.csv":      csvTest.String(),
		bitextFile:                bitext.String(),
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestRunEndToEnd runs the whole benchmark on tiny data: both peers for real,
// Parley through a fake bot binary.
func TestRunEndToEnd(t *testing.T) {
	_, err := exec.LookPath("fasttext")
	needTool(t, err == nil, "fasttext")
	_, ok := sklearnPython()
	needTool(t, ok, "scikit-learn for /usr/bin/python3")

	bot, argLog := fakeBot(t, `{"n": 5, "accuracy": 1, "macro_f1": 1, "latency_us": {"p50": 150, "p99": 300}, "oos": {"threshold": 0.5, "in_scope_accuracy": 1, "recall": 0.5, "precision": 0.75}}`)
	vectors := filepath.Join(t.TempDir(), "vectors.bin")
	if err := os.WriteFile(vectors, []byte("1 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "table.md")
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr}
	if err := m.ParseFlags([]string{"-datasets", writeTinyDatasets(t), "-bot", bot, "-vectors", vectors, "-out", out}); err != nil {
		t.Fatal(err)
	}
	m.FastText = tinyFastText
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}

	table := stdout.String()
	for _, row := range []string{
		"| CLINC150 | fastText | 5 |", "| CLINC150 | scikit-learn | 5 |", "| CLINC150 | Parley | 5 | 100.0 | 100.0 | 100.0 | 50.0 | 75.0 | 0.5 |",
		"| CLINC150 | Parley + GloVe |", "| Banking77 | fastText | 2 |", "| Banking77 | scikit-learn | 2 |", "| Banking77 | Parley |",
		"| Bitext | fastText | 2 |", "| Bitext | scikit-learn | 2 |", "| Bitext | Parley | 5 | 100.0 | 100.0 | 100.0 |", "| Bitext | Parley + GloVe |",
		"Parley on CLINC150: training took", "Parley + GloVe on Banking77: training took", "Parley on Bitext: training took",
	} {
		if !strings.Contains(table, row) {
			t.Errorf("table lacks %q:\n%s", row, table)
		}
	}
	if strings.Contains(table, "failed") {
		t.Errorf("a system failed:\n%s\n%s", table, stderr.String())
	}
	written, err := os.ReadFile(out)
	if err != nil || string(written) != table {
		t.Errorf("-out file differs from stdout (%v)", err)
	}
	log, _ := os.ReadFile(argLog)
	if n := strings.Count(string(log), "train "); n != 6 {
		t.Errorf("bot train ran %d times, want 6 (3 datasets x with/without vectors):\n%s", n, log)
	}
	if !strings.Contains(string(log), "eval --model") || !strings.Contains(string(log), "--format bitext --split test --json") {
		t.Errorf("bot eval was not run on the Bitext file with --format bitext:\n%s", log)
	}
}

// TestRunReportsFailure checks that a failing system gets a row, the others
// still run, and Run returns an error naming the failures.
func TestRunReportsFailure(t *testing.T) {
	_, ok := sklearnPython()
	needTool(t, ok, "scikit-learn for /usr/bin/python3")

	bot, _ := fakeBot(t, "not json")
	brokenFastText := filepath.Join(t.TempDir(), "fasttext")
	if err := os.WriteFile(brokenFastText, []byte("#!/bin/sh\necho 'cannot allocate memory' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: io.Discard}
	if err := m.ParseFlags([]string{"-datasets", writeTinyDatasets(t), "-only", "banking77", "-bot", bot,
		"-vectors", "/nonexistent", "-fasttext", brokenFastText}); err != nil {
		t.Fatal(err)
	}
	err := m.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "fastText on Banking77, Parley on Banking77") {
		t.Fatalf("err = %v, want it to name fastText and Parley on Banking77", err)
	}
	for _, row := range []string{
		"| Banking77 | fastText | failed: fasttext supervised: exit status 1: cannot allocate memory |",
		"| Banking77 | Parley | failed: bot eval: decode eval json:",
		"| Banking77 | scikit-learn | 2 |",
	} {
		if !strings.Contains(stdout.String(), row) {
			t.Errorf("table lacks %q:\n%s", row, stdout.String())
		}
	}
	if strings.Contains(stdout.String(), "GloVe") {
		t.Error("a GloVe row without vectors")
	}

	var missing bytes.Buffer
	m = &Main{Stdout: &missing, Stderr: io.Discard}
	if err := m.ParseFlags([]string{"-datasets", t.TempDir(), "-skip-parley"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing datasets: err = %v, want a not-exist error", err)
	}
}

// TestRunStopsOnMissingDataset checks that a missing dataset file stops the
// run before anything is trained on the datasets that are there.
func TestRunStopsOnMissingDataset(t *testing.T) {
	_, err := exec.LookPath("fasttext")
	needTool(t, err == nil, "fasttext")
	_, ok := sklearnPython()
	needTool(t, ok, "scikit-learn for /usr/bin/python3")

	dir := writeTinyDatasets(t)
	if err := os.Remove(filepath.Join(dir, bitextFile)); err != nil {
		t.Fatal(err)
	}
	bot, argLog := fakeBot(t, "{}")
	var stderr bytes.Buffer
	m := &Main{Stdout: io.Discard, Stderr: &stderr}
	if err := m.ParseFlags([]string{"-datasets", dir, "-bot", bot, "-vectors", "/nonexistent"}); err != nil {
		t.Fatal(err)
	}
	err = m.Run(context.Background())
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), bitextFile) {
		t.Fatalf("err = %v, want a not-exist error naming %s", err, bitextFile)
	}
	if log, _ := os.ReadFile(argLog); len(log) != 0 || strings.Contains(stderr.String(), "fastText (train") {
		t.Errorf("something was trained before the missing file was noticed:\n%s%s", log, stderr.String())
	}
}
