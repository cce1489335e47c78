package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKBIndexDemo(t *testing.T) {
	code, out, errOut := run(t, "", "kb", "index")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "31 articles, ") || !strings.Contains(out, " passages, ") || strings.Contains(out, "wrote") {
		t.Errorf("output %q", out)
	}
}

func writeKB(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	kbReturns = "---\nid: returns\ntitle: Sending things back\n---\n# Window\n\nYou can send items back within 30 days of delivery.\n"
	kbGarden  = "---\nid: garden\ntitle: Garden tools\ntags: [spade, rake]\n---\nWe sell spades and rakes for the garden.\n"
)

func TestKBIndexAndAskFolder(t *testing.T) {
	dir := writeKB(t, map[string]string{"returns.md": kbReturns, "garden.md": kbGarden})
	code, out, errOut := run(t, "", "kb", "index", "--kb", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	index := filepath.Join(dir, ".index")
	if !strings.HasPrefix(out, "2 articles, 2 passages") || !strings.Contains(out, "wrote "+index) {
		t.Errorf("output %q", out)
	}
	// The index file is skipped when the folder loads again.
	if code, _, errOut := run(t, "", "kb", "index", "--kb", dir, "--out", filepath.Join(t.TempDir(), "x.index")); code != 0 {
		t.Fatalf("second index: exit %d: %s", code, errOut)
	}

	for _, args := range [][]string{
		{"kb", "ask", "--kb", dir, "can I send a rake back?"},
		{"kb", "ask", "--index", index, "can I send a rake back?"},
	} {
		code, out, errOut = run(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		first := strings.Index(out, "1. ")
		if first < 0 || !strings.Contains(out[first:], "/help/") || !strings.Contains(out, "> ") || !strings.Contains(out, "confidence") {
			t.Errorf("%v: output %q", args, out)
		}
	}

	code, out, errOut = run(t, "", "kb", "ask", "--kb", dir, "--json", "-n", "1", "garden spade")
	if code != 0 {
		t.Fatalf("json: exit %d: %s", code, errOut)
	}
	var res struct {
		Answers []struct {
			ArticleID  string  `json:"article_id"`
			URL        string  `json:"url"`
			Passage    string  `json:"passage"`
			Confidence float64 `json:"confidence"`
		}
		Threshold float64
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	if len(res.Answers) != 1 || res.Answers[0].ArticleID != "garden" || res.Answers[0].URL != "/help/garden" ||
		!strings.Contains(res.Answers[0].Passage, "spades") || res.Threshold <= 0 {
		t.Errorf("json %+v", res)
	}
}

func TestKBAskDemo(t *testing.T) {
	code, out, errOut := run(t, "", "kb", "ask", "which payment methods do you accept?")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, `Answer from "Ways to pay"`) || !strings.Contains(out, "/help/payment-methods") || !strings.Contains(out, "> We accept Visa") {
		t.Errorf("output %q", out)
	}
	code, out, _ = run(t, "", "kb", "ask", "what is the capital of mongolia")
	if code != 0 || !strings.Contains(out, "fall back or hand off") {
		t.Errorf("out-of-KB question: exit %d, %q", code, out)
	}
	huge := "tracking number " + strings.Repeat("x ", 1<<19) // 1 MB
	code, out, errOut = run(t, "", "kb", "ask", huge)
	if code != 0 || !strings.HasPrefix(out, "(question cut to its first 2000 characters)") {
		t.Errorf("1 MB question: exit %d, %.200q %s", code, out, errOut)
	}
}

func TestKBErrors(t *testing.T) {
	broken := writeKB(t, map[string]string{
		"a.md":   kbReturns,
		"b.md":   strings.Replace(kbGarden, "id: garden", "id: returns", 1),
		"bin.md": "\x00\x01",
	})
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no sub-command", []string{"kb"}, 2, []string{"Usage: bot kb"}},
		{"unknown sub-command", []string{"kb", "search"}, 2, []string{`unknown kb command "search"`}},
		{"missing question", []string{"kb", "ask"}, 2, []string{"missing question"}},
		{"empty question", []string{"kb", "ask", "  "}, 1, []string{"empty question"}},
		{"--kb and --index", []string{"kb", "ask", "--kb", broken, "--index", "x", "q"}, 2, []string{"not both"}},
		{"broken folder", []string{"kb", "index", "--kb", broken}, 1, []string{"duplicate article id", "a.md", "b.md", "bin.md", "binary file"}},
		{"missing folder", []string{"kb", "ask", "--kb", filepath.Join(broken, "none"), "q"}, 1, []string{"no such file"}},
		{"not an index", []string{"kb", "ask", "--index", filepath.Join(broken, "a.md"), "q"}, 1, []string{"not a knowledge-base index"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d: %s", code, tc.code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(broken, ".index")); !os.IsNotExist(err) {
		t.Errorf("a broken folder got an index file: %v", err)
	}
}
