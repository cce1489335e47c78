package dataset

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// annotation is one entity annotation taken out of an example text.
type annotation struct {
	entity string
	text   string // the annotated text
	value  string // the value written in the annotation; "" when none
	start  int    // rune offsets into the cleaned text
	end    int
}

// jsonAnnotation is the {"entity": ..., "value": ...} form (Rasa 2+). Role
// and group are accepted so that Rasa files load, but Parley does not use
// them.
type jsonAnnotation struct {
	Entity string  `json:"entity"`
	Value  *string `json:"value"`
	Role   string  `json:"role"`
	Group  string  `json:"group"`
}

// parseAnnotated removes the entity annotations from an example and returns
// the cleaned text and the annotations, with rune offsets into that text.
// The forms are
//
//	[text](entity)
//	[text](entity:value)
//	[text]{"entity": "entity", "value": "value"}
//	[text][{"entity": "e1"}, {"entity": "e2"}]   (one span, several entities)
//
// "\[" and "\]" stand for literal brackets; any other "[" or "]" that is not
// part of a well-formed annotation is an error, since it is almost always a
// typo in an annotation.
func parseAnnotated(s string) (string, []annotation, error) {
	if strings.IndexAny(s, `[]\`) < 0 {
		return s, nil, nil
	}
	var (
		out   strings.Builder
		anns  []annotation
		runes int // runes written to out
	)
	out.Grow(len(s))
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '[' || s[i+1] == ']'):
			out.WriteByte(s[i+1])
			runes++
			i += 2
		case c == ']':
			return "", nil, errors.New(`"]" without "[" (write \] for a literal bracket)`)
		case c == '[':
			span, next, err := spanText(s, i)
			if err != nil {
				return "", nil, err
			}
			found, next, err := spanEntities(s, next, span)
			if err != nil {
				return "", nil, err
			}
			n := utf8.RuneCountInString(span)
			for _, a := range found {
				a.text, a.start, a.end = span, runes, runes+n
				anns = append(anns, a)
			}
			out.WriteString(span)
			runes += n
			i = next
		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			out.WriteString(s[i : i+size])
			runes++
			i += size
		}
	}
	return out.String(), anns, nil
}

// spanText reads the "[text]" that starts at s[open] and returns the text and
// the offset just past the "]".
func spanText(s string, open int) (string, int, error) {
	var b strings.Builder
	for i := open + 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '[' || s[i+1] == ']'):
			b.WriteByte(s[i+1])
			i++
		case c == '[':
			return "", 0, fmt.Errorf(`"[" inside the annotation starting at %q`, excerpt(s[open:]))
		case c == ']':
			text := b.String()
			if strings.TrimSpace(text) == "" {
				return "", 0, fmt.Errorf("annotation %q marks no text", excerpt(s[open:]))
			}
			if strings.TrimSpace(text) != text {
				return "", 0, fmt.Errorf("annotated text %q starts or ends with a space; move the space out of the brackets", text)
			}
			return text, i + 1, nil
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf(`"[" is never closed in %q (write \[ for a literal bracket)`, excerpt(s[open:]))
}

// spanEntities reads what follows "[text]" at s[at:]: "(entity)",
// "(entity:value)", a JSON object or a JSON list of objects. It returns the
// annotations (offsets not yet set) and the offset just past them.
func spanEntities(s string, at int, span string) ([]annotation, int, error) {
	if at >= len(s) {
		return nil, 0, fmt.Errorf(`[%s] must be followed by (entity) or {"entity": ...} (write \[ for a literal bracket)`, span)
	}
	switch s[at] {
	case '(':
		end := strings.IndexByte(s[at:], ')')
		if end < 0 {
			return nil, 0, fmt.Errorf(`"(" after [%s] is never closed`, span)
		}
		inner := s[at+1 : at+end]
		entity, value, hasValue := strings.Cut(inner, ":")
		entity, value = strings.TrimSpace(entity), strings.TrimSpace(value)
		if err := checkEntityName(entity); err != nil {
			return nil, 0, fmt.Errorf("annotation [%s](%s): %w", span, inner, err)
		}
		if hasValue && value == "" {
			return nil, 0, fmt.Errorf("annotation [%s](%s): empty value after \":\"", span, inner)
		}
		return []annotation{{entity: entity, value: value}}, at + end + 1, nil
	case '{':
		var ja jsonAnnotation
		n, err := decodeStrictJSON(s[at:], &ja)
		if err != nil {
			return nil, 0, fmt.Errorf("annotation [%s]{...}: %w", span, err)
		}
		a, err := ja.annotation()
		if err != nil {
			return nil, 0, fmt.Errorf("annotation [%s]{...}: %w", span, err)
		}
		return []annotation{a}, at + n, nil
	case '[':
		var list []jsonAnnotation
		n, err := decodeStrictJSON(s[at:], &list)
		if err != nil {
			return nil, 0, fmt.Errorf("annotation [%s][...]: %w", span, err)
		}
		if len(list) == 0 {
			return nil, 0, fmt.Errorf("annotation [%s][]: empty list of entities", span)
		}
		out := make([]annotation, 0, len(list))
		for _, ja := range list {
			a, err := ja.annotation()
			if err != nil {
				return nil, 0, fmt.Errorf("annotation [%s][...]: %w", span, err)
			}
			out = append(out, a)
		}
		return out, at + n, nil
	}
	return nil, 0, fmt.Errorf(`[%s] must be followed by (entity) or {"entity": ...} (write \[ for a literal bracket)`, span)
}

func (ja jsonAnnotation) annotation() (annotation, error) {
	entity := strings.TrimSpace(ja.Entity)
	if err := checkEntityName(entity); err != nil {
		return annotation{}, err
	}
	a := annotation{entity: entity}
	if ja.Value != nil {
		a.value = strings.TrimSpace(*ja.Value)
		if a.value == "" {
			return annotation{}, errors.New(`empty "value"`)
		}
	}
	return a, nil
}

// decodeStrictJSON decodes the JSON value at the start of s into v, refusing
// unknown fields, and returns how many bytes it took.
func decodeStrictJSON(s string, v any) (int, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return 0, errors.New("JSON is never closed")
		}
		return 0, fmt.Errorf("invalid JSON: %w", err)
	}
	return int(dec.InputOffset()), nil
}

// checkName accepts a non-empty name on one line: an intent or a label.
func checkName(s, what string) error {
	if s == "" {
		return fmt.Errorf("empty %s", what)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s %q contains a control character", what, s)
		}
	}
	return nil
}

// checkEntityName accepts entity names that can be written inside an
// annotation: no spaces and none of the characters that delimit one.
func checkEntityName(s string) error {
	if s == "" {
		return errors.New("empty entity name")
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`[](){}:"\`, r) {
			return fmt.Errorf("entity name %q must not contain %q", s, r)
		}
	}
	return nil
}

// excerpt shortens s for an error message.
func excerpt(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
