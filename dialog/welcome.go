package dialog

import (
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Welcome is what a chat shows before the visitor's first message: a
// greeting and a few messages to start with, one click each. The web widget
// shows them (served at /widget.json); they are not stored in any
// conversation, and a starter clicked is sent as the visitor's message.
type Welcome struct {
	Greeting string   // empty: none
	Starters []string // at most MaxStarters
}

// Limits of the welcome section: a starter is a button label that is sent as
// a message, so it stays short.
const (
	MaxStarters     = 5
	maxStarterRunes = 80
	maxGreetRunes   = 500
)

// welcome reads the optional welcome section:
//
//	welcome:
//	  greeting: Hi! I'm the shop's assistant. How can I help?
//	  starters: [Where is my order?, How do I return something?]
//
// The greeting is said before the conversation exists, so it takes no
// placeholders; starters are plain messages, different from each other.
func (p *domainParser) welcome(n *yaml.Node) (Welcome, error) {
	var w Welcome
	f, err := p.fields(n, "welcome", "greeting", "starters")
	if err != nil {
		return w, err
	}
	if g, ok := f["greeting"]; ok {
		if w.Greeting, err = p.plainText(g, "welcome greeting", maxGreetRunes, false); err != nil {
			return w, err
		}
	}
	if s, ok := f["starters"]; ok {
		if s.Kind != yaml.SequenceNode {
			return w, p.errf(s, "welcome starters: want a list of messages")
		}
		if len(s.Content) > MaxStarters {
			return w, p.errf(s, "welcome starters: %d messages, at most %d", len(s.Content), MaxStarters)
		}
		for _, item := range s.Content {
			t, err := p.plainText(item, "welcome starter", maxStarterRunes, true)
			if err != nil {
				return w, err
			}
			for _, prev := range w.Starters {
				if strings.EqualFold(prev, t) {
					return w, p.errf(item, "welcome starter %q twice", t)
				}
			}
			w.Starters = append(w.Starters, t)
		}
	}
	return w, nil
}

// plainText reads a non-empty string of at most max runes, without
// placeholders, trimmed; oneLine refuses line breaks.
func (p *domainParser) plainText(n *yaml.Node, what string, max int, oneLine bool) (string, error) {
	if n.Kind != yaml.ScalarNode || strings.TrimSpace(n.Value) == "" {
		return "", p.errf(n, "%s: want a non-empty string", what)
	}
	t := strings.TrimSpace(n.Value)
	switch {
	case oneLine && strings.ContainsAny(t, "\r\n"):
		return "", p.errf(n, "%s: want one line", what)
	case utf8.RuneCountInString(t) > max:
		return "", p.errf(n, "%s: %d characters, at most %d", what, utf8.RuneCountInString(t), max)
	case placeholder.MatchString(t):
		return "", p.errf(n, "%s: no placeholders here (it is shown before the conversation starts)", what)
	}
	return t, nil
}
