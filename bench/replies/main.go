// Command replies is the reply-model benchmark: it trains the reply models
// on the Bitext customer-support sample with "bot train-replies" (the
// 80/10/10 hash split of nlp/dataset.HashSplit), evaluates them on the test
// split with "bot eval-replies --json", times the hybrid retrieval over
// 30,000 candidates, and prints one Markdown table: retrieval (BM25, the
// encoder, the hybrid), generation (seq2seq drafts and the nearest
// neighbour), latency, training time and peak memory, then sampled drafts
// beside the gold reply.
//
//	go run ./bench/replies [-out FILE]
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
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"

	"github.com/parleyhq/parley/internal/datasets"
	"github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/replies"
)

const bitextFile = "bitext_customer_support/Bitext_Sample_Customer_Support_Training_Dataset.csv"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet("replies", flag.ContinueOnError)
	out := fs.String("out", "", "also write the Markdown to this `file`")
	seed := fs.Uint64("seed", 1, "training seed")
	samples := fs.Int("samples", 10, "sampled drafts to show")
	candidates := fs.Int("candidates", 30000, "candidates the retrieval latency is measured over")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: go run ./bench/replies [flags]\n\nTrains and evaluates the reply models on the Bitext sample ($PARLEY_DATASETS, else ../shared/datasets) and prints a Markdown table.")
		fs.PrintDefaults()
	}
	code := 0
	if err := fs.Parse(os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			code = 2
		}
	} else if err := run(ctx, *out, *seed, *samples, *candidates); err != nil {
		fmt.Fprintln(os.Stderr, "replies:", err)
		code = 1
	}
	stop()
	os.Exit(code)
}

func run(ctx context.Context, out string, seed uint64, samples, candidates int) error {
	dir, ok := datasets.Dir()
	if !ok {
		return fmt.Errorf("no datasets folder at %s: set PARLEY_DATASETS", dir)
	}
	data := filepath.Join(dir, bitextFile)
	tmp, err := os.MkdirTemp("", "parley-bench-replies-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bot := filepath.Join(tmp, "bot")
	logf("building cmd/bot")
	if err := command(ctx, io.Discard, "go", "build", "-o", bot, "./cmd/bot"); err != nil {
		return err
	}
	model := filepath.Join(tmp, "model")
	logf("bot train-replies (several minutes)")
	var trainOut bytes.Buffer
	if err := command(ctx, io.MultiWriter(&trainOut, os.Stderr), bot, "train-replies", "--data", data, "--format", "bitext", "--out", model, "--seed", strconv.FormatUint(seed, 10)); err != nil {
		return err
	}
	rss := peakResident(trainOut.String())
	logf("bot eval-replies on the test split")
	var evalOut bytes.Buffer
	if err := command(ctx, &evalOut, bot, "eval-replies", "--model", model, "--data", data, "--format", "bitext", "--split", "test", "--json", "--samples", strconv.Itoa(samples)); err != nil {
		return err
	}
	var rep replies.Report
	if err := json.Unmarshal(evalOut.Bytes(), &rep); err != nil {
		return fmt.Errorf("read eval-replies --json: %w", err)
	}
	rows, err := readBitext(data)
	if err != nil {
		return err
	}
	logf("retrieval latency over %d candidates", candidates)
	p95, err := retrievalLatency(ctx, model, rows, candidates)
	if err != nil {
		return err
	}
	var md bytes.Buffer
	render(&md, rep, replies.Generation(intentOracle(rows)), rss, candidates, p95)
	os.Stdout.Write(md.Bytes())
	if out != "" {
		return os.WriteFile(out, md.Bytes(), 0o644)
	}
	return nil
}

// readBitext reads the Bitext sample once for the latency run and the oracle.
func readBitext(path string) ([]dataset.BitextPair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return dataset.ReadBitextPairs(path, f)
}

// command runs name with args in the module root (the current folder of
// "go run ./bench/replies"), its output to w and its errors to stderr.
func command(ctx context.Context, w io.Writer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = w, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", filepath.Base(name), args[0], err)
	}
	return nil
}

var residentRE = regexp.MustCompile(`(\d+) MiB resident`)

// peakResident reads the peak resident memory train-replies printed, in
// MiB; 0 when it printed none (a system without /proc).
func peakResident(out string) int {
	m := residentRE.FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, "replies: "+format+"\n", args...) }
