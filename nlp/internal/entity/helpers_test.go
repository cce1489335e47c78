package entity

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// tuesday is the fixed "now" of the tests: Tuesday 10 March 2026, 15:00 UTC.
var tuesday = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)

// short renders entities as "type:text=value" for compact expectations.
func short(es []Entity) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = fmt.Sprintf("%s:%s=%s", e.Type, e.Text, e.Value)
	}
	return out
}

func mustNew(t testing.TB, defs []Def, opts *Options) *Extractor {
	t.Helper()
	x, err := New(defs, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return x
}

type shortCase struct {
	name string
	text string
	want []string // "type:text=value", in order
}

// runShort checks each case's entities (type, text, value) and the span
// invariants.
func runShort(t *testing.T, x *Extractor, now time.Time, cases []shortCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := x.Extract(tc.text, now)
			if err := checkInvariants(tc.text, got); err != nil {
				t.Fatalf("Extract(%q): %v", tc.text, err)
			}
			if g := short(got); !slices.Equal(g, tc.want) {
				t.Errorf("Extract(%q)\n got %q\nwant %q", tc.text, g, tc.want)
			}
		})
	}
}

var (
	moneyValue = regexp.MustCompile(`^(0|[1-9][0-9]*)\.[0-9]{2} [A-Z]{3}$`)
	phoneValue = regexp.MustCompile(`^\+?[0-9]{7,17}$`)
)

// checkInvariants verifies what every Extract result must satisfy, whatever
// the input: spans inside the text and spelling Text, sorted, disjoint, and
// well-formed values for the built-in types.
func checkInvariants(text string, es []Entity) error {
	runes := []rune(text)
	prevEnd := 0
	for i, e := range es {
		if e.Start < 0 || e.End > len(runes) || e.Start >= e.End {
			return fmt.Errorf("entity %d %+v: span outside [0,%d)", i, e, len(runes))
		}
		if got := string(runes[e.Start:e.End]); got != e.Text {
			return fmt.Errorf("entity %d %+v: runes[%d:%d] = %q, not Text", i, e, e.Start, e.End, got)
		}
		if e.Start < prevEnd {
			return fmt.Errorf("entity %d %+v: overlaps or precedes the previous one (end %d)", i, e, prevEnd)
		}
		prevEnd = e.End
		if e.Type == "" || e.Value == "" {
			return fmt.Errorf("entity %d %+v: empty type or value", i, e)
		}
		switch e.Type {
		case TypeEmail:
			if e.Value != strings.ToLower(e.Text) || !strings.Contains(e.Value, "@") {
				return fmt.Errorf("entity %d %+v: bad e-mail value", i, e)
			}
		case TypeMoney:
			if !moneyValue.MatchString(e.Value) {
				return fmt.Errorf("entity %d %+v: bad money value", i, e)
			}
		case TypePhone:
			if !phoneValue.MatchString(e.Value) || !phoneDigitsMatch(e.Text, e.Value) {
				return fmt.Errorf("entity %d %+v: bad phone value", i, e)
			}
		case TypeOrderID:
			if !strings.Contains(e.Text, e.Value) {
				return fmt.Errorf("entity %d %+v: order value not in its text", i, e)
			}
		case TypeDate:
			if _, err := time.Parse(time.DateOnly, e.Value); err != nil {
				return fmt.Errorf("entity %d %+v: bad date value: %v", i, e, err)
			}
		}
	}
	return nil
}

// phoneDigitsMatch reports whether a phone value is the digits of its text,
// with the '+' exactly when written and at most a "(0)" trunk dropped.
func phoneDigitsMatch(text, value string) bool {
	if strings.HasPrefix(text, "+") != strings.HasPrefix(value, "+") {
		return false
	}
	digits := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			if '0' <= r && r <= '9' {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	v := strings.TrimPrefix(value, "+")
	return v == digits(text) || v == digits(strings.Replace(text, "(0)", "", 1))
}
