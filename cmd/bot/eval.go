package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/parleyhq/parley/nlp"
	"github.com/parleyhq/parley/nlp/dataset"
)

func runEval(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("eval", "--model DIR --data PATH [flags]",
		"Evaluates a trained NLU model on labelled data, one message at a time as in\n"+
			"production: closed-set accuracy and macro-F1 over in-scope messages,\n"+
			"per-intent precision/recall/F1, the most confused pairs, out-of-scope\n"+
			"figures at the model's calibrated threshold, and Parse latency.")
	modelDir := fs.String("model", "model", "model `directory` written by bot train")
	data := fs.String("data", "", "labelled data `file` (required)")
	format := fs.String("format", "auto", "data format: auto, parley, clinc150, csv, rasa or bitext")
	split := fs.String("split", "test", "which split to evaluate: test, val or train; a file without splits (CSV) is evaluated whole")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the readable report")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data", *data); err != nil {
		return err
	}
	f, err := dataset.ParseFormat(*format)
	if err != nil {
		return err
	}
	model, err := nlp.Load(*modelDir, nil)
	if err != nil {
		return err
	}
	ds, err := dataset.Load(*data, f)
	if err != nil {
		return err
	}
	exs, err := pickSplit(ds, *split)
	if err != nil {
		return err
	}
	rep, err := nlp.Evaluate(ctx, model, exs)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printReport(m.Stdout, rep)
	return nil
}

// pickSplit returns the examples of the named split. A file that has only
// one split (a CSV) is that split, whatever its name.
func pickSplit(ds *dataset.Dataset, split string) ([]dataset.Example, error) {
	sp, err := dataset.ParseSplit(split)
	if err != nil {
		return nil, err
	}
	exs := ds.Examples(sp)
	if len(ds.Val) == 0 && len(ds.Test) == 0 {
		exs = ds.Train
	}
	if len(exs) == 0 {
		return nil, fmt.Errorf("%s has no %s split", ds.Source, split)
	}
	return exs, nil
}

func printReport(w io.Writer, r *nlp.Report) {
	fmt.Fprintf(w, "examples:  %d\n", r.N)
	fmt.Fprintf(w, "accuracy:  %.2f%% (closed set, in-scope examples)\n", 100*r.Accuracy)
	fmt.Fprintf(w, "macro-F1:  %.2f%%\n", 100*r.MacroF1)
	if o := r.OOS; o != nil {
		fmt.Fprintf(w, "out of scope at threshold %.3f: in-scope accuracy %.2f%%, recall %.2f%%, precision %.2f%%\n",
			o.Threshold, 100*o.InScopeAccuracy, 100*o.Recall, 100*o.Precision)
	}
	fmt.Fprintf(w, "latency:   p50 %.0f us, p99 %.0f us per message\n", r.Latency.P50, r.Latency.P99)
	if r.Unknown > 0 {
		fmt.Fprintf(w, "warning:   %d examples have intents the model does not know\n", r.Unknown)
	}
	if r.Rejected > 0 {
		fmt.Fprintf(w, "warning:   %d examples were rejected (empty or invalid text)\n", r.Rejected)
	}
	fmt.Fprintf(w, "\n%-32s %8s %9s %7s %7s\n", "intent", "support", "precision", "recall", "F1")
	for _, s := range r.Intents {
		fmt.Fprintf(w, "%-32s %8d %8.1f%% %6.1f%% %6.1f%%\n", s.Intent, s.Support, 100*s.Precision, 100*s.Recall, 100*s.F1)
	}
	if len(r.Confusion) > 0 {
		fmt.Fprintf(w, "\nmost confused (actual -> predicted):\n")
		for _, c := range r.Confusion {
			fmt.Fprintf(w, "  %4d  %s -> %s\n", c.Count, c.Actual, c.Predicted)
		}
	}
}
