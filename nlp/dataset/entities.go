package dataset

import (
	"fmt"
	"strings"
)

// synonymTable maps lower-cased variants to canonical values and remembers
// where each was defined, to report conflicts.
type synonymTable struct {
	canonical map[string]string
	line      map[string]int
}

func (t *synonymTable) add(variant, canonical string, line int) error {
	key := strings.ToLower(variant)
	if t.canonical == nil {
		t.canonical = make(map[string]string)
		t.line = make(map[string]int)
	}
	if prev, ok := t.canonical[key]; ok {
		if prev != canonical {
			return fmt.Errorf("synonym %q -> %q conflicts with %q -> %q (line %d)",
				variant, canonical, key, prev, t.line[key])
		}
		return nil
	}
	t.canonical[key] = canonical
	t.line[key] = line
	return nil
}

// entityTable collects the entity definitions of one file: the declared ones
// first, in file order, then those only used in annotations, in order of
// first use.
type entityTable struct {
	file   string
	order  []string
	defs   map[string]*EntityDef
	syns   map[string]*synonymTable // per entity
	global *synonymTable            // Rasa synonyms apply to every entity; nil for Parley
}

func newEntityTable(file string, global bool) *entityTable {
	t := &entityTable{file: file, defs: make(map[string]*EntityDef), syns: make(map[string]*synonymTable)}
	if global {
		t.global = &synonymTable{}
	}
	return t
}

// get returns the definition of name, declaring it if needed.
func (t *entityTable) get(name string) *EntityDef {
	if d, ok := t.defs[name]; ok {
		return d
	}
	d := &EntityDef{Name: name}
	t.defs[name] = d
	t.syns[name] = &synonymTable{}
	t.order = append(t.order, name)
	return d
}

// addSynonym records variant -> canonical for entity, or for every entity
// when the table keeps Rasa's global synonyms.
func (t *entityTable) addSynonym(entity, variant, canonical string, line int) error {
	st := t.global
	if st == nil {
		t.get(entity)
		st = t.syns[entity]
	}
	if err := st.add(variant, canonical, line); err != nil {
		return errorAt(t.file, line, "%s", err)
	}
	return nil
}

// annotate turns the annotations of one example into spans, declaring the
// entities they use, and records an annotation's explicit value as a synonym
// of its text, as Rasa does.
func (t *entityTable) annotate(anns []annotation, line int) ([]EntitySpan, error) {
	if len(anns) == 0 {
		return nil, nil
	}
	spans := make([]EntitySpan, 0, len(anns))
	for _, a := range anns {
		t.get(a.entity)
		value := a.text
		if a.value != "" {
			value = a.value
			if a.value != a.text {
				if err := t.addSynonym(a.entity, a.text, a.value, line); err != nil {
					return nil, err
				}
			}
		}
		spans = append(spans, EntitySpan{Entity: a.entity, Value: value, Start: a.start, End: a.end})
	}
	return spans, nil
}

// finish returns the definitions with their synonyms, and replaces each span
// value that is a known variant by its canonical value.
func (t *entityTable) finish(splits ...[]Example) []EntityDef {
	if len(t.order) == 0 {
		return nil
	}
	defs := make([]EntityDef, 0, len(t.order))
	for _, name := range t.order {
		d := *t.defs[name]
		st := t.syns[name]
		if t.global != nil {
			st = t.global
		}
		if len(st.canonical) > 0 {
			d.Synonyms = make(map[string]string, len(st.canonical))
			for k, v := range st.canonical {
				d.Synonyms[k] = v
			}
		}
		defs = append(defs, d)
	}
	byName := make(map[string]*EntityDef, len(defs))
	for i := range defs {
		byName[defs[i].Name] = &defs[i]
	}
	for _, split := range splits {
		for i := range split {
			for j := range split[i].Entities {
				sp := &split[i].Entities[j]
				if c, ok := byName[sp.Entity].Synonyms[strings.ToLower(sp.Value)]; ok {
					sp.Value = c
				}
			}
		}
	}
	return defs
}

// exampleFrom parses the annotations of one example and builds it.
func (t *entityTable) exampleFrom(raw, intent string, line int) (Example, error) {
	text, anns, err := parseAnnotated(strings.TrimSpace(raw))
	if err != nil {
		return Example{}, errorAt(t.file, line, "%s", err)
	}
	if strings.TrimSpace(text) == "" {
		return Example{}, errorAt(t.file, line, "empty example for intent %q", intent)
	}
	spans, err := t.annotate(anns, line)
	if err != nil {
		return Example{}, err
	}
	return Example{Text: text, Intent: intent, Entities: spans, Line: line}, nil
}
