package kb

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Limits of what Load and ParseArticle accept. Help-centre articles are a
// few hundred words; the limits are far above that and exist so that a
// wrong folder (a home directory, a dump) fails quickly with a clear error
// rather than filling memory.
const (
	MaxFileBytes = 256 << 10 // one article file
	MaxArticles  = 10_000    // articles in one folder
	maxIDLen     = 64
	maxTitleLen  = 200
	maxTags      = 50
	maxQuestions = 100
	maxPhrase    = 300 // characters of one tag or question
)

// Passage lengths, in words: paragraphs of one section are joined until a
// passage has at least minPassageWords, and a passage never grows past
// maxPassageWords unless one sentence is longer.
const (
	minPassageWords = 40
	maxPassageWords = 120
)

// Article is one help-centre article: its front matter and its body split
// into passages.
type Article struct {
	ID    string   `json:"id"`
	Title string   `json:"title"`
	Tags  []string `json:"tags,omitempty"`
	// Questions are example questions the article answers, in customers'
	// words: they train the help centre's sentence encoder, and BM25 does
	// not index them.
	Questions []string  `json:"questions,omitempty"`
	URL       string    `json:"url"`
	File      string    `json:"file"`
	Passages  []Passage `json:"passages"`
}

// Passage is a piece of an article's body that an answer can quote.
type Passage struct {
	Heading string `json:"heading,omitempty"` // the section's heading, "" before the first
	Text    string `json:"text"`
	Line    int    `json:"line"` // line of the file where the passage starts
}

var (
	idPattern  = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	headingPat = regexp.MustCompile(`^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$`)
	linkTarget = regexp.MustCompile(`\]\([^)\s]*\)`)
)

// ParseArticle reads one article file: front matter between "---" lines
// (id, title, optional tags, questions and url), then a Markdown body. name is used in
// errors and as the article's File. Errors are *FileErrors wrapping
// ErrBinary, ErrTooLarge, ErrEmpty or ErrFrontMatter.
func ParseArticle(name string, data []byte) (Article, error) {
	if len(data) > MaxFileBytes {
		return Article{}, fileErr(name, 0, ErrTooLarge, "%d bytes, the limit is %d", len(data), MaxFileBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Article{}, fileErr(name, 0, ErrEmpty, "the file has no content")
	}
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		return Article{}, fileErr(name, lineOfBinary(data), ErrBinary, "")
	}
	text := strings.TrimPrefix(string(data), "\uFEFF")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(text, "\n")
	if strings.TrimRight(lines[0], " \t") != "---" {
		return Article{}, fileErr(name, 1, ErrFrontMatter, `the file must start with a "---" line, then id and title, then "---"`)
	}
	end := -1
	for i := 1; i < len(lines); i++ {
		if l := strings.TrimRight(lines[i], " \t"); l == "---" || l == "..." {
			end = i
			break
		}
	}
	if end < 0 {
		return Article{}, fileErr(name, 1, ErrFrontMatter, `no closing "---" line`)
	}
	a, err := parseFrontMatter(name, strings.Join(lines[1:end], "\n"))
	if err != nil {
		return Article{}, err
	}
	a.File = name
	a.Passages = splitPassages(lines[end+1:], end+2)
	if len(a.Passages) == 0 {
		return Article{}, fileErr(name, end+1, ErrEmpty, "no text after the front matter")
	}
	return a, nil
}

// lineOfBinary returns the line of the first NUL or invalid UTF-8 byte.
func lineOfBinary(data []byte) int {
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == 0 || (r == utf8.RuneError && size == 1) {
			return line
		}
		if r == '\n' {
			line++
		}
		i += size
	}
	return line
}

// parseFrontMatter reads the YAML between the "---" lines, which start at
// line 2 of the file.
func parseFrontMatter(name, src string) (a Article, err error) {
	const offset = 1 // YAML line 1 is file line 2
	// The YAML library parses input we do not own: a panic in it becomes an
	// error instead of taking the caller down.
	defer func() {
		if r := recover(); r != nil {
			a, err = Article{}, fileErr(name, 1, ErrFrontMatter, "YAML: %v", r)
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		line, msg := yamlErrLine(err)
		if line > 0 {
			line += offset
		}
		return Article{}, fileErr(name, line, ErrFrontMatter, "YAML: %s", msg)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return Article{}, fileErr(name, 2, ErrFrontMatter, "expected key: value lines (id, title, tags, questions, url)")
	}
	m := doc.Content[0]
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		line := k.Line + offset
		if seen[k.Value] {
			return Article{}, fileErr(name, line, ErrFrontMatter, "%q given twice", k.Value)
		}
		seen[k.Value] = true
		switch k.Value {
		case "id", "title", "url":
			if v.Kind != yaml.ScalarNode {
				return Article{}, fileErr(name, line, ErrFrontMatter, "%s must be a single value", k.Value)
			}
			s := strings.TrimSpace(v.Value)
			switch k.Value {
			case "id":
				if !idPattern.MatchString(s) || len(s) > maxIDLen {
					return Article{}, fileErr(name, line, ErrFrontMatter,
						"id %q: use lower-case letters, digits and single dashes (a-z, 0-9, -), at most %d characters", s, maxIDLen)
				}
				a.ID = s
			case "title":
				if s == "" || len(s) > maxTitleLen || strings.ContainsAny(s, "\n\r") {
					return Article{}, fileErr(name, line, ErrFrontMatter, "title must be one line of 1 to %d characters", maxTitleLen)
				}
				a.Title = s
			case "url":
				if !validURL(s) {
					return Article{}, fileErr(name, line, ErrFrontMatter, "url %q: give a path starting with / or an http(s):// address, without spaces", s)
				}
				a.URL = s
			}
		case "tags":
			if a.Tags, err = phrases(name, offset, v, "tags", maxTags, "e.g. [refund, money back]"); err != nil {
				return Article{}, err
			}
		case "questions":
			if a.Questions, err = phrases(name, offset, v, "questions", maxQuestions, `e.g. ["can I send back a gift?"]`); err != nil {
				return Article{}, err
			}
		default:
			return Article{}, fileErr(name, line, ErrFrontMatter, "unknown key %q (known: id, title, tags, questions, url)", k.Value)
		}
	}
	if a.ID == "" {
		return Article{}, fileErr(name, 2, ErrFrontMatter, "id is required")
	}
	if a.Title == "" {
		return Article{}, fileErr(name, 2, ErrFrontMatter, "title is required")
	}
	if a.URL == "" {
		a.URL = "/help/" + a.ID
	}
	return a, nil
}

// phrases reads the front matter list key (at most limit one-line phrases of
// 1 to maxPhrase characters) from v.
func phrases(name string, offset int, v *yaml.Node, key string, limit int, example string) ([]string, error) {
	line := v.Line + offset
	if v.Kind != yaml.SequenceNode {
		return nil, fileErr(name, line, ErrFrontMatter, "%s must be a list, %s", key, example)
	}
	if len(v.Content) > limit {
		return nil, fileErr(name, line, ErrFrontMatter, "%d %s, at most %d", len(v.Content), key, limit)
	}
	var out []string
	for _, t := range v.Content {
		s := strings.TrimSpace(t.Value)
		if t.Kind != yaml.ScalarNode || s == "" || len(s) > maxPhrase || strings.ContainsAny(s, "\n\r") {
			return nil, fileErr(name, t.Line+offset, ErrFrontMatter, "each of the %s must be one line of 1 to %d characters", key, maxPhrase)
		}
		out = append(out, s)
	}
	return out, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlErrLine(err error) (int, string) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		var n int
		fmt.Sscan(m[1], &n)
		return n, m[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

func validURL(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\n\r\"<>") {
		return false
	}
	return (strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//")) ||
		strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// paragraph is a run of non-blank body lines under one heading.
type paragraph struct {
	heading string
	text    string
	line    int
	words   int
}

// splitPassages splits body lines (the first at file line first) into
// passages: by heading, then by paragraph, joining short paragraphs of one
// section and splitting long ones at sentence ends.
func splitPassages(lines []string, first int) []Passage {
	var paras []paragraph
	heading := ""
	var cur []string
	curLine := 0
	flush := func() {
		if len(cur) > 0 {
			t := strings.Join(cur, "\n")
			paras = append(paras, paragraph{heading: heading, text: t, line: curLine, words: len(strings.Fields(t))})
		}
		cur = nil
	}
	fence := false
	for i, l := range lines {
		l = strings.TrimRight(l, " \t")
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			fence = !fence
			continue
		}
		if !fence {
			if m := headingPat.FindStringSubmatch(l); m != nil {
				flush()
				heading = m[2]
				continue
			}
			if strings.TrimSpace(l) == "" {
				flush()
				continue
			}
		}
		if len(cur) == 0 {
			curLine = first + i
		}
		cur = append(cur, l)
	}
	flush()

	var out []Passage
	var acc []paragraph
	emit := func() {
		if len(acc) == 0 {
			return
		}
		texts := make([]string, len(acc))
		for i, p := range acc {
			texts[i] = p.text
		}
		out = append(out, Passage{Heading: acc[0].heading, Text: strings.Join(texts, "\n\n"), Line: acc[0].line})
		acc = nil
	}
	words := 0
	for _, p := range paras {
		if len(acc) > 0 && (p.heading != acc[0].heading || (words >= minPassageWords && words+p.words > maxPassageWords)) {
			emit()
			words = 0
		}
		if p.words > maxPassageWords {
			emit()
			for _, chunk := range splitLong(p.text) {
				out = append(out, Passage{Heading: p.heading, Text: chunk, Line: p.line})
			}
			words = 0
			continue
		}
		acc = append(acc, p)
		words += p.words
	}
	emit()
	return out
}

// splitLong splits one long paragraph at sentence ends into pieces of at
// most maxPassageWords words (a single longer sentence is cut by words).
func splitLong(text string) []string {
	words := strings.Fields(text)
	var out []string
	start := 0
	lastEnd := -1 // index after the last sentence-ending word in the piece
	for i, w := range words {
		if i-start+1 > maxPassageWords {
			cut := lastEnd
			if cut <= start {
				cut = i
			}
			out = append(out, strings.Join(words[start:cut], " "))
			start, lastEnd = cut, -1
		}
		if strings.HasSuffix(w, ".") || strings.HasSuffix(w, "?") || strings.HasSuffix(w, "!") {
			lastEnd = i + 1
		}
	}
	if start < len(words) {
		out = append(out, strings.Join(words[start:], " "))
	}
	return out
}

// indexText is the text of a passage that BM25 indexes: the article's title
// and tags give every passage its topic, the heading its context. Link
// targets are dropped: "(/help/returns)" is not something a reader asks.
func indexText(a *Article, p *Passage) string {
	return a.Title + "\n" + strings.Join(a.Tags, "\n") + "\n" + p.Heading + "\n" + linkTarget.ReplaceAllString(p.Text, "]")
}
