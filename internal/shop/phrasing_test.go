package shop_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/internal/shoptest"
	"github.com/parleyhq/parley/nlp"
	"github.com/parleyhq/parley/nlp/dataset"
)

// phrasingFloor is the share of testdata/phrasing.yml the demo model must
// get right, out-of-scope decision included (an in-scope message rejected
// as out of scope is wrong). When the file was written the seed-1 model got
// 69 of 71 (97.2%; seeds 2 and 3: 97.2%, 94.4%); the model trained on
// nlu.yml as it was before issue 15 got 53 of 71 (74.6%; 81.5% of the 65
// that are not give_name, an intent it did not have).
const phrasingFloor = 0.90

// readPhrasing parses testdata/phrasing.yml; its examples are under
// "intents" only because the format requires that section.
func readPhrasing(t *testing.T) []dataset.Example {
	t.Helper()
	path := filepath.Join("testdata", "phrasing.yml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.Parse(path, data, dataset.FormatParley)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if len(ds.Train) < 60 {
		t.Fatalf("%s holds %d examples, want at least 60", path, len(ds.Train))
	}
	return ds.Train
}

// key is the form under which two sentences count as the same one: case,
// punctuation and apostrophes aside (as shop_test.go's normalize).
func key(s string) string {
	f := strings.FieldsFunc(strings.ToLower(strings.NewReplacer("'", "", "’", "").Replace(s)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	return strings.Join(f, " ")
}

// TestPhrasingHeldOut keeps the evaluation honest: no sentence of
// phrasing.yml may be trained on or validated with, and every intent it
// names is one the model knows.
func TestPhrasingHeldOut(t *testing.T) {
	ds, err := dataset.Parse("nlu.yml", shop.NLU(), dataset.FormatParley)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]int{}
	for i, ex := range slices.Concat(ds.Train, ds.Val, ds.Test) {
		known[key(ex.Text)] = i + 1
	}
	intents := ds.Intents()
	for _, ex := range readPhrasing(t) {
		if known[key(ex.Text)] != 0 {
			t.Errorf("line %d: %q is also in nlu.yml", ex.Line, ex.Text)
		}
		if ex.Intent != dataset.OutOfScope && !slices.Contains(intents, ex.Intent) {
			t.Errorf("line %d: intent %q is not one of nlu.yml's", ex.Line, ex.Intent)
		}
	}
}

// predicted is what the bot makes of a parse: the intent, or "oos".
func predicted(r *nlp.Result) string {
	if !r.InScope {
		return dataset.OutOfScope
	}
	return r.Intent
}

// TestPhrasing trains the demo model and holds it to phrasingFloor on
// the held-out everyday phrasing.
func TestPhrasing(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the demo model")
	}
	m := shoptest.Model(t)
	exs := readPhrasing(t)
	right := 0
	for _, ex := range exs {
		r, err := m.Parse(context.Background(), ex.Text)
		if err != nil {
			t.Fatalf("parse %q: %v", ex.Text, err)
		}
		if got := predicted(r); got == ex.Intent {
			right++
		} else {
			t.Logf("line %d: %q: got %s (%.2f), want %s", ex.Line, ex.Text, got, r.Confidence, ex.Intent)
		}
	}
	acc := float64(right) / float64(len(exs))
	t.Logf("phrasing.yml: %d of %d right (%.1f%%)", right, len(exs), 100*acc)
	if acc < phrasingFloor {
		t.Errorf("phrasing.yml accuracy %.1f%%, want at least %.0f%%", 100*acc, 100*phrasingFloor)
	}
}

// TestIssuePhrases are the messages of issue 15, which the demo bot once
// answered with "that's outside what I can help with" or by ignoring the
// name.
func TestIssuePhrases(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the demo model")
	}
	m := shoptest.Model(t)
	tests := []struct {
		text    string
		intents []string // any of these, in scope
		name    string   // the name entity's value; "" for none
	}{
		{"i want to retrun my hedphones", []string{"return_item"}, ""},
		{"my name is Carlos", []string{"give_name"}, "Carlos"},
		{"what other orders do I have?", []string{"list_orders"}, ""},
		// Either reading greets Maria by name (dialog/name.go).
		{"Hello, I'm Maria", []string{"give_name", "greet"}, "Maria"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r, err := m.Parse(context.Background(), tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if got := predicted(r); !slices.Contains(tt.intents, got) {
				t.Errorf("intent %s (%.2f, in scope %v), want one of %v", r.Intent, r.Confidence, r.InScope, tt.intents)
			}
			name := ""
			for _, e := range r.Entities {
				if e.Type == "name" {
					name = e.Value
				}
			}
			if name != tt.name {
				t.Errorf("name %q, want %q (entities %+v)", name, tt.name, r.Entities)
			}
		})
	}
}

// TestGiveNameExamplesHaveNames: the give_name examples written in the
// "my name is", "I'm", "this is", "X here" and "call me" shapes are ones
// the name extractor reads, so what the classifier learns and what the
// extractor finds agree.
func TestGiveNameExamplesHaveNames(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the demo model")
	}
	m := shoptest.Model(t)
	ds, err := dataset.Parse("nlu.yml", shop.NLU(), dataset.FormatParley)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ex := range slices.Concat(ds.Train, ds.Val) {
		if ex.Intent != "give_name" {
			continue
		}
		k := " " + key(ex.Text) + " "
		if !strings.Contains(k, " my name is ") && !strings.Contains(k, " im ") && !strings.Contains(k, " i am ") &&
			!strings.Contains(k, " this is ") && !strings.Contains(k, " here ") && !strings.Contains(k, " call me ") {
			continue
		}
		n++
		r, err := m.Parse(context.Background(), ex.Text)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(r.Entities, func(e nlp.Entity) bool { return e.Type == "name" }) {
			t.Errorf("line %d: no name found in %q", ex.Line, ex.Text)
		}
	}
	if n < 30 {
		t.Errorf("%d give_name examples in the shapes the extractor reads, want at least 30", n)
	}
}
