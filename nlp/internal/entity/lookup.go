package entity

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// phrase is one matchable lookup value or synonym variant.
type phrase struct {
	runes    []rune // folded; each run of white space collapsed to one ' '
	def      int    // index into Extractor.names
	value    string // canonical value reported
	endsWord bool   // the last rune is a word rune, so the text must not continue with one
}

// lookupTable finds declared values by the folded first word of the text at a
// word start, then tries the phrases that begin with that word, longest first.
type lookupTable struct {
	byKey   map[string][]phrase
	maxKey  int  // longest key, in bytes
	symbols bool // some phrase begins with a non-word rune (its key is that rune)
}

// lookupBuilder accumulates the Values and Synonyms of every declared
// entity, so that merged Defs share one synonym table.
type lookupBuilder struct {
	values   map[int][]string          // def -> declared values
	synonyms map[int]map[string]string // def -> normalised variant -> canonical
	variants map[int][]string          // def -> variants in a fixed order
	order    []int                     // defs in first-seen order
}

func newLookupBuilder() *lookupBuilder {
	return &lookupBuilder{
		values:   map[int][]string{},
		synonyms: map[int]map[string]string{},
		variants: map[int][]string{},
	}
}

// add records d's values and synonyms under def index idx. It returns an
// error wrapping ErrEmptyValue or ErrSynonymConflict.
func (b *lookupBuilder) add(idx int, d Def) error {
	if len(d.Values) == 0 && len(d.Synonyms) == 0 {
		return nil
	}
	if _, ok := b.synonyms[idx]; !ok {
		b.synonyms[idx] = map[string]string{}
		b.order = append(b.order, idx)
	}
	syn := b.synonyms[idx]
	keys := make([]string, 0, len(d.Synonyms))
	for k := range d.Synonyms {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		canon := strings.TrimSpace(d.Synonyms[k])
		norm := string(normalize(k))
		if norm == "" || canon == "" {
			return fmt.Errorf("synonym %q: %w", k, ErrEmptyValue)
		}
		if prev, ok := syn[norm]; ok && prev != canon {
			return fmt.Errorf("synonym %q: %w: %q and %q", k, ErrSynonymConflict, prev, canon)
		}
		if _, ok := syn[norm]; !ok {
			b.variants[idx] = append(b.variants[idx], norm)
		}
		syn[norm] = canon
	}
	for _, v := range d.Values {
		if len(normalize(v)) == 0 {
			return fmt.Errorf("value %q: %w", v, ErrEmptyValue)
		}
		b.values[idx] = append(b.values[idx], strings.TrimSpace(v))
	}
	return nil
}

// build turns the accumulated declarations into the lookup table. Synonym
// variants come first, so that a declared value which is also a variant
// reports the variant's canonical value; canonical values are matchable too.
func (b *lookupBuilder) build() lookupTable {
	t := lookupTable{byKey: map[string][]phrase{}}
	type seenKey struct {
		def  int
		norm string
	}
	seen := map[seenKey]bool{}
	put := func(def int, runes []rune, value string) {
		k := seenKey{def, string(runes)}
		if len(runes) == 0 || seen[k] {
			return
		}
		seen[k] = true
		key := phraseKey(runes)
		t.byKey[key] = append(t.byKey[key], phrase{
			runes:    runes,
			def:      def,
			value:    value,
			endsWord: isWordRune(runes[len(runes)-1]),
		})
		t.maxKey = max(t.maxKey, len(key))
		if !isWordRune(runes[0]) {
			t.symbols = true
		}
	}
	for _, def := range b.order {
		syn := b.synonyms[def]
		canonical := func(runes []rune, declared string) string {
			if c, ok := syn[string(runes)]; ok {
				return c
			}
			return declared
		}
		for _, v := range b.variants[def] {
			put(def, []rune(v), syn[v])
		}
		for _, v := range b.values[def] {
			r := normalize(v)
			put(def, r, canonical(r, v))
		}
		for _, v := range b.variants[def] {
			c := syn[v]
			r := normalize(c)
			put(def, r, canonical(r, c))
		}
	}
	for k, ps := range t.byKey {
		slices.SortStableFunc(ps, func(a, b phrase) int {
			if len(a.runes) != len(b.runes) {
				return len(b.runes) - len(a.runes)
			}
			return a.def - b.def
		})
		t.byKey[k] = ps
	}
	if len(t.byKey) == 0 {
		t.byKey = nil
	}
	return t
}

// normalize folds s for matching: lower case, trimmed, each run of white
// space collapsed to one space.
func normalize(s string) []rune {
	var out []rune
	space := false
	for _, r := range s {
		if isSpaceRune(r) {
			space = len(out) > 0
			continue
		}
		if space {
			out = append(out, ' ')
			space = false
		}
		out = append(out, foldRune(r))
	}
	return out
}

// phraseKey is the folded first word of a phrase, or its first rune when the
// phrase begins with a non-word rune; the text side computes the same key at
// each position.
func phraseKey(runes []rune) string {
	if !isWordRune(runes[0]) {
		return string(runes[0])
	}
	var b []byte
	for _, r := range runes {
		if !isWordRune(r) {
			break
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

// matchAt reports the end of p in s when p matches at byte i.
func (p *phrase) matchAt(s string, i int) (int, bool) {
	for _, pr := range p.runes {
		if pr == ' ' {
			n := i
			for i < len(s) {
				r, w := utf8.DecodeRuneInString(s[i:])
				if !isSpaceRune(r) {
					break
				}
				i += w
			}
			if i == n {
				return 0, false
			}
			continue
		}
		if i >= len(s) {
			return 0, false
		}
		r, w := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeRuneInString(s[i:])
		}
		if foldRune(r) != pr {
			return 0, false
		}
		i += w
	}
	if p.endsWord && isWordRune(runeAt(s, i)) {
		return 0, false
	}
	return i, true
}

// match adds the longest phrase of ps that matches at byte i.
func (x *Extractor) match(c *collector, ps []phrase, i int) {
	for k := range ps {
		p := &ps[k]
		if end, ok := p.matchAt(c.text, i); ok {
			c.add(i, end, p.def, x.names[p.def], p.value)
			return
		}
	}
}

// scanWords walks the text once, word by word, feeding each word's folded
// form to the lookup table and to the date-word recogniser.
func (x *Extractor) scanWords(c *collector, clk *clock) {
	s := c.text
	limit := max(x.lookup.maxKey, maxDateWord)
	var arr [64]byte
	kb := arr[:]
	if limit+utf8.UTFMax > len(kb) {
		kb = make([]byte, limit+utf8.UTFMax)
	}
	for i := 0; i < len(s); {
		r, w := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeRuneInString(s[i:])
		}
		if !isWordRune(r) {
			if x.lookup.symbols && !isSpaceRune(r) {
				n := utf8.EncodeRune(kb, foldRune(r))
				if ps, ok := x.lookup.byKey[string(kb[:n])]; ok {
					x.match(c, ps, i)
				}
			}
			i += w
			continue
		}
		j := wordEnd(s, i)
		n, long := 0, false
		for k := i; k < j; {
			r, w := rune(s[k]), 1
			if r >= utf8.RuneSelf {
				r, w = utf8.DecodeRuneInString(s[k:])
			}
			fr := foldRune(r)
			if n+utf8.RuneLen(fr) > limit {
				long = true
				break
			}
			n += utf8.EncodeRune(kb[n:], fr)
			k += w
		}
		if !long {
			if x.lookup.byKey != nil && n <= x.lookup.maxKey {
				if ps, ok := x.lookup.byKey[string(kb[:n])]; ok {
					x.match(c, ps, i)
				}
			}
			if n >= 3 && n <= maxDateWord && dateInitial[kb[0]] {
				if dw, ok := dateWords[string(kb[:n])]; ok {
					scanDateWord(c, clk, i, j, dw)
				}
			}
		}
		i = j
	}
}
