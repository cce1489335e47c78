package seq2seq

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTokenize(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     []string
	}{
		{"words and punctuation", "Hello, World!", []string{"hello", ",", "world", "!"}},
		{"placeholder kept verbatim", "Your order {{Order Number}} ships.", []string{"your", "order", "{{Order Number}}", "ships", "."}},
		{"placeholders side by side", "{{A}}{{B}}", []string{"{{A}}", "{{B}}"}},
		{"apostrophes", "I'm sure it’s fine", []string{"i'm", "sure", "it's", "fine"}},
		{"line breaks", "Steps:\n\n1. Log in\r\n2. Pay\n", []string{"steps", ":", "\n", "1", ".", "log", "in", "\n", "2", ".", "pay"}},
		{"unclosed braces", "{{oops", []string{"{", "{", "oops"}},
		{"money and percent", "$5 or 10%", []string{"$", "5", "or", "10", "%"}},
		{"empty", "  \n ", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Tokenize(c.in); !slices.Equal(got, c.want) {
				t.Errorf("Tokenize(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestDetokenize(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []string
		want string
	}{
		{"sentences", []string{"hello", ",", "world", "!", "how", "are", "you", "?"}, "Hello, world! How are you?"},
		{"placeholder", []string{"order", "{{Order Number}}", "is", "late", "."}, "Order {{Order Number}} is late."},
		{"placeholder first", []string{"{{Name}}", ",", "hi"}, "{{Name}}, hi"},
		{"list", []string{"steps", ":", "\n", "1", ".", "log", "in", "\n", "2", ".", "pay", "(", "by", "card", ")"}, "Steps:\n1. Log in\n2. Pay (by card)"},
		{"money", []string{"it", "costs", "$", "5", "(", "10", "%", "off", ")"}, "It costs $5 (10% off)"},
		{"specials dropped", []string{"<s>", "ok", "<unk>", "</s>"}, "Ok"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Detokenize(c.in); got != c.want {
				t.Errorf("Detokenize(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// FuzzTokenize: tokens never hold white space (but the line break token),
// and detokenized text tokenizes back to the same tokens.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{
		"I need to cancel order {{Order Number}}, can you help?",
		"I'm sorry to hear that! Here's what you can do:\n\n1. Go to {{Online Company Portal Info}}\n2. Click on '{{Cancel Order}}'.",
		"how much is the fee?? 10% $5", "{{a}}{{b}} {{", "}}{{ x }}", "İstanbul ǅ ß ﬁ", "don't won’t 'quoted'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks := Tokenize(s)
		for _, tok := range toks {
			if tok == "" || (tok != nlTok && !isPlaceholder(tok) && strings.ContainsAny(tok, " \t\n\r")) {
				t.Fatalf("token %q of %q", tok, s)
			}
		}
		text := Detokenize(toks)
		if utf8.ValidString(s) && !utf8.ValidString(text) {
			t.Fatalf("Detokenize gave invalid UTF-8 %q", text)
		}
		if utf8.ValidString(s) {
			if back := Tokenize(text); !slices.Equal(back, toks) {
				t.Fatalf("%q -> %q -> %q -> %q", s, toks, text, back)
			}
		}
	})
}
