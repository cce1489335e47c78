package dataset

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// parleyExample is the example of FORMAT.md; keep the two the same.
const parleyExample = `version: 1
intents:
  - name: order_status
    examples:
      - where is my order
      - has order [10423](order_id) shipped yet
      - "[88123](order_id) still hasn't arrived"
  - name: return_item
    examples:
      - how do I send back a [usb cable](product)
      - 'my [earbuds]{"entity": "product", "value": "headphones"} broke, can I return them'
  - name: oos
    examples: [tell me a joke about cats]
validation:
  - name: order_status
    examples: ["did order [5531](order_id) leave the warehouse"]
test:
  - name: return_item
    examples:
      - can I return the [Earphones](product) I bought last week
entities:
  - name: order_id
    pattern: '\b\d{4,8}\b'
  - name: product
    values: [headphones, usb cable]
    synonyms:
      headphones: [earphones, earbuds]
`

func TestParseParleyExample(t *testing.T) {
	ds, err := Parse("shop.yml", []byte(parleyExample), FormatParley)
	if err != nil {
		t.Fatal(err)
	}
	wantTrain := []Example{
		{Text: "where is my order", Intent: "order_status", Line: 5},
		{Text: "has order 10423 shipped yet", Intent: "order_status", Line: 6,
			Entities: []EntitySpan{{Entity: "order_id", Value: "10423", Start: 10, End: 15}}},
		{Text: "88123 still hasn't arrived", Intent: "order_status", Line: 7,
			Entities: []EntitySpan{{Entity: "order_id", Value: "88123", Start: 0, End: 5}}},
		{Text: "how do I send back a usb cable", Intent: "return_item", Line: 10,
			Entities: []EntitySpan{{Entity: "product", Value: "usb cable", Start: 21, End: 30}}},
		{Text: "my earbuds broke, can I return them", Intent: "return_item", Line: 11,
			Entities: []EntitySpan{{Entity: "product", Value: "headphones", Start: 3, End: 10}}},
		{Text: "tell me a joke about cats", Intent: OutOfScope, Line: 13},
	}
	if !reflect.DeepEqual(ds.Train, wantTrain) {
		t.Errorf("Train:\n got %+v\nwant %+v", ds.Train, wantTrain)
	}
	wantVal := []Example{{Text: "did order 5531 leave the warehouse", Intent: "order_status", Line: 16,
		Entities: []EntitySpan{{Entity: "order_id", Value: "5531", Start: 10, End: 14}}}}
	if !reflect.DeepEqual(ds.Val, wantVal) {
		t.Errorf("Val:\n got %+v\nwant %+v", ds.Val, wantVal)
	}
	// "Earphones" is a declared synonym: the span keeps the text but its
	// value is the canonical one.
	wantTest := []Example{{Text: "can I return the Earphones I bought last week", Intent: "return_item", Line: 20,
		Entities: []EntitySpan{{Entity: "product", Value: "headphones", Start: 17, End: 26}}}}
	if !reflect.DeepEqual(ds.Test, wantTest) {
		t.Errorf("Test:\n got %+v\nwant %+v", ds.Test, wantTest)
	}
	wantDefs := []EntityDef{
		{Name: "order_id", Pattern: `\b\d{4,8}\b`},
		{Name: "product", Values: []string{"headphones", "usb cable"},
			Synonyms: map[string]string{"earphones": "headphones", "earbuds": "headphones"}},
	}
	if !reflect.DeepEqual(ds.EntityDefs, wantDefs) {
		t.Errorf("EntityDefs:\n got %+v\nwant %+v", ds.EntityDefs, wantDefs)
	}
}

func TestParseParleyEntities(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []EntityDef
		span EntitySpan // of the first training example
	}{
		{
			name: "undeclared entity is declared implicitly",
			src:  "intents:\n  - name: a\n    examples: [\"ship to [Paris](city)\"]\n",
			want: []EntityDef{{Name: "city"}},
			span: EntitySpan{Entity: "city", Value: "Paris", Start: 8, End: 13},
		},
		{
			name: "annotation value becomes a synonym",
			src:  "intents:\n  - name: a\n    examples: ['ship to [NYC]{\"entity\": \"city\", \"value\": \"New York\"}']\n",
			want: []EntityDef{{Name: "city", Synonyms: map[string]string{"nyc": "New York"}}},
			span: EntitySpan{Entity: "city", Value: "New York", Start: 8, End: 11},
		},
		{
			name: "a synonym learnt from one annotation applies to another",
			src: "intents:\n  - name: a\n    examples:\n      - ship to [nyc](city)\n" +
				"      - 'fly to [NYC]{\"entity\": \"city\", \"value\": \"New York\"}'\n",
			want: []EntityDef{{Name: "city", Synonyms: map[string]string{"nyc": "New York"}}},
			span: EntitySpan{Entity: "city", Value: "New York", Start: 8, End: 11},
		},
		{
			name: "declared after use keeps declaration order",
			src: "intents:\n  - name: a\n    examples: [\"[x](second) [y](first)\"]\n" +
				"entities:\n  - name: first\n    values: [y]\n",
			want: []EntityDef{{Name: "first", Values: []string{"y"}}, {Name: "second"}},
			span: EntitySpan{Entity: "second", Value: "x", Start: 0, End: 1},
		},
		{
			name: "escaped brackets are text",
			src:  "intents:\n  - name: a\n    examples: ['press \\[OK\\] on [the app](place)']\n",
			want: []EntityDef{{Name: "place"}},
			span: EntitySpan{Entity: "place", Value: "the app", Start: 14, End: 21},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := Parse("x.yml", []byte(tc.src), FormatParley)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ds.EntityDefs, tc.want) {
				t.Errorf("EntityDefs = %+v; want %+v", ds.EntityDefs, tc.want)
			}
			if got := ds.Train[0].Entities; len(got) == 0 || got[0] != tc.span {
				t.Errorf("first span = %+v; want %+v (text %q)", got, tc.span, ds.Train[0].Text)
			}
		})
	}
}

func TestParseParleyErrors(t *testing.T) {
	const head = "version: 1\nintents:\n  - name: a\n    examples: [hello]\n" // 4 lines
	for _, tc := range []struct {
		name   string
		src    string
		line   int
		reason string
	}{
		{"version 2", "version: 2\nintents: []\n", 1, `version "2" is not supported`},
		{"rasa version", "version: \"3.1\"\nintents: []\n", 1, "a Rasa file?"},
		{"version is a list", "version: [1]\nintents: []\n", 1, "version must be a string, not a list"},
		{"no intents", "version: 1\nentities: []\n", 1, `no "intents" key`},
		{"unknown top-level key", head + "responses: {}\n", 5, `unknown key "responses" in the top level`},
		{"duplicate top-level key", head + "intents: []\n", 5, `key "intents" twice (first on line 2)`},
		{"intents is a mapping", "intents:\n  a: [hello]\n", 2, "intents must be a list, not a mapping"},
		{"intents is empty", "intents: []\n", 1, "intents is empty"},
		{"intent is a string", "intents:\n  - greet\n", 2, "intents item must be a mapping of keys, not a string"},
		{"unknown intent key", "intents:\n  - name: a\n    example: [hi]\n", 3, `unknown key "example" in an intent`},
		{"empty intent name", "intents:\n  - name: \"\"\n    examples: [hi]\n", 2, "empty intent name"},
		{"null intent name", "intents:\n  - name:\n    examples: [hi]\n", 2, "empty intent name"},
		{"missing intent name", "intents:\n  - examples: [hi]\n", 2, `intent without a "name"`},
		{"intent name is a list", "intents:\n  - name: [a]\n    examples: [hi]\n", 2, "intent name must be a string, not a list"},
		{"missing examples", "intents:\n  - name: a\n", 2, `intent "a" has no "examples"`},
		{"empty examples list", "intents:\n  - name: a\n    examples: []\n", 3, "empty list of examples"},
		{"examples is a string", "intents:\n  - name: a\n    examples: hello\n", 3, "examples must be a list, not a string"},
		{"empty example", "intents:\n  - name: a\n    examples:\n      - hi\n      - \"  \"\n", 5, `empty example for intent "a"`},
		{"broken annotation in a block scalar", "intents:\n  - name: a\n    examples:\n      - |\n        order [1\n", 5, `"[" is never closed`},
		{"null example", "intents:\n  - name: a\n    examples:\n      - hi\n      -\n", 5, `empty example for intent "a"`},
		{"unquoted colon makes a mapping", "intents:\n  - name: a\n    examples:\n      - note: this\n", 4, `contains ": " in quotes`},
		{"unquoted leading bracket", "intents:\n  - name: a\n    examples:\n      - [1](x) is late\n", 3, `put an example in quotes`},
		{"duplicate intent", head + "  - name: b\n    examples: [x]\n  - name: a\n    examples: [y]\n", 7, `intent "a" is listed twice in intents (first on line 3)`},
		{"same intent in train and validation is fine, twice in validation is not",
			head + "validation:\n  - name: a\n    examples: [x]\n  - name: a\n    examples: [y]\n", 8, "listed twice in validation"},
		{"validation intent not trained", head + "validation:\n  - name: b\n    examples: [x]\n", 6, `intent "b" in validation is not among the training intents`},
		{"test intent not trained", head + "test:\n  - name: b\n    examples: [x]\n", 6, `intent "b" in test is not among the training intents`},
		{"unclosed bracket", "intents:\n  - name: a\n    examples:\n      - ok\n      - \"order [123(order_id)\"\n", 5, `"[" is never closed`},
		{"stray closing bracket", "intents:\n  - name: a\n    examples:\n      - \"order 123] now\"\n", 4, `"]" without "["`},
		{"bracket without entity", "intents:\n  - name: a\n    examples:\n      - \"order [123] now\"\n", 4, "[123] must be followed by (entity)"},
		{"unclosed parenthesis", "intents:\n  - name: a\n    examples:\n      - \"order [123](order_id now\"\n", 4, `"(" after [123] is never closed`},
		{"empty entity name", "intents:\n  - name: a\n    examples:\n      - \"order [123]() now\"\n", 4, "empty entity name"},
		{"entity name with space", "intents:\n  - name: a\n    examples:\n      - \"order [123](order id) now\"\n", 4, `entity name "order id" must not contain ' '`},
		{"empty annotated text", "intents:\n  - name: a\n    examples:\n      - \"order [](order_id) now\"\n", 4, "marks no text"},
		{"space inside brackets", "intents:\n  - name: a\n    examples:\n      - \"order [123 ](order_id) now\"\n", 4, "starts or ends with a space"},
		{"bad JSON annotation", "intents:\n  - name: a\n    examples:\n      - '[x]{\"entity\": }'\n", 4, "invalid JSON"},
		{"unknown JSON annotation key", "intents:\n  - name: a\n    examples:\n      - '[x]{\"entity\": \"e\", \"colour\": \"red\"}'\n", 4, `unknown field "colour"`},
		{"unclosed JSON annotation", "intents:\n  - name: a\n    examples:\n      - '[x]{\"entity\": \"e\"'\n", 4, "never closed"},
		{"alias", "intents:\n  - name: a\n    examples: &ex [hi]\n  - name: b\n    examples: *ex\n", 5, "aliases (*ex) are not supported"},
		{"entities is a mapping", head + "entities:\n  order_id: x\n", 6, "entities must be a list"},
		{"entity without name", head + "entities:\n  - pattern: x\n", 6, `entity without a "name"`},
		{"entity name with bracket", head + "entities:\n  - name: \"a]\"\n", 6, `must not contain ']'`},
		{"duplicate entity", head + "entities:\n  - name: e\n  - name: e\n", 7, `entity "e" is declared twice`},
		{"unknown entity key", head + "entities:\n  - name: e\n    regex: x\n", 7, `unknown key "regex" in an entity`},
		{"invalid pattern", head + "entities:\n  - name: e\n    values: [x]\n    pattern: '(\\d+'\n", 8, `entity "e": invalid pattern: error parsing regexp: missing closing )`},
		{"empty pattern", head + "entities:\n  - name: e\n    pattern: ''\n", 7, "empty pattern"},
		{"values is a string", head + "entities:\n  - name: e\n    values: x\n", 7, "values must be a list, not a string"},
		{"empty value", head + "entities:\n  - name: e\n    values: [x, '']\n", 7, "empty values item"},
		{"synonyms is a list", head + "entities:\n  - name: e\n    synonyms: [x]\n", 7, "synonyms must be a mapping"},
		{"synonym variants not a list", head + "entities:\n  - name: e\n    synonyms:\n      big: large\n", 8, "synonyms of big must be a list"},
		{"conflicting synonyms", head + "entities:\n  - name: e\n    synonyms:\n      big: [huge]\n      large: [Huge]\n", 9, `synonym "Huge" -> "large" conflicts with "huge" -> "big" (line 8)`},
		{"annotation conflicts with declared synonym",
			"intents:\n  - name: a\n    examples:\n      - '[huge]{\"entity\": \"e\", \"value\": \"large\"}'\n" +
				"entities:\n  - name: e\n    synonyms:\n      big: [huge]\n", 4, `synonym "huge" -> "large" conflicts with "huge" -> "big" (line 8)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkParseError(t, parseBad(t, "x.yml", tc.src, FormatParley), tc.line, tc.reason)
		})
	}
}

// BenchmarkParseParley parses a generated file the size of CLINC150's
// training set: 150 intents of 100 examples, one in ten annotated.
func BenchmarkParseParley(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("version: 1\nintents:\n")
	for i := range 150 {
		fmt.Fprintf(&sb, "  - name: intent_%d\n    examples:\n", i)
		for j := range 100 {
			if j%10 == 0 {
				fmt.Fprintf(&sb, "      - where is order [%d](order_id) for intent %d\n", 1000+j, i)
			} else {
				fmt.Fprintf(&sb, "      - example number %d of intent %d\n", j, i)
			}
		}
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("bench.yml", data, FormatParley); err != nil {
			b.Fatal(err)
		}
	}
}
