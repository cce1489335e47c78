package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/shoptest"
)

// updateReadme rewrites the output lines of the README's terminal samples
// from what the program prints today (review the diff: the inputs stay).
var updateReadme = flag.Bool("update-readme", false, "rewrite the README's bot chat and bot parse samples with today's output")

const readmePath = "../../README.md"

// readmeSample is one fenced block of the README that shows a terminal
// session of a command: "$ go run ./cmd/bot CMD", the header it prints on
// stderr, then lines typed and the lines printed for each.
type readmeSample struct {
	start, end int      // the block's lines in the README, fences excluded
	args       []string // after "go run ./cmd/bot"
	header     string
	turns      []sampleTurn
}

type sampleTurn struct {
	input  string
	output []string
}

// samplePrefix starts the blocks the test runs.
const samplePrefix = "$ go run ./cmd/bot "

// readmeSamples finds the blocks that run `bot chat` or `bot parse`. A line of
// such a block is printed by the program when it starts with "bot: " or
// with white space; any other line after the header is typed.
func readmeSamples(t *testing.T, lines []string) []readmeSample {
	t.Helper()
	var out []readmeSample
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```" || i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], samplePrefix) {
			continue
		}
		args := strings.Fields(strings.TrimPrefix(lines[i+1], samplePrefix))
		end := i + 1
		for end < len(lines) && lines[end] != "```" {
			end++
		}
		if len(args) == 0 || args[0] != "chat" && args[0] != "parse" {
			i = end
			continue
		}
		s := readmeSample{start: i + 1, end: end, args: args}
		if i+2 >= end {
			t.Fatalf("README.md:%d: the %s sample has no header line", i+2, args[0])
		}
		s.header = lines[i+2]
		for _, l := range lines[i+3 : end] {
			printed := strings.HasPrefix(l, "bot: ") || strings.HasPrefix(l, " ")
			switch {
			case !printed:
				s.turns = append(s.turns, sampleTurn{input: l})
			case len(s.turns) == 0:
				t.Fatalf("README.md: the %s sample prints %q before anything is typed", args[0], l)
			default:
				s.turns[len(s.turns)-1].output = append(s.turns[len(s.turns)-1].output, l)
			}
		}
		out = append(out, s)
		i = end
	}
	return out
}

// The parts of a sample that change from run to run, each replaced by a
// name before comparing: a new conversation's id, and the dates that
// relative words resolve to.
var sampleVariables = []struct {
	re   *regexp.Regexp
	name string
}{
	{regexp.MustCompile(`\bconv_[0-9a-z]+\b`), "conv_ID"},
	{regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`), "YYYY-MM-DD"},
}

func normalizeSample(s string) string {
	for _, v := range sampleVariables {
		s = v.re.ReplaceAllString(s, v.name)
	}
	return s
}

// TestReadmeSamples runs the README's `bot chat` and `bot parse` samples on
// a new data directory with the demo-shop model (seed 1, as the first start
// trains it) and checks that the program prints what they show, line for
// line and turn by turn, but for the variable parts above. It also checks
// the store line of the `bot serve` sample and the training time the README
// and the help texts give. With -update-readme it rewrites the samples.
func TestReadmeSamples(t *testing.T) {
	path, err := filepath.Abs(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	lines := strings.Split(readme, "\n")
	samples := readmeSamples(t, lines)
	var cmds []string
	for _, s := range samples {
		cmds = append(cmds, s.args[0])
	}
	if !slices.Contains(cmds, "chat") || !slices.Contains(cmds, "parse") {
		t.Fatalf("README.md has samples of %q, want bot chat and bot parse", cmds)
	}

	// The README's paths are relative to the repository root, where
	// DATA-DIR is ./data: run there, in a copy.
	dir := t.TempDir()
	t.Chdir(dir)
	model := shoptest.ModelDir(t)
	copyDir(t, model, filepath.Join("data", "model"))

	var storeLine string
	for si := len(samples) - 1; si >= 0; si-- {
		s := &samples[si]
		var prev []string
		for k := range s.turns {
			// One run per prefix of the typed lines (run k+1 repeats run
			// k, then goes on): what run k+1 prints after run k's lines is
			// turn k+1's answer. Each chat has a new store; the last run is
			// on ./data, as the README's.
			data := "data"
			var more []string
			if s.args[0] == "chat" {
				if k < len(s.turns)-1 {
					data = fmt.Sprintf("data-%d", k+1)
				}
				more = []string{"--model", filepath.Join(dir, "data", "model")}
			}
			args := slices.Concat(s.args, []string{"--data-dir", data}, more)
			var in strings.Builder
			for _, tu := range s.turns[:k+1] {
				in.WriteString(tu.input + "\n")
			}
			code, stdout, stderr := run(t, in.String(), args...)
			if code != 0 {
				t.Fatalf("bot %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
			}
			out := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if stdout == "" {
				out = nil
			}
			if len(out) < len(prev) || !slices.Equal(normalizeAll(out[:len(prev)]), normalizeAll(prev)) {
				t.Fatalf("bot %s printed\n%s\nfor the first %d lines, then\n%s", s.args[0], strings.Join(prev, "\n"), k, stdout)
			}
			got := out[len(prev):]
			prev = out
			errLines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			header := errLines[len(errLines)-1]
			if k == len(s.turns)-1 {
				for _, l := range errLines {
					if strings.HasPrefix(l, "new store ") {
						storeLine = l
					}
				}
			}
			if *updateReadme {
				s.header = header
				s.turns[k].output = got
				continue
			}
			if k == 0 && normalizeSample(header) != normalizeSample(s.header) {
				t.Errorf("README.md:%d: bot %s starts with\n  %s\nthe README shows\n  %s", s.start+2, s.args[0], header, s.header)
			}
			if !slices.Equal(normalizeAll(got), normalizeAll(s.turns[k].output)) {
				t.Errorf("README.md: bot %s answers %q with\n%s\nthe README shows\n%s", s.args[0], s.turns[k].input,
					indent(got), indent(s.turns[k].output))
			}
		}
		if *updateReadme {
			block := []string{lines[s.start], s.header}
			for _, tu := range s.turns {
				block = append(block, tu.input)
				block = append(block, tu.output...)
			}
			lines = slices.Concat(lines[:s.start], block, lines[s.end:])
		}
	}

	// The serve sample's store line is what a first start prints.
	if storeLine == "" {
		t.Fatal("the first chat did not say it loaded the demo shop")
	}
	if !strings.Contains(readme, "\n"+storeLine+"\n") {
		if *updateReadme {
			storeRe := regexp.MustCompile(`(?m)^new store data/parley\.db: .*$`)
			lines = strings.Split(storeRe.ReplaceAllLiteralString(strings.Join(lines, "\n"), storeLine), "\n")
		} else {
			t.Errorf("README.md lacks the line a first start prints:\n  %s", storeLine)
		}
	}

	// The first start's training time: the README and the help say the same.
	if !strings.Contains(readme, "("+demoTrainTime+", with progress)") {
		t.Errorf("README.md's Quick start does not give the demo model's training time as %q", demoTrainTime)
	}
	for _, cmd := range []string{"parse", "chat", "serve"} {
		_, _, help := run(t, "", cmd, "-h")
		if !strings.Contains(strings.ReplaceAll(help, "\n", " "), demoTrainTime) {
			t.Errorf("bot %s -h does not give the demo model's training time as %q:\n%s", cmd, demoTrainTime, help)
		}
	}

	if *updateReadme {
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func normalizeAll(ls []string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = normalizeSample(l)
	}
	return out
}

func indent(ls []string) string {
	if len(ls) == 0 {
		return "  (nothing)"
	}
	return "  " + strings.Join(ls, "\n  ")
}

// copyDir copies the regular files of src into a new directory dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
