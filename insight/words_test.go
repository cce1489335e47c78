package insight

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWords(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"stop words and filler go", "Hi, can you please tell me how my Gift Card works? thanks", []string{"gift", "card", "works"}},
		{"contractions split", "I don't see my voucher, it doesn't apply", []string{"see", "voucher", "apply"}},
		{"numbers and codes go", "order 1042 and #A12 for 2x items", []string{"order", "items"}},
		{"redaction placeholders go", "my card [card redacted] was declined, code [code redacted]", []string{"card", "declined", "code"}},
		{"repeats once", "refund refund REFUND", []string{"refund"}},
		{"other scripts kept", "Où est ma commande? 注文はどこ", []string{"où", "est", "ma", "commande", "注文はどこ"}},
		{"nothing left", "hi! ok, thanks :)", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := words(tc.text); !slices.Equal(got, tc.want) {
				t.Errorf("words(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestTopWords(t *testing.T) {
	texts := [][]string{
		{"gift card balance", "gift card does not work", "pay with a gift card", "order gift"},
		{"order never came", "order is late", "late order again"},
	}
	got := topWords(texts, 3)
	want := [][]string{{"gift", "card"}, {"late", "order"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("topWords = %q, want %q", got, want)
	}
	// "order" is in every text of the second cluster, "late" in two of
	// three, but "order" is also in the first cluster: "late" is the more
	// distinctive. "order" is in one text of four in the first: too few.
}

func TestSuggestName(t *testing.T) {
	tests := []struct {
		name  string
		top   []string
		taken []string
		want  string
	}{
		{"two words", []string{"gift", "card", "balance"}, nil, "gift_card"},
		{"one word", []string{"voucher"}, nil, "voucher"},
		{"taken: three words", []string{"order", "status", "late"}, []string{"order_status"}, "order_status_late"},
		{"taken, no third word: a number", []string{"order", "status"}, []string{"order_status"}, "order_status_2"},
		{"number taken too", []string{"order", "status"}, []string{"order_status", "order_status_2"}, "order_status_3"},
		{"non-ASCII words skipped", []string{"commande", "où", "livraison"}, nil, "commande_livraison"},
		{"no ASCII word", []string{"注文はどこ"}, nil, "topic_4"},
		{"no words", nil, nil, "topic_4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			taken := map[string]bool{}
			for _, n := range tc.taken {
				taken[n] = true
			}
			got := suggestName(tc.top, 3, taken)
			if got != tc.want {
				t.Errorf("suggestName(%q) = %q, want %q", tc.top, got, tc.want)
			}
			if !taken[got] {
				t.Errorf("%q not marked taken", got)
			}
		})
	}
}

var snakeName = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)

// FuzzWords feeds customer text (untrusted) through the word splitter and
// the namer: words are lower-case, without digits or stop words, and names
// are snake_case and unique.
func FuzzWords(f *testing.F) {
	for _, s := range []string{
		"how do I check my gift card balance",
		"Où est ma commande 1042?",
		"my card [card redacted] was declined",
		"I don't see my voucher!!",
		"\xff\xfe broken utf-8",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		ws := words(text)
		for _, w := range ws {
			if w != strings.ToLower(w) || stopWords[w] || utf8.RuneCountInString(w) < 2 || strings.ContainsAny(w, "0123456789") {
				t.Fatalf("words(%q) gave %q", text, w)
			}
		}
		taken := map[string]bool{}
		a := suggestName(ws, 0, taken)
		b := suggestName(ws, 1, taken)
		if !snakeName.MatchString(a) || !snakeName.MatchString(b) || a == b {
			t.Fatalf("names %q, %q from %q", a, b, ws)
		}
	})
}

// FuzzDecodeParse feeds stored parses (JSON from the store, which an old or
// foreign writer may have put there) to decodeParse: it never panics, and a
// parse it accepts has an embedding that is nil (the message is parsed
// again when it is analysed) or not empty.
func FuzzDecodeParse(f *testing.F) {
	for _, s := range []string{
		`{"text":"hi","intent":"greet","confidence":0.91,"in_scope":true,"ranking":[{"intent":"greet","confidence":0.91}],"entities":[],"embedding":[0.1,-0.2,0.3]}`,
		`{"intent":"order_status","confidence":0.2,"in_scope":false,"embedding":[]}`,
		`{"intent":"order_status","confidence":0.2,"in_scope":false,"embedding":null}`,
		`{"confidence":0.2,"in_scope":false,"embedding":[1e999]}`,
		`{"confidence":"high","in_scope":1}`,
		`null`,
		`[1,2,3]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, intents := decodeParse(raw)
		if p == nil {
			if intents != nil {
				t.Fatalf("intents %q without a parse", intents)
			}
			return
		}
		if p.embedding != nil && len(p.embedding) == 0 {
			t.Fatalf("accepted %q with an empty, non-nil embedding", raw)
		}
	})
}
