package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/parleyhq/parley/crm/postgres"
	"github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/replies"
	"github.com/parleyhq/parley/nlp/seq2seq"
	"github.com/parleyhq/parley/nlp/suggest"
)

const repliesDataHelp = "`FILE`: with --format bitext, the Bitext customer-support CSV; with --format parley, a\n" +
	"Parley store, the bbolt file DATA-DIR/parley.db (stop bot serve first) or postgres://USER@HOST:PORT/DB,\n" +
	"whose resolved conversations give (customer message, agent reply) pairs"

func runTrainReplies(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("train-replies", "--data FILE [--format bitext|parley] [--out DIR] [--seed N]",
		"Trains the reply models from (customer message, agent reply) pairs: the sentence encoder\n"+
			"that ranks past replies (with BM25, as a hybrid whose weight is chosen on the validation\n"+
			"split), and the seq2seq model that drafts replies for agents (never sent to a customer\n"+
			"without a person). Pairs are split 80/10/10 by a hash of the customer's message\n"+
			"(validation picks the best epoch and the hybrid weight; test is left for eval-replies).\n"+
			"The model folder is replaced whole at the end; bot serve --replies DIR uses it.")
	data := fs.String("data", "", repliesDataHelp+" (required)")
	format := fs.String("format", "bitext", "`FORMAT` of --data: bitext or parley")
	out := fs.String("out", "replies", "model `DIR` to write")
	seed := fs.Uint64("seed", 1, "random seed: the same data and seed give the same model")
	so := seq2seq.DefaultOptions
	fs.IntVar(&so.Epochs, "epochs", so.Epochs, "seq2seq training epochs, at most")
	fs.IntVar(&so.Hidden, "hidden", so.Hidden, "seq2seq hidden `units`: fewer train faster and write plainer drafts")
	fs.IntVar(&so.MaxOut, "max-out", so.MaxOut, "longest draft, in `tokens` (longer replies are cut in training)")
	fs.IntVar(&so.MaxPairs, "max-pairs", so.MaxPairs, "`pairs` sampled per seq2seq epoch (0: all), so that an epoch stays short")
	fs.DurationVar(&so.Budget, "budget", so.Budget, "stop seq2seq training after this `long` (0: no limit), keeping the best epoch so far")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data", *data); err != nil {
		return err
	}
	pairs, err := readReplyPairs(ctx, m, *data, *format)
	if err != nil {
		return err
	}
	watch := startMemWatch("")
	defer watch.stop()
	model, err := replies.Train(ctx, pairs, replies.Options{
		Source:  *format,
		Seed:    *seed,
		Seq2seq: so,
		Progress: func(format string, args ...any) {
			fmt.Fprintf(m.Stdout, format+"\n", args...)
		},
	})
	if err != nil {
		return err
	}
	if err := model.Save(*out); err != nil {
		return err
	}
	meta := model.Meta()
	fmt.Fprintf(m.Stdout, "wrote %s: trained in %.1fs (encoder %.1fs, seq2seq %.1fs)\n", filepath.Clean(*out), meta.TrainSeconds(), meta.EncoderSeconds, meta.Seq2seqSeconds)
	return printPeakMemory(m, watch)
}

func runEvalReplies(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("eval-replies", "--model DIR --data FILE [--format bitext|parley] [--split test] [--json]",
		"Evaluates a reply model on one split of the pairs (the same hash split as train-replies):\n"+
			"retrieval (R@1, R@5 and MRR of each message's reply among every reply of the split, by\n"+
			"BM25, the encoder and the hybrid), generation (ROUGE-L, BLEU-4, placeholder F1 and\n"+
			"distinct-2 of the seq2seq drafts and of the nearest neighbour, the reply to the most\n"+
			"similar training message), and the 95th-percentile latency of each.")
	modelDir := fs.String("model", "replies", "model `DIR` written by bot train-replies")
	data := fs.String("data", "", repliesDataHelp+" (required)")
	format := fs.String("format", "bitext", "`FORMAT` of --data: bitext or parley")
	split := fs.String("split", "test", "`SPLIT` to evaluate: test, val or train")
	beam := fs.Int("beam", 1, "beam `WIDTH` of the seq2seq decoder; 1 is greedy")
	samples := fs.Int("samples", 0, "also show `N` sampled messages with the gold reply and both systems'")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the readable report")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data", *data); err != nil {
		return err
	}
	sp, err := dataset.ParseSplit(*split)
	if err != nil {
		return fmt.Errorf("--split: %w", err)
	}
	model, err := replies.Load(*modelDir)
	if err != nil {
		return err
	}
	pairs, err := readReplyPairs(ctx, m, *data, *format)
	if err != nil {
		return err
	}
	pairs = replies.Split(pairs, sp)
	if !*asJSON {
		fmt.Fprintf(m.Stderr, "evaluating %d %s pairs\n", len(pairs), sp)
	}
	rep, err := replies.Evaluate(ctx, model, pairs, replies.EvalOptions{
		Beam: *beam, Samples: *samples, Seed: 1,
		Progress: func(done, total int) {
			if done%100 == 0 || done == total {
				fmt.Fprintf(m.Stderr, "drafted %d/%d\n", done, total)
			}
		},
	})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printRepliesReport(m, rep)
	return nil
}

func printRepliesReport(m *Main, r replies.Report) {
	w := m.Stdout
	fmt.Fprintf(w, "pairs: %d, ranked among %d distinct replies; trained in %.0fs\n\n", r.N, r.Candidates, r.TrainSeconds)
	fmt.Fprintf(w, "%-22s %7s %7s %7s\n", "retrieval", "R@1", "R@5", "MRR")
	for _, row := range []struct {
		name string
		r    replies.Ranking
	}{{"bm25", r.Retrieval.BM25}, {"encoder", r.Retrieval.Encoder}, {fmt.Sprintf("hybrid (w %.2f)", r.HybridWeight), r.Retrieval.Hybrid}} {
		fmt.Fprintf(w, "%-22s %6.1f%% %6.1f%% %7.3f\n", row.name, 100*row.r.R1, 100*row.r.R5, row.r.MRR)
	}
	fmt.Fprintf(w, "\n%-22s %8s %7s %15s %11s\n", "generation", "ROUGE-L", "BLEU-4", "placeholder F1", "distinct-2")
	for _, row := range []struct {
		name string
		g    replies.GenMetrics
	}{{fmt.Sprintf("seq2seq (beam %d)", r.Beam), r.Generation.Seq2seq}, {"nearest neighbour", r.Generation.NearestNeighbour}} {
		fmt.Fprintf(w, "%-22s %8.3f %7.3f %15.3f %11.3f\n", row.name, row.g.RougeL, row.g.BLEU4, row.g.PlaceholderF1, row.g.Distinct2)
	}
	fmt.Fprintf(w, "\nlatency p95: retrieve %.2f ms, draft %.1f ms\n", r.LatencyMS.RetrieveP95, r.LatencyMS.GenerateP95)
	for i, s := range r.Samples {
		fmt.Fprintf(w, "\n[%d] customer: %s\n    gold:      %s\n    seq2seq:   %s\n    neighbour: %s\n", i+1,
			oneLine(s.Question), oneLine(s.Gold), oneLine(s.Seq2seq), oneLine(s.NearestNeighbour))
	}
}

// readReplyPairs reads (message, reply) pairs from a Bitext CSV or mines
// them from a Parley store.
func readReplyPairs(ctx context.Context, m *Main, data, format string) ([]replies.Pair, error) {
	switch format {
	case "bitext":
		f, err := os.Open(data)
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		defer f.Close()
		pairs, err := replies.ReadBitext(data, f)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(m.Stderr, "read %d pairs from %s\n", len(pairs), data)
		return pairs, nil
	case "parley":
		st, closeStore, err := openReplySource(ctx, data)
		if err != nil {
			return nil, err
		}
		defer closeStore()
		mined, err := suggest.Mine(ctx, st, 0)
		if err != nil {
			return nil, err
		}
		pairs := replies.FromMined(mined)
		fmt.Fprintf(m.Stderr, "mined %d distinct agent replies, %d (message, reply) pairs from %s\n", len(mined), len(pairs), redactURL(data))
		return pairs, nil
	}
	return nil, fmt.Errorf("--format %q: want bitext or parley", format)
}

// openReplySource opens a Parley store to mine replies from: a PostgreSQL
// URL, or a bbolt file (never created).
func openReplySource(ctx context.Context, data string) (suggest.MineStore, func(), error) {
	if strings.HasPrefix(data, "postgres://") || strings.HasPrefix(data, "postgresql://") {
		db, err := postgres.Open(ctx, data, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("--data %s: %w", redactURL(data), redactErr(err))
		}
		return db, func() { db.Close() }, nil
	}
	db, err := openBoltSource(ctx, "--data", data)
	if err != nil {
		return nil, nil, err
	}
	return db, func() { db.Close() }, nil
}
