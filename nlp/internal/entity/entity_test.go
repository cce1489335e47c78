package entity

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestDefs(t *testing.T) {
	defs := []Def{
		{Name: "product", Values: []string{"T-Shirt", "Blue T-Shirt", "hoodie", "New York Mug", "Café Crème", "C++ Guide"},
			Synonyms: map[string]string{"tee": "T-Shirt", "hoody": "hoodie", "sweatshirt": "hoodie"}},
		{Name: "plan", Values: []string{"Premium", "basic"}, Synonyms: map[string]string{"premium": "pro"}},
		{Name: "sku", Pattern: `\bSKU-\d{3}\b`},
	}
	x := mustNew(t, defs, nil)
	runShort(t, x, tuesday, []shortCase{
		{"value case-insensitive", "a t-shirt please", []string{"product:t-shirt=T-Shirt"}},
		{"longest value first", "the BLUE T-SHIRT", []string{"product:BLUE T-SHIRT=Blue T-Shirt"}},
		{"whole words only", "two hoodies and a t-shirts", nil},
		{"synonym to canonical", "a tee and a hoody", []string{"product:tee=T-Shirt", "product:hoody=hoodie"}},
		{"canonical of a synonym matches", "Sweatshirt or hoodie", []string{"product:Sweatshirt=hoodie", "product:hoodie=hoodie"}},
		{"value that is a variant", "go Premium", []string{"plan:Premium=pro"}},
		{"canonical value itself", "the pro plan", []string{"plan:pro=pro"}},
		{"white space runs", "a new\n  york   MUG", []string{"product:new\n  york   MUG=New York Mug"}},
		{"non-ascii value", "CAFÉ CRÈME x2", []string{"product:CAFÉ CRÈME=Café Crème"}},
		{"symbol inside value", "the c++ guide", []string{"product:c++ guide=C++ Guide"}},
		{"possessive keeps the word", "basic’s fine", []string{"plan:basic=basic"}},
		{"pattern value is the match", "is SKU-123 in stock", []string{"sku:SKU-123=SKU-123"}},
		{"pattern and lookup together", "SKU-123 tee", []string{"sku:SKU-123=SKU-123", "product:tee=T-Shirt"}},
	})
}

func TestApostropheFold(t *testing.T) {
	x := mustNew(t, []Def{{Name: "size", Values: []string{"men's large"}}}, nil)
	got := short(x.Extract("Men’s Large please", tuesday))
	if want := []string{"size:Men’s Large=men's large"}; !equalStrings(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
}

func TestMergedDefs(t *testing.T) {
	x := mustNew(t, []Def{
		{Name: "account", Pattern: `\bACC\d{4}\b`},
		{Name: "color", Values: []string{"red"}},
		{Name: "account", Values: []string{"savings"}, Synonyms: map[string]string{"saver": "savings"}},
	}, nil)
	got := short(x.Extract("move red from ACC1234 to my saver", tuesday))
	want := []string{"color:red=red", "account:ACC1234=ACC1234", "account:saver=savings"}
	if !equalStrings(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
}

func TestOverlaps(t *testing.T) {
	tests := []struct {
		name string
		defs []Def
		opts *Options
		text string
		want []string
	}{
		{"declared beats built-in on equal span", []Def{{Name: "zip", Pattern: `\b\d{5}\b`}}, nil,
			"10423", []string{"zip:10423=10423"}},
		{"longer built-in beats declared", []Def{{Name: "zip", Pattern: `\b\d{5}\b`}}, nil,
			"order 10423", []string{"order_id:order 10423=10423"}},
		{"declared order decides among declared", []Def{
			{Name: "first", Values: []string{"gift card"}},
			{Name: "second", Values: []string{"gift card"}}}, nil,
			"a gift card", []string{"first:gift card=gift card"}},
		{"longer declared beats earlier declared", []Def{
			{Name: "first", Values: []string{"gift"}},
			{Name: "second", Values: []string{"gift card"}}}, nil,
			"a gift card", []string{"second:gift card=gift card"}},
		{"email beats lookup inside it", []Def{{Name: "brand", Values: []string{"example"}}}, nil,
			"jane@example.com", []string{"email:jane@example.com=jane@example.com"}},
		{"email beats declared on equal span", []Def{{Name: "handle", Pattern: `\S+@\S+`}}, nil,
			"jane@example.com", []string{"handle:jane@example.com=jane@example.com"}},
		{"money beats order on equal span", nil, &Options{OrderPattern: `\$\d+`},
			"$12345", []string{"money:$12345=12345.00 USD"}},
		{"date beats order on equal span", nil, &Options{OrderPattern: `\d{4}-\d\d-\d\d`},
			"2026-03-03", []string{"date:2026-03-03=2026-03-03"}},
		{"phone beats order on equal span", nil, &Options{OrderPattern: `\d{11}`},
			"07946095858", []string{"phone:07946095858=07946095858"}},
		{"money longer than order", nil, nil,
			"12500 USD", []string{"money:12500 USD=12500.00 USD"}},
		{"phone longer than order", nil, nil,
			"(555) 1234567", []string{"phone:(555) 1234567=5551234567"}},
		{"order marker longer than phone", nil, nil,
			"order 5551234567", []string{"order_id:order 5551234567=5551234567"}},
		{"date longer than lookup", []Def{{Name: "month", Values: []string{"march"}}}, nil,
			"March 3rd", []string{"date:March 3rd=2026-03-03"}},
		{"lookup alone", []Def{{Name: "month", Values: []string{"march"}}}, nil,
			"in march", []string{"month:march=march"}},
		{"ties by length count runes", []Def{{Name: "word", Pattern: `ééééé`}}, &Options{OrderPattern: `\d{6}`},
			"ééééé 123456", []string{"word:ééééé=ééééé", "order_id:123456=123456"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := mustNew(t, tc.defs, tc.opts)
			got := x.Extract(tc.text, tuesday)
			if err := checkInvariants(tc.text, got); err != nil {
				t.Fatal(err)
			}
			if g := short(got); !equalStrings(g, tc.want) {
				t.Errorf("Extract(%q) = %q; want %q", tc.text, g, tc.want)
			}
		})
	}
}

func TestRuneOffsets(t *testing.T) {
	x := mustNew(t, []Def{{Name: "product", Values: []string{"hoodie"}}}, nil)
	tests := []struct {
		name string
		text string
		want []Entity
	}{
		{"accents and emoji", "Ünïcødé 😀 order #10423", []Entity{
			{Type: TypeOrderID, Text: "order #10423", Value: "10423", Start: 10, End: 22}}},
		{"cjk", "我的订单 #10423 呢", []Entity{
			{Type: TypeOrderID, Text: "#10423", Value: "10423", Start: 5, End: 11}}},
		{"rtl", "رقم الطلب #10423 من فضلك", []Entity{
			{Type: TypeOrderID, Text: "#10423", Value: "10423", Start: 10, End: 16}}},
		{"two entities after emoji", "👍🏽 jane@example.com, hoodie", []Entity{
			{Type: TypeEmail, Text: "jane@example.com", Value: "jane@example.com", Start: 3, End: 19},
			{Type: "product", Text: "hoodie", Value: "hoodie", Start: 21, End: 27}}},
		{"invalid utf-8 bytes count as runes", "\xff\xfe order #10423", []Entity{
			{Type: TypeOrderID, Text: "order #10423", Value: "10423", Start: 3, End: 15}}},
		{"control characters", "\x00\x1b[31m #10423\u200f", []Entity{
			{Type: TypeOrderID, Text: "#10423", Value: "10423", Start: 7, End: 13}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := x.Extract(tc.text, tuesday)
			if err := checkInvariants(tc.text, got); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Extract(%q)\n got %+v\nwant %+v", tc.text, got, tc.want)
			}
		})
	}
}

func TestInvalidUTF8InsideEntity(t *testing.T) {
	x := mustNew(t, []Def{{Name: "code", Pattern: `x.y`}}, nil)
	text := "a x\xffy b"
	got := x.Extract(text, tuesday)
	if err := checkInvariants(text, got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Text != "x\uFFFDy" || got[0].Start != 2 || got[0].End != 5 {
		t.Errorf("Extract(%q) = %+v; want one code x\\uFFFDy at 2:5", text, got)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		defs    []Def
		opts    *Options
		want    error
		mention string
	}{
		{"empty name", []Def{{Name: "", Values: []string{"a"}}}, nil, ErrEmptyName, "def 0"},
		{"blank name", []Def{{Name: "ok", Values: []string{"a"}}, {Name: "  ", Values: []string{"b"}}}, nil, ErrEmptyName, "def 1"},
		{"nothing declared", []Def{{Name: "product"}}, nil, ErrEmptyDef, `"product"`},
		{"bad def pattern", []Def{{Name: "sku", Pattern: `SKU-(\d+`}}, nil, ErrBadPattern, `"sku"`},
		{"bad order def pattern", []Def{{Name: "order_id", Pattern: `[`}}, nil, ErrBadPattern, `"order_id"`},
		{"bad order option", nil, &Options{OrderPattern: `(?P<x`}, ErrBadPattern, `"order_id"`},
		{"empty value", []Def{{Name: "product", Values: []string{"hoodie", " \t"}}}, nil, ErrEmptyValue, `"product"`},
		{"empty variant", []Def{{Name: "product", Synonyms: map[string]string{"": "hoodie"}}}, nil, ErrEmptyValue, `"product"`},
		{"empty canonical", []Def{{Name: "product", Synonyms: map[string]string{"tee": " "}}}, nil, ErrEmptyValue, `"product"`},
		{"conflicting synonyms", []Def{{Name: "product", Synonyms: map[string]string{"Tee": "t-shirt", "tee": "tea"}}}, nil, ErrSynonymConflict, `"product"`},
		{"conflict across merged defs", []Def{
			{Name: "product", Synonyms: map[string]string{"tee": "t-shirt"}},
			{Name: "product", Synonyms: map[string]string{"TEE": "tea"}}}, nil, ErrSynonymConflict, `"product"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x, err := New(tc.defs, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("New = %v, %v; want an error wrapping %v", x, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %s", err, tc.mention)
			}
		})
	}
}

func TestNewAccepts(t *testing.T) {
	tests := []struct {
		name string
		defs []Def
		opts *Options
	}{
		{"nothing", nil, nil},
		{"empty options", nil, &Options{}},
		{"same synonym twice", []Def{{Name: "p", Synonyms: map[string]string{"Tee": "t-shirt", "tee": "t-shirt"}}}, nil},
		{"built-in name", []Def{{Name: "email", Pattern: `\bme\b`}}, nil},
		{"pattern only", []Def{{Name: "p", Pattern: `x`}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.defs, tc.opts); err != nil {
				t.Errorf("New: %v", err)
			}
		})
	}
}

func TestNothingFound(t *testing.T) {
	x := mustNew(t, nil, nil)
	for _, text := range []string{"", "hello there", "   ", "😀", "\xff"} {
		if got := x.Extract(text, tuesday); got != nil {
			t.Errorf("Extract(%q) = %+v; want nil", text, got)
		}
	}
}

func TestConcurrentExtract(t *testing.T) {
	x := mustNew(t, []Def{{Name: "product", Values: []string{"hoodie"}, Synonyms: map[string]string{"hoody": "hoodie"}}}, nil)
	texts := []string{
		"where is order #10423? it was due yesterday",
		"charged $12.50 twice, mail jane@example.com or call +44 20 7946 0958",
		"return the hoody by next friday",
	}
	want := make([]string, len(texts))
	for i, s := range texts {
		want[i] = fmt.Sprint(x.Extract(s, tuesday))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for k := range 200 {
				i := (g + k) % len(texts)
				if got := fmt.Sprint(x.Extract(texts[i], tuesday)); got != want[i] {
					errs <- got
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("concurrent Extract gave %s", got)
	}
}

func TestHugeInput(t *testing.T) {
	x := mustNew(t, []Def{{Name: "product", Values: []string{"hoodie", "blue hoodie"}}, {Name: "sku", Pattern: `SKU-\d+`}}, nil)
	unit := "order #10423 for jane@example.com: $12.50 on March 3, call 555-123-4567, blue hoodie SKU-1 😀 "
	text := strings.Repeat(unit, (1<<20)/len(unit))
	got := x.Extract(text, tuesday)
	if err := checkInvariants(text, got); err != nil {
		t.Fatal(err)
	}
	reps := (1 << 20) / len(unit)
	if want := 7 * reps; len(got) != want {
		t.Errorf("got %d entities in %d repetitions; want %d", len(got), reps, want)
	}
}

func TestRequiredLiteral(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{`\bSKU-\d{3,6}\b`, "SKU-"},
		{`^ACC(\d+)$`, "ACC"},
		{`\d+-INV-\d+`, "-INV-"},
		{`(?:SKU-)+\d`, "SKU-"},
		{`(?i)sku-\d+`, ""},
		{`(?:SKU-)?\d+`, ""},
		{`a|b`, ""},
		{`x*`, ""},
		{`[`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			if got := requiredLiteral(tc.pattern); got != tc.want {
				t.Errorf("requiredLiteral(%q) = %q; want %q", tc.pattern, got, tc.want)
			}
		})
	}
}

func TestPatternPrefilterKeepsMatches(t *testing.T) {
	x := mustNew(t, []Def{
		{Name: "folded", Pattern: `(?i)\bsku-\d+`},
		{Name: "literal", Pattern: `\bINV-\d+`},
	}, nil)
	got := short(x.Extract("Sku-12 and INV-34 but not inv-56", tuesday))
	want := []string{"folded:Sku-12=Sku-12", "literal:INV-34=INV-34"}
	if !equalStrings(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
}
