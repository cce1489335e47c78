package entity

import "strings"

// Phone numbers are recognised by their shape, without a numbering-plan
// database:
//
//   - international: "+" or "00" then 7 to 15 digits, grouped in any way
//     ("+44 20 7946 0958", "+1 (555) 123-4567", "0044 20 7946 0958");
//   - national: 7 to 15 digits in at least two groups joined by one kind of
//     separator ("555-123-4567", "555.123.4567", "(555) 123-4567",
//     "020 7946 0958"), or one bare run of 11 to 15 digits ("07946095858").
//
// Shapes that are something else are refused: dates ("2026-03-03",
// "03.03.2026"), IP addresses, decimals ("1234567.89"), two space-separated
// numbers ("10423 12"), runs of more than 15 digits (card numbers).
const (
	phoneMinDigits     = 7
	phoneMaxDigits     = 15
	phoneBareMinDigits = 11 // a bare national run shorter than this is an order number or an amount
	phoneSpaceMin      = 9  // space-separated national numbers need this many digits
	maxParenDigits     = 5
)

type phoneGroup struct {
	n     int  // digits in the group
	paren bool // written in parentheses
}

// scanPhones finds phone numbers; see the shapes above.
func scanPhones(c *collector) {
	s := c.text
	for i := 0; i < len(s); {
		ch := s[i]
		startable := ch == '+' || ch == '(' || isDigit(ch) && (i == 0 || !isDigit(s[i-1]))
		if !startable || i+1 >= len(s) && !isDigit(ch) || !isDigit(ch) && !isDigit(s[i+1]) {
			i++
			continue
		}
		end, value, ok := parsePhone(s, i)
		if ok && phoneStartOK(s, i) {
			c.builtin(i, end, prioPhone, TypePhone, value)
		}
		i = max(end, i+1)
	}
}

// phoneStartOK refuses a number glued to a word, or continuing an amount,
// a reference or a decimal ("#5551234567", "$1,234,567", "v1.2").
func phoneStartOK(s string, i int) bool {
	r := runeBefore(s, i)
	return r < 0 || !isWordRune(r) && !strings.ContainsRune("+#$€£¥₹.,/-_@&=%", r)
}

// parsePhone reads the longest phone-shaped run at i. It returns the end of
// what it consumed (also when it is not a phone, so that the caller skips the
// whole run) and the value: the digits, with the '+' when written, without a
// "(0)" trunk prefix after the country code.
func parsePhone(s string, i int) (end int, value string, ok bool) {
	var digits [phoneMaxDigits]byte
	nd, total := 0, 0 // digits kept for the value, digits seen
	var groups [phoneMaxDigits + 2]phoneGroup
	ng := 0
	intl := s[i] == '+'
	p := i
	if intl {
		p++
	}
	zeroZero := !intl && strings.HasPrefix(s[p:], "00")
	uniform := byte(0)
	lastEnd := p
	for p < len(s) {
		g := phoneGroup{}
		gs := p
		if s[p] == '(' {
			// Parentheses only around the first group of a national number or
			// the group after the country code.
			if ng != 0 && !(ng == 1 && (intl || zeroZero)) {
				break
			}
			k := p + 1
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			if k == p+1 || k-p-1 > maxParenDigits || k >= len(s) || s[k] != ')' {
				break
			}
			g = phoneGroup{n: k - p - 1, paren: true}
			trunk := (intl || zeroZero) && ng == 1 && g.n == 1 && s[p+1] == '0'
			total += g.n
			if !trunk {
				for _, d := range []byte(s[p+1 : k]) {
					if nd < len(digits) {
						digits[nd] = d
					}
					nd++
				}
			}
			p = k + 1
		} else {
			for p < len(s) && isDigit(s[p]) {
				if nd < len(digits) {
					digits[nd] = s[p]
				}
				nd++
				total++
				p++
			}
			g.n = p - gs
			if g.n == 0 {
				break
			}
		}
		if ng < len(groups) {
			groups[ng] = g
		}
		ng++
		lastEnd = p
		if p >= len(s) {
			break
		}
		// A separator must be followed by the next group.
		sep := s[p]
		next := p + 1
		switch {
		case (sep == ' ' || sep == '-' || sep == '.') && next < len(s) && (isDigit(s[next]) || s[next] == '('):
		case g.paren && isDigit(sep): // "(0)20"
			sep, next = 0, p
		default:
			next = -1
		}
		if next < 0 {
			break
		}
		exempt := g.paren || ng == 1 && (intl || zeroZero) || s[next] == '('
		if !exempt {
			if uniform == 0 {
				uniform = sep
			} else if sep != uniform {
				break
			}
		}
		p = next
	}
	end = lastEnd
	if ng == 0 || total > phoneMaxDigits || ng > len(groups) {
		return max(end, i+1), "", false
	}
	if !phoneEndOK(s, end) || !phoneShapeOK(groups[:ng], total, intl, zeroZero, uniform) {
		return end, "", false
	}
	n := nd
	if intl {
		b := make([]byte, 0, n+1)
		b = append(b, '+')
		return end, string(append(b, digits[:n]...)), true
	}
	return end, string(digits[:n]), true
}

func phoneEndOK(s string, end int) bool {
	r := runeAt(s, end)
	if isWordRune(r) {
		return false
	}
	switch r {
	case '.', ',', '-', '/':
		return end+1 >= len(s) || !isDigit(s[end+1])
	case '@', '%':
		return false
	}
	return true
}

func phoneShapeOK(g []phoneGroup, total int, intl, zeroZero bool, uniform byte) bool {
	switch {
	case intl:
		return total >= phoneMinDigits
	case zeroZero:
		return total-2 >= phoneMinDigits+1
	case total < phoneMinDigits:
		return false
	}
	paren := g[0].paren
	switch {
	case len(g) == 1:
		return !paren && total >= phoneBareMinDigits
	case len(g) == 2 && !paren && uniform != '-':
		return false // "10423 12", "1234567.89"
	case !paren && uniform == ' ' && total < phoneSpaceMin:
		return false
	case !paren && len(g) == 3 && (uniform == '-' || uniform == '.') &&
		(g[0].n == 4 && g[1].n <= 2 && g[2].n <= 2 || g[0].n <= 2 && g[1].n <= 2 && g[2].n == 4):
		return false // a date
	case len(g) == 4 && uniform == '.' && g[0].n <= 3 && g[1].n <= 3 && g[2].n <= 3 && g[3].n <= 3:
		return false // an IPv4 address
	}
	return true
}
