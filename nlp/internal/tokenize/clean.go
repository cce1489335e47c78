package tokenize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean returns s with every invalid UTF-8 byte replaced by U+FFFD and every
// control, format, line-separator, paragraph-separator or white-space
// character replaced by an ASCII space.
//
// Clean keeps one rune for each rune of s, counting an invalid byte as one
// rune the way a Go range loop does, so a rune offset into Clean(s) is the same
// rune offset into s. It returns s itself when nothing needs replacing.
func Clean(s string) string {
	i := firstUnclean(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case isBlank(r):
			b.WriteByte(' ')
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// firstUnclean returns the byte index of the first rune Clean would replace,
// or -1 when s is already clean.
func firstUnclean(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || isBlank(r) {
			return i
		}
		i += size
	}
	return -1
}

// isBlank reports whether Clean turns r into a space. ' ' itself counts, which
// is harmless: it is replaced by itself.
func isBlank(r rune) bool {
	if r < utf8.RuneSelf {
		return r < 0x20 || r == 0x7f || r == ' '
	}
	return unicode.IsSpace(r) || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
}

// truncateInput cuts s to at most maxBytes bytes at a rune boundary (an invalid
// byte counts as one rune). When the cut falls inside a word and an earlier
// space exists, it drops the partial word so a message never ends in a word
// fragment that was not typed.
func truncateInput(s string, maxBytes int) string {
	if len(s) <= maxBytes {
		return s
	}
	cut := 0
	for cut < len(s) {
		_, size := utf8.DecodeRuneInString(s[cut:])
		if cut+size > maxBytes {
			break
		}
		cut += size
	}
	next, _ := utf8.DecodeRuneInString(s[cut:])
	if cut > 0 && !isBlank(next) {
		if sp := strings.LastIndexFunc(s[:cut], isBlank); sp > 0 {
			cut = sp
		}
	}
	return s[:cut]
}
