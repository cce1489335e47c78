package dataset

import (
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parleyVersion is the only version of the Parley YAML format so far.
const parleyVersion = "1"

// parseParley reads the Parley YAML format (see FORMAT.md): version, intents,
// validation, test and entities.
func parseParley(d *yamlDoc) (*Dataset, error) {
	fields, err := d.mapping(d.root, "the top level")
	if err != nil {
		return nil, err
	}
	var sections = map[string]*yaml.Node{}
	for _, f := range fields {
		switch f.key {
		case "version":
			if err := parleyCheckVersion(d, f.value); err != nil {
				return nil, err
			}
		case "intents", "validation", "test", "entities":
			sections[f.key] = f.value
		default:
			return nil, d.unknownKey(f, "the top level", "version", "intents", "validation", "test", "entities")
		}
	}
	if sections["intents"] == nil {
		return nil, d.errAt(d.root, `no "intents" key: a Parley file lists its training examples under "intents"`)
	}

	ents := newEntityTable(d.file, false)
	// Entities first, whatever their place in the file, so that their
	// synonyms are known when examples are read.
	if n := sections["entities"]; n != nil {
		if err := parleyEntities(d, n, ents); err != nil {
			return nil, err
		}
	}
	ds := &Dataset{Format: FormatParley}
	trained := map[string]bool{}
	if ds.Train, err = parleyIntents(d, sections["intents"], "intents", ents, nil); err != nil {
		return nil, err
	}
	for _, ex := range ds.Train {
		trained[ex.Intent] = true
	}
	if n := sections["validation"]; n != nil {
		if ds.Val, err = parleyIntents(d, n, "validation", ents, trained); err != nil {
			return nil, err
		}
	}
	if n := sections["test"]; n != nil {
		if ds.Test, err = parleyIntents(d, n, "test", ents, trained); err != nil {
			return nil, err
		}
	}
	ds.EntityDefs = ents.finish(ds.Train, ds.Val, ds.Test)
	return ds, nil
}

func parleyCheckVersion(d *yamlDoc, n *yaml.Node) error {
	v, err := d.scalar(n, "version")
	if err != nil {
		return err
	}
	if v == parleyVersion {
		return nil
	}
	hint := ""
	if strings.HasPrefix(v, "2.") || strings.HasPrefix(v, "3.") {
		hint = " (a Rasa file? Parley reads Rasa's nlu.yml with format rasa)"
	}
	return d.errAt(n, "version %q is not supported: this Parley reads version %s%s", v, parleyVersion, hint)
}

// parleyIntents reads one section: a list of {name, examples}. For the
// validation and test sections, trained holds the intents of the training
// section, and an intent that is not among them is an error.
func parleyIntents(d *yamlDoc, n *yaml.Node, section string, ents *entityTable, trained map[string]bool) ([]Example, error) {
	items, err := d.sequence(n, section)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, d.errAt(n, "%s is empty: list at least one intent or remove the key", section)
	}
	var out []Example
	seen := map[string]int{}
	for _, item := range items {
		fields, err := d.mapping(item, section+" item")
		if err != nil {
			return nil, err
		}
		var name string
		var examples *yaml.Node
		for _, f := range fields {
			switch f.key {
			case "name":
				if name, err = d.name(f.value, "intent name"); err != nil {
					return nil, err
				}
			case "examples":
				examples = f.value
			default:
				return nil, d.unknownKey(f, "an intent", "name", "examples")
			}
		}
		if name == "" {
			return nil, d.errAt(item, `intent without a "name"`)
		}
		if prev, dup := seen[name]; dup {
			return nil, d.errAt(item, "intent %q is listed twice in %s (first on line %d)", name, section, prev)
		}
		seen[name] = item.Line
		if trained != nil && !trained[name] && name != OutOfScope {
			return nil, d.errAt(item, "intent %q in %s is not among the training intents", name, section)
		}
		if examples == nil {
			return nil, d.errAt(item, `intent %q has no "examples"`, name)
		}
		texts, err := d.sequence(examples, "examples")
		if err != nil {
			return nil, err
		}
		if len(texts) == 0 {
			return nil, d.errAt(examples, "intent %q has an empty list of examples", name)
		}
		for _, tn := range texts {
			if tn.Kind == yaml.MappingNode {
				return nil, d.errAt(tn, `an example must be a string, not a mapping (put an example that contains ": " in quotes)`)
			}
			raw, err := d.scalar(tn, "an example")
			if err != nil {
				return nil, err
			}
			ex, err := ents.exampleFrom(raw, name, textLine(tn))
			if err != nil {
				return nil, err
			}
			out = append(out, ex)
		}
	}
	return out, nil
}

// parleyEntities reads the entities section: a list of {name, pattern,
// values, synonyms}.
func parleyEntities(d *yamlDoc, n *yaml.Node, ents *entityTable) error {
	items, err := d.sequence(n, "entities")
	if err != nil {
		return err
	}
	for _, item := range items {
		fields, err := d.mapping(item, "an entity")
		if err != nil {
			return err
		}
		var nameNode *yaml.Node
		for _, f := range fields {
			if f.key == "name" {
				nameNode = f.value
			}
		}
		if nameNode == nil {
			return d.errAt(item, `entity without a "name"`)
		}
		name, err := d.scalar(nameNode, "entity name")
		if err != nil {
			return err
		}
		if err := checkEntityName(name); err != nil {
			return d.errAt(nameNode, "%s", err)
		}
		if _, dup := ents.defs[name]; dup {
			return d.errAt(nameNode, "entity %q is declared twice", name)
		}
		def := ents.get(name)
		for _, f := range fields {
			switch f.key {
			case "name":
			case "pattern":
				if def.Pattern, err = d.scalar(f.value, "pattern"); err != nil {
					return err
				}
				if def.Pattern == "" {
					return d.errAt(f.value, "entity %q: empty pattern", name)
				}
				if _, err := regexp.Compile(def.Pattern); err != nil {
					return d.errAt(f.value, "entity %q: invalid pattern: %v", name, err)
				}
			case "values":
				if def.Values, _, err = d.strings(f.value, "values"); err != nil {
					return err
				}
			case "synonyms":
				if err := parleySynonyms(d, f.value, name, ents); err != nil {
					return err
				}
			default:
				return d.unknownKey(f, "an entity", "name", "pattern", "values", "synonyms")
			}
		}
	}
	return nil
}

// parleySynonyms reads "canonical: [variant, ...]" pairs.
func parleySynonyms(d *yamlDoc, n *yaml.Node, entity string, ents *entityTable) error {
	fields, err := d.mapping(n, "synonyms")
	if err != nil {
		return err
	}
	for _, f := range fields {
		canonical := strings.TrimSpace(f.key)
		if canonical == "" {
			return errorAt(d.file, f.line, "entity %q: empty canonical value in synonyms", entity)
		}
		variants, nodes, err := d.strings(f.value, "synonyms of "+canonical)
		if err != nil {
			return err
		}
		for i, v := range variants {
			if err := ents.addSynonym(entity, v, canonical, nodes[i].Line); err != nil {
				return err
			}
		}
	}
	return nil
}
