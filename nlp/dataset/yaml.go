package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlDoc is a parsed YAML training-data file: the top-level mapping as a
// node tree, which keeps the line of every value for error messages.
type yamlDoc struct {
	file string
	root *yaml.Node // a MappingNode
}

// yamlField is one key: value pair of a mapping.
type yamlField struct {
	key   string
	line  int // line of the key
	value *yaml.Node
}

var yamlLineError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses data as exactly one YAML document whose top level is a
// mapping.
func parseYAML(name string, data []byte) (doc *yamlDoc, err error) {
	// The YAML library is a parser of outside input that we do not own: turn
	// a panic in it into an error rather than take the caller down with it.
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, errorAt(name, 0, "parse YAML: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errorAt(name, 0, "empty file")
		}
		return nil, yamlError(name, data, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, errorAt(name, extra.Line, "more than one YAML document (a second \"---\")")
	case !errors.Is(err, io.EOF):
		return nil, yamlError(name, data, err)
	}
	if n.Kind != yaml.DocumentNode || len(n.Content) != 1 {
		return nil, errorAt(name, n.Line, "empty file")
	}
	root := n.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, errorAt(name, 0, "empty file") // "---" and nothing else
	}
	if root.Kind != yaml.MappingNode {
		return nil, errorAt(name, root.Line, "the top level must be a mapping of keys, not a %s", kindName(root))
	}
	return &yamlDoc{file: name, root: root}, nil
}

func yamlError(name string, data []byte, err error) *ParseError {
	msg := err.Error()
	if m := yamlLineError.FindStringSubmatch(msg); m != nil {
		if line, convErr := strconv.Atoi(m[1]); convErr == nil {
			// At the end of the input the library counts one line too many.
			line = min(line, yamlLineCount(data))
			return errorAt(name, line, "YAML syntax: %s%s", m[2], yamlQuoteHint(m[2]))
		}
	}
	return errorAt(name, 0, "YAML syntax: %s", strings.TrimPrefix(msg, "yaml: "))
}

// yamlLineCount counts lines the way the YAML library does: besides "\n",
// "\r\n" and "\r", it takes NEL, LS and PS for line breaks.
func yamlLineCount(data []byte) int {
	n := 1
	for i := 0; i < len(data); i++ {
		switch {
		case data[i] == '\n':
			n++
		case data[i] == '\r':
			if i+1 >= len(data) || data[i+1] != '\n' {
				n++
			}
		case bytes.HasPrefix(data[i:], []byte("\u0085")),
			bytes.HasPrefix(data[i:], []byte("\u2028")),
			bytes.HasPrefix(data[i:], []byte("\u2029")):
			n++
		}
	}
	return n
}

// yamlQuoteHint explains the usual cause of a YAML syntax error in training
// data: an unquoted example that YAML reads as a list, a mapping or a
// comment. The YAML library reports the line where the enclosing list or
// mapping starts, which may be above the faulty example.
func yamlQuoteHint(msg string) string {
	if strings.Contains(msg, "did not find expected") || strings.Contains(msg, "mapping values are not allowed") {
		return ` (at or below this line; put an example in quotes when it starts with "[" or "{" or contains ": " or " #")`
	}
	return ""
}

// has reports whether the top-level mapping has key.
func (d *yamlDoc) has(key string) bool {
	for i := 0; i+1 < len(d.root.Content); i += 2 {
		if k := d.root.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return true
		}
	}
	return false
}

func (d *yamlDoc) errAt(n *yaml.Node, format string, args ...any) *ParseError {
	return errorAt(d.file, n.Line, format, args...)
}

// mapping returns the fields of n, which must be a mapping with string keys
// that are all different. what names n in errors ("intent", "entity").
func (d *yamlDoc) mapping(n *yaml.Node, what string) ([]yamlField, error) {
	if n.Kind != yaml.MappingNode {
		return nil, d.errAt(n, "%s must be a mapping of keys, not a %s", what, kindName(n))
	}
	fields := make([]yamlField, 0, len(n.Content)/2)
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, d.errAt(k, "%s has a key that is a %s, not a string", what, kindName(k))
		}
		if prev, dup := seen[k.Value]; dup {
			return nil, d.errAt(k, "%s has key %q twice (first on line %d)", what, k.Value, prev)
		}
		seen[k.Value] = k.Line
		if v.Kind == yaml.AliasNode {
			return nil, d.errAt(v, "YAML aliases (*%s) are not supported", v.Value)
		}
		fields = append(fields, yamlField{key: k.Value, line: k.Line, value: v})
	}
	return fields, nil
}

// unknownKey is the error for a key a mapping must not have.
func (d *yamlDoc) unknownKey(f yamlField, what string, allowed ...string) *ParseError {
	return errorAt(d.file, f.line, "unknown key %q in %s (allowed: %s)", f.key, what, strings.Join(allowed, ", "))
}

// sequence returns the items of n, which must be a list.
func (d *yamlDoc) sequence(n *yaml.Node, what string) ([]*yaml.Node, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, d.errAt(n, "%s must be a list, not a %s", what, kindName(n))
	}
	for _, item := range n.Content {
		if item.Kind == yaml.AliasNode {
			return nil, d.errAt(item, "YAML aliases (*%s) are not supported", item.Value)
		}
	}
	return n.Content, nil
}

// scalar returns the text of n, which must be a scalar, with surrounding
// spaces removed; a YAML null is the empty string. Numbers and booleans are
// taken as written ("10423", "yes"), since an example may well be one.
func (d *yamlDoc) scalar(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", d.errAt(n, "%s must be a string, not a %s", what, kindName(n))
	}
	if n.Tag == "!!null" {
		return "", nil
	}
	return strings.TrimSpace(n.Value), nil
}

// name returns a non-empty single-line scalar: an intent or entity name.
func (d *yamlDoc) name(n *yaml.Node, what string) (string, error) {
	s, err := d.scalar(n, what)
	if err != nil {
		return "", err
	}
	if err := checkName(s, what); err != nil {
		return "", d.errAt(n, "%s", err)
	}
	return s, nil
}

// strings returns the items of a list of non-empty strings.
func (d *yamlDoc) strings(n *yaml.Node, what string) ([]string, []*yaml.Node, error) {
	items, err := d.sequence(n, what)
	if err != nil {
		return nil, nil, err
	}
	out := make([]string, 0, len(items))
	for _, item := range items {
		s, err := d.scalar(item, what+" item")
		if err != nil {
			return nil, nil, err
		}
		if s == "" {
			return nil, nil, d.errAt(item, "empty %s item", what)
		}
		out = append(out, s)
	}
	return out, items, nil
}

// textLine returns the line where the text of scalar n starts: a block
// scalar's text starts below its "|" or ">".
func textLine(n *yaml.Node) int {
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 && n.Value != "" {
		return n.Line + 1
	}
	return n.Line
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "string"
	case yaml.AliasNode:
		return "alias"
	case yaml.DocumentNode:
		return "document"
	}
	return fmt.Sprintf("node of kind %d", n.Kind)
}
