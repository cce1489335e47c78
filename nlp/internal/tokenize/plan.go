package tokenize

import (
	"encoding/json"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/sugarme/tokenizer/normalizer"
	"golang.org/x/text/unicode/norm"
)

// stepKind is one normalisation step a tokenizer.json can declare.
type stepKind int

const (
	stepNFC stepKind = iota
	stepNFD
	stepNFKC
	stepNFKD
	stepLower
	stepStripAccents // drop non-spacing marks (Mn), as Hugging Face does
	stepBertClean    // BertNormalizer clean_text: drop NUL, U+FFFD, other controls; white space to ' '
	stepBertChinese  // BertNormalizer handle_chinese_chars: spaces around CJK ideographs
	stepStrip        // Strip: trim white space at either end
)

type normStep struct {
	kind        stepKind
	left, right bool // stepStrip only
}

// normPlan is a user-supplied tokenizer.json's normaliser, run in Go with the
// Hugging Face semantics instead of the library's normalisers (see doc.go).
// An empty plan leaves the text as it is.
type normPlan []normStep

// parsePlan turns a tokenizer.json "normalizer" value into a plan. It returns
// ErrUnsupported for normalisers Parley does not implement (Replace, Prepend,
// Precompiled, Nmt, ...).
func parsePlan(raw json.RawMessage) (normPlan, error) {
	var cfg map[string]any
	if len(raw) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("%w: normalizer is not an object", ErrFormat)
	}
	var p normPlan
	if err := p.add(cfg, 0); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *normPlan) add(cfg map[string]any, depth int) error {
	if cfg == nil {
		return nil
	}
	if depth > 8 {
		return fmt.Errorf("%w: normalizer nested too deeply", ErrUnsupported)
	}
	typ, _ := cfg["type"].(string)
	switch typ {
	case "NFC":
		*p = append(*p, normStep{kind: stepNFC})
	case "NFD":
		*p = append(*p, normStep{kind: stepNFD})
	case "NFKC":
		*p = append(*p, normStep{kind: stepNFKC})
	case "NFKD":
		*p = append(*p, normStep{kind: stepNFKD})
	case "Lowercase":
		*p = append(*p, normStep{kind: stepLower})
	case "StripAccents":
		*p = append(*p, normStep{kind: stepStripAccents})
	case "Strip", "StripNormalizer":
		left, right := boolField(cfg, "strip_left", true), boolField(cfg, "strip_right", true)
		*p = append(*p, normStep{kind: stepStrip, left: left, right: right})
	case "BertNormalizer":
		lower := boolField(cfg, "lowercase", true)
		if boolField(cfg, "clean_text", true) {
			*p = append(*p, normStep{kind: stepBertClean})
		}
		if boolField(cfg, "handle_chinese_chars", true) {
			*p = append(*p, normStep{kind: stepBertChinese})
		}
		if boolField(cfg, "strip_accents", lower) { // null means "same as lowercase"
			*p = append(*p, normStep{kind: stepNFD}, normStep{kind: stepStripAccents})
		}
		if lower {
			*p = append(*p, normStep{kind: stepLower})
		}
	case "Sequence":
		list, ok := cfg["normalizers"].([]any)
		if !ok {
			return fmt.Errorf("%w: Sequence normalizer without a \"normalizers\" list", ErrFormat)
		}
		for _, item := range list {
			sub, ok := item.(map[string]any)
			if !ok {
				return fmt.Errorf("%w: Sequence normalizer item is not an object", ErrFormat)
			}
			if err := p.add(sub, depth+1); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("%w: normalizer %q (supported: NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip, BertNormalizer, Sequence)", ErrUnsupported, typ)
	}
	return nil
}

// boolField reads an optional boolean; absent or null gives def.
func boolField(cfg map[string]any, key string, def bool) bool {
	if b, ok := cfg[key].(bool); ok {
		return b
	}
	return def
}

// aligned is a text being normalised: runes, each with the rune range of the
// original text it came from. Scratch state for one goroutine at a time.
type aligned struct {
	runes      []rune
	start, end []int32
	// the next generation, swapped in by steps that rebuild the text
	runes2       []rune
	start2, end2 []int32
	buf          []byte
}

// reset loads s (valid UTF-8) with the identity alignment.
func (a *aligned) reset(s string) {
	a.runes, a.start, a.end = a.runes[:0], a.start[:0], a.end[:0]
	k := int32(0)
	for _, r := range s {
		a.runes = append(a.runes, r)
		a.start = append(a.start, k)
		a.end = append(a.end, k+1)
		k++
	}
}

// apply runs the plan on a.
func (p normPlan) apply(a *aligned) {
	for _, st := range p {
		switch st.kind {
		case stepNFC:
			a.unicodeForm(norm.NFC)
		case stepNFD:
			a.unicodeForm(norm.NFD)
		case stepNFKC:
			a.unicodeForm(norm.NFKC)
		case stepNFKD:
			a.unicodeForm(norm.NFKD)
		case stepLower:
			for i, r := range a.runes {
				a.runes[i] = unicode.ToLower(r)
			}
		case stepStripAccents:
			a.filter(func(r rune) (rune, bool) { return r, !unicode.Is(unicode.Mn, r) })
		case stepBertClean:
			a.filter(func(r rune) (rune, bool) {
				switch {
				case r == ' ' || r == '\t' || r == '\n' || r == '\r' || unicode.Is(unicode.Zs, r):
					return ' ', true
				case r == 0 || r == utf8.RuneError || unicode.In(r, unicode.C):
					return r, false
				}
				return r, true
			})
		case stepBertChinese:
			a.spaceChinese()
		case stepStrip:
			a.strip(st.left, st.right)
		}
	}
}

// filter keeps the runes f accepts, replaced by f's rune.
func (a *aligned) filter(f func(rune) (rune, bool)) {
	n := 0
	for i, r := range a.runes {
		if nr, keep := f(r); keep {
			a.runes[n], a.start[n], a.end[n] = nr, a.start[i], a.end[i]
			n++
		}
	}
	a.runes, a.start, a.end = a.runes[:n], a.start[:n], a.end[:n]
}

func (a *aligned) spaceChinese() {
	a.runes2, a.start2, a.end2 = a.runes2[:0], a.start2[:0], a.end2[:0]
	for i, r := range a.runes {
		if normalizer.IsChinese(r) {
			a.push(' ', a.start[i], a.end[i])
			a.push(r, a.start[i], a.end[i])
			a.push(' ', a.start[i], a.end[i])
			continue
		}
		a.push(r, a.start[i], a.end[i])
	}
	a.swap()
}

func (a *aligned) strip(left, right bool) {
	i, j := 0, len(a.runes)
	for left && i < j && unicode.IsSpace(a.runes[i]) {
		i++
	}
	for right && j > i && unicode.IsSpace(a.runes[j-1]) {
		j--
	}
	a.runes, a.start, a.end = a.runes[i:j], a.start[i:j], a.end[i:j]
}

// unicodeForm applies a Unicode normal form. Each output segment takes the
// alignment of the input runes it came from.
func (a *aligned) unicodeForm(f norm.Form) {
	a.buf = a.buf[:0]
	for _, r := range a.runes {
		a.buf = utf8.AppendRune(a.buf, r)
	}
	a.runes2, a.start2, a.end2 = a.runes2[:0], a.start2[:0], a.end2[:0]
	var it norm.Iter
	it.Init(f, a.buf)
	ri, cb := 0, 0 // input rune index and its byte offset
	for !it.Done() {
		seg := it.Next()
		next := it.Pos()
		first := ri
		for cb < next && ri < len(a.runes) {
			cb += runeLen(a.runes[ri])
			ri++
		}
		// A character that expands into several segments ("½" is "1", "⁄",
		// "2") consumes its input only with the last one: the others come
		// from the rune at first too.
		last := max(ri, first+1)
		if last > len(a.runes) {
			continue // cannot happen: output without input
		}
		s, e := a.start[first], a.end[first]
		for k := first + 1; k < last; k++ {
			e = max(e, a.end[k])
		}
		for _, r := range string(seg) {
			a.push(r, s, e)
		}
	}
	a.swap()
}

func (a *aligned) push(r rune, s, e int32) {
	a.runes2 = append(a.runes2, r)
	a.start2 = append(a.start2, s)
	a.end2 = append(a.end2, e)
}

func (a *aligned) swap() {
	a.runes, a.runes2 = a.runes2, a.runes
	a.start, a.start2 = a.start2, a.start
	a.end, a.end2 = a.end2, a.end
}

// runeLen is the length utf8.AppendRune gives r (invalid runes become U+FFFD).
func runeLen(r rune) int {
	if n := utf8.RuneLen(r); n > 0 {
		return n
	}
	return utf8.RuneLen(utf8.RuneError)
}
