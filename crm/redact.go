package crm

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Placeholders that replace what Redact removes.
const (
	CardPlaceholder = "[card redacted]"
	CodePlaceholder = "[code redacted]"
)

// Redact replaces payment card numbers and one-time codes in text, so that
// they are never stored:
//
//   - a card number is 13 to 19 ASCII digits whose Luhn check digit is
//     right, written in one piece or in groups joined by spaces or dashes (at
//     most three between groups) or by a single dot or slash
//     ("4111.1111.1111.1111", "4111/1111/1111/1111"); it becomes
//     CardPlaceholder. Groups joined by a dot or slash must have three digits
//     or more, so that dates ("3/3/2026") and version numbers are not taken
//     for one. Within a longer run of groups, the longest valid span
//     starting at the leftmost group is taken.
//   - a one-time code is a run of 4 to 8 digits (3 or 4 after cvv, cvc or
//     csc), in one piece or spaced out ("482 913", "4 8 2 9 1 3",
//     "48-29-13"), next to a word such as code, otp, pin, passcode, password
//     or verification, with at most four small words between ("code is
//     482913", "OTP: 1234", "482913 is your verification code", "the code
//     they sent me is 4 8 2 9 1 3", "the code for order 1042 is 482913"); it
//     becomes CodePlaceholder. Zip, postal, promo, discount and similar codes
//     are left alone, and so is a number that follows a word saying what it
//     is ("order 1042 code 1234" keeps 1042).
//
// Digits are ASCII only. Everything else in text is kept byte for byte
// (invalid UTF-8 included), and Redact(Redact(s)) == Redact(s).
func Redact(text string) string {
	if strings.IndexAny(text, "0123456789") < 0 {
		return text
	}
	s := replace(text, cardSpans(text))
	return replace(s, codeSpans(s))
}

// span is a byte range [start, end) of a text that Redact replaces with
// placeholder.
type span struct {
	start, end  int
	placeholder string
}

// replace returns s with each span (in order, not overlapping) replaced by
// its placeholder.
func replace(s string, spans []span) string {
	if len(spans) == 0 {
		return s
	}
	var out strings.Builder
	last := 0
	for _, sp := range spans {
		out.WriteString(s[last:sp.start])
		out.WriteString(sp.placeholder)
		last = sp.end
	}
	out.WriteString(s[last:])
	return out.String()
}

// redactions returns the spans of text that Redact replaces, as byte
// offsets into text, in order.
func redactions(text string) []span {
	if strings.IndexAny(text, "0123456789") < 0 {
		return nil
	}
	cards := cardSpans(text)
	codes := codeSpans(replace(text, cards))
	if len(codes) == 0 {
		return cards
	}
	// Codes were found in the text with its cards replaced: move them back
	// to offsets into text. No code overlaps a card's placeholder.
	all := make([]span, 0, len(cards)+len(codes))
	delta, c := 0, 0
	for _, sp := range codes {
		for c < len(cards) && cards[c].start+delta < sp.start {
			all = append(all, cards[c])
			delta += len(CardPlaceholder) - (cards[c].end - cards[c].start)
			c++
		}
		all = append(all, span{sp.start - delta, sp.end - delta, sp.placeholder})
	}
	return append(all, cards[c:]...)
}

// digitRun is a run of digit groups joined by short separators.
type digitRun struct {
	groups [][2]int // byte offsets [start, end) of each group of digits
	// joins[i] is what joins groups i and i+1: 0 for spaces and dashes,
	// else the dot or slash.
	joins []byte
}

func (r digitRun) start() int { return r.groups[0][0] }
func (r digitRun) end() int   { return r.groups[len(r.groups)-1][1] }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanRun reads the digit run starting at s[i], which is a digit. Groups
// are joined by one to three spaces or dashes and, when dots is true, by a
// single dot or slash too.
func scanRun(s string, i int, dots bool) digitRun {
	var r digitRun
	for {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		r.groups = append(r.groups, [2]int{i, j})
		k := j
		for k < len(s) && k-j < 3 && (s[k] == ' ' || s[k] == '-') {
			k++
		}
		var join byte
		if k == j && dots && k < len(s) && (s[k] == '.' || s[k] == '/') {
			join = s[k]
			k++
		}
		if k == j || k >= len(s) || !isDigit(s[k]) {
			return r
		}
		r.joins = append(r.joins, join)
		i = k
	}
}

// minDottedGroup is the fewest digits a group of a card number written with
// dots or slashes has.
const minDottedGroup = 3

// luhn reports whether digits (ASCII) pass the Luhn check.
func luhn(digits []byte) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// cardSpans returns the card numbers in s, in order.
func cardSpans(s string) []span {
	var spans []span
	var digits []byte
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		r := scanRun(s, i, true)
		for g := 0; g < len(r.groups); {
			best, n := -1, 0
			digits = digits[:0]
			dotted, shortest := false, 20
			for h := g; h < len(r.groups); h++ {
				size := r.groups[h][1] - r.groups[h][0]
				n += size
				shortest = min(shortest, size)
				if h > g && r.joins[h-1] != 0 {
					dotted = true
				}
				if n > 19 || dotted && shortest < minDottedGroup {
					break
				}
				digits = append(digits, s[r.groups[h][0]:r.groups[h][1]]...)
				if n >= 13 && luhn(digits) {
					best = h
				}
			}
			if best < 0 {
				g++
				continue
			}
			spans = append(spans, span{r.groups[g][0], r.groups[best][1], CardPlaceholder})
			g = best + 1
		}
		i = r.end()
	}
	return spans
}

type tokenKind int

const (
	tokWord        tokenKind = iota
	tokNumber                // a digit run
	tokPlaceholder           // a redaction placeholder: behaves like a number
	tokBreak                 // end of a sentence or line
)

type token struct {
	kind       tokenKind
	start, end int
	digits     int    // tokNumber: how many digits
	word       string // tokWord: lower case
}

func tokenize(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '[' && strings.HasPrefix(s[i:], CodePlaceholder):
			toks = append(toks, token{kind: tokPlaceholder, start: i, end: i + len(CodePlaceholder)})
			i += len(CodePlaceholder)
			continue
		case c == '[' && strings.HasPrefix(s[i:], CardPlaceholder):
			toks = append(toks, token{kind: tokPlaceholder, start: i, end: i + len(CardPlaceholder)})
			i += len(CardPlaceholder)
			continue
		case isDigit(c):
			r := scanRun(s, i, false)
			n := 0
			for _, g := range r.groups {
				n += g[1] - g[0]
			}
			toks = append(toks, token{kind: tokNumber, start: i, end: r.end(), digits: n})
			i = r.end()
			continue
		case c == '.' || c == '!' || c == '?' || c == ';' || c == '\n':
			toks = append(toks, token{kind: tokBreak, start: i, end: i + 1})
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) {
			i += size
			continue
		}
		j := i + size
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if unicode.IsLetter(r) {
				j += size
				continue
			}
			if r == '\'' || r == '’' { // it's, it’s
				if r2, _ := utf8.DecodeRuneInString(s[j+size:]); unicode.IsLetter(r2) {
					j += size
					continue
				}
			}
			break
		}
		toks = append(toks, token{kind: tokWord, start: i, end: j, word: strings.ToLower(s[i:j])})
		i = j
	}
	return toks
}

// codeWords name a secret code; the value is how many digits it may have.
var codeWords = map[string][2]int{
	"code": {4, 8}, "codes": {4, 8}, "otp": {4, 8}, "otps": {4, 8}, "pin": {4, 8}, "pins": {4, 8},
	"passcode": {4, 8}, "passcodes": {4, 8}, "password": {4, 8}, "passwords": {4, 8},
	"verification": {4, 8}, "cvv": {3, 4}, "cvc": {3, 4}, "csc": {3, 4},
}

// publicCodes, just before "code", make the number not a secret ("zip
// code 80331"). They do not make a pin, password or otp public: "bank pin
// 1234" is a secret.
var publicCodes = map[string]bool{
	"zip": true, "postal": true, "post": true, "postcode": true, "area": true, "country": true, "dialing": true,
	"promo": true, "promotion": true, "promotional": true, "discount": true, "coupon": true, "voucher": true,
	"gift": true, "referral": true, "error": true, "status": true, "product": true, "tracking": true,
	"item": true, "order": true, "sort": true, "tax": true, "bank": true, "swift": true, "style": true,
}

// numberLabels, and publicCodes, just before a number say what the number
// is: it is not a secret even with a code word after it ("order 1042 code
// 1234" keeps 1042), and "order 1042" may stand between a code word and its
// code ("the code for order 1042 is 482913").
var numberLabels = wordSet("orders invoice invoices ticket case ref reference booking account customer " +
	"model size room phone")

// numberWords may stand between a label and its number ("order number 1042").
var numberWords = wordSet("number no nr num")

// Small words allowed between a code word and the code, before ("code is
// 1234", "the code they sent me is 1234") and after ("1234 is your one-time
// code") the number; afterLabel are allowed before once a labelled number
// was passed ("code for order 1042 is 1234").
var (
	fillersBefore = wordSet("is was are be will it's it’s its number no nr num my your the a an new here sms email " +
		"they you i me sent got received just")
	fillersAfter = wordSet("is was are be will it's it’s its your my the a an new one time verification " +
		"security login sign in sms confirmation access temporary card as")
	afterLabel = wordSet("for of on about with from")
)

func wordSet(s string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

const maxFillers = 4

// codeWordAt reports whether toks[k] is a code word for a secret, and how
// many digits the secret may have.
func codeWordAt(toks []token, k int) ([2]int, bool) {
	n, ok := codeWords[toks[k].word]
	if !ok || toks[k].kind != tokWord {
		return n, false
	}
	if w := toks[k].word; (w == "code" || w == "codes") && k > 0 && toks[k-1].kind == tokWord && publicCodes[toks[k-1].word] {
		return n, false
	}
	return n, true
}

// labelAt returns the index of the word that says what the number toks[i]
// is ("order 1042", "order number 1042"), or -1.
func labelAt(toks []token, i int) int {
	if toks[i].kind != tokNumber {
		return -1
	}
	k := i - 1
	if k > 0 && toks[k].kind == tokWord && numberWords[toks[k].word] {
		k--
	}
	if k < 0 || toks[k].kind != tokWord || !publicCodes[toks[k].word] && !numberLabels[toks[k].word] {
		return -1
	}
	return k
}

// isCode reports whether the number toks[i] sits next to a code word.
func isCode(toks []token, i int) bool {
	n := toks[i].digits
	fits := func(r [2]int) bool { return r[0] <= n && n <= r[1] }
	pair := false // passed a labelled number
	for k, f := i-1, 0; k >= 0; k-- {
		if l := labelAt(toks, k); l >= 0 {
			k = l // the number and its label count as one filler
			pair = true
		} else if toks[k].kind != tokWord {
			break
		} else if r, ok := codeWordAt(toks, k); ok {
			return fits(r)
		} else if !fillersBefore[toks[k].word] && !(pair && afterLabel[toks[k].word]) {
			break
		}
		if f++; f > maxFillers {
			break
		}
	}
	if labelAt(toks, i) >= 0 {
		return false
	}
	for k, f := i+1, 0; k < len(toks) && toks[k].kind == tokWord; k++ {
		if r, ok := codeWordAt(toks, k); ok {
			return fits(r)
		}
		if f++; f > maxFillers || !fillersAfter[toks[k].word] {
			break
		}
	}
	return false
}

// codeSpans returns the one-time codes in s, in order.
func codeSpans(s string) []span {
	if strings.IndexAny(s, "0123456789") < 0 {
		return nil
	}
	toks := tokenize(s)
	var spans []span
	for i, t := range toks {
		if t.kind == tokNumber && t.digits >= 3 && t.digits <= 8 && isCode(toks, i) {
			spans = append(spans, span{t.start, t.end, CodePlaceholder})
		}
	}
	return spans
}

// RedactParse applies Redact to every string (keys included) in a JSON
// value, such as an NLU result (Message.Parse), and replaces numbers that are
// card numbers with CardPlaceholder. In an object with a string "text" and
// an array "entities" of objects with rune offsets "start" and "end" into
// that text (an NLU result parsed from text that was not redacted), an
// entity that overlaps a part of the text Redact replaces gets that part's
// placeholder as its "text" and "value": a card number an NLU result split
// into several entities ("4111", "1111", ...) goes too. A value without
// digits, or with nothing to redact, comes back unchanged. It fails on
// anything but one valid JSON value, with an error that wraps no sentinel
// (stores report ErrInvalid). It does not limit the size: stores refuse a
// parse over MaxParseBytes first.
func RedactParse(raw json.RawMessage) (json.RawMessage, error) {
	if !json.Valid(raw) {
		return nil, errInvalidJSON
	}
	if bytes.IndexAny(raw, "0123456789") < 0 {
		return raw, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	v, changed := redactValue(v)
	if !changed {
		return raw, nil
	}
	return json.Marshal(v)
}

var errInvalidJSON = jsonError("not one valid JSON value")

type jsonError string

func (e jsonError) Error() string { return string(e) }

func redactValue(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		r := Redact(x)
		return r, r != x
	case json.Number:
		s := strings.TrimPrefix(string(x), "-")
		if len(s) >= 13 && len(s) <= 19 && strings.Trim(s, "0123456789") == "" && luhn([]byte(s)) {
			return CardPlaceholder, true
		}
		return x, false
	case []any:
		changed := false
		for i := range x {
			var c bool
			x[i], c = redactValue(x[i])
			changed = changed || c
		}
		return x, changed
	case map[string]any:
		hide := entityRedactions(x) // of the text as it was
		changed := false
		out := make(map[string]any, len(x))
		// In key order, so that of two keys that redact to the same one
		// the same is kept every time.
		for _, k := range slices.Sorted(maps.Keys(x)) {
			rk := Redact(k)
			if _, dup := out[rk]; dup {
				changed = true
				continue
			}
			rv, c := redactValue(x[k])
			out[rk] = rv
			changed = changed || c || rk != k
		}
		if hideEntities(out, hide) {
			changed = true
		}
		return out, changed
	}
	return v, false
}

// runeSpan is a span in rune offsets.
type runeSpan struct {
	start, end  int
	placeholder string
}

// entityRedactions returns what Redact replaces in the "text" of an NLU
// result, in rune offsets, when it has entities.
func entityRedactions(x map[string]any) []runeSpan {
	text, ok := x["text"].(string)
	if !ok {
		return nil
	}
	if ents, ok := x["entities"].([]any); !ok || len(ents) == 0 {
		return nil
	}
	spans := redactions(text)
	out := make([]runeSpan, len(spans))
	at, runes := 0, 0 // text[:at] has runes runes
	for i, sp := range spans {
		start := runes + utf8.RuneCountInString(text[at:sp.start])
		end := start + utf8.RuneCountInString(text[sp.start:sp.end])
		out[i] = runeSpan{start, end, sp.placeholder}
		at, runes = sp.end, end
	}
	return out
}

// hideEntities replaces the "text" and "value" of the entities in x that
// overlap a span of hide with its placeholder, and reports whether any
// changed.
func hideEntities(x map[string]any, hide []runeSpan) bool {
	if len(hide) == 0 {
		return false
	}
	ents, _ := x["entities"].([]any)
	changed := false
	for _, e := range ents {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		start, ok1 := intValue(m["start"])
		end, ok2 := intValue(m["end"])
		if !ok1 || !ok2 || end <= start {
			continue
		}
		for _, h := range hide {
			if start >= h.end || h.start >= end {
				continue
			}
			for _, f := range []string{"text", "value"} {
				if v, ok := m[f].(string); ok && v != h.placeholder {
					m[f] = h.placeholder
					changed = true
				}
			}
			break
		}
	}
	return changed
}

// intValue returns v as an int when it is an integral JSON number.
func intValue(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(string(n))
	return i, err == nil
}
