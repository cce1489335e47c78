package dataset

import (
	"reflect"
	"testing"
)

func TestParseCLINC150(t *testing.T) {
	const src = `{
  "oos_val": [["what is the weather on mars", "oos"]],
  "train": [
    ["where is my parcel", "order_status"],
    [" cancel my order ", "cancel_order"]
  ],
  "val": [["track my order", "order_status"]],
  "test": [["stop the order", "cancel_order"]],
  "oos_train": [
    ["sing me a song", "oos"]
  ],
  "oos_test": [],
  "domains_note": [["a variant's extra split", "x"]]
}
`
	ds, err := Parse("data.json", []byte(src), FormatCLINC150)
	if err != nil {
		t.Fatal(err)
	}
	want := &Dataset{
		Source: "data.json",
		Format: FormatCLINC150,
		Train: []Example{
			{Text: "where is my parcel", Intent: "order_status", Line: 4},
			{Text: "cancel my order", Intent: "cancel_order", Line: 5},
			{Text: "sing me a song", Intent: OutOfScope, Line: 10},
		},
		Val: []Example{
			{Text: "what is the weather on mars", Intent: OutOfScope, Line: 2},
			{Text: "track my order", Intent: "order_status", Line: 7},
		},
		Test: []Example{{Text: "stop the order", Intent: "cancel_order", Line: 8}},
	}
	if !reflect.DeepEqual(ds, want) {
		t.Errorf("got  %+v\nwant %+v", ds, want)
	}
}

func TestParseCLINC150Errors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		src    string
		line   int
		reason string
	}{
		{"not an object", "[[\"a\", \"b\"]]", 1, "must be a JSON object"},
		{"empty file", "", 1, "must be a JSON object (unexpected end of file)"},
		{"split is an object", "{\n\"train\": {}\n}", 2, `"train" must be a list of [text, label] pairs`},
		{"item is a string", "{\"train\": [\n[\"a\", \"b\"],\n\"c\"\n]}", 3, "pair of strings, found a string"},
		{"label is a number", "{\"train\": [\n[\"a\", \"b\"],\n[\"c\", 7]\n]}", 3, "pair of strings, found a number"},
		{"three elements", "{\"train\": [\n[\"a\", \"b\", \"c\"]\n]}", 2, "found 3 elements"},
		{"one element", "{\"train\": [\n[\"a\"]\n]}", 2, "found 1 elements"},
		{"null item", "{\"train\": [\nnull\n]}", 2, "found 0 elements"},
		{"empty text", "{\"train\": [\n[\"a\", \"b\"],\n[\"  \", \"b\"]\n]}", 3, `"train" item has an empty text`},
		{"empty label", "{\"train\": [\n[\"a\", \"\"]\n]}", 2, "empty label"},
		{"oos split with another label", "{\"train\": [[\"a\", \"b\"]],\n\"oos_train\": [\n[\"x\", \"weather\"]\n]}", 3, `"oos_train" item has label "weather"`},
		{"duplicate key", "{\"train\": [[\"a\", \"b\"]],\n\"train\": []}", 2, `key "train" appears twice (first on line 1)`},
		{"malformed unknown key", "{\"train\": [[\"a\", \"b\"]],\n\"meta\": {\"v\": 1}}", 2, `"meta" must be a list`},
		{"malformed item under unknown key", "{\"train\": [[\"a\", \"b\"]],\n\"extra\": [\n[1, 2]\n]}", 3, "pair of strings"},
		{"syntax error", "{\"train\": [\n[\"a\", \"b\"]\n[\"c\", \"d\"]\n]}", 3, "JSON syntax"},
		{"truncated", "{\"train\": [\n[\"a\", \"b\"],\n", 3, "unexpected end of file"},
		{"trailing data", "{\"train\": [[\"a\", \"b\"]]}\n{}", 2, "data after the end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkParseError(t, parseBad(t, "data.json", tc.src, FormatCLINC150), tc.line, tc.reason)
		})
	}
}
