package kb

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/shop"
)

// FuzzParseArticle checks that no input makes the reader panic, that every
// failure is a *FileError for the file with a line inside it, and that what
// parses keeps Article's invariants. It is seeded with the demo articles.
func FuzzParseArticle(f *testing.F) {
	demo := shop.KB()
	names, err := fs.Glob(demo, "*.md")
	if err != nil || len(names) == 0 {
		f.Fatalf("demo articles: %v, %d", err, len(names))
	}
	for _, n := range names {
		data, err := fs.ReadFile(demo, n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		goodArticle,
		"---\nid: a\ntitle: T\ntags: &x [a]\nurl: /x\n---\n```\n# not a heading\n```\ntext\n",
		"---\r\nid: a\r\ntitle: \"T\"\r\n...\r\n# H #\r\n\r\npara\r\n",
		"---\nid: a\ntitle: T\n---\n" + strings.Repeat("word. ", 300),
		"---\n---\n",
		"---\n: :\n---\nx\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseArticle("f.md", data)
		lines := strings.Count(string(data), "\n") + 1
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || fe.File != "f.md" || fe.Line < 0 || fe.Line > lines {
				t.Fatalf("error %v: want a *FileError for f.md within %d lines", err, lines)
			}
			return
		}
		if !idPattern.MatchString(a.ID) || a.Title == "" || !validURL(a.URL) || len(a.Passages) == 0 {
			t.Fatalf("invalid article %+v", a)
		}
		if !utf8.Valid(data) || len(data) > MaxFileBytes {
			t.Fatal("accepted a binary or oversized file")
		}
		for _, q := range append(slices.Clone(a.Tags), a.Questions...) {
			if q == "" || len(q) > maxPhrase || strings.ContainsAny(q, "\n\r") {
				t.Fatalf("tag or question %q", q)
			}
		}
		last := 0
		for _, p := range a.Passages {
			if strings.TrimSpace(p.Text) == "" || p.Line < last || p.Line < 3 || p.Line > lines {
				t.Fatalf("passage %+v (file of %d lines, previous at %d)", p, lines, last)
			}
			last = p.Line
		}
	})
}
