package shop

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/nlp/dataset"
)

// The floors the default domain must keep. The file holds more; these are
// what the demo bot needs to be usable and to calibrate out-of-scope
// detection.
const (
	minIntents       = 25
	minTrainExamples = 40 // distinct training examples per intent
	minValExamples   = 8  // validation examples per intent
	minOOSTrain      = 60
	minOOSVal        = 15
)

// requiredIntents are the intents the default domain is built around (the
// header of nlu.yml says where each one ends): removing or renaming one must
// fail here, not in a conversation.
var requiredIntents = []string{
	"order_status", "list_orders", "cancel_order", "change_order",
	"delivery_time", "delivery_problem", "change_address", "shipping_options",
	"return_item", "return_policy", "refund_status", "request_refund",
	"payment_methods", "payment_problem", "get_invoice",
	"reset_password", "login_problem", "update_account", "delete_account",
	"product_availability", "product_info", "warranty",
	"complaint", "give_feedback", "human_agent",
	"greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge", "how_are_you", "give_name",
}

// parsed is the embedded file, parsed once for all tests, which only read it.
var parsed = sync.OnceValues(func() (*dataset.Dataset, error) {
	return dataset.Parse("nlu.yml", NLU(), dataset.FormatParley)
})

func parse(t testing.TB) *dataset.Dataset {
	t.Helper()
	ds, err := parsed()
	if err != nil {
		t.Fatalf("parse embedded nlu.yml: %v", err)
	}
	return ds
}

// byIntent groups examples by intent, keeping file order.
func byIntent(exs []dataset.Example) map[string][]dataset.Example {
	m := make(map[string][]dataset.Example)
	for _, ex := range exs {
		m[ex.Intent] = append(m[ex.Intent], ex)
	}
	return m
}

// normalize is the key under which two examples count as the same sentence:
// case, punctuation, emoji and spacing do not make a new example.
func normalize(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		case r == '\'' || r == '’':
			// "don't" and "dont" are the same sentence.
		default:
			space = true
		}
	}
	return b.String()
}

func TestNLUReturnsCopy(t *testing.T) {
	a := NLU()
	if len(a) == 0 {
		t.Fatal("NLU returned no data")
	}
	want := bytes.Clone(a)
	a[0] ^= 0xff
	if b := NLU(); !bytes.Equal(b, want) {
		t.Fatal("changing the slice NLU returned changed the next call's data")
	}
}

func TestIntents(t *testing.T) {
	ds := parse(t)
	train, val := byIntent(ds.Train), byIntent(ds.Val)

	intents := 0
	for name := range train {
		if name != dataset.OutOfScope {
			intents++
		}
	}
	if intents < minIntents {
		t.Errorf("%d intents, want at least %d", intents, minIntents)
	}
	for _, name := range requiredIntents {
		if _, ok := train[name]; !ok {
			t.Errorf("intent %q missing from the training section", name)
		}
	}

	for name, exs := range train {
		t.Run(name, func(t *testing.T) {
			minTrain, minVal := minTrainExamples, minValExamples
			if name == dataset.OutOfScope {
				minTrain, minVal = minOOSTrain, minOOSVal
			}
			distinct := map[string]bool{}
			for _, ex := range exs {
				distinct[normalize(ex.Text)] = true
			}
			if len(distinct) < minTrain {
				t.Errorf("%d distinct training examples, want at least %d", len(distinct), minTrain)
			}
			if n := len(val[name]); n < minVal {
				t.Errorf("%d validation examples, want at least %d", n, minVal)
			}
		})
	}
}

func TestNoDuplicateExamples(t *testing.T) {
	ds := parse(t)
	type seen struct {
		intent, split string
		line          int
	}
	first := map[string]seen{}
	check := func(split string, exs []dataset.Example) {
		for _, ex := range exs {
			key := normalize(ex.Text)
			if prev, dup := first[key]; dup {
				t.Errorf("line %d (%s, %s) %q repeats line %d (%s, %s)",
					ex.Line, split, ex.Intent, ex.Text, prev.line, prev.split, prev.intent)
				continue
			}
			first[key] = seen{ex.Intent, split, ex.Line}
		}
	}
	check("intents", ds.Train)
	check("validation", ds.Val)
	check("test", ds.Test)
}

func TestNoEmptyExamples(t *testing.T) {
	ds := parse(t)
	for _, ex := range slices.Concat(ds.Train, ds.Val, ds.Test) {
		// A sentence of only emoji or punctuation gives a model nothing to
		// learn from once the tokenizer has cleaned it.
		if !strings.ContainsFunc(ex.Text, unicode.IsLetter) {
			t.Errorf("line %d (%s): example %q has no word in it", ex.Line, ex.Intent, ex.Text)
		}
	}
}

// TestNoCommentInPlainExample guards against a YAML trap: in an unquoted
// example, " #" starts a comment, so "cancel order #1042" would silently
// train on "cancel order". Such examples must be quoted.
func TestNoCommentInPlainExample(t *testing.T) {
	for i, line := range strings.Split(string(NLU()), "\n") {
		item, ok := strings.CutPrefix(strings.TrimSpace(line), "- ")
		if !ok || strings.HasPrefix(item, `"`) || strings.HasPrefix(item, "'") {
			continue
		}
		if strings.Contains(item, " #") || strings.HasPrefix(item, "#") {
			t.Errorf("line %d: quote the example %q: YAML reads what follows %q as a comment", i+1, item, "#")
		}
	}
}

func TestAnnotatedEntitiesAreDeclared(t *testing.T) {
	ds := parse(t)
	declared := map[string]bool{}
	for _, d := range ds.EntityDefs {
		// The parser also lists entities that are only used in
		// annotations; only a pattern or a lookup table declares one.
		if d.Pattern != "" || len(d.Values) > 0 {
			declared[d.Name] = true
		}
	}
	for _, name := range []string{"order_id", "email", "product"} {
		if !declared[name] {
			t.Errorf("entity %q is not declared with a pattern or values", name)
		}
	}
	for _, ex := range slices.Concat(ds.Train, ds.Val, ds.Test) {
		for _, sp := range ex.Entities {
			if !declared[sp.Entity] {
				t.Errorf("line %d: entity %q in %q is annotated but not declared", ex.Line, sp.Entity, ex.Text)
			}
		}
	}
}

// span is a rune range of an example text.
type span struct{ start, end int }

func (s span) String() string { return fmt.Sprintf("[%d,%d)", s.start, s.end) }

// runeSpan turns byte offsets into text into a rune span.
func runeSpan(text string, start, end int) span {
	s := utf8.RuneCountInString(text[:start])
	return span{s, s + utf8.RuneCountInString(text[start:end])}
}

func annotated(ex dataset.Example, entity string) []span {
	var out []span
	for _, sp := range ex.Entities {
		if sp.Entity == entity {
			out = append(out, span{sp.Start, sp.End})
		}
	}
	return out
}

func covered(s span, by []span) bool {
	for _, b := range by {
		if b.start <= s.start && s.end <= b.end {
			return true
		}
	}
	return false
}

func entityDef(t *testing.T, ds *dataset.Dataset, name string) dataset.EntityDef {
	t.Helper()
	for _, d := range ds.EntityDefs {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("entity %q not declared", name)
	return dataset.EntityDef{}
}

// TestPatternEntitiesAnnotated checks that the annotations agree with the
// declared patterns both ways: what an example marks as an order number or
// e-mail is exactly what the pattern extracts, and nothing the pattern would
// extract is left unmarked. Otherwise the data would teach the extractor and
// the classifier two different things.
func TestPatternEntitiesAnnotated(t *testing.T) {
	ds := parse(t)
	for _, name := range []string{"order_id", "email"} {
		t.Run(name, func(t *testing.T) {
			re, err := regexp.Compile(entityDef(t, ds, name).Pattern)
			if err != nil {
				t.Fatalf("compile pattern: %v", err)
			}
			used := 0
			for _, ex := range slices.Concat(ds.Train, ds.Val, ds.Test) {
				var found []span
				for _, m := range re.FindAllStringSubmatchIndex(ex.Text, -1) {
					start, end := m[0], m[1]
					if len(m) >= 4 && m[2] >= 0 { // the first group is the value
						start, end = m[2], m[3]
					}
					found = append(found, runeSpan(ex.Text, start, end))
				}
				marked := annotated(ex, name)
				used += len(marked)
				if !slices.Equal(found, marked) {
					t.Errorf("line %d: %q: pattern finds %v, annotations mark %v", ex.Line, ex.Text, found, marked)
				}
			}
			if used == 0 {
				t.Errorf("no example annotates %s", name)
			}
		})
	}
}

// TestProductsAnnotated checks that every annotated product is in the lookup
// table (as a value or a synonym) and that every product name of the table
// that appears in an example is annotated.
func TestProductsAnnotated(t *testing.T) {
	ds := parse(t)
	def := entityDef(t, ds, "product")
	known := map[string]bool{}
	var names []string
	for _, v := range def.Values {
		known[strings.ToLower(v)] = true
		names = append(names, v)
	}
	for variant := range def.Synonyms {
		known[variant] = true
		names = append(names, variant)
	}
	slices.Sort(names)

	used := map[string]bool{}
	for _, ex := range slices.Concat(ds.Train, ds.Val, ds.Test) {
		marked := annotated(ex, "product")
		for _, sp := range ex.Entities {
			if sp.Entity != "product" {
				continue
			}
			surface := strings.ToLower(string([]rune(ex.Text)[sp.Start:sp.End]))
			if !known[surface] {
				t.Errorf("line %d: product %q is not in the lookup table", ex.Line, surface)
			}
			used[sp.Value] = true
		}
		// Every name is looked for, so "laptop sleeve" annotated as
		// "[laptop](product) sleeve" fails: the longer name is not covered.
		lower := asciiLower(ex.Text)
		for _, name := range names {
			for _, m := range findWord(lower, strings.ToLower(name)) {
				if s := runeSpan(ex.Text, m[0], m[1]); !covered(s, marked) {
					t.Errorf("line %d: %q mentions product %q at %v without annotating it whole",
						ex.Line, ex.Text, name, s)
				}
			}
		}
	}
	if len(used) < len(def.Values)*3/4 {
		t.Errorf("examples annotate %d of the %d products, want at least three quarters", len(used), len(def.Values))
	}
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay valid.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// findWord returns the byte ranges where word occurs in text as a whole word
// (as regexp's \b sees it), like the lookup table matches product names.
func findWord(text, word string) [][2]int {
	var out [][2]int
	for from := 0; ; {
		i := strings.Index(text[from:], word)
		if i < 0 {
			return out
		}
		start, end := from+i, from+i+len(word)
		if (start == 0 || !isWordByte(text[start-1])) && (end == len(text) || !isWordByte(text[end])) {
			out = append(out, [2]int{start, end})
		}
		from = start + 1
	}
}

func TestFindWord(t *testing.T) {
	tests := []struct {
		name, text, word string
		want             [][2]int
	}{
		{"whole sentence", "mouse", "mouse", [][2]int{{0, 5}}},
		{"inside a word", "mousepad and dormouse", "mouse", nil},
		{"between punctuation", "a mouse, the mouse!", "mouse", [][2]int{{2, 7}, {13, 18}}},
		{"hyphenated name", "my t-shirt", "t-shirt", [][2]int{{3, 10}}},
		{"digits are word characters", "cap2 cap", "cap", [][2]int{{5, 8}}},
		{"after an emoji", "🙂cap", "cap", [][2]int{{4, 7}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := findWord(tt.text, tt.word); !slices.Equal(got, tt.want) {
				t.Errorf("findWord(%q, %q) = %v, want %v", tt.text, tt.word, got, tt.want)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	data := NLU()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := dataset.Parse("nlu.yml", data, dataset.FormatParley); err != nil {
			b.Fatal(err)
		}
	}
}
