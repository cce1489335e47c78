package entity

import "strings"

const (
	maxLocalPart = 64
	maxDomain    = 253
	maxLabel     = 63
)

func isLocalChar(c byte) bool {
	return isASCIILetter(c) || isDigit(c) || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0
}

func isDomainChar(c byte) bool {
	return isASCIILetter(c) || isDigit(c) || c == '.' || c == '-'
}

// scanEmails finds ASCII addresses around each '@': a local part of the
// usual characters, a domain of at least two labels whose last is two or
// more letters. Every byte is visited a bounded number of times: the local
// part never reaches back past the previous '@' or accepted address.
func scanEmails(c *collector) {
	s := c.text
	from := 0
	for from < len(s) {
		k := strings.IndexByte(s[from:], '@')
		if k < 0 {
			return
		}
		at := from + k
		j := at
		for j > from && isLocalChar(s[j-1]) {
			j--
		}
		for j < at && s[j] == '.' {
			j++
		}
		e := at + 1
		for e < len(s) && isDomainChar(s[e]) {
			e++
		}
		dom := domainEnd(s[at+1 : e])
		local := s[j:at]
		end := at + 1 + dom
		if dom > 0 && local != "" && len(local) <= maxLocalPart && !strings.HasSuffix(local, ".") &&
			!strings.Contains(local, "..") && !isWordRune(runeAt(s, end)) {
			c.builtin(j, end, prioEmail, TypeEmail, strings.ToLower(s[j:end]))
			from = end
			continue
		}
		from = at + 1
	}
}

// domainEnd returns the length of the valid domain at the start of d, or 0.
// Trailing dots and hyphens (sentence punctuation) are not part of it.
func domainEnd(d string) int {
	if i := strings.Index(d, ".."); i >= 0 {
		d = d[:i]
	}
	d = strings.TrimRight(d, ".-")
	if len(d) == 0 || len(d) > maxDomain {
		return 0
	}
	labels := 0
	lastStart := 0
	for i := 0; i <= len(d); i++ {
		if i < len(d) && d[i] != '.' {
			continue
		}
		l := d[lastStart:i]
		if l == "" || len(l) > maxLabel || l[0] == '-' || l[len(l)-1] == '-' {
			return 0
		}
		labels++
		if i < len(d) {
			lastStart = i + 1
		}
	}
	tld := d[lastStart:]
	if labels < 2 || len(tld) < 2 {
		return 0
	}
	for i := 0; i < len(tld); i++ {
		if !isASCIILetter(tld[i]) {
			return 0
		}
	}
	return len(d)
}
