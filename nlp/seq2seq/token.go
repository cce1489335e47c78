package seq2seq

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Special tokens, the first ids of every vocabulary.
const (
	padTok = "<pad>"
	bosTok = "<s>"
	eosTok = "</s>"
	unkTok = "<unk>"
	nlTok  = "\n" // one or more line breaks, kept so that lists stay readable
)

const (
	padID = iota
	bosID
	eosID
	unkID
	numSpecial
)

// tokenRE matches, in order: a {{...}} placeholder, kept verbatim; a run
// of line breaks; a word (letters and digits, with inner apostrophes as in
// "don't"); any other single non-space character.
var tokenRE = regexp.MustCompile(`\{\{[^{}\n]{1,60}\}\}|\n[\s]*|[\p{L}\p{N}\p{M}]+(?:['’][\p{L}\p{N}\p{M}]+)*|[^\s\p{L}\p{N}\p{M}]`)

// Tokenize splits text into lower-cased words and punctuation; {{...}}
// placeholders are one token each, unchanged; runs of line breaks are one
// "\n" token.
func Tokenize(text string) []string {
	text = strings.ReplaceAll(text, "\r", "")
	matches := tokenRE.FindAllString(text, -1)
	toks := matches[:0]
	for _, m := range matches {
		switch {
		case strings.HasPrefix(m, "{{"):
		case m[0] == '\n':
			m = nlTok
		default:
			m = strings.ToLower(strings.ReplaceAll(m, "’", "'"))
		}
		if m == nlTok && (len(toks) == 0 || toks[len(toks)-1] == nlTok) {
			continue // no leading or repeated breaks
		}
		toks = append(toks, m)
	}
	for len(toks) > 0 && toks[len(toks)-1] == nlTok {
		toks = toks[:len(toks)-1]
	}
	return toks
}

// isPlaceholder reports whether tok is a {{...}} placeholder.
func isPlaceholder(tok string) bool {
	return len(tok) > 4 && strings.HasPrefix(tok, "{{") && strings.HasSuffix(tok, "}}")
}

// noSpaceBefore and noSpaceAfter are the punctuation that sticks to the
// token before, or after, it.
const (
	noSpaceBefore = ".,!?;:)]%'"
	noSpaceAfter  = "([$#"
)

// Detokenize joins tokens into readable text: no space before closing
// punctuation or after opening punctuation, "\n" as a line break, and a
// capital letter at the start of each sentence. Special tokens are
// dropped.
func Detokenize(toks []string) string {
	var b strings.Builder
	capital, space := true, false
	for _, tok := range toks {
		switch tok {
		case padTok, bosTok, eosTok, unkTok, "":
			continue
		case nlTok:
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			capital, space = true, false
			continue
		}
		if space && !(utf8.RuneCountInString(tok) == 1 && strings.Contains(noSpaceBefore, tok)) {
			b.WriteByte(' ')
		}
		if isPlaceholder(tok) {
			capital = false
		} else if r, n := utf8.DecodeRuneInString(tok); capital && unicode.IsLetter(r) {
			if up := unicode.ToUpper(r); up != r && unicode.ToLower(up) == r {
				tok = string(up) + tok[n:]
			}
			capital = false
		}
		b.WriteString(tok)
		space = !(utf8.RuneCountInString(tok) == 1 && strings.Contains(noSpaceAfter, tok))
		if tok == "." || tok == "!" || tok == "?" {
			capital = true
		}
	}
	return b.String()
}
