package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// fastTextConfig is how the fastText peer runs.
type fastTextConfig struct {
	Bin  string   // the fasttext executable
	Args []string // training hyper-parameters after -input/-output
	Seed uint64   // shuffles the training file
	// LatencyLines is how many messages the timed batch predicts (the test
	// texts repeated), so that loading the model is a small part of it.
	LatencyLines int
	// LatencyRuns is how many times both batches are timed; the best counts.
	LatencyRuns int
}

// defaultFastText is the benchmark's fastText setting: the hyper-parameters
// of STACK-NOTES, one thread (fastText is only reproducible with one), a
// fixed seed.
var defaultFastText = fastTextConfig{
	Bin:          "fasttext",
	Args:         []string{"-epoch", "25", "-lr", "0.5", "-wordNgrams", "2", "-thread", "1", "-seed", "1", "-verbose", "0"},
	Seed:         1,
	LatencyLines: 40000,
	LatencyRuns:  3,
}

// fastTextTokens prepares a message the way the fastText tutorial does:
// lower case, punctuation split from words, one line. Runs of letters, digits
// and '_' are words; every other non-space rune is a token of its own.
func fastTextTokens(s string) string {
	var b strings.Builder
	inWord := false
	space := func() {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || unicode.Is(unicode.Mn, r):
			if !inWord {
				space()
			}
			b.WriteRune(r)
			inWord = true
		case unicode.IsSpace(r) || unicode.IsControl(r):
			inWord = false
		default:
			space()
			b.WriteRune(r)
			inWord = false
		}
	}
	return b.String()
}

// peerRun is what a peer hands back: predictions per eval split and costs.
type peerRun struct {
	Predictions  map[string][]prediction // by split name: "val", "test"
	TrainSeconds float64
	LatencyP50   float64 // microseconds per message
	LatencyP99   float64
	LatencyBatch bool // the latency is batch time / N, not a per-message percentile
	ModelBytes   int64
}

// runFastText trains fastText on d.Train in dir and predicts every split in
// eval. Labels are written as indexes (__label__0, ...) so that no label text
// can clash with fastText's syntax. It returns an error when the CLI fails or
// its output does not match the input.
func runFastText(ctx context.Context, cfg fastTextConfig, dir string, train []example, eval map[string][]string) (*peerRun, error) {
	var names []string
	index := map[string]int{}
	var buf bytes.Buffer
	for _, i := range rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)).Perm(len(train)) {
		e := train[i]
		k, ok := index[e.Label]
		if !ok {
			k = len(names)
			index[e.Label] = k
			names = append(names, e.Label)
		}
		fmt.Fprintf(&buf, "__label__%d %s\n", k, fastTextTokens(e.Text))
	}
	trainFile := filepath.Join(dir, "fasttext-train.txt")
	if err := os.WriteFile(trainFile, buf.Bytes(), 0o600); err != nil {
		return nil, fmt.Errorf("fasttext: %w", err)
	}
	prefix := filepath.Join(dir, "fasttext-model")
	args := append([]string{"supervised", "-input", trainFile, "-output", prefix}, cfg.Args...)
	start := time.Now()
	if out, err := exec.CommandContext(ctx, cfg.Bin, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("fasttext supervised: %w: %s", err, lastLines(out, 5))
	}
	run := &peerRun{TrainSeconds: time.Since(start).Seconds(), Predictions: map[string][]prediction{}, LatencyBatch: true}
	model := prefix + ".bin"
	defer os.Remove(model)
	defer os.Remove(prefix + ".vec")
	if st, err := os.Stat(model); err == nil {
		run.ModelBytes = st.Size()
	}

	for name, msgs := range eval {
		preds, _, err := fastTextPredict(ctx, cfg.Bin, model, filepath.Join(dir, "fasttext-"+name+".txt"), msgs, names)
		if err != nil {
			return nil, err
		}
		run.Predictions[name] = preds
	}

	// Latency: the CLI only predicts in batches and loads the model (~800 MB
	// with two-word n-grams) first, so time a big batch and a one-message
	// batch and divide the difference. Best of LatencyRuns for each.
	msgs := eval["test"]
	if len(msgs) > 0 && cfg.LatencyLines > 1 && cfg.LatencyRuns > 0 {
		big := make([]string, cfg.LatencyLines)
		for i := range big {
			big[i] = msgs[i%len(msgs)]
		}
		var tBig, tOne time.Duration
		for range cfg.LatencyRuns {
			_, d, err := fastTextPredict(ctx, cfg.Bin, model, filepath.Join(dir, "fasttext-latency.txt"), big, names)
			if err != nil {
				return nil, err
			}
			if tBig == 0 || d < tBig {
				tBig = d
			}
			_, d, err = fastTextPredict(ctx, cfg.Bin, model, filepath.Join(dir, "fasttext-one.txt"), big[:1], names)
			if err != nil {
				return nil, err
			}
			if tOne == 0 || d < tOne {
				tOne = d
			}
		}
		per := float64(max(tBig-tOne, 0).Microseconds()) / float64(len(big)-1)
		run.LatencyP50, run.LatencyP99 = per, per
	}
	return run, nil
}

// fastTextPredict writes msgs to file, runs "fasttext predict-prob model file
// 1" and maps the index labels back through names. It returns the wall time
// of the command as well.
func fastTextPredict(ctx context.Context, bin, model, file string, msgs, names []string) ([]prediction, time.Duration, error) {
	var buf bytes.Buffer
	for _, m := range msgs {
		buf.WriteString(fastTextTokens(m))
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		return nil, 0, fmt.Errorf("fasttext predict: %w", err)
	}
	defer os.Remove(file)
	cmd := exec.CommandContext(ctx, bin, "predict-prob", model, file, "1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	took := time.Since(start)
	if err != nil {
		return nil, 0, fmt.Errorf("fasttext predict-prob: %w: %s", err, lastLines(stderr.Bytes(), 5))
	}
	preds, err := parseFastTextPredictions(out, names)
	if err != nil {
		return nil, 0, fmt.Errorf("fasttext predict-prob: %w", err)
	}
	if len(preds) != len(msgs) {
		return nil, 0, fmt.Errorf("fasttext predict-prob: %d predictions for %d messages", len(preds), len(msgs))
	}
	return preds, took, nil
}

// parseFastTextPredictions reads predict-prob output with k=1: one line per
// message, "__label__N PROB", or an empty line when fastText had no answer.
// N indexes names. It returns an error for any other line.
func parseFastTextPredictions(out []byte, names []string) ([]prediction, error) {
	var preds []prediction
	sc := bufio.NewScanner(bytes.NewReader(out))
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			preds = append(preds, prediction{})
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("line %d: want \"__label__N probability\", found %d fields", line, len(fields))
		}
		idx, ok := strings.CutPrefix(fields[0], "__label__")
		if !ok {
			return nil, fmt.Errorf("line %d: %q has no __label__ prefix", line, fields[0])
		}
		k, err := strconv.Atoi(idx)
		if err != nil || k < 0 || k >= len(names) {
			return nil, fmt.Errorf("line %d: unknown label %q", line, fields[0])
		}
		p, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: probability %q: %w", line, fields[1], err)
		}
		preds = append(preds, prediction{Label: names[k], Score: p})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return preds, nil
}

// lastLines returns the last n lines of out, for error messages.
func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}
