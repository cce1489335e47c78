package entity

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestName(t *testing.T) {
	x := mustNew(t, nil, nil)
	runShort(t, x, tuesday, []shortCase{
		{"my name is", "my name is Carlos", []string{"name:Carlos=Carlos"}},
		{"my name is, lower case", "my name is carlos", []string{"name:carlos=Carlos"}},
		{"my name is, shouted", "MY NAME IS CARLOS", []string{"name:CARLOS=Carlos"}},
		{"my name's", "Hi, my name's Jo.", []string{"name:Jo=Jo"}},
		{"first and last name", "My name is Carlos Ruiz and my order is late", []string{"name:Carlos Ruiz=Carlos Ruiz"}},
		{"lower-case surname not taken", "my name is carlos ruiz", []string{"name:carlos=Carlos"}},
		{"i'm", "Hello, I'm Maria", []string{"name:Maria=Maria"}},
		{"typographic apostrophe", "hi I’m Maria", []string{"name:Maria=Maria"}},
		{"im", "Im Maria, where is my parcel", []string{"name:Maria=Maria"}},
		{"i am", "I am Priya", []string{"name:Priya=Priya"}},
		{"this is", "this is Priya from Leeds", []string{"name:Priya=Priya"}},
		{"here", "Carlos here", []string{"name:Carlos=Carlos"}},
		{"greeting then here", "Hi, Maria here. My order hasn't come", []string{"name:Maria=Maria"}},
		{"call me", "call me Al", []string{"name:Al=Al"}},
		{"hyphen", "I'm Anne-Marie", []string{"name:Anne-Marie=Anne-Marie"}},
		{"hyphen lower case", "my name is anne-marie", []string{"name:anne-marie=Anne-Marie"}},
		{"apostrophe", "my name is o'brien", []string{"name:o'brien=O'brien"}},
		{"mixed case kept", "I'm DeShawn", []string{"name:DeShawn=DeShawn"}},
		{"accents", "Je suis... I'm Zoë", []string{"name:Zoë=Zoë"}},
		{"with an order", "I'm Maria, order 10423", []string{"name:Maria=Maria", "order_id:order 10423=10423"}},

		{"i'm fine", "I'm fine, thanks", nil},
		{"i'm looking", "I'm looking for a charger", nil},
		{"i am upset", "I am upset", nil},
		{"capitalised feeling", "I am Upset about this", nil},
		{"capitalised -ing", "I'm Looking for my order", nil},
		{"nationality", "I'm British and live abroad", nil},
		{"this is the third time", "this is the third time I ask", nil},
		{"this is capitalised adjective", "This is Ridiculous", nil},
		{"possessive", "this is Maria's account", nil},
		{"same here", "Same here", nil},
		{"anyone here", "Anyone here?", nil},
		{"here is a place", "Everything here is broken", nil},
		{"here mid sentence", "I put Carlos here", nil},
		{"name is wrong", "my name is misspelled on the invoice", nil},
		{"name on order", "my name is on the order", nil},
		{"shouting", "I'M UPSET", nil},
		{"call me back", "call me Back please", nil},
		{"digits", "my name is R2D2", nil},
		{"one letter", "I'm A", nil},
		{"too long", "my name is " + strings.Repeat("a", maxNameRunes+1), nil},
		{"punctuation between", "I'm. Maria", nil},
		{"i'm a", "i'm a returning customer", nil},
	})
}

// TestNameLosesToOtherTypes: a declared entity or a built-in one that
// overlaps a name wins (the name is the weakest type).
func TestNameLosesToOtherTypes(t *testing.T) {
	x := mustNew(t, []Def{{Name: "product", Values: []string{"Maria mug"}}}, nil)
	runShort(t, x, tuesday, []shortCase{
		{"product", "I'm Maria mug fan", []string{"product:Maria mug=Maria mug"}},
		{"weekday", "this is Friday", []string{"date:Friday=2026-03-13"}},
	})
}

// nameSeeds are introductions and near misses written by the team.
var nameSeeds = []string{
	"my name is Carlos", "Hello, I'm Maria", "this is Priya from Leeds", "Carlos here",
	"call me Al", "hi I’m Zoë, my order #10423 hasn't arrived", "MY NAME IS CARLOS RUIZ",
	"I'm fine", "I am upset", "I'm looking for a hoodie", "Same here!", "Everything here is broken",
	"my name is o'brien-smith", "I'm Anne-Marie's sister", "Im   Maria", "I'm\nMaria",
	"this is -Maria", "I'm Ma-", "my name is ’", "Carlos here here here", "i'm i'm i'm Bob",
}

// FuzzName checks what every name must be: the invariants of Extract, a
// value of the same words as its text (capitalised), no digit, and at
// most two words of maxNameRunes.
func FuzzName(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s)
	}
	for _, s := range seedMessages {
		f.Add(s)
	}
	for _, s := range datasetSeeds(f, 200) {
		f.Add(s)
	}
	x := mustNew(f, nil, nil)
	f.Fuzz(func(t *testing.T, text string) {
		got := x.Extract(text, tuesday)
		if err := checkInvariants(text, got); err != nil {
			t.Fatalf("Extract(%q): %v", text, err)
		}
		for _, e := range got {
			if e.Type != TypeName {
				continue
			}
			if err := checkName(e.Text, e.Value); err != nil {
				t.Fatalf("Extract(%q): name %+v: %v", text, e, err)
			}
		}
	})
}

func checkName(text, value string) error {
	words := strings.Fields(value)
	if len(words) == 0 || len(words) > 2 {
		return fmt.Errorf("%d words", len(words))
	}
	if !strings.EqualFold(value, strings.ReplaceAll(strings.Join(strings.Fields(text), " "), "’", "'")) {
		return fmt.Errorf("value is not the text")
	}
	for _, w := range words {
		if n := utf8.RuneCountInString(w); n < 2 || n > maxNameRunes {
			return fmt.Errorf("word %q has %d runes", w, n)
		}
		first, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsUpper(first) {
			return fmt.Errorf("word %q is not capitalised", w)
		}
		if strings.ContainsFunc(w, unicode.IsDigit) {
			return fmt.Errorf("word %q has a digit", w)
		}
	}
	return nil
}

func TestNameSeedsValid(t *testing.T) {
	x := mustNew(t, nil, nil)
	found := 0
	for _, s := range nameSeeds {
		for _, e := range x.Extract(s, tuesday) {
			if e.Type == TypeName {
				found++
				if err := checkName(e.Text, e.Value); err != nil {
					t.Errorf("Extract(%q): name %+v: %v", s, e, err)
				}
			}
		}
	}
	if found < 8 {
		t.Errorf("the seeds give %d names, want at least 8 (they should exercise the scanner)", found)
	}
}

// TestNameBanking77 guards against false names on real customer questions:
// banking77 has no introduction, so nothing in it is a name.
func TestNameBanking77(t *testing.T) {
	x := mustNew(t, nil, nil)
	for _, text := range banking77(t) {
		for _, e := range x.Extract(text, tuesday) {
			if e.Type == TypeName {
				t.Errorf("Extract(%q): name %q", text, e.Value)
			}
		}
	}
}

func BenchmarkScanNames(b *testing.B) {
	text := "Hi, my name is Carlos Ruiz. I'm looking for my order, this is the third time I ask. Carlos here again"
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		c := collector{text: text}
		scanNames(&c)
	}
}
