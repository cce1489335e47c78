package kb

import (
	"slices"
	"testing"
)

func TestTerms(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"stop words and case", "Where is MY Parcel?", []string{"parcel"}},
		{"plural and -ing and -ed", "returns returning returned", []string{"return", "return", "return"}},
		{"undoubled consonant", "shipped shipping ship", []string{"ship", "ship", "ship"}},
		{"-ies and -e", "deliveries sizes sized sizing", []string{"delivery", "siz", "siz", "siz"}},
		{"-ss and -us kept", "address status", []string{"address", "status"}},
		{"apostrophe stubs dropped", "I don't know, it hasn't arrived", []string{"arriv"}},
		{"irregular past forms", "sent it back, it came broken", []string{"send", "back", "com", "break"}},
		{"digits and unicode", "30 Tage Rückgabe", []string{"30", "tag", "rückgabe"}}, // the stemmer skips non-ASCII words only
		{"one-letter terms dropped", "a b c 7", nil},
		{"negation kept", "not arrived", []string{"not", "arriv"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Terms(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("Terms(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b  string
		limit int
		want  int
	}{
		{"refund", "refund", 1, 0},
		{"refnd", "refund", 1, 1},
		{"recieve", "receive", 1, 1}, // a swap of neighbours is one edit
		{"parcel", "cancel", 1, 2},   // over the limit: limit+1
		{"", "ab", 5, 2},
	} {
		if got := editDistance(tc.a, tc.b, tc.limit); got != tc.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d", tc.a, tc.b, tc.limit, got, tc.want)
		}
	}
}
