package nlp

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/nlp/dataset"
)

func TestWithTypos(t *testing.T) {
	train := []dataset.Example{
		{Text: "i want to return my headphones please", Intent: "return_item"},
		{Text: "where is my order", Intent: "order_status"},
		{Text: "hi", Intent: "greet"}, // no word long enough: never copied
	}
	if got := withTypos(train, 0, 1); len(got) != 3 {
		t.Errorf("0 copies: %d examples, want the 3", len(got))
	}
	got := withTypos(train, 2, 1)
	if !slices.EqualFunc(got[:3], train, func(a, b dataset.Example) bool { return a.Text == b.Text && a.Intent == b.Intent }) {
		t.Fatalf("the originals are not first and unchanged: %v", got[:3])
	}
	for _, ex := range got[3:] {
		if ex.Intent == "greet" || len(ex.Entities) != 0 {
			t.Errorf("copy %+v", ex)
		}
		orig := train[slices.IndexFunc(train, func(o dataset.Example) bool { return o.Intent == ex.Intent })]
		if ex.Text == orig.Text || len(strings.Fields(ex.Text)) != len(strings.Fields(orig.Text)) {
			t.Errorf("copy %q of %q: want the same words, some misspelt", ex.Text, orig.Text)
		}
		for i, w := range strings.Fields(ex.Text) {
			o := strings.Fields(orig.Text)[i]
			if w[0] != o[0] || len(o) < 4 && w != o {
				t.Errorf("word %q of %q changed into %q: short words and first letters stay", o, orig.Text, w)
			}
		}
	}
	if again := withTypos(train, 2, 1); !slices.EqualFunc(again, got, func(a, b dataset.Example) bool { return a.Text == b.Text }) {
		t.Error("the same seed gave other typos")
	}
	if other := withTypos(train, 2, 2); slices.EqualFunc(other, got, func(a, b dataset.Example) bool { return a.Text == b.Text }) {
		t.Error("another seed gave the same typos")
	}
}

// About TypoRate of the long words get a typo.
func TestTypoRate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Repeat("return ", 10000)
	changed := 0
	for _, w := range strings.Fields(typos(r, words)) {
		if w != "return" {
			changed++
		}
	}
	if rate := float64(changed) / 10000; rate < TypoRate-0.05 || rate > TypoRate+0.02 {
		t.Errorf("%.3f of the words changed, want about %.2f", rate, TypoRate)
	}
}
