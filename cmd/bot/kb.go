package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/nlp/encoder"
	"github.com/parleyhq/parley/nlp/kb"
)

const kbUsage = `Usage: bot kb <index|ask> [flags]

Try the help centre's knowledge base in the terminal.

  index   check a folder of articles and write its search index to a file
  ask     show the articles that answer a question, with the passage to quote

Without --kb both use the demo shop's articles, compiled into the binary.
Run "bot kb <index|ask> -h" for the flags.
`

// kbIndexFile is where "bot kb index --kb DIR" writes by default: inside the
// folder, hidden, and skipped when the folder is loaded.
const kbIndexFile = ".index"

func runKB(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, kbUsage)
		return errUsage
	}
	switch args[0] {
	case "index":
		return runKBIndex(ctx, m, args[1:])
	case "ask":
		return runKBAsk(ctx, m, args[1:])
	case "-h", "--help", "help":
		fmt.Fprint(m.Stdout, kbUsage)
		return nil
	}
	fmt.Fprintf(m.Stderr, "unknown kb command %q\n\n%s", args[0], kbUsage)
	return errUsage
}

const kbDirHelp = "folder `DIR` of articles (*.md with front matter); default: the demo shop's"

func runKBIndex(_ context.Context, m *Main, args []string) error {
	fs := m.flagSet("kb index", "[--kb DIR] [--out FILE]",
		"Load every article of DIR, report any broken file (with its line), and write the search\n"+
			"index to FILE (default DIR/"+kbIndexFile+"; with the demo articles, nothing is written\n"+
			"unless --out is given). The file is replaced atomically, so a reader never sees half\n"+
			"of it. \"bot kb ask --index FILE\" uses it.")
	dir := fs.String("kb", "", kbDirHelp)
	out := fs.String("out", "", "write the index to `FILE`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	start := time.Now()
	ix, err := buildKBIndex(*dir)
	if err != nil {
		return err
	}
	target := *out
	if target == "" && *dir != "" {
		target = filepath.Join(*dir, kbIndexFile)
	}
	if target != "" {
		if err := ix.Save(target); err != nil {
			return err
		}
	}
	articles, passages, terms := ix.Stats()
	fmt.Fprintf(m.Stdout, "%d articles, %d passages, %d terms in %v\n", articles, passages, terms, time.Since(start).Round(time.Millisecond))
	if target != "" {
		fmt.Fprintf(m.Stdout, "wrote %s\n", target)
	}
	return nil
}

// buildKBIndex loads the articles of dir ("" for the demo shop's) and
// indexes them.
func buildKBIndex(dir string) (*kb.Index, error) {
	var k *kb.KB
	var err error
	if dir == "" {
		k, err = kb.Load(shop.KB())
	} else {
		k, err = kb.LoadDir(dir)
	}
	if err != nil {
		return nil, err
	}
	return kb.NewIndex(k, nil)
}

func runKBAsk(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("kb ask", "[--kb DIR | --index FILE] [--bm25-only] [--data-dir DIR] [--json] [-n N] \"question\"",
		"Search the articles for the question and print the best N with their score, confidence,\n"+
			"the passage an answer would quote and the link, as the bot and \"bot serve\" do: BM25\n"+
			"plus a sentence encoder trained on the articles themselves (at first use, in seconds;\n"+
			"then cached in DATA-DIR/"+kbEncoderDir+" until the articles change). An answer counts only\n"+
			"when its confidence reaches the calibrated threshold; below it the bot says it is not\n"+
			"sure and falls back or hands off. Questions over 2,000 characters are cut, and the\n"+
			"output says so.")
	dir := fs.String("kb", "", kbDirHelp)
	indexFile := fs.String("index", "", "use the index `FILE` written by \"bot kb index\" instead of loading articles")
	bm25Only := fs.Bool("bm25-only", false, "search with BM25 alone (no encoder, nothing trained or cached)")
	dataDir := dataDirFlag(fs)
	asJSON := fs.Bool("json", false, "print the result as JSON, for tools")
	n := fs.Int("n", 3, "how many articles to show")
	question, err := parseFlagsAndArg(fs, args, "question")
	if err != nil {
		return err
	}
	if *n < 1 {
		fmt.Fprintln(fs.Output(), "-n must be at least 1")
		return errUsage
	}
	if *dir != "" && *indexFile != "" {
		fmt.Fprintln(fs.Output(), "give --kb or --index, not both")
		return errUsage
	}
	if strings.TrimSpace(strings.ToValidUTF8(question, " ")) == "" {
		// Before anything is loaded or trained for nothing.
		return fmt.Errorf("ask: %w", kb.ErrEmptyQuestion)
	}
	var ix *kb.Index
	if *indexFile != "" {
		ix, err = kb.OpenIndex(*indexFile)
	} else {
		ix, err = buildKBIndex(*dir)
	}
	if err != nil {
		return err
	}
	s := kb.NewSearcher(ix)
	if !*bm25Only {
		progress := func(msg string, args ...any) {
			fmt.Fprintln(m.Stderr, msg+kbLogArgs(args))
		}
		if s, err = hybridSearcher(ctx, ix, *dataDir, progress); err != nil {
			return err
		}
	}
	res, err := s.Ask(ctx, question, *n)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			*kb.Result
			Threshold float64 `json:"threshold"`
		}{res, s.Calibration.Threshold})
	}
	printKBResult(m, res, s.Calibration.Threshold)
	return nil
}

// kbEncoderDir is the folder, in the data directory, of the encoder
// trained on the help centre's articles: one model, replaced when the
// articles change.
const kbEncoderDir = "kb-encoder"

// hybridSearcher returns ix's searcher of BM25 and the encoder trained on
// its articles (encoder.OpenKB: loaded from DATA-DIR/kb-encoder when it was
// trained on these articles, trained and saved there otherwise), telling
// progress what it does.
func hybridSearcher(ctx context.Context, ix *kb.Index, dataDir string, progress func(msg string, args ...any)) (*kb.Searcher, error) {
	dir := filepath.Join(dataDir, kbEncoderDir)
	start := time.Now()
	pairs := len(encoder.KBPairs(ix))
	e, trained, err := encoder.OpenKB(ctx, ix, dir, func(ep encoder.Epoch) {
		if ep.Epoch == 1 {
			progress("kb: training the help-centre encoder", "pairs", pairs, "epochs", ep.Epochs, "dir", dir)
		}
	})
	if err != nil {
		return nil, err
	}
	if trained {
		progress("kb: encoder trained and saved", "took", time.Since(start).Round(time.Millisecond), "dir", dir)
	}
	return encoder.NewKBSearcher(ix, encoder.NewRetriever(e, ix)), nil
}

// kbLogArgs formats slog-style key-value pairs for a terminal line.
func kbLogArgs(args []any) string {
	var b strings.Builder
	for i := 0; i+1 < len(args); i += 2 {
		fmt.Fprintf(&b, " %v=%v", args[i], args[i+1])
	}
	return b.String()
}

// kbAnswerer is the dialog engine's help centre: the best article when the
// searcher is confident about it.
type kbAnswerer struct{ s *kb.Searcher }

var _ dialog.Answerer = kbAnswerer{}

// Answer asks the searcher; a question of nothing but spaces is no answer,
// not an error. The question is cut to kb.MaxQuestionRunes.
func (a kbAnswerer) Answer(ctx context.Context, text string) (dialog.KBAnswer, bool, error) {
	res, err := a.s.Ask(ctx, text, 1)
	if errors.Is(err, kb.ErrEmptyQuestion) {
		return dialog.KBAnswer{}, false, nil
	}
	if err != nil {
		return dialog.KBAnswer{}, false, err
	}
	if !res.Confident {
		return dialog.KBAnswer{}, false, nil
	}
	top := res.Answers[0]
	return dialog.KBAnswer{Title: top.Title, Passage: top.Passage, URL: top.URL, Confidence: top.Confidence}, true, nil
}

// openServeKB loads the help centre of "bot serve --kb DIR" ("" for the
// demo shop's articles) and returns its hybrid searcher, logging progress.
func openServeKB(ctx context.Context, dir, dataDir string, logger *slog.Logger) (*kb.Searcher, error) {
	start := time.Now()
	ix, err := buildKBIndex(dir)
	if err != nil {
		return nil, fmt.Errorf("help centre: %w", err)
	}
	s, err := hybridSearcher(ctx, ix, dataDir, logger.Info)
	if err != nil {
		return nil, fmt.Errorf("help centre: %w", err)
	}
	articles, passages, _ := ix.Stats()
	logger.Info("kb: help centre ready", "articles", articles, "passages", passages, "took", time.Since(start).Round(time.Millisecond))
	return s, nil
}

func printKBResult(m *Main, res *kb.Result, threshold float64) {
	w := m.Stdout
	if res.Truncated {
		fmt.Fprintf(w, "(question cut to its first %d characters)\n", kb.MaxQuestionRunes)
	}
	switch {
	case len(res.Answers) == 0:
		fmt.Fprintln(w, "No article matches: the bot would say it is not sure and fall back or hand off.")
		return
	case res.Confident:
		fmt.Fprintf(w, "Answer from %q (confidence %.2f >= threshold %.2f).\n", res.Answers[0].Title, res.Answers[0].Confidence, threshold)
	default:
		fmt.Fprintf(w, "Not sure (best confidence %.2f < threshold %.2f): the bot would fall back or hand off.\n", res.Answers[0].Confidence, threshold)
	}
	for i, a := range res.Answers {
		fmt.Fprintf(w, "\n%d. %s  %s\n", i+1, a.Title, a.URL)
		fmt.Fprintf(w, "   score %.2f  confidence %.2f  (%s:%d)\n", a.Score, a.Confidence, a.File, a.Line)
		if a.Heading != "" {
			fmt.Fprintf(w, "   ## %s\n", a.Heading)
		}
		for _, line := range strings.Split(a.Passage, "\n") {
			fmt.Fprintf(w, "   > %s\n", line)
		}
	}
}
