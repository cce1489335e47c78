package dialog_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shoptest"
)

func TestParseDomainWelcome(t *testing.T) {
	const welcome = `welcome:
  greeting: "Hi! How can I help?"
  starters:
    - Where is my order?
    - How do I return something?
`
	d, err := dialog.ParseDomain("d.yml", []byte(minimal+welcome), labels)
	if err != nil {
		t.Fatal(err)
	}
	want := dialog.Welcome{Greeting: "Hi! How can I help?", Starters: []string{"Where is my order?", "How do I return something?"}}
	if d.Welcome.Greeting != want.Greeting || !slices.Equal(d.Welcome.Starters, want.Starters) {
		t.Errorf("welcome = %+v, want %+v", d.Welcome, want)
	}

	d, err = dialog.ParseDomain("d.yml", []byte(minimal), labels)
	if err != nil {
		t.Fatal(err)
	}
	if d.Welcome.Greeting != "" || d.Welcome.Starters != nil {
		t.Errorf("a domain without a welcome section has %+v", d.Welcome)
	}

	// The shop greets and offers three starters, as the demo page shows.
	if w := shoptest.Domain(t).Welcome; w.Greeting == "" || len(w.Starters) != 3 {
		t.Errorf("shop welcome = %+v, want a greeting and three starters", w)
	}
}

func TestParseDomainWelcomeErrors(t *testing.T) {
	tests := []struct {
		name    string
		section string
		line    int
		reason  string
	}{
		{"unknown field", "welcome:\n  hello: Hi\n", 25, `unknown field "hello"`},
		{"placeholder", "welcome:\n  greeting: Hi {first_name}!\n", 25, "no placeholders"},
		{"empty greeting", "welcome:\n  greeting: \"  \"\n", 25, "non-empty string"},
		{"starters not a list", "welcome:\n  starters: Where is my order?\n", 25, "want a list"},
		{"too many starters", "welcome:\n  starters: [a, b, c, d, e, f]\n", 25, "6 messages, at most 5"},
		{"starter twice", "welcome:\n  starters: [Hello, hello]\n", 25, `"hello" twice`},
		{"starter on two lines", "welcome:\n  starters: [\"one\\ntwo\"]\n", 25, "one line"},
		{"long starter", "welcome:\n  starters: [" + strings.Repeat("x", 81) + "]\n", 25, "81 characters, at most 80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dialog.ParseDomain("d.yml", []byte(minimal+tt.section), labels)
			var de *dialog.DomainError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *DomainError", err)
			}
			if de.Line != tt.line || !strings.Contains(de.Reason, tt.reason) {
				t.Errorf("err = %v, want line %d and %q", err, tt.line, tt.reason)
			}
		})
	}
}
