package crm

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/datasets"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text", "where is my order?", "where is my order?"},
		{"order number stays", "order 1042 has not arrived", "order 1042 has not arrived"},
		{"visa with spaces", "my card is 4111 1111 1111 1111 thanks", "my card is [card redacted] thanks"},
		{"visa no separators", "4111111111111111", "[card redacted]"},
		{"mastercard dashes", "card: 5555-5555-5555-4444.", "card: [card redacted]."},
		{"amex 15 digits", "amex 3782 822463 10005 ok", "amex [card redacted] ok"},
		{"13 digits", "old visa 4222222222222", "old visa [card redacted]"},
		{"19 digits", "4000000000000000006 is long", "[card redacted] is long"},
		{"spaced dash", "4111 - 1111 - 1111 - 1111", "[card redacted]"},
		{"luhn invalid stays", "4111 1111 1111 1112", "4111 1111 1111 1112"},
		{"too long run is not a card", "41111111111111111111", "41111111111111111111"},
		{"12 digits is not a card", "411111111111", "411111111111"},
		{"card then expiry group", "4111 1111 1111 1111 1225", "[card redacted] 1225"},
		{"card after text digits", "id 77 4111111111111111", "id 77 [card redacted]"},
		{"two cards", "4111111111111111 or 5555555555554444", "[card redacted] or [card redacted]"},
		{"card glued to letters", "x4111111111111111y", "x[card redacted]y"},
		{"code is", "the code is 482913", "the code is [code redacted]"},
		{"otp colon", "OTP: 1234", "OTP: [code redacted]"},
		{"verification code", "verification code 123456", "verification code [code redacted]"},
		{"code first", "482913 is your verification code", "[code redacted] is your verification code"},
		{"pin", "my PIN is 4321.", "my PIN is [code redacted]."},
		{"passcode grouped", "passcode: 482 913", "passcode: [code redacted]"},
		{"glued to keyword", "code482913", "code[code redacted]"},
		{"eight digits", "code 12345678", "code [code redacted]"},
		{"nine digits not a code", "code 123456789", "code 123456789"},
		{"three digits not a code", "code 123", "code 123"},
		{"cvv three digits", "cvv 123", "cvv [code redacted]"},
		{"one-time password", "482913 is your one-time password", "[code redacted] is your one-time password"},
		{"zip code stays", "my zip code is 80331", "my zip code is 80331"},
		{"postal code stays", "postal code 8001", "postal code 8001"},
		{"discount code stays", "discount code 2024 did not work", "discount code 2024 did not work"},
		{"code far away", "I got a code for order 1042", "I got a code for order 1042"},
		{"sentence break", "I need a code. 1042 is my order", "I need a code. 1042 is my order"},
		{"two codes", "code 1234 and pin 5678", "code [code redacted] and pin [code redacted]"},
		{"code between numbers", "1234 code 5678", "[code redacted] code [code redacted]"},
		{"numbers then code", "1234, 5678 code", "1234, [code redacted] code"},
		{"card and code", "card 4111111111111111 code 1234", "card [card redacted] code [code redacted]"},
		{"unicode around", "Ihr Code lautet: Code 4821 – danke ✓", "Ihr Code lautet: Code [code redacted] – danke ✓"},
		{"curly apostrophe", "it’s code 4821", "it’s code [code redacted]"},
		{"placeholder kept", "[card redacted] and [code redacted]", "[card redacted] and [code redacted]"},
		{"phone stays", "call me at +41 79 123 45 67", "call me at +41 79 123 45 67"},
		{"invalid utf8 kept", "code 4821 \xff", "code [code redacted] \xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Redact(tt.in)
			if got != tt.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if again := Redact(got); again != got {
				t.Errorf("Redact is not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestRedactJSON(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no digits unchanged", `{"intent": "greet" }`, `{"intent": "greet" }`},
		{"nothing to redact unchanged", `{"order": 1042, "text":"order 1042"}`, `{"order": 1042, "text":"order 1042"}`},
		{"string redacted", `{"text":"card 4111111111111111"}`, `{"text":"card [card redacted]"}`},
		{"nested", `{"entities":[{"value":"code 1234"}]}`, `{"entities":[{"value":"code [code redacted]"}]}`},
		{"number card", `{"n":4111111111111111,"m":12}`, `{"m":12,"n":"[card redacted]"}`},
		{"key redacted", `{"4111111111111111":true}`, `{"[card redacted]":true}`},
		{"big numbers kept", `{"x":1.5e300}`, `{"x":1.5e300}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RedactParse(json.RawMessage(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{``, `{`, `{} {}`, `nul`} {
		if _, err := RedactParse(json.RawMessage(bad)); err == nil {
			t.Errorf("RedactParse(%q) accepted", bad)
		}
	}
}

// cardLeft reports a Luhn-valid span of 13-19 digits, grouped as Redact
// groups them, that is still in s.
func cardLeft(s string) (string, bool) {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || (i > 0 && isDigit(s[i-1])) {
			continue
		}
		r := scanRun(s, i)
		for g := range r.groups {
			var digits []byte
			for h := g; h < len(r.groups); h++ {
				digits = append(digits, s[r.groups[h][0]:r.groups[h][1]]...)
				if len(digits) >= 13 && len(digits) <= 19 && luhn(digits) {
					return s[r.groups[g][0]:r.groups[h][1]], true
				}
			}
		}
		i = r.end()
	}
	return "", false
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"my card is 4111 1111 1111 1111 thanks",
		"5555-5555-5555-4444",
		"amex 3782 822463 10005",
		"the code is 482913",
		"OTP: 1234",
		"482913 is your verification code",
		"1234 code 5678 9012 3456 7890",
		"code 4111 1111 1111 1111 1234",
		"[card redacted] 12 [code redacted] code 1",
		"zip code 80331, pin 1234",
		"it’s code 4821 \xff",
		"1-2-3-4-5-6-7-8-9-0-1-2-3-4-5-6",
	} {
		f.Add(s)
	}
	addDatasetSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		out := Redact(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("valid input %q gave invalid output %q", s, out)
		}
		if again := Redact(out); again != out {
			t.Fatalf("not idempotent:\n in  %q\n out %q\n 2nd %q", s, out, again)
		}
		if c, ok := cardLeft(out); ok {
			t.Fatalf("card %q left in %q (from %q)", c, out, s)
		}
		if strings.IndexAny(s, "0123456789") < 0 && out != s {
			t.Fatalf("text without digits changed: %q -> %q", s, out)
		}
	})
}

func FuzzRedactJSON(f *testing.F) {
	for _, s := range []string{
		`{"intent":"greet","text":"my pin is 1234"}`,
		`{"n":4111111111111111,"entities":[{"value":"4111 1111 1111 1111","start":3}]}`,
		`[1, "code 12345", {"4111111111111111": null}]`,
		`"plain"`, `12`, `{"x":1.5e300}`, `{"a":{"b":[true,false,null]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, err := RedactParse(raw)
		if err != nil {
			if json.Valid(raw) {
				t.Fatalf("valid JSON %q refused: %v", raw, err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%q gave invalid JSON %q", raw, out)
		}
		again, err := RedactParse(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", raw, out, again, err)
		}
	})
}

// addDatasetSeeds adds a few customer utterances from the shared datasets,
// when present, as fuzz seeds (never stored in the repository).
func addDatasetSeeds(f *testing.F) {
	dir, _ := datasets.Dir()
	matches, _ := filepath.Glob(filepath.Join(dir, "*", "*.csv"))
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		lines := bytes.Split(data, []byte("\n"))
		for i := 1; i < len(lines) && i < 50; i++ {
			f.Add(string(lines[i]))
		}
	}
}

func BenchmarkRedact(b *testing.B) {
	texts := []string{
		"Hi, I ordered a pair of shoes last week (order 1042) and they still have not arrived. Can you check?",
		"my card 4111 1111 1111 1111 was charged twice, the code they sent is 482913",
	}
	for _, s := range texts {
		b.Run(s[:10], func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				Redact(s)
			}
		})
	}
}
