package tokenize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"clean text is unchanged", "Where is my order #123?", "Where is my order #123?"},
		{"empty", "", ""},
		{"tabs and newlines", "a\tb\r\nc", "a b  c"},
		{"C0 and DEL", "a\x00b\x1bc\x7fd", "a b c d"},
		{"C1 control", "a\u0085b\u009bc", "a b c"},
		{"format characters", "\ufeffa\u200bb\u200dc\u200fd\u202ee\u2066f", " a b c d e f"},
		{"unicode spaces and separators", "a\u00a0b\u3000c\u2028d\u2029e", "a b c d e"},
		{"each invalid byte becomes one U+FFFD", "a\xff\xfeb", "a\ufffd\ufffdb"},
		{"truncated rune", "ab\xe2\x82", "ab\ufffd\ufffd"},
		{"encoded surrogate", "\xed\xa0\x80", "\ufffd\ufffd\ufffd"},
		{"emoji, CJK and RTL letters stay", "👍 订单 שלום مرحبا", "👍 订单 שלום مرحبا"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Clean(tc.in)
			if got != tc.want {
				t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if utf8.RuneCountInString(got) != utf8.RuneCountInString(tc.in) {
				t.Errorf("Clean(%q) changed the rune count", tc.in)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Clean(%q) is not valid UTF-8", tc.in)
			}
		})
	}
}

func TestTruncateInput(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"short text is kept", "refund please", 64, "refund please"},
		{"cut inside a word drops the fragment", "refund please", 10, "refund"},
		{"cut at a space", "refund please", 6, "refund"},
		{"one long word is cut", "refundplease", 6, "refund"},
		{"never inside a rune", "ab€€", 4, "ab"},
		{"never inside a rune, with a space before", "a ééé", 6, "a"},
		{"invalid bytes are runes", "ab\xff\xffcd", 3, "ab\xff"},
		{"zero", "abc", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := truncateInput(tc.in, tc.max)
			if got != tc.want {
				t.Errorf("truncateInput(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
			if len(got) > tc.max || !strings.HasPrefix(tc.in, got) {
				t.Errorf("result %q is not a prefix of at most %d bytes", got, tc.max)
			}
		})
	}
}
