package entity

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// seedMessages are customer messages written by the team for the fuzz
// corpus: the shapes the recognisers care about, and near misses.
var seedMessages = []string{
	"Where is my order #10423? It was supposed to arrive yesterday.",
	"order no. 10423 still hasn't shipped, can you check by next Monday",
	"Hi, I was charged $12.50 twice for the same hoodie. Refund please!",
	"please change my email to Jane.Doe+shop@Example.co.uk thx",
	"call me on +44 20 7946 0958 or (555) 123-4567 after 5pm",
	"It cost 1.299,99 € on 3 March 2026 and 12,50 € shipping",
	"my phone is 0044 20 7946 0958, order ref: 55512, delivered 2026-03-03",
	"Ünïcødé 😀 order #10423",
	"我的订单 #10423 还没到，今天能送到吗？",
	"رقم الطلب 10423 لم يصل بعد",
	"can I return the blue t-shirt I got on Tuesday? it was 30 euros",
	"100 bucks for a mug?? no way. order 5551234567",
	"delivered March 3rd, or was it the 3rd of March... either way it's broken",
	"Pay US$5 or C$20 or 30 Canadian dollars, or EUR 1,299.99",
	"192.168.1.1 2026-13-01 1234567.89 4111 1111 1111 1111 03.03.2026",
	"the day after tomorrow, this past Sunday, on sat, next thurs",
	"foo@bar@baz.com a..b@x.com @@ x@y.z #### $$$ ... ---",
	"\xff\xfe\x00 order #10423 \u202e\u200f tomorrow",
	"Feb 29, 2028 or 29 February or February 30",
	"purchase number: 12345 / ordernumber 54321 / order\nno 99999",
	"I was charged twice on 3 March. It will be refunded on 1 December, won't it? On Friday I'll call",
	"i ordered on monday, when will it arrive? it's scheduled for Mar. 3 and was due no. 4 Jan",
}

func fuzzExtractor(t testing.TB) *Extractor {
	return mustNew(t, []Def{
		{Name: "product", Values: []string{"hoodie", "blue t-shirt", "t-shirt", "mug", "C++ Guide", "Café Crème"},
			Synonyms: map[string]string{"tee": "t-shirt", "hoody": "hoodie"}},
		{Name: "sku", Pattern: `\bSKU-\d{3,6}\b`},
		{Name: "anything", Pattern: `x.y`},
	}, nil)
}

// FuzzExtract checks the invariants of every result: spans inside the text,
// []rune(text)[Start:End] == Text, sorted, disjoint, well-formed values, and
// the same result twice.
func FuzzExtract(f *testing.F) {
	for i, m := range seedMessages {
		f.Add(m, int64(1773154800+i*86400*37))
	}
	for _, m := range datasetSeeds(f, 200) {
		f.Add(m, int64(1773154800))
	}
	x := fuzzExtractor(f)
	f.Fuzz(func(t *testing.T, text string, unix int64) {
		// Keep now within years that format as YYYY-MM-DD.
		now := time.Unix(unix%(4000*365*86400), 0).UTC()
		got := x.Extract(text, now)
		if err := checkInvariants(text, got); err != nil {
			t.Fatalf("Extract(%q, %s): %v", text, now, err)
		}
		again := x.Extract(text, now)
		if fmt.Sprint(again) != fmt.Sprint(got) {
			t.Fatalf("Extract(%q) is not deterministic:\n%+v\n%+v", text, got, again)
		}
	})
}

// FuzzDefaultOrder holds the hand-written order scanner to
// DefaultOrderPattern (plus the bare-number filter): same spans, same values.
func FuzzDefaultOrder(f *testing.F) {
	for _, m := range seedMessages {
		f.Add(m)
	}
	for _, m := range []string{
		"ORDER #1234", "order:1234", "Order No. 12345", "ordernum 1234", "purchase id 1234",
		"reorder 12345", "no 1234", "no.1234", "nr 1234", "ref 1234", "reference: 1234",
		"order  \t#  1234", "order ## 1234", "#\t1234", "x_order 12345", "1234 12345 123456789012",
		"order number\n\n1234", "order\tnumber 1234", "number. 1234", "num1234",
	} {
		f.Add(m)
	}
	re := regexp.MustCompile(DefaultOrderPattern)
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			s = string([]rune(s))
		}
		// (?i) also folds these onto ASCII letters; the scanner reads ASCII only.
		if strings.ContainsAny(s, "ſK") {
			return
		}
		var want []string
		for _, loc := range re.FindAllStringSubmatchIndex(s, -1) {
			value, group := "", 0
			for g := 1; g <= 3; g++ {
				if loc[2*g] >= 0 {
					value, group = s[loc[2*g]:loc[2*g+1]], g
					break
				}
			}
			if group == bareOrderGroup && !bareOrderOK(s, loc[0], loc[1]) {
				continue
			}
			want = append(want, fmt.Sprintf("%d:%d=%s", loc[0], loc[1], value))
		}
		c := collector{text: s}
		scanDefaultOrders(&c)
		var got []string
		for _, k := range c.cands {
			got = append(got, fmt.Sprintf("%d:%d=%s", k.start, k.end, k.value))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("scanner and DefaultOrderPattern differ on %q:\nscanner %q\nregexp  %q", s, got, want)
		}
	})
}
