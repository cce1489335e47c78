package entity

import (
	"unicode"
	"unicode/utf8"
)

// isWordRune reports whether r belongs to a word: a letter, a digit or a
// combining mark. Everything else (spaces, punctuation, symbols, emoji) is a
// word boundary.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// foldRune maps r to the form used for case-insensitive comparison: simple
// lower case, with typographic apostrophes folded to the ASCII one so that
// "men’s" matches a declared "men's".
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	if r == '\u2019' || r == '\u2018' {
		return '\''
	}
	return unicode.ToLower(r)
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func isSpaceRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || '\t' <= r && r <= '\r'
	}
	return unicode.IsSpace(r)
}

// runeAt returns the rune starting at byte i, or -1 at the end of s.
func runeAt(s string, i int) rune {
	if i >= len(s) {
		return -1
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c)
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r
}

// runeBefore returns the rune ending at byte i, or -1 at the start of s.
func runeBefore(s string, i int) rune {
	if i <= 0 {
		return -1
	}
	if c := s[i-1]; c < utf8.RuneSelf {
		return rune(c)
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return r
}

// wordEnd returns the end of the word that starts at byte i.
func wordEnd(s string, i int) int {
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if !isWordRune(rune(c)) {
				return i
			}
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			return i
		}
		i += w
	}
	return i
}

// maxGap bounds the white space accepted between the words of one date
// expression, which keeps every look-around constant-time.
const maxGap = 8

// nextWord returns the word that follows byte i after at least one and at most
// maxGap bytes of white space.
func nextWord(s string, i int) (start, end int, ok bool) {
	j := i
	for j < len(s) && j-i <= maxGap {
		r, w := utf8.DecodeRuneInString(s[j:])
		if !isSpaceRune(r) {
			break
		}
		j += w
	}
	if j == i || j-i > maxGap || j >= len(s) || !isWordRune(runeAt(s, j)) {
		return 0, 0, false
	}
	return j, wordEnd(s, j), true
}

// prevWord returns the word that ends before byte i with at least one and at
// most maxGap bytes of white space between them.
func prevWord(s string, i int) (start, end int, ok bool) {
	j := i
	for j > 0 && i-j <= maxGap {
		r, w := utf8.DecodeLastRuneInString(s[:j])
		if !isSpaceRune(r) {
			break
		}
		j -= w
	}
	if j == i || i-j > maxGap || j == 0 || !isWordRune(runeBefore(s, j)) {
		return 0, 0, false
	}
	end = j
	for j > 0 {
		r, w := utf8.DecodeLastRuneInString(s[:j])
		if !isWordRune(r) {
			break
		}
		j -= w
		if end-j > maxWordLook {
			return 0, 0, false
		}
	}
	return j, end, true
}

// maxWordLook bounds how far prevWord walks back through one word: the words
// it is asked for ("next", "of", "3rd") are short, and the bound keeps a
// message made of one huge word linear.
const maxWordLook = 32

// equalFoldASCII reports whether s equals the lower-case ASCII word w, ignoring
// ASCII case.
func equalFoldASCII(s, w string) bool {
	if len(s) != len(w) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

// features are the cheap facts about a message that let Extract skip whole
// matchers.
type features struct {
	ascii    bool // every byte is ASCII
	hasAt    bool // contains '@'
	hasDigit bool // contains an ASCII digit
	digitRun int  // longest run of consecutive ASCII digits
}

func scanFeatures(s string) features {
	f := features{ascii: true}
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isDigit(c) {
			run++
			if run > f.digitRun {
				f.digitRun = run
			}
			continue
		}
		run = 0
		if c == '@' {
			f.hasAt = true
		} else if c >= utf8.RuneSelf {
			f.ascii = false
		}
	}
	f.hasDigit = f.digitRun > 0
	return f
}
