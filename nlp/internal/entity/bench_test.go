package entity

import (
	"strings"
	"testing"
)

// benchDefs is a small bot domain: a lookup with synonyms and a pattern.
var benchDefs = []Def{
	{Name: "product", Values: []string{"hoodie", "t-shirt", "blue t-shirt", "mug", "gift card"},
		Synonyms: map[string]string{"tee": "t-shirt", "hoody": "hoodie", "giftcard": "gift card"}},
	{Name: "plan", Values: []string{"basic", "premium", "business"}},
	{Name: "sku", Pattern: `\bSKU-\d{3,6}\b`},
}

var benchMessages = []struct{ name, text string }{
	{"no_entity", "hi there, how do I reset the password on my account please"},
	{"order_and_date", "Where is my order #10423? It was supposed to arrive yesterday."},
	{"money", "I was charged $12.50 twice for the same hoodie, can I get a refund"},
	{"email_phone", "please update my email to jane.doe@example.com or call +44 20 7946 0958"},
	{"date_words", "can you deliver it next Monday or on March 3rd instead of friday"},
	{"non_ascii", "Ünïcødé 😀 我的订单 order #10423 ne est pas arrivée, merci"},
}

func BenchmarkExtract(b *testing.B) {
	x := mustNew(b, benchDefs, nil)
	for _, m := range benchMessages {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(m.text)))
			for b.Loop() {
				x.Extract(m.text, tuesday)
			}
		})
	}
	long := strings.Repeat(benchMessages[1].text+" "+benchMessages[3].text+" ", 4096/150)
	b.Run("4KB", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(long)))
		for b.Loop() {
			x.Extract(long, tuesday)
		}
	})
}
