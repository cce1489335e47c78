package dialog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shoptest"
)

// fakeAnswerer answers from a script: each call takes the next scripted
// result, and with none left it is not confident. It records the texts it
// was asked.
type fakeAnswerer struct {
	mu     sync.Mutex
	next   []kbResult // guarded by mu
	asked  []string   // guarded by mu
	always *kbResult  // answers every call when set (not scripted)
}

type kbResult struct {
	answer dialog.KBAnswer
	ok     bool
	err    error
}

func (f *fakeAnswerer) Answer(_ context.Context, text string) (dialog.KBAnswer, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, text)
	if f.always != nil {
		return f.always.answer, f.always.ok, f.always.err
	}
	if len(f.next) == 0 {
		return dialog.KBAnswer{}, false, nil
	}
	r := f.next[0]
	f.next = f.next[1:]
	return r.answer, r.ok, r.err
}

// newKBHarness is newHarness with kb as the engine's Answerer.
func newKBHarness(t testing.TB, kb dialog.Answerer) *harness {
	t.Helper()
	return newHarnessWith(t, shoptest.Domain(t), kb)
}

// TestKBTranscripts plays testdata/kb/*.chat against the shop domain with a
// scripted Answerer, like TestTranscripts (same golden files, -update to
// refresh), with these lines besides '> TEXT || SPEC' and '= ...':
//
//	as EMAIL          the conversation starts with a known customer
//	kb answer JSON    the next question is answered: {"Title","Passage","URL","Confidence"}
//	kb unsure         the next question has no confident answer
//	kb fail REASON    the next question fails in the answerer
//	= asked N         the answerer has been asked N questions so far
func TestKBTranscripts(t *testing.T) {
	playGoldens(t, filepath.Join("testdata", "kb", "*.chat"), 3, playKB)
}

func playKB(t *testing.T, script string) []byte {
	t.Helper()
	kb := &fakeAnswerer{}
	out := play(t, script, &scriptExt{
		harness: func(t testing.TB) *harness { return newKBHarness(t, kb) },
		line: func(where, line string) (ok, check bool) {
			kb.mu.Lock()
			defer kb.mu.Unlock()
			switch {
			case strings.HasPrefix(line, "kb "):
				kb.next = append(kb.next, scriptKB(t, where, strings.TrimSpace(line[3:])))
				return true, false
			case strings.HasPrefix(line, "= asked "):
				if want := strings.TrimSpace(line[len("= asked "):]); fmt.Sprint(len(kb.asked)) != want {
					t.Errorf("%s: answerer asked %d questions, want %s", where, len(kb.asked), want)
				}
				return true, true
			}
			return false, false
		},
	})
	kb.mu.Lock()
	defer kb.mu.Unlock()
	if len(kb.next) != 0 {
		t.Errorf("%s: %d scripted kb results were never asked for", script, len(kb.next))
	}
	return out
}

// scriptKB reads "answer JSON", "unsure" or "fail REASON".
func scriptKB(t *testing.T, where, spec string) kbResult {
	t.Helper()
	verb, rest, _ := strings.Cut(spec, " ")
	switch verb {
	case "answer":
		var r kbResult
		if err := json.Unmarshal([]byte(rest), &r.answer); err != nil {
			t.Fatalf("%s: kb answer: %v", where, err)
		}
		r.ok = true
		return r
	case "unsure":
		return kbResult{answer: dialog.KBAnswer{Title: "Gift cards", Passage: "Gift cards never expire.", URL: "/help/gift-cards", Confidence: 0.3}}
	case "fail":
		return kbResult{err: errors.New(strings.TrimSpace(rest))}
	}
	t.Fatalf("%s: want 'kb answer JSON', 'kb unsure' or 'kb fail REASON'", where)
	return kbResult{}
}

// TestKBNotAskedInScope: a question the domain answers never reaches the
// answerer, and an engine without one behaves as before (out_of_scope).
func TestKBNotAskedInScope(t *testing.T) {
	kb := &fakeAnswerer{always: &kbResult{answer: dialog.KBAnswer{Title: "T", Passage: "P", URL: "/help/t"}, ok: true}}
	h := newKBHarness(t, kb)
	conv := h.start(t, "")
	o := h.say(t, conv.ID, "which cards do you take", "payment_methods:0.9")
	if len(kb.asked) != 0 || !strings.Contains(o.Replies[0].Text, "We accept Visa") {
		t.Errorf("in-scope question: asked %q, replies %+v", kb.asked, o.Replies)
	}
	o = h.say(t, conv.ID, "can I return a gift without the receipt?", "oos greet:0.1")
	if len(kb.asked) != 1 || kb.asked[0] != "can I return a gift without the receipt?" || !hasAction(o, "kb_answer") {
		t.Errorf("out-of-scope question: asked %q, actions %q", kb.asked, o.Actions)
	}

	plain := newHarness(t)
	conv = plain.start(t, "")
	if o := plain.say(t, conv.ID, "can I return a gift without the receipt?", "oos greet:0.1"); !hasAction(o, "out_of_scope") {
		t.Errorf("no answerer: actions %q", o.Actions)
	}
}

// TestKBAnswersNeverHandOff: many out-of-scope questions in a row that the
// help centre answers never count as failures.
func TestKBAnswersNeverHandOff(t *testing.T) {
	kb := &fakeAnswerer{always: &kbResult{answer: dialog.KBAnswer{Title: "Returns", Passage: "Within 30 days.", URL: "/help/returns"}, ok: true}}
	h := newKBHarness(t, kb)
	conv := h.start(t, "")
	for i := range 5 {
		o := h.say(t, conv.ID, fmt.Sprintf("question %d about returns", i), "oos greet:0.1")
		if !hasAction(o, "kb_answer") || o.Conversation.State != crm.StateBot || o.Conversation.Slots["_failures"] != "" {
			t.Fatalf("question %d: actions %q, state %s, slots %v", i, o.Actions, o.Conversation.State, o.Conversation.Slots)
		}
	}
}

func hasAction(o dialog.Outcome, a string) bool {
	for _, x := range o.Actions {
		if x == a {
			return true
		}
	}
	return false
}
