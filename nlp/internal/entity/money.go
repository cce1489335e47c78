package entity

import (
	"strings"
	"unicode/utf8"
)

// symbolCodes maps currency symbols to ISO 4217 codes.
var symbolCodes = map[rune]string{'$': "USD", '€': "EUR", '£': "GBP", '¥': "JPY", '₹': "INR"}

// dollarPrefixes qualify '$' when written right before it ("US$", "C$").
var dollarPrefixes = map[string]string{
	"us": "USD", "c": "CAD", "ca": "CAD", "can": "CAD", "a": "AUD", "au": "AUD",
	"nz": "NZD", "hk": "HKD", "s": "SGD", "mx": "MXN", "r": "BRL",
}

// isoCodes are the codes recognised as written before or after an amount.
var isoCodes = map[string]bool{
	"usd": true, "eur": true, "gbp": true, "jpy": true, "cad": true, "aud": true,
	"chf": true, "cny": true, "inr": true, "nzd": true, "sek": true, "nok": true,
	"dkk": true, "pln": true, "mxn": true, "brl": true, "zar": true, "sgd": true,
	"hkd": true,
}

// currencyWords are the words recognised after an amount ("30 euros").
var currencyWords = map[string]string{
	"dollar": "USD", "dollars": "USD", "buck": "USD", "bucks": "USD",
	"euro": "EUR", "euros": "EUR", "pound": "GBP", "pounds": "GBP", "quid": "GBP",
	"yen": "JPY", "rupee": "INR", "rupees": "INR",
}

// currencyAdjectives qualify a following "dollars" or "pounds" ("30 US
// dollars", "10 British pounds"): base is the code of that word, code the
// code of the pair.
var currencyAdjectives = map[string]struct{ base, code string }{
	"us": {"USD", "USD"}, "american": {"USD", "USD"}, "canadian": {"USD", "CAD"},
	"australian": {"USD", "AUD"}, "british": {"GBP", "GBP"}, "uk": {"GBP", "GBP"},
}

// maxCurrencyWord bounds the letters read for a code or currency word.
const maxCurrencyWord = 10

// scanMoney finds amounts with a currency written before ("$12.50",
// "EUR 1,299.99", "US$5") or after ("12.50 USD", "30 euros", "30€").
func scanMoney(c *collector) {
	s := c.text
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		a := parseAmount(s, i)
		next := max(a.end, i+1)
		if !a.ok || !amountStartOK(s, i) {
			i = next
			continue
		}
		preCode, preStart, bareDollar, preOK := currencyBefore(s, i)
		if !preOK && isWordRune(runeBefore(s, i)) {
			i = next
			continue
		}
		sufCode, sufEnd, sufOK := currencyAfter(s, a.end)
		if !numberEndOK(s, a.end) {
			sufOK = false
		}
		if !sufOK && isWordRune(runeAt(s, a.end)) {
			i = next // "$5k", "£1.5m": a multiplier we do not read
			continue
		}
		switch {
		case preOK && sufOK && (preCode == sufCode || bareDollar && strings.HasSuffix(sufCode, "D")):
			c.builtin(preStart, sufEnd, prioMoney, TypeMoney, a.value(s, sufCode))
		case preOK:
			c.builtin(preStart, a.end, prioMoney, TypeMoney, a.value(s, preCode))
		case sufOK:
			c.builtin(i, sufEnd, prioMoney, TypeMoney, a.value(s, sufCode))
		}
		i = next
	}
}

// amount is a parsed number: s[start:decAt] holds the integer digits (with
// any thousands separators), s[decAt+1:end] the decimals; decAt == end when
// there are none.
type amount struct {
	start, decAt, end int
	ok                bool
}

// maxGroups bounds the separator groups of one amount ("1,000,000,000").
const maxGroups = 6

// parseAmount reads "1299", "1,299.99", "1.299,99", "12,50", "12.5" at i. A
// single separator followed by exactly three digits groups thousands; one
// followed by one or two digits is the decimal point. Anything else
// ("1,2345", "1.2.50") is not an amount; end then still covers the whole run
// so that the caller skips it.
func parseAmount(s string, i int) amount {
	k := i
	for k < len(s) && isDigit(s[k]) {
		k++
	}
	first := k - i
	var seps [maxGroups]byte
	var lens [maxGroups]int
	var at [maxGroups]int
	n := 0
	for k+1 < len(s) && (s[k] == ',' || s[k] == '.') && isDigit(s[k+1]) {
		m := k + 1
		for m < len(s) && isDigit(s[m]) {
			m++
		}
		if n < maxGroups {
			seps[n], lens[n], at[n] = s[k], m-k-1, k
		}
		n++
		k = m
	}
	a := amount{start: i, decAt: k, end: k}
	if n > maxGroups {
		return a
	}
	thousands := func(upto int, sep byte) bool {
		if upto > 0 && first > 3 {
			return false
		}
		for g := 0; g < upto; g++ {
			if seps[g] != sep || lens[g] != 3 {
				return false
			}
		}
		return true
	}
	switch {
	case n == 0:
		a.ok = first <= 15
	case lens[n-1] <= 2:
		dec := seps[n-1]
		other := byte(',')
		if dec == ',' {
			other = '.'
		}
		a.decAt = at[n-1]
		a.ok = thousands(n-1, other)
	case lens[n-1] == 3:
		a.ok = thousands(n, seps[0])
	}
	if a.ok && a.decAt-i-(n-1) > 15 {
		a.ok = false
	}
	return a
}

// value formats the amount as "<integer>.<2 decimals> <code>".
func (a amount) value(s, code string) string {
	var b strings.Builder
	b.Grow(a.end - a.start + 6)
	lead := true
	for k := a.start; k < a.decAt; k++ {
		if c := s[k]; isDigit(c) {
			if lead && c == '0' {
				continue
			}
			lead = false
			b.WriteByte(c)
		}
	}
	if lead {
		b.WriteByte('0')
	}
	b.WriteByte('.')
	frac := ""
	if a.decAt < a.end {
		frac = s[a.decAt+1 : a.end]
	}
	b.WriteString(frac)
	for k := len(frac); k < 2; k++ {
		b.WriteByte('0')
	}
	b.WriteByte(' ')
	b.WriteString(code)
	return b.String()
}

// amountStartOK rejects a number that continues a decimal ("1.5" read from
// "5") or another number.
func amountStartOK(s string, i int) bool {
	if i == 0 {
		return true
	}
	if p := s[i-1]; (p == '.' || p == ',') && i >= 2 && isDigit(s[i-2]) {
		return false
	}
	return true
}

// currencyBefore looks for a currency symbol or ISO code right before byte i,
// with at most one space between. bareDollar reports a plain '$', which a
// more specific code after the amount may refine ("$30 CAD").
func currencyBefore(s string, i int) (code string, start int, bareDollar, ok bool) {
	k := i
	if k > 0 && s[k-1] == ' ' {
		k--
	}
	r := runeBefore(s, k)
	if code, ok := symbolCodes[r]; ok {
		start = k - utf8.RuneLen(r)
		if r == '$' {
			ls := start
			for ls > 0 && start-ls < 3 && isASCIILetter(s[ls-1]) {
				ls--
			}
			if ls < start && !isWordRune(runeBefore(s, ls)) {
				var b [3]byte
				for j := ls; j < start; j++ {
					b[j-ls] = s[j] | 0x20
				}
				if c, ok := dollarPrefixes[string(b[:start-ls])]; ok {
					return c, ls, false, true
				}
			}
			return code, start, true, true
		}
		return code, start, false, true
	}
	ws := k
	for ws > 0 && k-ws < 4 && isASCIILetter(s[ws-1]) {
		ws--
	}
	if k-ws == 3 && !isWordRune(runeBefore(s, ws)) {
		b := [3]byte{s[ws] | 0x20, s[ws+1] | 0x20, s[ws+2] | 0x20}
		if isoCodes[string(b[:])] {
			return strings.ToUpper(s[ws:k]), ws, false, true
		}
	}
	return "", 0, false, false
}

// currencyAfter looks for a currency symbol, ISO code or currency word right
// after byte i, with at most one space between.
func currencyAfter(s string, i int) (code string, end int, ok bool) {
	k := i
	if k < len(s) && s[k] == ' ' {
		k++
	}
	r := runeAt(s, k)
	if code, ok := symbolCodes[r]; ok {
		return code, k + utf8.RuneLen(r), true
	}
	w, we := asciiWord(s, k)
	if w == "" {
		return "", 0, false
	}
	if isoCodes[w] {
		return strings.ToUpper(w), we, true
	}
	if code, ok := currencyWords[w]; ok {
		return code, we, true
	}
	if adj, ok := currencyAdjectives[w]; ok && we < len(s) && s[we] == ' ' {
		if w2, we2 := asciiWord(s, we+1); w2 != "" && currencyWords[w2] == adj.base {
			return adj.code, we2, true
		}
	}
	return "", 0, false
}

// asciiWord returns the lower-cased ASCII word at i and its end, or "" when
// there is none, it is too long, or it runs on into a non-ASCII letter or a
// digit.
func asciiWord(s string, i int) (string, int) {
	k := i
	for k < len(s) && isASCIILetter(s[k]) {
		k++
		if k-i > maxCurrencyWord {
			return "", 0
		}
	}
	if k == i || isWordRune(runeAt(s, k)) {
		return "", 0
	}
	var b [maxCurrencyWord]byte
	for j := i; j < k; j++ {
		b[j-i] = s[j] | 0x20
	}
	return knownWord(b[:k-i]), k
}

// knownWord returns w as a string when it is a currency code, word or
// adjective, and "" otherwise; the map look-ups allocate nothing.
func knownWord(w []byte) string {
	if isoCodes[string(w)] {
		return string(w)
	}
	if _, ok := currencyWords[string(w)]; ok {
		return string(w)
	}
	if _, ok := currencyAdjectives[string(w)]; ok {
		return string(w)
	}
	return ""
}

func isASCIILetter(c byte) bool {
	u := c &^ 0x20
	return 'A' <= u && u <= 'Z'
}
