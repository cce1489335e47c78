package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/shop"
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
	fs := m.flagSet("kb ask", "[--kb DIR | --index FILE] [--json] [-n N] \"question\"",
		"Search the articles for the question and print the best N with their score, confidence,\n"+
			"the passage an answer would quote and the link. An answer counts only when its\n"+
			"confidence reaches the calibrated threshold; below it the bot says it is not sure and\n"+
			"falls back or hands off. Questions over 2,000 characters are cut, and the output says so.")
	dir := fs.String("kb", "", kbDirHelp)
	indexFile := fs.String("index", "", "use the index `FILE` written by \"bot kb index\" instead of loading articles")
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
