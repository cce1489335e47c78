package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/insight"
	"github.com/parleyhq/parley/internal/atomicfile"
)

func runInsight(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("insight", "[--data-dir DIR] [--model DIR] [--k N] [--min-confidence 0.5] [--json] [--map FILE.csv]",
		"Find what customers ask that the bot does not know: the customer messages the NLU\n"+
			"judged out of scope or below --min-confidence are grouped by meaning (k-means on\n"+
			"their embeddings, k chosen by silhouette unless --k is given), and each group is\n"+
			"shown as a candidate new intent: a suggested name, its distinctive words and its\n"+
			"most representative messages. --map writes every analysed message's position on\n"+
			"the two main axes of the embeddings (PCA) as CSV, for a scatter plot.\n"+
			"Which messages those are comes from the NLU result stored with each message; the\n"+
			"model (DATA-DIR/model, trained from the demo data when missing) gives their\n"+
			"embeddings and parses messages stored without a result. --reparse lets the current\n"+
			"model judge every message again (after retraining, to see what it still misses).")
	dataDir := dataDirFlag(fs)
	modelDir := fs.String("model", "", "model `directory` (default: DATA-DIR/model)")
	k := fs.Int("k", 0, "number of clusters (0: choose by silhouette among 2..max-k)")
	maxK := fs.Int("max-k", insight.DefaultMaxK, "largest number of clusters tried when --k is 0")
	minConf := fs.Float64("min-confidence", insight.DefaultMinConfidence, "also analyse in-scope messages below this confidence (0 or negative: out-of-scope messages only)")
	examples := fs.Int("examples", insight.DefaultExamples, "representative messages shown per cluster")
	since := fs.Duration("since", 0, "only messages of the last `DURATION` (such as 720h; 0: all)")
	seed := fs.Uint64("seed", 1, "random seed of k-means")
	reparse := fs.Bool("reparse", false, "parse every message with the model, ignoring stored NLU results")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	mapFile := fs.String("map", "", "write the 2-D map of the messages to `FILE.csv`: conversation_id, seq, cluster (numbered as printed), intent, x, y, text")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *minConf == 0 {
		// 0 means "the default" to insight.Options; on the command line it
		// means what it says: nothing in scope is below it.
		*minConf = -1
	}
	if *since < 0 || *k < 0 || *maxK < 2 || *examples < 1 || *minConf > 1 {
		fmt.Fprintln(fs.Output(), "want --k >= 0, --max-k >= 2, --examples >= 1, --min-confidence <= 1 and --since >= 0")
		return errUsage
	}
	opts := insight.Options{K: *k, MaxK: *maxK, MinConfidence: *minConf, Examples: *examples, Seed: *seed, Reparse: *reparse}
	if *since > 0 {
		opts.Since = time.Now().Add(-*since)
	}
	model, _, db, err := openModelAndStore(ctx, m, *dataDir, *modelDir)
	if err != nil {
		return err
	}
	defer db.Close()
	report, err := insight.Analyze(ctx, db, model, opts)
	switch {
	case errors.Is(err, insight.ErrTooFewMessages):
		return fmt.Errorf("%w\n(use a smaller --k, or leave --k out to choose it)", err)
	case errors.Is(err, insight.ErrDimension):
		return fmt.Errorf("%w\n(run with --reparse to parse every message with the current model)", err)
	case errors.Is(err, insight.ErrOption):
		return fmt.Errorf("%w (see bot insight -h)", err)
	case err != nil:
		return err
	}
	if *mapFile != "" {
		if err := atomicfile.Write(*mapFile, func(w io.Writer) error { return writeMap(w, report) }); err != nil {
			return fmt.Errorf("write map: %w", err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	printInsight(m.Stdout, report)
	if *mapFile != "" {
		fmt.Fprintf(m.Stdout, "\nMap of the %d messages written to %s.\n", len(report.Map), *mapFile)
	}
	return nil
}

// weakSilhouette is the silhouette below which the groups are said to
// barely separate. Unit embeddings of short messages score low even when
// grouped well: six unknown CLINC150 intents regrouped with purity 0.88
// scored 0.08-0.09 (insight's TestRecoverCLINC150Intents), the demo
// shop's unrelated chit-chat 0.03.
const weakSilhouette = 0.05

// printInsight writes the report for a support lead.
func printInsight(w io.Writer, r *insight.Report) {
	scope := fmt.Sprintf("out of scope or below confidence %.2f", r.MinConfidence)
	if r.MinConfidence < 0 {
		scope = "out of scope"
	}
	fmt.Fprintf(w, "Read %d customer messages", r.Scanned)
	if r.Parsed > 0 || r.Unparsed > 0 {
		fmt.Fprintf(w, " (%d parsed now, %d could not be parsed)", r.Parsed, r.Unparsed)
	}
	fmt.Fprintln(w, ".")
	if r.Analysed == 0 {
		fmt.Fprintf(w, "Nothing to analyse: no customer message is %s.\n", scope)
		return
	}
	fmt.Fprintf(w, "%d of them are %s (%d out of scope).\n", r.Analysed, scope, r.OutOfScope)
	switch r.KChosenBy {
	case "silhouette":
		fmt.Fprintf(w, "%d groups, chosen by silhouette (%.2f; tried k = %d..%d).\n", r.K, r.Silhouette, r.Candidates[0].K, r.Candidates[len(r.Candidates)-1].K)
	case "given":
		fmt.Fprintf(w, "%d groups, as asked (silhouette %.2f).\n", r.K, r.Silhouette)
	default:
		fmt.Fprintf(w, "One group: too few different messages to compare groupings.\n")
	}
	if r.K > 1 && r.Silhouette < weakSilhouette {
		fmt.Fprintf(w, "The groups barely separate (silhouette below %.2f): read them as a rough sort, not as clear topics.\n", weakSilhouette)
	}
	for _, c := range r.Clusters {
		fmt.Fprintf(w, "\n%d. Suggested intent: %s\n", c.ID+1, c.Name)
		fmt.Fprintf(w, "   %d messages (%.0f%%), %d out of scope\n", c.Size, 100*c.Share, c.OutOfScope)
		if len(c.TopWords) > 0 {
			fmt.Fprintf(w, "   words: %s\n", strings.Join(c.TopWords, ", "))
		}
		if c.NearestIntent != "" {
			fmt.Fprintf(w, "   the bot's closest guess: %s (for %.0f%% of them)\n", c.NearestIntent, 100*c.NearestShare)
		}
		fmt.Fprintln(w, "   examples:")
		for _, ex := range c.Examples {
			times := ""
			if ex.Count > 1 {
				times = fmt.Sprintf(" (x%d)", ex.Count)
			}
			fmt.Fprintf(w, "     %s%s\n", strconv.Quote(ex.Text), times)
		}
	}
}

// writeMap writes the map as CSV: one row per analysed message.
func writeMap(w io.Writer, r *insight.Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"conversation_id", "seq", "cluster", "intent", "x", "y", "text"}); err != nil {
		return err
	}
	for _, p := range r.Map {
		rec := []string{p.ConversationID, strconv.FormatUint(p.Seq, 10), strconv.Itoa(p.Cluster + 1), r.Clusters[p.Cluster].Name,
			strconv.FormatFloat(p.X, 'g', 6, 64), strconv.FormatFloat(p.Y, 'g', 6, 64), spreadsheetSafe(p.Text)}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// spreadsheetSafe keeps a customer's text from running as a formula when the
// CSV is opened in a spreadsheet: a cell starting with = + - @ or a control
// character gets a leading apostrophe.
func spreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
