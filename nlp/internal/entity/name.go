package entity

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Names. A customer who introduces themselves ("my name is Carlos", "Hi, I'm
// Maria", "this is Priya from Leeds", "Carlos here", "call me Al") gives the
// bot a name to greet them with. Names are open-ended, so they are found by
// the phrase around them, not by a table:
//
//   - "my name is X" (also "my name's X", "my names X") reads X in any case,
//     because that phrase is hardly ever followed by anything but a name:
//     "my name is carlos" gives "Carlos";
//   - "I'm X", "Im X", "I am X", "this is X", "call me X" and "X here" (X
//     starting a sentence, or after a greeting) need X Capitalised, since
//     the same phrases start ordinary sentences ("I'm looking for", "this is
//     the third time", "same here").
//
// X is one word of letters (with inner hyphens and apostrophes: "Anne-Marie",
// "O'Brien"), 2 to maxNameRunes long, not one of the common words of
// nameStop ("I'm Fine", "This is Ridiculous", "Anyone here?") and not a
// possessive ("this is Maria's account"). A second Capitalised word that
// follows joins it ("my name is Carlos Ruiz"). The value is the name with
// each word capitalised ("carlos" -> "Carlos"); mixed case is kept as
// written ("McDonald"). Words in all capitals count as capitalised only
// after "my name is": a shouted "I'M UPSET" names nobody.

// maxNameRunes bounds one word of a name: longer words are not names, and
// the bound keeps what a message can put in a slot small.
const maxNameRunes = 24

// nameTok is a word as names are read: letters and digits, joined by single
// inner hyphens and apostrophes. ws is true when only white space separates
// it from the word before.
type nameTok struct {
	start, end int
	ws         bool
	kind       uint8 // what the word is when it introduces a name (kindOf); set when it is passed
}

// nextNameTok returns the first word at or after byte i.
func nextNameTok(s string, i int) (nameTok, bool) {
	ws := true
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if isWordRune(r) {
			break
		}
		if !isSpaceRune(r) {
			ws = false
		}
		i += w
	}
	if i >= len(s) {
		return nameTok{}, false
	}
	t := nameTok{start: i, ws: ws}
	for {
		i = wordEnd(s, i)
		r, w := utf8.DecodeRuneInString(s[i:])
		if i < len(s) && (isApostrophe(r) || r == '-') && isWordRune(runeAt(s, i+w)) {
			i += w
			continue
		}
		break
	}
	t.end = i
	return t, true
}

// is reports whether the word spells w (lower-case ASCII, with ' for any
// apostrophe), ignoring case.
func (t nameTok) is(s, w string) bool {
	j := 0
	for _, r := range s[t.start:t.end] {
		r = foldRune(r)
		if r >= utf8.RuneSelf || j >= len(w) || byte(r) != w[j] {
			return false
		}
		j++
	}
	return j == len(w)
}

// fold returns the word lower-cased into buf, or nil when it is too long
// to be a word of nameStop or a greeting. (Callers index maps with
// string(fold(...)), which does not allocate.)
func (t nameTok) fold(s string, buf []byte) []byte {
	n := 0
	for _, r := range s[t.start:t.end] {
		r = foldRune(r)
		if n+utf8.RuneLen(r) > len(buf) {
			return nil
		}
		n += utf8.EncodeRune(buf[n:], r)
	}
	return buf[:n]
}

// nameWord reports whether the word can be (part of) a name: letters only,
// 2 to maxNameRunes of them, not a possessive; capital reports whether it
// is Capitalised (first letter upper case, some other letter lower case).
func nameWord(word string) (ok, capital bool) {
	n, lower := 0, false
	for i, r := range word {
		n++
		switch {
		case unicode.IsLetter(r):
			if i > 0 && unicode.IsLower(r) {
				lower = true
			}
		case unicode.IsMark(r) && i > 0:
		case (isApostrophe(r) || r == '-') && i > 0:
		default:
			return false, false
		}
	}
	if n < 2 || n > maxNameRunes {
		return false, false
	}
	if strings.HasSuffix(word, "'s") || strings.HasSuffix(word, "’s") || strings.HasSuffix(word, "'S") || strings.HasSuffix(word, "’S") {
		return false, false
	}
	first, _ := utf8.DecodeRuneInString(word)
	return true, unicode.IsUpper(first) && lower
}

// nameValue keeps a name that starts with a capital and is not all in
// capitals as written ("McDonald") and capitalises each part of any other
// ("carlos" -> "Carlos", "ANNE-MARIE" -> "Anne-Marie"); apostrophes become
// ASCII ones.
func nameValue(s string) string {
	s = strings.ReplaceAll(s, "’", "'")
	first, _ := utf8.DecodeRuneInString(s)
	if unicode.IsUpper(first) && strings.ToUpper(s) != s {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	up := true
	for _, r := range s {
		if up {
			b.WriteRune(unicode.ToUpper(r))
		} else {
			b.WriteRune(unicode.ToLower(r))
		}
		up = r == '-' || r == ' '
	}
	return b.String()
}

// Kinds of the short words that introduce a name.
const (
	kindOther uint8 = iota
	kindMy
	kindName
	kindIs
	kindNames // "name's", "names"
	kindIm    // "i'm", "im"
	kindI
	kindAm
	kindThis
	kindCall
	kindMe
	kindHere
	kindGreeting // "hi", "hello", ...: may come before "X here"
)

// nameKinds maps a lower-cased word to its kind.
var nameKinds = map[string]uint8{
	"my": kindMy, "name": kindName, "is": kindIs, "name's": kindNames, "names": kindNames,
	"i'm": kindIm, "im": kindIm, "i": kindI, "am": kindAm, "this": kindThis, "call": kindCall,
	"me": kindMe, "here": kindHere,
	"hi": kindGreeting, "hello": kindGreeting, "hey": kindGreeting, "hiya": kindGreeting,
	"howdy": kindGreeting, "yo": kindGreeting, "morning": kindGreeting, "afternoon": kindGreeting,
	"evening": kindGreeting, "greetings": kindGreeting,
}

// kindInitial marks the first letters of the words of nameKinds, so that
// most words need no map lookup.
var kindInitial = func() (m [256]bool) {
	for w := range nameKinds {
		m[w[0]] = true
		m[w[0]-'a'+'A'] = true
	}
	return m
}()

// kindOf returns the kind of a word; buf holds its folded form.
func kindOf(s string, t nameTok, buf []byte) uint8 {
	if t.end-t.start > len("afternoon") || !kindInitial[s[t.start]] {
		return kindOther
	}
	return nameKinds[string(t.fold(s, buf))]
}

// nameTrigger is how the words before a candidate introduce it.
type nameTrigger int

const (
	triggerNone   nameTrigger = iota
	triggerLoose              // "my name is": any case
	triggerStrict             // "I'm", "I am", "this is", "call me": Capitalised only
)

// trigger reads the words before cur: prev[0] is the nearest, and kinds and
// ws say what they are and whether only white space comes after each.
func trigger(prev *[3]nameTok, n int, cur nameTok) nameTrigger {
	if n == 0 || !cur.ws {
		return triggerNone
	}
	k0, k1, k2 := prev[0].kind, prev[1].kind, prev[2].kind
	pair := n >= 2 && prev[0].ws
	switch {
	case k0 == kindIs && pair && k1 == kindName && n >= 3 && prev[1].ws && k2 == kindMy:
		return triggerLoose
	case k0 == kindNames && pair && k1 == kindMy:
		return triggerLoose
	case k0 == kindIm:
		return triggerStrict
	case pair && (k1 == kindI && k0 == kindAm || k1 == kindThis && k0 == kindIs || k1 == kindCall && k0 == kindMe):
		return triggerStrict
	}
	return triggerNone
}

// sentenceStart reports whether cur begins a sentence: the message's first
// word, the first after sentence punctuation, or the first after a greeting.
func sentenceStart(s string, prev *[3]nameTok, n int, cur nameTok) bool {
	if n == 0 || prev[0].kind == kindGreeting {
		return true
	}
	return strings.ContainsAny(s[prev[0].end:cur.start], ".!?;:,\n")
}

// hereVerbs after "X here" make it a sentence about a place ("Everything
// here is broken"), not an introduction.
var hereVerbs = map[string]bool{
	"is": true, "are": true, "was": true, "were": true, "has": true, "have": true, "does": true,
	"doesn't": true, "isn't": true, "aren't": true, "can": true, "will": true, "seems": true,
	"looks": true, "works": true, "should": true, "needs": true,
}

// mayBeCapital is a cheap first look: whether the word starts with an ASCII
// capital or a non-ASCII rune (which may be one).
func mayBeCapital(s string, t nameTok) bool {
	c := s[t.start]
	return 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf
}

// scanNames adds the names a customer introduces themselves with. Most
// words are looked at only for their kind and first byte; the full checks
// run on Capitalised words and on the word after "my name is".
func scanNames(c *collector) {
	s := c.text
	var prev [3]nameTok
	var buf [32]byte
	n := 0
	push := func(t nameTok) {
		t.kind = kindOf(s, t, buf[:])
		prev[2], prev[1], prev[0] = prev[1], prev[0], t
		n++
	}
	for i := 0; ; {
		cur, ok := nextNameTok(s, i)
		if !ok {
			return
		}
		i = cur.end
		trig := trigger(&prev, n, cur)
		if trig != triggerLoose && !mayBeCapital(s, cur) {
			push(cur)
			continue
		}
		word := s[cur.start:cur.end]
		valid, capital := nameWord(word)
		if !valid || nameStop[string(cur.fold(s, buf[:]))] {
			push(cur)
			continue
		}
		if trig == triggerNone && capital && sentenceStart(s, &prev, n, cur) {
			// "Carlos here", and nothing that makes "here" a place.
			if h, ok := nextNameTok(s, cur.end); ok && h.ws && h.is(s, "here") {
				if v, ok := nextNameTok(s, h.end); !ok || !v.ws || !hereVerbs[string(v.fold(s, buf[:]))] {
					c.builtin(cur.start, cur.end, prioName, TypeName, nameValue(word))
				}
			}
			push(cur)
			continue
		}
		if trig == triggerNone || trig == triggerStrict && !capital {
			push(cur)
			continue
		}
		end := cur.end
		if y, ok := nextNameTok(s, cur.end); ok && y.ws && mayBeCapital(s, y) {
			yw := s[y.start:y.end]
			if ok, capY := nameWord(yw); ok && capY && !y.is(s, "here") && !nameStop[string(y.fold(s, buf[:]))] {
				end = y.end
			}
		}
		c.builtin(cur.start, end, prioName, TypeName, nameValue(s[cur.start:end]))
		push(cur)
	}
}
