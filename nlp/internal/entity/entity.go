package entity

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/nlp/nlu"
)

// Built-in entity types.
const (
	TypeEmail   = "email"
	TypePhone   = "phone"
	TypeOrderID = "order_id"
	TypeMoney   = "money"
	TypeDate    = "date"
	TypeName    = "name" // a customer's own name, as they introduce themselves (name.go)
)

// Errors returned by New, wrapped with the entity they concern; test them
// with errors.Is.
var (
	ErrEmptyName       = errors.New("empty entity name")
	ErrEmptyDef        = errors.New("entity declares no pattern, values or synonyms")
	ErrBadPattern      = errors.New("bad pattern")
	ErrEmptyValue      = errors.New("empty lookup value or synonym")
	ErrSynonymConflict = errors.New("synonym maps to two canonical values")
)

// Entity is one extracted entity: Type is one of the Type constants or a
// declared Def.Name, Value is normalised (see the package documentation),
// and Start and End are rune offsets into the text given to Extract. It is
// nlu.Entity, so that a parse result holds what Extract returns as it is.
type Entity = nlu.Entity

// Options tunes an Extractor. A nil *Options means all defaults.
type Options struct {
	// OrderPattern is the regular expression (Go syntax) for order numbers.
	// Empty means DefaultOrderPattern. The entity's Value is the first
	// capture group that matched, or the whole match when the expression has
	// no group. A Def named "order_id" with a Pattern overrides it.
	OrderPattern string
	// Location is the time zone in which relative dates ("today") are
	// resolved. Nil means time.UTC.
	Location *time.Location
}

// Extractor finds entities in customer messages. It is immutable once built
// and safe for concurrent use.
type Extractor struct {
	names    []string       // declared entity names, in priority order
	patterns []defPattern   // Def patterns other than order_id's
	orders   []orderMatcher // the order_id matchers
	lookup   lookupTable
	loc      *time.Location
}

type defPattern struct {
	re      *regexp.Regexp
	literal string // a string every match contains; "" when unknown
	def     int    // index into names
}

// New builds an Extractor for the declared entity definitions.
//
// Defs with the same Name are merged. A Def named like a built-in type adds
// matches of that type; a Def named "order_id" with a Pattern replaces the
// order-number pattern. New returns an error wrapping ErrEmptyName,
// ErrEmptyDef, ErrBadPattern (with the regexp error), ErrEmptyValue or
// ErrSynonymConflict, naming the entity concerned.
func New(defs []Def, opts *Options) (*Extractor, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	x := &Extractor{loc: o.Location}
	if x.loc == nil {
		x.loc = time.UTC
	}

	var optOrder orderMatcher // zero: the built-in scanner
	if o.OrderPattern != "" {
		var err error
		if optOrder, err = compileOrder(o.OrderPattern); err != nil {
			return nil, fmt.Errorf("new extractor: entity %q: %w: %w", TypeOrderID, ErrBadPattern, err)
		}
	}

	index := make(map[string]int, len(defs))
	lb := newLookupBuilder()
	for i, d := range defs {
		if strings.TrimSpace(d.Name) == "" {
			return nil, fmt.Errorf("new extractor: def %d: %w", i, ErrEmptyName)
		}
		if d.Pattern == "" && len(d.Values) == 0 && len(d.Synonyms) == 0 {
			return nil, fmt.Errorf("new extractor: entity %q: %w", d.Name, ErrEmptyDef)
		}
		idx, ok := index[d.Name]
		if !ok {
			idx = len(x.names)
			index[d.Name] = idx
			x.names = append(x.names, d.Name)
		}
		if d.Pattern != "" {
			if d.Name == TypeOrderID {
				m, err := compileOrder(d.Pattern)
				if err != nil {
					return nil, fmt.Errorf("new extractor: entity %q: %w: %w", d.Name, ErrBadPattern, err)
				}
				x.orders = append(x.orders, m)
			} else {
				re, err := regexp.Compile(d.Pattern)
				if err != nil {
					return nil, fmt.Errorf("new extractor: entity %q: %w: %w", d.Name, ErrBadPattern, err)
				}
				x.patterns = append(x.patterns, defPattern{re: re, literal: requiredLiteral(d.Pattern), def: idx})
			}
		}
		if err := lb.add(idx, d); err != nil {
			return nil, fmt.Errorf("new extractor: entity %q: %w", d.Name, err)
		}
	}
	if len(x.orders) == 0 {
		x.orders = []orderMatcher{optOrder}
	}
	x.lookup = lb.build()
	return x, nil
}

// Type priorities after the declared entities (which come first, in
// declaration order): the lower the number, the stronger.
const (
	prioEmail = iota
	prioMoney
	prioDate
	prioPhone
	prioOrder
	prioName
)

// cand is a candidate entity in byte offsets.
type cand struct {
	start, end int
	prio       int // declared defs: 0..len(names)-1, then len(names)+prio*
	typ        string
	value      string
}

// scratch is the per-call working memory of Extract, recycled through
// scratchPool so that a typical call allocates only its result. Buffers grown
// by huge messages are left to the garbage collector.
type scratch struct {
	cands []cand
	keys  []rankKey
	kept  []int
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{cands: make([]cand, 0, 16), keys: make([]rankKey, 0, 16), kept: make([]int, 0, 16)}
}}

const maxPooled = 256

// collector gathers candidates for one Extract call.
type collector struct {
	text  string
	cands []cand
	base  int // len(names): where built-in priorities start
}

func (c *collector) add(start, end, prio int, typ, value string) {
	if start >= end {
		return
	}
	c.cands = append(c.cands, cand{start: start, end: end, prio: prio, typ: typ, value: value})
}

func (c *collector) builtin(start, end, prio int, typ, value string) {
	c.add(start, end, c.base+prio, typ, value)
}

// Extract returns the entities found in text, sorted by Start, never
// overlapping. Relative dates are resolved against now in the Extractor's
// location. Invalid UTF-8 is read as one U+FFFD per bad byte, as []rune(text)
// does, so the offsets always index []rune(text). It returns nil when nothing
// is found.
func (x *Extractor) Extract(text string, now time.Time) []Entity {
	if text == "" {
		return nil
	}
	if !utf8.ValidString(text) {
		text = string([]rune(text))
	}
	f := scanFeatures(text)
	sc := scratchPool.Get().(*scratch)
	c := collector{text: text, cands: sc.cands[:0], base: len(x.names)}
	defer func() {
		if cap(c.cands) <= maxPooled && cap(sc.keys) <= maxPooled {
			clear(c.cands) // drop the references into text
			sc.cands = c.cands[:0]
			scratchPool.Put(sc)
		}
	}()
	clock := clock{now: now, loc: x.loc}

	x.scanWords(&c, &clock)
	scanNames(&c)
	if f.hasAt {
		scanEmails(&c)
	}
	if f.hasDigit {
		scanMoney(&c)
		scanISODates(&c)
		scanPhones(&c)
	}
	for i := range x.orders {
		x.orders[i].scan(&c, f)
	}
	for _, p := range x.patterns {
		if p.literal != "" && !strings.Contains(text, p.literal) {
			continue
		}
		for _, loc := range p.re.FindAllStringIndex(text, -1) {
			c.add(loc[0], loc[1], p.def, x.names[p.def], text[loc[0]:loc[1]])
		}
	}
	if len(c.cands) == 0 {
		return nil
	}
	return toEntities(c.cands, resolve(c.cands, text, f.ascii, sc), text)
}

// rankKey orders candidates for resolve; it holds no pointers, so sorting
// it moves no strings and needs no write barriers.
type rankKey struct {
	rlen, prio, start, idx int
}

// resolve drops every candidate that overlaps a stronger one: longer spans
// (in runes) win, then lower priority numbers, then earlier starts, then
// earlier insertion. It returns the indexes of the kept candidates, sorted by
// start.
func resolve(cands []cand, text string, ascii bool, sc *scratch) []int {
	keys := sc.keys[:0]
	for i, c := range cands {
		n := c.end - c.start
		if !ascii {
			n = utf8.RuneCountInString(text[c.start:c.end])
		}
		keys = append(keys, rankKey{rlen: n, prio: c.prio, start: c.start, idx: i})
	}
	slices.SortFunc(keys, func(a, b rankKey) int {
		switch {
		case a.rlen != b.rlen:
			return b.rlen - a.rlen
		case a.prio != b.prio:
			return a.prio - b.prio
		case a.start != b.start:
			return a.start - b.start
		}
		return a.idx - b.idx
	})
	kept := sc.kept[:0]
	if len(cands) <= 32 {
		// Few candidates: compare with each kept one.
		for _, k := range keys {
			c := cands[k.idx]
			free := true
			for _, j := range kept {
				if c.start < cands[j].end && cands[j].start < c.end {
					free = false
					break
				}
			}
			if free {
				kept = append(kept, k.idx)
			}
		}
	} else {
		// Many candidates (a huge message): mark taken bytes in a bitset. Each
		// matcher reports spans that overlap each other boundedly, so the
		// total work stays linear in the text.
		taken := make([]uint64, (len(text)+63)/64)
		for _, k := range keys {
			c := cands[k.idx]
			if !bitsAny(taken, c.start, c.end) {
				bitsSet(taken, c.start, c.end)
				kept = append(kept, k.idx)
			}
		}
	}
	slices.SortFunc(kept, func(a, b int) int { return cands[a].start - cands[b].start })
	sc.keys, sc.kept = keys, kept
	return kept
}

func bitsAny(bits []uint64, start, end int) bool {
	for i := start; i < end; {
		w := bits[i/64]
		if i%64 == 0 && end-i >= 64 {
			if w != 0 {
				return true
			}
			i += 64
			continue
		}
		if w&(1<<(i%64)) != 0 {
			return true
		}
		i++
	}
	return false
}

func bitsSet(bits []uint64, start, end int) {
	for i := start; i < end; i++ {
		bits[i/64] |= 1 << (i % 64)
	}
}

// toEntities converts the kept candidates (sorted by start, disjoint) to
// entities with rune offsets, in one pass over the text.
func toEntities(cands []cand, kept []int, text string) []Entity {
	out := make([]Entity, len(kept))
	bytePos, runePos := 0, 0
	for i, k := range kept {
		c := cands[k]
		runePos += utf8.RuneCountInString(text[bytePos:c.start])
		start := runePos
		runePos += utf8.RuneCountInString(text[c.start:c.end])
		bytePos = c.end
		out[i] = Entity{Type: c.typ, Text: text[c.start:c.end], Value: c.value, Start: start, End: runePos}
	}
	return out
}
