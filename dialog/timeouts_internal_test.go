package dialog

import (
	"strings"
	"testing"
)

var emailSeeds = []struct{ text, want string }{
	{"ana.b@example.org", "ana.b@example.org"},
	{"ok, write to me at <ana.b@example.org>.", "ana.b@example.org"},
	{"my email is mailto:joe+shop@mail.example.co.uk!", "joe+shop@mail.example.co.uk"},
	{"(grace@example.com), thanks", "grace@example.com"},
	{"no address here", ""},
	{"@handle on twitter", ""},
	{"joe@localhost", ""},
	{"joe@example.", ""},
	{"joe@@example.com", ""},
	{"a@b..c", ""},
	{"first a@b then c@d.e", "c@d.e"},
}

func TestFindEmail(t *testing.T) {
	for _, tt := range emailSeeds {
		if got := findEmail(tt.text); got != tt.want {
			t.Errorf("findEmail(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// FuzzFindEmail: what findEmail finds in a customer's message is a word of
// it with one "@" and a dotted domain, never longer than a store key.
func FuzzFindEmail(f *testing.F) {
	for _, s := range emailSeeds {
		f.Add(s.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := findEmail(text)
		if got == "" {
			return
		}
		local, domain, _ := strings.Cut(got, "@")
		if !strings.Contains(text, got) || local == "" || strings.Count(got, "@") != 1 ||
			!strings.Contains(domain, ".") || strings.ContainsAny(got, " \t\n") || len(got) > 256 {
			t.Fatalf("findEmail(%q) = %q", text, got)
		}
	})
}
