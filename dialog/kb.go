package dialog

import (
	"context"
	"errors"
)

// Answerer answers a customer's question from the help centre's articles
// (cmd/bot wires nlp/kb's searcher, BM25 plus the sentence encoder). The
// engine asks it where it would otherwise say the message is out of scope
// or fall back. ok is false when no article answers the question with
// enough confidence; an error (the answerer failed) is logged and the turn
// goes on as if there were no answerer. It must be safe for concurrent use.
type Answerer interface {
	Answer(ctx context.Context, text string) (a KBAnswer, ok bool, err error)
}

// KBAnswer is a help-centre passage that answers a question.
type KBAnswer struct {
	Title      string  // the article's title
	Passage    string  // the passage to quote
	URL        string  // the article's link
	Confidence float64 // 0..1, calibrated
}

// messageKBAnswer is the domain message said with a KBAnswer; its
// placeholders are {kb.title}, {kb.passage} and {kb.url}.
const messageKBAnswer = "kb_answer"

// defaultKBAnswer is said where the domain has no "kb_answer" message.
var defaultKBAnswer = []string{`Our help centre says ("{kb.title}"): "{kb.passage}" The full article: {kb.url}`}

// answerFromKB asks the engine's Answerer (if any) about the message and,
// when it is confident, quotes the passage and links the article (action
// "kb_answer"). It reports whether it answered. An answer is not a
// failure: the failures in a row start again, as after any answer. A failing
// answerer is logged and treated as not confident, so the turn goes on
// unchanged; only a done ctx is returned.
func (t *turn) answerFromKB(ctx context.Context) (bool, error) {
	if t.e.kb == nil || t.text == "" {
		return false, nil
	}
	a, ok, err := t.e.kb.Answer(ctx, t.text)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return false, err
		}
		t.e.log.Warn("kb answer", "conversation", t.conv.ID, "err", err)
		return false, nil
	}
	if !ok || a.Passage == "" {
		return false, nil
	}
	variants := t.msg(messageKBAnswer)
	if len(variants) == 0 {
		variants = defaultKBAnswer
	}
	t.say(variants, vars{"kb.title": a.Title, "kb.passage": a.Passage, "kb.url": a.URL})
	t.act(messageKBAnswer)
	return true, nil
}
