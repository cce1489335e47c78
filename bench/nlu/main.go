package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr}
	code := 0
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(m.Stderr, "nlu:", err)
			code = 2
		}
	} else if err := m.Run(ctx); err != nil {
		fmt.Fprintln(m.Stderr, "nlu:", err)
		code = 1
	}
	stop()
	os.Exit(code)
}

// Main is the benchmark: flags, then one run over the chosen datasets.
type Main struct {
	Stdout io.Writer // the table
	Stderr io.Writer // progress

	Root       string // the Parley module root
	Datasets   string
	Only       string
	SkipParley bool
	Out        string
	Vectors    string
	Bot        string // a bot binary to use instead of building cmd/bot

	FastText fastTextConfig
	Sklearn  sklearnConfig

	sklearnVersion string // as the script reports it, for the notes
}

// ParseFlags fills m from the command line and the environment. It returns
// flag.ErrHelp for -h and an error for bad flags or when the module root
// cannot be found.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("nlu", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&m.Datasets, "datasets", "", "datasets folder (default $PARLEY_DATASETS, else ../shared/datasets from the repository root)")
	fs.StringVar(&m.Only, "only", "", "run one dataset: "+strings.Join(datasetKeys(), ", "))
	fs.BoolVar(&m.SkipParley, "skip-parley", false, "run the peers only")
	fs.StringVar(&m.Out, "out", "", "also write the table as Markdown to this file")
	fs.StringVar(&m.Vectors, "vectors", "", "word vectors for the \"Parley + GloVe\" row (default ../shared/embeddings/glove-6b-100d-top50k.bin from the repository root)")
	fs.StringVar(&m.Bot, "bot", "", "use this bot binary instead of building ./cmd/bot")
	python := fs.String("python", "/usr/bin/python3", "Python interpreter with scikit-learn")
	fasttext := fs.String("fasttext", "fasttext", "fastText executable")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: go run ./bench/nlu [flags]\n\nTrains and evaluates Parley, fastText and scikit-learn on CLINC150, Banking77 and Bitext and prints one table.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if keys := datasetKeys(); m.Only != "" && !slices.Contains(keys, m.Only) {
		return fmt.Errorf("-only %q: want one of %s", m.Only, strings.Join(keys, ", "))
	}
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("find repository root: %w", err)
	}
	if m.Root, err = moduleRoot(wd); err != nil {
		return err
	}
	shared := filepath.Join(filepath.Dir(m.Root), "shared")
	if m.Datasets == "" {
		m.Datasets = os.Getenv("PARLEY_DATASETS")
	}
	if m.Datasets == "" {
		m.Datasets = filepath.Join(shared, "datasets")
	}
	if m.Vectors == "" {
		m.Vectors = filepath.Join(shared, "embeddings", "glove-6b-100d-top50k.bin")
	}
	m.FastText = defaultFastText
	m.FastText.Bin = *fasttext
	m.Sklearn = sklearnConfig{
		Python:          *python,
		Script:          filepath.Join(m.Root, "bench", "nlu", "sklearn_peer.py"),
		Seed:            1,
		LatencyMessages: 1000,
	}
	return nil
}

// moduleRoot walks up from dir to the folder whose go.mod declares the
// Parley module.
func moduleRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module github.com/parleyhq/parley\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find repository root: no Parley go.mod above %s", dir)
		}
	}
}

// Run runs the benchmark and prints the table. A system that fails gets a
// "failed" row and the others still run; Run then returns an error.
func (m *Main) Run(ctx context.Context) error {
	if err := m.preflight(ctx); err != nil {
		return err
	}
	// Load every dataset before any training, so that a missing file stops
	// the run at once, not after minutes of work on the other datasets.
	var sets []*dataset
	for _, l := range datasetLoaders {
		if m.Only != "" && m.Only != l.key {
			continue
		}
		d, err := l.load(m.Datasets)
		if err != nil {
			return fmt.Errorf("%w (set -datasets or PARLEY_DATASETS)", err)
		}
		sets = append(sets, d)
	}
	tmp, err := os.MkdirTemp("", "parley-bench-nlu-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)

	var bot string
	if !m.SkipParley {
		bot = m.Bot
		if bot == "" {
			m.logf("building cmd/bot")
			if bot, err = buildParley(ctx, m.Root, tmp, m.Stderr); err != nil {
				return err
			}
		}
		if _, err := os.Stat(m.Vectors); err != nil {
			m.logf("no word vectors at %s: the \"Parley + GloVe\" row is left out", m.Vectors)
			m.Vectors = ""
		}
	}

	var results []result
	for _, d := range sets {
		m.logf("%s: %d train, %d validation, %d test items", d.Name, len(d.Train), len(d.Val), len(d.Test))
		results = append(results, m.runDataset(ctx, tmp, bot, d)...)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}

	var out bytes.Buffer
	if err := renderTable(&out, results, m.notes()); err != nil {
		return err
	}
	if _, err := m.Stdout.Write(out.Bytes()); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	if m.Out != "" {
		if err := os.WriteFile(m.Out, out.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write table: %w", err)
		}
	}
	var failed []string
	for _, r := range results {
		if r.Err != nil {
			failed = append(failed, r.System+" on "+r.Dataset)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// preflight checks the peers' tools before any long step.
func (m *Main) preflight(ctx context.Context) error {
	if _, err := exec.LookPath(m.FastText.Bin); err != nil {
		return fmt.Errorf("fastText: %w (apt-get install -y fasttext)", err)
	}
	if out, err := exec.CommandContext(ctx, m.Sklearn.Python, "-c", "import sklearn").CombinedOutput(); err != nil {
		return fmt.Errorf("scikit-learn in %s: %w: %s (apt-get install -y python3-sklearn)", m.Sklearn.Python, err, lastLines(out, 2))
	}
	return nil
}

// runDataset runs every system on d, one after the other so that their
// timings do not disturb each other.
func (m *Main) runDataset(ctx context.Context, tmp, bot string, d *dataset) []result {
	eval := map[string][]string{"test": texts(d.Test)}
	if d.hasOOS() {
		eval["val"] = texts(d.Val)
	}
	var results []result

	m.logf("%s: fastText (train, predict, latency)", d.Name)
	ft, err := runFastText(ctx, m.FastText, tmp, d.Train, eval)
	results = append(results, m.score(d, "fastText", ft, err))

	m.logf("%s: scikit-learn (train, predict, latency)", d.Name)
	sk, version, err := runSklearn(ctx, m.Sklearn, tmp, d.Train, eval)
	if version != "" {
		m.sklearnVersion = version
	}
	results = append(results, m.score(d, "scikit-learn", sk, err))

	if bot == "" {
		return results
	}
	type variant struct{ system, name, vectors string }
	rows := []variant{{"Parley", "parley-model", ""}}
	if m.Vectors != "" {
		rows = append(rows, variant{"Parley + GloVe", "parley-glove-model", m.Vectors})
	}
	for _, row := range rows {
		m.logf("%s: %s (bot train, bot eval)", d.Name, row.system)
		r := result{Dataset: d.Name, System: row.system}
		pr, err := runParley(ctx, bot, tmp, row.name, d, row.vectors, m.Stderr)
		if err != nil {
			r.Err = err
			m.logf("%s: %s: %v", d.Name, row.system, err)
			results = append(results, r)
			continue
		}
		ev := pr.Eval
		r.N, r.Accuracy, r.MacroF1 = ev.N, ev.Accuracy, ev.MacroF1
		r.TrainSeconds, r.ModelBytes = pr.TrainSeconds, pr.ModelBytes
		r.LatencyP50, r.LatencyP99 = ev.LatencyUS.P50, ev.LatencyUS.P99
		if ev.OOS != nil {
			r.OOS = &oosMetrics{Threshold: ev.OOS.Threshold, InScopeAccuracy: ev.OOS.InScopeAccuracy, Recall: ev.OOS.Recall, Precision: math.NaN()}
			if ev.OOS.Precision != nil {
				r.OOS.Precision = *ev.OOS.Precision
			}
		}
		if r.N != len(d.Test) {
			m.logf("%s: %s evaluated %d items, the peers %d", d.Name, row.system, r.N, len(d.Test))
		}
		m.logf("%s: %s: train %.1f s wall (meta.json train_seconds %.1f), model %.1f MB",
			d.Name, row.system, pr.TrainSeconds, pr.MetaSeconds, float64(pr.ModelBytes)/1e6)
		results = append(results, r)
	}
	return results
}

// score computes a peer's row from its predictions: closed-set metrics on the
// test split and, for data with OOS items, the threshold calibrated on the
// validation split applied to the test split.
func (m *Main) score(d *dataset, system string, run *peerRun, err error) result {
	r := result{Dataset: d.Name, System: system, N: len(d.Test), Err: err}
	if err == nil {
		r.TrainSeconds, r.ModelBytes = run.TrainSeconds, run.ModelBytes
		r.LatencyP50, r.LatencyP99, r.LatencyBatch = run.LatencyP50, run.LatencyP99, run.LatencyBatch
		r.Accuracy, r.MacroF1, r.Err = closedSet(labels(d.Test), run.Predictions["test"])
	}
	if r.Err == nil && d.hasOOS() {
		var cal, test oosMetrics
		cal, r.Err = calibrate(labels(d.Val), run.Predictions["val"])
		if r.Err == nil {
			test, r.Err = evalOOS(labels(d.Test), run.Predictions["test"], cal.Threshold)
			r.OOS = &test
		}
	}
	if r.Err != nil {
		m.logf("%s: %s: %v", d.Name, system, r.Err)
	} else {
		m.logf("%s: %s: accuracy %s%%, train %.1f s", d.Name, system, pct(r.Accuracy), r.TrainSeconds)
	}
	return r
}

// notes describes the run under the table.
func (m *Main) notes() []string {
	ft := strings.Join(m.FastText.Args, " ")
	return []string{
		fmt.Sprintf("Run %s on %s/%s, %d CPUs (GOMAXPROCS %d), %s.", time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version()),
		fmt.Sprintf("fastText: `fasttext supervised %s`, training file shuffled with seed %d, text lower-cased with punctuation split off.", ft, m.FastText.Seed),
		fmt.Sprintf("scikit-learn %s: TF-IDF word 1-2 + char_wb 2-5 grams (sublinear tf) + LinearSVC(C=0.5).", m.sklearnVersion),
	}
}

func (m *Main) logf(format string, args ...any) {
	fmt.Fprintf(m.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
