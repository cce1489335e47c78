package kb

import (
	"errors"
	"strings"
	"testing"
)

const goodArticle = `---
id: return-policy
title: Our return policy
tags: [returns, send back]
questions: ["how long do I have to return shoes?", can i send back earbuds]
---
Intro line before any heading.

# How long

You have 30 days.
Second line of the same paragraph.

## Exceptions ##

Earbuds cannot be returned once opened.
`

func TestParseArticle(t *testing.T) {
	a, err := ParseArticle("ret.md", []byte(goodArticle))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "return-policy" || a.Title != "Our return policy" || a.URL != "/help/return-policy" || a.File != "ret.md" {
		t.Errorf("got %+v", a)
	}
	if len(a.Tags) != 2 || a.Tags[1] != "send back" {
		t.Errorf("tags %q", a.Tags)
	}
	if len(a.Questions) != 2 || a.Questions[0] != "how long do I have to return shoes?" || a.Questions[1] != "can i send back earbuds" {
		t.Errorf("questions %q", a.Questions)
	}
	want := []Passage{
		{Heading: "", Text: "Intro line before any heading.", Line: 7},
		{Heading: "How long", Text: "You have 30 days.\nSecond line of the same paragraph.", Line: 11},
		{Heading: "Exceptions", Text: "Earbuds cannot be returned once opened.", Line: 16},
	}
	if len(a.Passages) != len(want) {
		t.Fatalf("passages %+v", a.Passages)
	}
	for i := range want {
		if a.Passages[i] != want[i] {
			t.Errorf("passage %d = %+v, want %+v", i, a.Passages[i], want[i])
		}
	}
}

func TestParseArticleURLAndCRLF(t *testing.T) {
	src := "\uFEFF---\r\nid: a1\r\ntitle: T\r\nurl: https://help.example.com/a1\r\n---\r\nBody.\r\n"
	a, err := ParseArticle("a.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if a.URL != "https://help.example.com/a1" || a.Passages[0].Text != "Body." {
		t.Errorf("got %+v", a)
	}
}

// TestParseArticleErrors has one case per kind of bad file: each must be a
// *FileError wrapping the right sentinel, at the right line, saying why.
func TestParseArticleErrors(t *testing.T) {
	fm := func(lines ...string) string { return "---\n" + strings.Join(lines, "\n") + "\n---\nBody text.\n" }
	for _, tc := range []struct {
		name     string
		src      string
		sentinel error
		line     int
		msg      string
	}{
		{"empty file", "", ErrEmpty, 0, "no content"},
		{"only blanks", " \n\n\t\n", ErrEmpty, 0, "no content"},
		{"huge file", "---\nid: a\ntitle: t\n---\n" + strings.Repeat("word ", MaxFileBytes/5+1), ErrTooLarge, 0, "limit"},
		{"NUL byte", "---\nid: a\ntitle: t\n---\nbin\x00ary\n", ErrBinary, 5, ""},
		{"not UTF-8", "---\nid: a\ntitle: t\n---\n\xff\xfe\n", ErrBinary, 5, ""},
		{"no front matter", "# Title\n\nBody\n", ErrFrontMatter, 1, `start with a "---"`},
		{"unterminated", "---\nid: a\ntitle: t\nBody\n", ErrFrontMatter, 1, "no closing"},
		{"YAML syntax", fm("id: a", "title: a: b"), ErrFrontMatter, 3, "YAML"},
		{"tab indent", fm("id: a", "\ttitle: T"), ErrFrontMatter, 3, "tab"},
		{"not a mapping", fm("- a", "- b"), ErrFrontMatter, 2, "key: value"},
		{"missing id", fm("title: T"), ErrFrontMatter, 2, "id is required"},
		{"bad id", fm("id: Returns_Policy", "title: T"), ErrFrontMatter, 2, "lower-case"},
		{"id a list", fm("id: [a, b]", "title: T"), ErrFrontMatter, 2, "single value"},
		{"missing title", fm("id: a"), ErrFrontMatter, 2, "title is required"},
		{"empty title", fm("id: a", "title: ''"), ErrFrontMatter, 3, "title must be"},
		{"unknown key", fm("id: a", "title: T", "titel: X"), ErrFrontMatter, 4, `unknown key "titel"`},
		{"key twice", fm("id: a", "title: T", "id: b"), ErrFrontMatter, 4, "twice"},
		{"tags not a list", fm("id: a", "title: T", "tags: refunds"), ErrFrontMatter, 4, "tags must be a list"},
		{"empty tag", fm("id: a", "title: T", "tags: [ok, '']"), ErrFrontMatter, 4, "tags must be one line of 1 to 300 characters"},
		{"questions not a list", fm("id: a", "title: T", "questions: can I?"), ErrFrontMatter, 4, "questions must be a list"},
		{"question on two lines", fm("id: a", "title: T", `questions: ["one\ntwo"]`), ErrFrontMatter, 4, "questions must be one line"},
		{"question too long", fm("id: a", "title: T", "questions: ["+strings.Repeat("a", 301)+"]"), ErrFrontMatter, 4, "1 to 300 characters"},
		{"too many questions", fm("id: a", "title: T", "questions: ["+strings.Repeat("q, ", 100)+"q]"), ErrFrontMatter, 4, "101 questions, at most 100"},
		{"script url", fm("id: a", "title: T", "url: javascript:alert(1)"), ErrFrontMatter, 4, "url"},
		{"empty body", "---\nid: a\ntitle: T\n---\n\n\n", ErrEmpty, 4, "no text after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseArticle("x.md", []byte(tc.src))
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("error %v, want %v", err, tc.sentinel)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.File != "x.md" || fe.Line != tc.line {
				t.Errorf("error %v: want a *FileError for x.md at line %d", err, tc.line)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
		})
	}
}

func TestSplitPassagesLengths(t *testing.T) {
	sentence := "This sentence has exactly eight words in it. "
	var b strings.Builder
	b.WriteString("---\nid: long\ntitle: Long\n---\n# Short paragraphs\n\n")
	for range 12 { // 12 paragraphs of 16 words: joined up to 120 words
		b.WriteString(strings.Repeat(sentence, 2) + "\n\n")
	}
	b.WriteString("# One long paragraph\n\n" + strings.Repeat(sentence, 40) + "\n")
	a, err := ParseArticle("long.md", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	var short, long int
	for _, p := range a.Passages {
		n := len(strings.Fields(p.Text))
		if n > maxPassageWords {
			t.Errorf("passage of %d words: %q", n, p.Text)
		}
		switch p.Heading {
		case "Short paragraphs":
			short++
			if n < minPassageWords && short == 1 {
				t.Errorf("first passage has %d words; short paragraphs should be joined", n)
			}
		case "One long paragraph":
			long++
			if !strings.HasSuffix(p.Text, ".") {
				t.Errorf("long paragraph cut mid-sentence: %q", p.Text)
			}
		}
	}
	if short != 2 || long != 3 { // 192 words -> 112+80; 320 words -> 120+120+80
		t.Errorf("got %d and %d passages, want 2 and 3", short, long)
	}
}

// TestQuestionsNotIndexed: an article's questions train the encoder; BM25
// does not index them, so a word found only in them finds nothing.
func TestQuestionsNotIndexed(t *testing.T) {
	a, err := ParseArticle("ret.md", []byte(goodArticle))
	if err != nil {
		t.Fatal(err)
	}
	ix, err := NewIndex(&KB{Articles: []Article{a}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{"shoes": 0, "earbuds": 1} {
		hits, err := ix.BM25Retriever().Retrieve(t.Context(), Query{Text: q, Terms: Terms(q)})
		if err != nil || len(hits) != want {
			t.Errorf("%q: %d hits (%v), want %d", q, len(hits), err, want)
		}
	}
}
