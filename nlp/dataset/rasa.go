package dataset

import (
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// rasaVersion matches the versions whose nlu section we read: 2.x and 3.x
// share one NLU training-data format.
var rasaVersion = regexp.MustCompile(`^[23](\.[0-9]+)*$`)

// parseRasa reads the "nlu" section of a Rasa 3.x training-data file. Every
// other top-level key (responses, stories, rules, ...) is ignored.
func parseRasa(d *yamlDoc) (*Dataset, error) {
	fields, err := d.mapping(d.root, "the top level")
	if err != nil {
		return nil, err
	}
	var nlu *yaml.Node
	for _, f := range fields {
		switch f.key {
		case "version":
			v, err := d.scalar(f.value, "version")
			if err != nil {
				return nil, err
			}
			if !rasaVersion.MatchString(v) {
				return nil, d.errAt(f.value, `Rasa version %q is not supported (want "3.x" or "2.x")`, v)
			}
		case "nlu":
			nlu = f.value
		}
	}
	if nlu == nil {
		return nil, d.errAt(d.root, `no "nlu" key: a Rasa training-data file lists its examples under "nlu"`)
	}
	items, err := d.sequence(nlu, "nlu")
	if err != nil {
		return nil, err
	}
	ents := newEntityTable(d.file, true)
	ds := &Dataset{Format: FormatRasa}
	for _, item := range items {
		if ds.Train, err = rasaItem(d, item, ents, ds.Train); err != nil {
			return nil, err
		}
	}
	ds.EntityDefs = ents.finish(ds.Train)
	return ds, nil
}

// rasaItem reads one item of the nlu list (an intent, synonym, lookup or
// regex) and appends an intent's examples to train.
func rasaItem(d *yamlDoc, item *yaml.Node, ents *entityTable, train []Example) ([]Example, error) {
	fields, err := d.mapping(item, "an nlu item")
	if err != nil {
		return nil, err
	}
	var (
		kind     string
		nameNode *yaml.Node
		examples *yaml.Node
	)
	for _, f := range fields {
		switch f.key {
		case "intent", "synonym", "lookup", "regex":
			if kind != "" {
				return nil, errorAt(d.file, f.line, "nlu item has both %q and %q", kind, f.key)
			}
			kind, nameNode = f.key, f.value
		case "examples":
			examples = f.value
		case "metadata":
			// Rasa passes metadata through to custom components; we have none.
		default:
			return nil, d.unknownKey(f, "an nlu item", "intent", "synonym", "lookup", "regex", "examples", "metadata")
		}
	}
	if kind == "" {
		return nil, d.errAt(item, `nlu item has none of "intent", "synonym", "lookup" or "regex"`)
	}
	if examples == nil {
		return nil, d.errAt(item, `%s item has no "examples"`, kind)
	}
	var name string
	if kind == "intent" {
		name, err = d.name(nameNode, "intent name")
	} else {
		name, err = d.scalar(nameNode, kind+" name")
		if err == nil && name == "" {
			err = d.errAt(nameNode, "empty %s name", kind)
		}
	}
	if err != nil {
		return nil, err
	}
	lines, err := rasaExamples(d, examples)
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, d.errAt(examples, "%s %q has no examples", kind, name)
	}

	switch kind {
	case "intent":
		for _, l := range lines {
			ex, err := ents.exampleFrom(l.text, name, l.line)
			if err != nil {
				return nil, err
			}
			train = append(train, ex)
		}
	case "synonym":
		for _, l := range lines {
			if err := ents.addSynonym("", l.text, name, l.line); err != nil {
				return nil, err
			}
		}
	case "lookup":
		if err := checkEntityName(name); err != nil {
			return nil, d.errAt(nameNode, "lookup: %s", err)
		}
		def := ents.get(name)
		for _, l := range lines {
			def.Values = append(def.Values, l.text)
		}
	case "regex":
		if err := checkEntityName(name); err != nil {
			return nil, d.errAt(nameNode, "regex: %s", err)
		}
		def := ents.get(name)
		for _, l := range lines {
			if _, err := regexp.Compile(l.text); err != nil {
				return nil, errorAt(d.file, l.line, "regex %q: invalid pattern %q (Go RE2 syntax: no lookaround or backreferences): %v", name, l.text, err)
			}
			if def.Pattern == "" {
				def.Pattern = l.text
			} else {
				// Alternation binds loosest, so "a|b" needs no grouping, but a
				// group keeps flags such as (?i) inside their own pattern.
				def.Pattern = "(?:" + def.Pattern + ")|(?:" + l.text + ")"
			}
		}
		if _, err := regexp.Compile(def.Pattern); err != nil {
			return nil, d.errAt(nameNode, "regex %q: patterns do not combine: %v", name, err)
		}
	}
	return train, nil
}

// numberedLine is one example with the file line it is on.
type numberedLine struct {
	text string
	line int
}

// rasaExamples reads an examples value: either a block of "- example" lines
// or a list of {text, metadata} mappings (or of plain strings).
func rasaExamples(d *yamlDoc, n *yaml.Node) ([]numberedLine, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return rasaBlock(d, n)
	case yaml.SequenceNode:
		items, err := d.sequence(n, "examples")
		if err != nil {
			return nil, err
		}
		out := make([]numberedLine, 0, len(items))
		for _, item := range items {
			textNode := item
			if item.Kind == yaml.MappingNode {
				fields, err := d.mapping(item, "an example")
				if err != nil {
					return nil, err
				}
				textNode = nil
				for _, f := range fields {
					switch f.key {
					case "text":
						textNode = f.value
					case "metadata":
					default:
						return nil, d.unknownKey(f, "an example", "text", "metadata")
					}
				}
				if textNode == nil {
					return nil, d.errAt(item, `example has no "text"`)
				}
			}
			text, err := d.scalar(textNode, "an example")
			if err != nil {
				return nil, err
			}
			line := textLine(textNode)
			if text == "" {
				return nil, errorAt(d.file, line, "empty example")
			}
			out = append(out, numberedLine{text: text, line: line})
		}
		return out, nil
	}
	return nil, d.errAt(n, "examples must be a block of \"- example\" lines or a list, not a %s", kindName(n))
}

// rasaBlock splits an "examples: |" block into its "- example" lines. In a
// literal block, line i of the value is line i+1 below the "|" in the file;
// other scalar styles fold lines, so every example gets the scalar's line.
func rasaBlock(d *yamlDoc, n *yaml.Node) ([]numberedLine, error) {
	if n.Tag == "!!null" {
		return nil, nil
	}
	literal := n.Style&yaml.LiteralStyle != 0
	var out []numberedLine
	for i, raw := range strings.Split(n.Value, "\n") {
		line := n.Line
		if literal {
			line += 1 + i
		}
		s := strings.TrimSpace(raw)
		if s == "" {
			continue
		}
		text, ok := strings.CutPrefix(s, "-")
		if !ok {
			return nil, errorAt(d.file, line, "example %q must start with \"- \"", excerpt(s))
		}
		text = strings.TrimSpace(text)
		if text == "" {
			return nil, errorAt(d.file, line, "empty example")
		}
		out = append(out, numberedLine{text: text, line: line})
	}
	return out, nil
}
