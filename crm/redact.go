package crm

import (
	"bytes"
	"encoding/json"
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
//   - a card number is 13 to 19 ASCII digits, optionally grouped by spaces or
//     dashes (at most three between groups), whose Luhn check digit is right;
//     it becomes CardPlaceholder. Within a longer run of groups, the longest
//     valid span starting at the leftmost group is taken.
//   - a one-time code is a run of 4 to 8 digits (3 or 4 after cvv, cvc or
//     csc) next to a word such as code, otp, pin, passcode or password, with
//     at most four small words between ("code is 482913", "OTP: 1234",
//     "482913 is your verification code"); it becomes CodePlaceholder. Zip,
//     postal, promo, discount and similar codes are left alone.
//
// Digits are ASCII only. Everything else in text is kept byte for byte
// (invalid UTF-8 included), and Redact(Redact(s)) == Redact(s).
func Redact(text string) string {
	if strings.IndexAny(text, "0123456789") < 0 {
		return text
	}
	return redactCodes(redactCards(text))
}

// digitRun is a run of digit groups joined by short space/dash separators.
type digitRun struct {
	groups [][2]int // byte offsets [start, end) of each group of digits
}

func (r digitRun) start() int { return r.groups[0][0] }
func (r digitRun) end() int   { return r.groups[len(r.groups)-1][1] }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanRun reads the digit run starting at s[i], which is a digit.
func scanRun(s string, i int) digitRun {
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
		if k == j || k >= len(s) || !isDigit(s[k]) {
			return r
		}
		i = k
	}
}

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

func redactCards(s string) string {
	var out strings.Builder
	last := 0
	var digits []byte
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		r := scanRun(s, i)
		for g := 0; g < len(r.groups); {
			best, n := -1, 0
			digits = digits[:0]
			for h := g; h < len(r.groups); h++ {
				n += r.groups[h][1] - r.groups[h][0]
				if n > 19 {
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
			out.WriteString(s[last:r.groups[g][0]])
			out.WriteString(CardPlaceholder)
			last = r.groups[best][1]
			g = best + 1
		}
		i = r.end()
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
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
			r := scanRun(s, i)
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

// publicCodes, just before a code word, make the number not a secret.
var publicCodes = map[string]bool{
	"zip": true, "postal": true, "post": true, "postcode": true, "area": true, "country": true, "dialing": true,
	"promo": true, "promotion": true, "promotional": true, "discount": true, "coupon": true, "voucher": true,
	"gift": true, "referral": true, "error": true, "status": true, "product": true, "tracking": true,
	"item": true, "order": true, "sort": true, "tax": true, "bank": true, "swift": true, "style": true,
}

// Small words allowed between a code word and the code, before ("code is
// 1234") and after ("1234 is your one-time code") the number.
var (
	fillersBefore = wordSet("is was are be will it's it’s its number no nr num my your the a an new here sms email")
	fillersAfter  = wordSet("is was are be will it's it’s its your my the a an new one time verification " +
		"security login sign in sms confirmation access temporary card as")
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
	if k > 0 && toks[k-1].kind == tokWord && publicCodes[toks[k-1].word] {
		return n, false
	}
	return n, true
}

// isCode reports whether the number toks[i] sits next to a code word.
func isCode(toks []token, i int) bool {
	n := toks[i].digits
	fits := func(r [2]int) bool { return r[0] <= n && n <= r[1] }
	for k, f := i-1, 0; k >= 0 && toks[k].kind == tokWord; k-- {
		if r, ok := codeWordAt(toks, k); ok {
			return fits(r)
		}
		if f++; f > maxFillers || !fillersBefore[toks[k].word] {
			break
		}
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

func redactCodes(s string) string {
	toks := tokenize(s)
	var out strings.Builder
	last := 0
	for i, t := range toks {
		if t.kind != tokNumber || t.digits < 3 || t.digits > 8 || !isCode(toks, i) {
			continue
		}
		out.WriteString(s[last:t.start])
		out.WriteString(CodePlaceholder)
		last = t.end
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

// RedactParse applies Redact to every string (keys included) in a JSON
// value, such as an NLU result (Message.Parse), and replaces numbers that are
// card numbers with CardPlaceholder. A value without digits, or with nothing
// to redact, comes back unchanged. It fails on anything but one valid JSON
// value, with an error that wraps no sentinel (stores report ErrInvalid). It
// does not limit the size: stores refuse a parse over MaxParseBytes first.
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
		s := string(x)
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
		changed := false
		out := make(map[string]any, len(x))
		for k, val := range x {
			rk := Redact(k)
			rv, c := redactValue(val)
			out[rk] = rv
			changed = changed || c || rk != k
		}
		return out, changed
	}
	return v, false
}
