package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/shoptest"
	"github.com/parleyhq/parley/nlp/kb"
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

	data := t.TempDir()
	for _, args := range [][]string{
		{"kb", "ask", "--kb", dir, "--data-dir", data, "can I send a rake back?"},
		{"kb", "ask", "--index", index, "--data-dir", data, "can I send a rake back?"},
		{"kb", "ask", "--kb", dir, "--bm25-only", "can I send a rake back?"},
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

	code, out, errOut = run(t, "", "kb", "ask", "--kb", dir, "--data-dir", data, "--json", "-n", "1", "garden spade")
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
	t.Parallel()
	data := t.TempDir()
	code, out, errOut := run(t, "", "kb", "ask", "--data-dir", data, "which payment methods do you accept?")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, `Answer from "Ways to pay"`) || !strings.Contains(out, "/help/payment-methods") || !strings.Contains(out, "> We accept Visa") {
		t.Errorf("output %q", out)
	}
	// The first ask trained the encoder and cached it; the next loads it.
	if !strings.Contains(errOut, "kb: training the help-centre encoder") || !strings.Contains(errOut, "kb: encoder trained and saved") {
		t.Errorf("first ask: stderr %q", errOut)
	}
	if _, err := os.Stat(filepath.Join(data, kbEncoderDir, "meta.json")); err != nil {
		t.Errorf("no cached encoder: %v", err)
	}
	code, out, errOut = run(t, "", "kb", "ask", "--data-dir", data, "what is the capital of mongolia")
	if code != 0 || !strings.Contains(out, "fall back or hand off") || strings.Contains(errOut, "training") {
		t.Errorf("out-of-KB question: exit %d, %q, stderr %q", code, out, errOut)
	}
	// A paraphrase with few of the article's words: the encoder finds it.
	code, out, _ = run(t, "", "kb", "ask", "--data-dir", data, "how do I look after leather boots")
	if code != 0 || !strings.HasPrefix(out, `Answer from "Looking after leather"`) {
		t.Errorf("leather: exit %d, %q", code, out)
	}
	huge := "tracking number " + strings.Repeat("x ", 1<<19) // 1 MB
	code, out, errOut = run(t, "", "kb", "ask", "--data-dir", data, huge)
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

// TestServeKB: "bot serve" answers from the help centre where the intents
// do not cover a question (over the web chat), suggests the help centre's
// passage to agents (over the REST API), logs the encoder's training at
// the first start and loads it from the data directory at the next.
func TestServeKB(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"--data-dir", data, "--model", shoptest.ModelDir(t), "--api-token", "s3cret-token"}
	s := startServeAsIs(t, args...)
	if log := s.errOut.String(); !strings.Contains(log, "kb: training the help-centre encoder") || !strings.Contains(log, "kb: help centre ready") {
		t.Errorf("first start's log lacks the encoder's training: %s", log)
	}

	// Out of scope for the intents, answered by the "Looking after
	// leather" article.
	conn, welcome := dialChat(t, s.base, "")
	send(t, conn, map[string]any{"v": 1, "type": "message", "client_id": "c1", "text": "how do I look after leather boots"})
	reply := readUntil(t, conn, func(f wsFrame) bool { return f.Type == "message" && f.Sender == "bot" })
	if !strings.Contains(reply.Text, "/help/leather-care") || !strings.Contains(reply.Text, "leather") {
		t.Errorf("reply %q is not the leather article", reply.Text)
	}

	send(t, conn, map[string]any{"v": 1, "type": "message", "client_id": "c2", "text": "can I return a gift without the receipt?"})
	readUntil(t, conn, func(f wsFrame) bool {
		return f.Type == "message" && f.Sender == "bot" && f.ClientID == "" && f.Text != reply.Text
	})
	got := suggestionsOf(t, s.base, "s3cret-token", welcome.ConversationID)
	found := false
	for _, sg := range got {
		found = found || (sg.Source == "kb" && sg.Ref == "return-gift" && strings.Contains(sg.Text, "You do not need a receipt to return a present"))
	}
	if !found {
		t.Errorf("suggestions %+v lack the return-gift passage", got)
	}
	conn.Close()
	s.stop(t)

	// The restart loads the encoder instead of training it again.
	s = startServeAsIs(t, args...)
	if log := s.errOut.String(); strings.Contains(log, "kb: training") || !strings.Contains(log, "kb: help centre ready") {
		t.Errorf("restart's log: %s", log)
	}
}

// TestServeKBBadFolder: a broken --kb folder stops serve at the start with
// the file's name.
func TestServeKBBadFolder(t *testing.T) {
	dir := writeKB(t, map[string]string{"a.md": "---\nid: a\n---\nno title\n"})
	code, _, errOut := run(t, "", "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--model", shoptest.ModelDir(t), "--kb", dir)
	if code == 0 || !strings.Contains(errOut, "a.md") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// TestKBAnswerer: the engine's help centre quotes the best article when
// confident, says nothing for a blank or unrelated message, and reads only
// the first kb.MaxQuestionRunes of a 1 MB message.
func TestKBAnswerer(t *testing.T) {
	ix, err := buildKBIndex("")
	if err != nil {
		t.Fatal(err)
	}
	a := kbAnswerer{kb.NewSearcher(ix)}
	ctx := context.Background()
	for _, tc := range []struct {
		name, text string
		ok         bool
		url        string
	}{
		{"answered", "do you accept paypal?", true, "/help/payment-methods"},
		{"blank", "  \n", false, ""},
		{"unrelated", "what is the capital of mongolia", false, ""},
		{"1 MB", "do you accept paypal? " + strings.Repeat("x ", 1<<19), true, "/help/payment-methods"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := a.Answer(ctx, tc.text)
			if err != nil || ok != tc.ok || got.URL != tc.url {
				t.Fatalf("answer %+v, ok %v, err %v; want ok %v, %s", got, ok, err, tc.ok, tc.url)
			}
			if ok && (got.Passage == "" || got.Title == "" || got.Confidence < a.s.Calibration.Threshold) {
				t.Errorf("answer %+v", got)
			}
		})
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := a.Answer(cancelled, "which payment methods do you accept?"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err %v", err)
	}
}
