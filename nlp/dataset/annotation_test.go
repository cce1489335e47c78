package dataset

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseAnnotated(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		text string
		anns []annotation
	}{
		{"plain", "where is my order", "where is my order", nil},
		{"markdown form", "has [10423](order_id) shipped", "has 10423 shipped",
			[]annotation{{entity: "order_id", text: "10423", start: 4, end: 9}}},
		{"old value form", "to [NYC](city:New York)", "to NYC",
			[]annotation{{entity: "city", text: "NYC", value: "New York", start: 3, end: 6}}},
		{"json form with role", `fly from [Oslo]{"entity": "city", "role": "from"} today`, "fly from Oslo today",
			[]annotation{{entity: "city", text: "Oslo", start: 9, end: 13}}},
		{"json value with a brace", `[x]{"entity": "e", "value": "a}b"} y`, "x y",
			[]annotation{{entity: "e", text: "x", value: "a}b", start: 0, end: 1}}},
		{"json list, one span two entities", `[Oslo][{"entity": "city"}, {"entity": "place", "value": "OSL"}]`, "Oslo",
			[]annotation{{entity: "city", text: "Oslo", start: 0, end: 4}, {entity: "place", text: "Oslo", value: "OSL", start: 0, end: 4}}},
		{"rune offsets", "café [crème brûlée](dish) svp", "café crème brûlée svp",
			[]annotation{{entity: "dish", text: "crème brûlée", start: 5, end: 17}}},
		{"two annotations", "[a](x)[b](y)", "ab",
			[]annotation{{entity: "x", text: "a", start: 0, end: 1}, {entity: "y", text: "b", start: 1, end: 2}}},
		{"escaped brackets", `press \[OK\] or [\[x\]](key)`, "press [OK] or [x]",
			[]annotation{{entity: "key", text: "[x]", start: 14, end: 17}}},
		{"backslash alone is text", `C:\temp (a path)`, `C:\temp (a path)`, nil},
		{"parentheses and braces alone are text", "call me (maybe) {soon}", "call me (maybe) {soon}", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, anns, err := parseAnnotated(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if text != tc.text || !reflect.DeepEqual(anns, tc.anns) {
				t.Errorf("parseAnnotated(%q) = %q, %+v; want %q, %+v", tc.in, text, anns, tc.text, tc.anns)
			}
		})
	}
}

func TestParseAnnotatedErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, reason string
	}{
		{"unclosed", "order [123", `"[" is never closed`},
		{"nested", "order [1[2]](x)", `"[" inside the annotation`},
		{"stray close", "order 123]", `"]" without "["`},
		{"no entity", "order [123]", "[123] must be followed by (entity)"},
		{"space before entity", "order [123] (x)", "[123] must be followed by (entity)"},
		{"unclosed entity", "order [123](x", `"(" after [123] is never closed`},
		{"bad entity name", "order [123](a{b)", `must not contain '{'`},
		{"empty json value", `[x]{"entity": "e", "value": " "}`, `empty "value"`},
		{"json without entity", `[x]{"value": "v"}`, "empty entity name"},
		{"json not an object", `[x]{1}`, "invalid JSON"},
		{"empty json list", `[x][]`, "empty list of entities"},
		{"json list of strings", `[x]["e"]`, "invalid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, anns, err := parseAnnotated(tc.in)
			if err == nil {
				t.Fatalf("parseAnnotated(%q) = %q, %+v; want an error", tc.in, text, anns)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q; want it to contain %q", err, tc.reason)
			}
		})
	}
}
