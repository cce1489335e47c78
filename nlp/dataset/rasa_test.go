package dataset

import (
	"reflect"
	"testing"
)

// rasaExample is a team-written Rasa 3 file with every kind of nlu item.
const rasaExample = `version: "3.1"

nlu:
- intent: check_balance
  examples: |
    - how much money is on my [savings](account) account
    - what's left on my [pink pig](account:savings)

    - show the balance of [credit]{"entity": "account", "value": "credit card"}
- synonym: savings
  examples: |
    - piggy bank
- lookup: bank
  examples: |
    - Acme Bank
    - First Parley
- regex: account_number
  examples: |
    - \d{10}
    - [A-Z]{2}\d{8}
- intent: faq/opening_hours
  metadata:
    sentiment: neutral
  examples:
  - text: |
      when do you open
    metadata:
      source: chat
  - text: are you open on sundays
- intent: check_balance
  examples: |
    - balance of my [piggy bank](account) please

responses:
  utter_greet:
  - text: "Hey! How are you?"
`

func TestParseRasaExample(t *testing.T) {
	ds, err := Parse("nlu.yml", []byte(rasaExample), FormatRasa)
	if err != nil {
		t.Fatal(err)
	}
	wantTrain := []Example{
		{Text: "how much money is on my savings account", Intent: "check_balance", Line: 6,
			Entities: []EntitySpan{{Entity: "account", Value: "savings", Start: 24, End: 31}}},
		{Text: "what's left on my pink pig", Intent: "check_balance", Line: 7,
			Entities: []EntitySpan{{Entity: "account", Value: "savings", Start: 18, End: 26}}},
		{Text: "show the balance of credit", Intent: "check_balance", Line: 9,
			Entities: []EntitySpan{{Entity: "account", Value: "credit card", Start: 20, End: 26}}},
		{Text: "when do you open", Intent: "faq/opening_hours", Line: 26},
		{Text: "are you open on sundays", Intent: "faq/opening_hours", Line: 29},
		// "piggy bank" is a synonym item: the value becomes canonical.
		{Text: "balance of my piggy bank please", Intent: "check_balance", Line: 32,
			Entities: []EntitySpan{{Entity: "account", Value: "savings", Start: 14, End: 24}}},
	}
	if !reflect.DeepEqual(ds.Train, wantTrain) {
		t.Errorf("Train:\n got %+v\nwant %+v", ds.Train, wantTrain)
	}
	// Rasa's synonyms are global: every entity gets all of them.
	syn := map[string]string{"pink pig": "savings", "credit": "credit card", "piggy bank": "savings"}
	wantDefs := []EntityDef{
		{Name: "account", Synonyms: syn},
		{Name: "bank", Values: []string{"Acme Bank", "First Parley"}, Synonyms: syn},
		{Name: "account_number", Pattern: `(?:\d{10})|(?:[A-Z]{2}\d{8})`, Synonyms: syn},
	}
	if !reflect.DeepEqual(ds.EntityDefs, wantDefs) {
		t.Errorf("EntityDefs:\n got %+v\nwant %+v", ds.EntityDefs, wantDefs)
	}
	if len(ds.Val) != 0 || len(ds.Test) != 0 || ds.Format != FormatRasa {
		t.Errorf("Val %d, Test %d, Format %q; want 0, 0, rasa", len(ds.Val), len(ds.Test), ds.Format)
	}
}

func TestParseRasaVersions(t *testing.T) {
	for _, tc := range []struct {
		name, version string
		ok            bool
	}{
		{"3.1", `"3.1"`, true},
		{"3.0 unquoted", `3.0`, true},
		{"2.0", `"2.0"`, true},
		{"1.0", `"1.0"`, false},
		{"parley's version", `1`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "version: " + tc.version + "\nnlu:\n- intent: a\n  examples: |\n    - hi\n"
			_, err := Parse("nlu.yml", []byte(src), FormatRasa)
			if tc.ok && err != nil {
				t.Fatal(err)
			}
			if !tc.ok {
				checkParseError(t, err, 1, "is not supported")
			}
		})
	}
}

func TestParseRasaErrors(t *testing.T) {
	const v = "version: \"3.1\"\n"
	for _, tc := range []struct {
		name   string
		src    string
		line   int
		reason string
	}{
		{"no nlu", v + "responses: {}\n", 1, `no "nlu" key`},
		{"nlu is a mapping", v + "nlu:\n  intent: a\n", 3, "nlu must be a list, not a mapping"},
		{"nlu is null", v + "nlu:\n", 2, "nlu must be a list, not a null"},
		{"item is a string", v + "nlu:\n- greet\n", 3, "an nlu item must be a mapping of keys, not a string"},
		{"item without kind", v + "nlu:\n- examples: |\n    - hi\n", 3, `none of "intent", "synonym", "lookup" or "regex"`},
		{"item with two kinds", v + "nlu:\n- intent: a\n  lookup: b\n  examples: |\n    - hi\n", 4, `has both "intent" and "lookup"`},
		{"unknown item key", v + "nlu:\n- intent: a\n  example: |\n    - hi\n", 4, `unknown key "example" in an nlu item`},
		{"missing examples", v + "nlu:\n- intent: a\n", 3, `intent item has no "examples"`},
		{"empty intent name", v + "nlu:\n- intent: \"\"\n  examples: |\n    - hi\n", 3, "empty intent name"},
		{"empty block", v + "nlu:\n- intent: a\n  examples: |\n\n- intent: b\n  examples: |\n    - hi\n", 4, `intent "a" has no examples`},
		{"line without dash, exact line in block", v + "nlu:\n- intent: a\n  examples: |\n    - hi\n    - hello\n\n    howdy\n", 8, `example "howdy" must start with "- "`},
		{"empty example in block", v + "nlu:\n- intent: a\n  examples: |\n    - hi\n    -\n", 6, "empty example"},
		{"broken annotation, exact line in block", v + "nlu:\n- intent: a\n  examples: |\n    - hi\n    - to [Paris(city)\n", 6, `"[" is never closed`},
		{"bracket without entity in block", v + "nlu:\n- intent: a\n  examples: |-\n    - hi\n\n    - [Paris] please\n", 7, "[Paris] must be followed by (entity)"},
		{"empty value in old style", v + "nlu:\n- intent: a\n  examples: |\n    - to [Paris](city:)\n", 5, `empty value after ":"`},
		{"examples is a mapping", v + "nlu:\n- intent: a\n  examples:\n    text: hi\n", 5, "examples must be a block"},
		{"example mapping without text", v + "nlu:\n- intent: a\n  examples:\n  - metadata: {}\n", 5, `example has no "text"`},
		{"example mapping unknown key", v + "nlu:\n- intent: a\n  examples:\n  - text: hi\n    intent: b\n", 6, `unknown key "intent" in an example`},
		{"empty text in example list", v + "nlu:\n- intent: a\n  examples:\n  - text: |\n\n", 5, "empty example"},
		{"invalid regex, exact line", v + "nlu:\n- regex: zip\n  examples: |\n    - \\d{5}\n    - (\\d{5}\n- intent: a\n  examples: |\n    - hi\n", 6, `regex "zip": invalid pattern "(\\d{5}"`},
		{"Python-only regex", v + "nlu:\n- regex: zip\n  examples: |\n    - (?<=zip )\\d{5}\n", 5, "invalid pattern"},
		{"lookup name with space", v + "nlu:\n- lookup: big city\n  examples: |\n    - Paris\n", 3, `lookup: entity name "big city"`},
		{"empty synonym name", v + "nlu:\n- synonym:\n  examples: |\n    - x\n", 3, "empty synonym name"},
		{"conflicting synonyms", v + "nlu:\n- synonym: a\n  examples: |\n    - x\n- synonym: b\n  examples: |\n    - X\n", 8, `synonym "X" -> "b" conflicts with "x" -> "a" (line 5)`},
		{"alias", v + "nlu:\n- intent: a\n  examples: &ex |\n    - hi\n- intent: b\n  examples: *ex\n", 7, "aliases"},
		// The YAML library reports the line where the enclosing block starts.
		{"yaml syntax", v + "nlu:\n- intent: a\n  examples: |\n    - hi\n - intent: b\n", 5, "at or below this line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkParseError(t, parseBad(t, "nlu.yml", tc.src, FormatRasa), tc.line, tc.reason)
		})
	}
}
