package entity

import (
	"regexp"
	"strings"
)

// DefaultOrderPattern describes the demo shop's order numbers: 4 to 10
// digits after a marker ("order 10423", "order #10423", "order no. 10423",
// "no. 10423", "ref: 10423", "#10423"), or a bare run of 5 to 10 digits.
// Bare 4-digit numbers are left out: they are mostly years, times and card
// endings.
//
// When Options.OrderPattern is empty, Extract does not run this expression
// but a hand-written scanner that finds exactly what it finds (a
// differential fuzz test holds them together) in a fraction of the time, and
// then also drops bare numbers that continue a decimal, a range or an amount
// ("12345.50", "-12345", "$12345"). Setting Options.OrderPattern to this
// constant runs the expression as written, without that filter.
const DefaultOrderPattern = `(?i)(?:\b(?:order|purchase)(?:\s*(?:number|num|no|nr|id|ref))?\.?|\bno\.|\bnr\.?|\bnum(?:ber)?\.?|\bref(?:erence)?\.?)[ \t]*[:#]?[ \t]*(\d{4,10})\b|#[ \t]?(\d{4,10})\b|\b(\d{5,10})\b`

// bareOrderGroup is the capture group of DefaultOrderPattern's bare form.
const bareOrderGroup = 3

// orderMatcher is one order-number matcher: a compiled expression, or the
// built-in scanner when re is nil.
type orderMatcher struct {
	re      *regexp.Regexp
	literal string // see requiredLiteral
}

func compileOrder(pattern string) (orderMatcher, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return orderMatcher{}, err
	}
	return orderMatcher{re: re, literal: requiredLiteral(pattern)}, nil
}

// scan adds the order numbers in c.text. Value is the first capture group
// that matched, else the whole match.
func (m *orderMatcher) scan(c *collector, f features) {
	if m.re == nil {
		if f.digitRun >= 4 {
			scanDefaultOrders(c)
		}
		return
	}
	s := c.text
	if m.literal != "" && !strings.Contains(s, m.literal) {
		return
	}
	for _, loc := range m.re.FindAllStringSubmatchIndex(s, -1) {
		start, end := loc[0], loc[1]
		if start == end {
			continue
		}
		value := s[start:end]
		for g := 1; 2*g+1 < len(loc); g++ {
			if loc[2*g] >= 0 && loc[2*g+1] > loc[2*g] {
				value = s[loc[2*g]:loc[2*g+1]]
				break
			}
		}
		c.builtin(start, end, prioOrder, TypeOrderID, value)
	}
}

// isRegexpWord is the ASCII word class of Go's \b.
func isRegexpWord(c byte) bool { return isASCIILetter(c) || isDigit(c) || c == '_' }

// scanDefaultOrders is DefaultOrderPattern, hand-written: for each maximal
// digit run it looks back for a marker, then a '#', then takes the bare form.
func scanDefaultOrders(c *collector) {
	s := c.text
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		ds := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		de, n := i, i-ds
		if n < 4 || n > 10 || de < len(s) && isRegexpWord(s[de]) {
			continue
		}
		if start, ok := orderMarkerBefore(s, ds); ok {
			c.builtin(start, de, prioOrder, TypeOrderID, s[ds:de])
			continue
		}
		if ds >= 1 && s[ds-1] == '#' {
			c.builtin(ds-1, de, prioOrder, TypeOrderID, s[ds:de])
			continue
		}
		if ds >= 2 && s[ds-2] == '#' && (s[ds-1] == ' ' || s[ds-1] == '\t') {
			c.builtin(ds-2, de, prioOrder, TypeOrderID, s[ds:de])
			continue
		}
		if n >= 5 && (ds == 0 || !isRegexpWord(s[ds-1])) && bareOrderOK(s, ds, de) {
			c.builtin(ds, de, prioOrder, TypeOrderID, s[ds:de])
		}
	}
}

// maxMarkerWord bounds the letters of one marker word ("purchasenumber").
const maxMarkerWord = 16

// orderMarkerBefore finds the marker part of DefaultOrderPattern,
// `marker[ \t]*[:#]?[ \t]*`, ending at the digits at ds and returns where it
// starts. Markers begin at a \b, so each is a whole ASCII word run:
//
//	order, purchase, each optionally followed, glued or after white space,
//	by number, num, no, nr, id or ref; no. (the dot required); nr; num;
//	number; ref; reference. Each may end with a dot.
//
// The blanks read back belong to this digit run alone, so the work stays
// linear in the text.
func orderMarkerBefore(s string, ds int) (int, bool) {
	k := ds
	for k > 0 && (s[k-1] == ' ' || s[k-1] == '\t') {
		k--
	}
	if k > 0 && (s[k-1] == ':' || s[k-1] == '#') {
		k--
		for k > 0 && (s[k-1] == ' ' || s[k-1] == '\t') {
			k--
		}
	}
	dot := k > 0 && s[k-1] == '.'
	if dot {
		k--
	}
	ws, ok := wordRunBefore(s, k)
	if !ok {
		return 0, false
	}
	var buf [maxMarkerWord]byte
	w := lowerInto(buf[:0], s[ws:k])
	if isOrderHead(w) || isOrderHeadWithSuffix(w) {
		return ws, true
	}
	if isOrderSuffix(w) {
		// "order number", "order\nno": the head is the word run before the
		// white space.
		h := ws
		for h > 0 && isRegexpSpace(s[h-1]) {
			h--
		}
		if h < ws {
			if hs, ok := wordRunBefore(s, h); ok {
				var hb [maxMarkerWord]byte
				if isOrderHead(lowerInto(hb[:0], s[hs:h])) {
					return hs, true
				}
			}
		}
	}
	switch string(w) {
	case "no":
		return ws, dot
	case "nr", "num", "number", "ref", "reference":
		return ws, true
	}
	return 0, false
}

// wordRunBefore returns the start of the run of ASCII letters ending at k,
// when it is a whole \b-delimited word of at most maxMarkerWord letters.
func wordRunBefore(s string, k int) (int, bool) {
	ws := k
	for ws > 0 && k-ws < maxMarkerWord && isASCIILetter(s[ws-1]) {
		ws--
	}
	if ws == k || ws > 0 && isRegexpWord(s[ws-1]) {
		return 0, false
	}
	return ws, true
}

func lowerInto(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		b = append(b, s[i]|0x20)
	}
	return b
}

func isOrderHead(w []byte) bool { return string(w) == "order" || string(w) == "purchase" }

func isOrderSuffix(w []byte) bool {
	switch string(w) {
	case "number", "num", "no", "nr", "id", "ref":
		return true
	}
	return false
}

// isOrderHeadWithSuffix reports "ordernumber", "purchaseid" and the like.
func isOrderHeadWithSuffix(w []byte) bool {
	for _, h := range [...]string{"order", "purchase"} {
		if len(w) > len(h) && string(w[:len(h)]) == h && isOrderSuffix(w[len(h):]) {
			return true
		}
	}
	return false
}

// isRegexpSpace is Go's \s: [\t\n\f\r ].
func isRegexpSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

func bareOrderOK(s string, start, end int) bool {
	if r := runeBefore(s, start); r >= 0 && strings.ContainsRune(".,-/:+$€£¥₹", r) {
		return false
	}
	return numberEndOK(s, end)
}
