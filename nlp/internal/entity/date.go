package entity

import (
	"strings"
	"time"
)

// clock resolves relative dates; today and the tense cues are computed on
// first use.
type clock struct {
	now    time.Time
	loc    *time.Location
	today  time.Time // midnight UTC of the local calendar day of now
	ok     bool
	tenses tenses
}

func (c *clock) day() time.Time {
	if !c.ok {
		y, m, d := c.now.In(c.loc).Date()
		c.today = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		c.ok = true
	}
	return c.today
}

type dateKind uint8

const (
	dkRelative    dateKind = iota + 1 // n is a day offset
	dkWeekday                         // n is a time.Weekday
	dkWeekdayAbbr                     // n is a time.Weekday; needs a modifier or "on"
	dkMonth                           // n is a time.Month
)

type dateWord struct {
	kind dateKind
	n    int
}

// dateInitial marks the first letters of dateWords, a cheap filter before
// the map look-up.
var dateInitial = func() (t [256]bool) {
	for w := range dateWords {
		t[w[0]] = true
	}
	return t
}()

// maxDateWord is the longest key of dateWords, in bytes.
const maxDateWord = 9

var dateWords = func() map[string]dateWord {
	m := map[string]dateWord{
		"today": {dkRelative, 0}, "tonight": {dkRelative, 0}, "yesterday": {dkRelative, -1},
		"tomorrow": {dkRelative, 1}, "tmrw": {dkRelative, 1},
	}
	weekdays := [7][]string{
		time.Sunday:    {"sunday", "sun"},
		time.Monday:    {"monday", "mon"},
		time.Tuesday:   {"tuesday", "tue", "tues"},
		time.Wednesday: {"wednesday", "wed"},
		time.Thursday:  {"thursday", "thu", "thur", "thurs"},
		time.Friday:    {"friday", "fri"},
		time.Saturday:  {"saturday", "sat"},
	}
	for d, names := range weekdays {
		m[names[0]] = dateWord{dkWeekday, d}
		for _, n := range names[1:] {
			m[n] = dateWord{dkWeekdayAbbr, d}
		}
	}
	months := [13][]string{
		time.January: {"january", "jan"}, time.February: {"february", "feb"},
		time.March: {"march", "mar"}, time.April: {"april", "apr"}, time.May: {"may"},
		time.June: {"june", "jun"}, time.July: {"july", "jul"}, time.August: {"august", "aug"},
		time.September: {"september", "sep", "sept"}, time.October: {"october", "oct"},
		time.November: {"november", "nov"}, time.December: {"december", "dec"},
	}
	for mo, names := range months {
		for _, n := range names {
			m[n] = dateWord{dkMonth, mo}
		}
	}
	return m
}()

// scanDateWord handles one date word found at s[i:j].
func scanDateWord(c *collector, clk *clock, i, j int, dw dateWord) {
	s := c.text
	switch dw.kind {
	case dkRelative:
		start, off := i, dw.n
		// "day after tomorrow", "day before yesterday"
		link := "after"
		if off < 0 {
			link = "before"
		}
		if ps, pe, ok := prevWord(s, i); ok && off != 0 && equalFoldASCII(s[ps:pe], link) {
			if ds, de, ok := prevWord(s, ps); ok && equalFoldASCII(s[ds:de], "day") {
				start, off = ds, 2*off
			}
		}
		c.builtin(start, j, prioDate, TypeDate, isoDate(clk.day().AddDate(0, 0, off)))
	case dkWeekday, dkWeekdayAbbr:
		weekday(c, clk, i, j, dw)
	case dkMonth:
		dayMonth(c, clk, i, j, time.Month(dw.n))
	}
}

// weekday resolves "<modifier> <weekday>". Weeks start on Monday:
//
//	"this X":  the coming X, today included (0 to 6 days ahead)
//	"X", "on X", "coming X": the coming X, today excluded (1 to 7 days ahead),
//	           unless the sentence speaks of the past ("it came on X"): then
//	           as "last X"
//	"next X":  X in next week (1 to 13 days ahead)
//	"last X", "past X": the latest X before today (1 to 7 days back)
func weekday(c *collector, clk *clock, i, j int, dw dateWord) {
	s := c.text
	start, mode := i, ""
	if ps, pe, ok := prevWord(s, i); ok {
		w := s[ps:pe]
		switch {
		case equalFoldASCII(w, "next"):
			start, mode = ps, "next"
		case equalFoldASCII(w, "this"):
			start, mode = ps, "this"
		case equalFoldASCII(w, "last"):
			start, mode = ps, "last"
		case equalFoldASCII(w, "past"), equalFoldASCII(w, "coming"):
			start, mode = ps, "last"
			if equalFoldASCII(w, "coming") {
				mode = "coming"
			}
			if ts, te, ok := prevWord(s, ps); ok && equalFoldASCII(s[ts:te], "this") {
				start = ts
			}
		case equalFoldASCII(w, "on"):
			mode = "on"
		}
	}
	if dw.kind == dkWeekdayAbbr && mode == "" {
		return // a bare "sun", "sat" or "wed" is too often something else
	}
	if (mode == "" || mode == "on") && clk.tenses.of(s, start, j) == tensePast {
		mode = "last"
	}
	today := clk.day()
	cur := mondayIndex(today.Weekday())
	target := mondayIndex(time.Weekday(dw.n))
	var delta int
	switch mode {
	case "this":
		delta = (target - cur + 7) % 7
	case "next":
		delta = 7 - cur + target
	case "last":
		delta = -((cur - target + 7) % 7)
		if delta == 0 {
			delta = -7
		}
	default:
		delta = (target - cur + 7) % 7
		if delta == 0 {
			delta = 7
		}
	}
	c.builtin(start, j, prioDate, TypeDate, isoDate(today.AddDate(0, 0, delta)))
}

func mondayIndex(d time.Weekday) int { return (int(d) + 6) % 7 }

// dayMonth recognises "3 March", "3rd of March", "March 3", "March 3rd",
// "Mar. 3", "March the 3rd", each optionally followed by a year
// ("March 3, 2026", "3 March 2026"), around the month word at s[i:j].
func dayMonth(c *collector, clk *clock, i, j int, m time.Month) {
	s := c.text
	start, end, day := -1, -1, 0
	if ps, pe, ok := prevWord(s, i); ok {
		if equalFoldASCII(s[ps:pe], "of") {
			ps, pe, ok = prevWord(s, ps)
		}
		if ok {
			if d, ok := parseDay(s[ps:pe]); ok && dayStartOK(s, ps) {
				start, end, day = ps, j, d
			}
		}
	}
	if start < 0 {
		k := j
		if k < len(s) && s[k] == '.' && j-i <= 4 {
			k++
		}
		ns, ne, ok := nextWord(s, k)
		if ok && equalFoldASCII(s[ns:ne], "the") {
			ns, ne, ok = nextWord(s, ne)
		}
		if !ok {
			return
		}
		d, ok := parseDay(s[ns:ne])
		if !ok || !numberEndOK(s, ne) {
			return
		}
		start, end, day = i, ne, d
	}
	start = weekdayBefore(s, start)
	year := 0
	k := end
	if k < len(s) && s[k] == ',' {
		k++
	}
	if ys, ye, ok := nextWord(s, k); ok && ye-ys == 4 && allDigits(s[ys:ye]) && numberEndOK(s, ye) {
		year, end = atoi(s[ys:ye]), ye
	}
	var t time.Time
	if year > 0 {
		t = time.Date(year, m, day, 0, 0, 0, 0, time.UTC)
		if t.Day() != day {
			return // 30 February
		}
	} else {
		pick := nearest
		switch clk.tenses.of(s, start, end) {
		case tensePast:
			pick = pastDay
		case tenseFuture:
			pick = futureDay
		}
		var ok bool
		if t, ok = pick(clk.day(), m, day); !ok {
			return
		}
	}
	c.builtin(start, end, prioDate, TypeDate, isoDate(t))
}

// weekdayBefore extends a date that starts at byte i over a weekday written
// before it ("Tuesday, March 3", "Tue 3 March"), so that the weekday is not
// read as a date of its own: the explicit date wins.
func weekdayBefore(s string, i int) int {
	k := i
	for k > 0 && i-k < maxGap && (s[k-1] == ' ' || s[k-1] == '\t') {
		k--
	}
	if k > 0 && s[k-1] == ',' {
		k--
	}
	if k == i {
		return i
	}
	ws := k
	for ws > 0 && k-ws <= maxDateWord && isASCIILetter(s[ws-1]) {
		ws--
	}
	if ws == k || k-ws > maxDateWord || isWordRune(runeBefore(s, ws)) {
		return i
	}
	var buf [maxDateWord + 1]byte
	dw, ok := dateWords[string(lowerInto(buf[:0], s[ws:k]))]
	if ok && (dw.kind == dkWeekday || dw.kind == dkWeekdayAbbr) {
		return ws
	}
	return i
}

// nearest returns the occurrence of day/month closest to today, looking at
// the years around it (four either side, so that 29 February is found). On a
// tie the future date wins. It reports false when the day never occurs in
// that month.
func nearest(today time.Time, m time.Month, day int) (time.Time, bool) {
	var best time.Time
	var bestDist time.Duration
	found := false
	for y := today.Year() - 4; y <= today.Year()+4; y++ {
		t := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
		if t.Day() != day {
			continue
		}
		d := t.Sub(today)
		if d < 0 {
			d = -d
		}
		if !found || d < bestDist || d == bestDist && t.After(best) {
			best, bestDist, found = t, d, true
		}
	}
	return best, found
}

// parseDay reads a day of the month: 1 or 2 digits with an optional ordinal
// suffix ("3", "03", "3rd", "21ST").
func parseDay(w string) (int, bool) {
	n := 0
	for n < len(w) && n < 3 && isDigit(w[n]) {
		n++
	}
	if n == 0 || n > 2 {
		return 0, false
	}
	switch suf := w[n:]; {
	case suf == "", equalFoldASCII(suf, "st"), equalFoldASCII(suf, "nd"),
		equalFoldASCII(suf, "rd"), equalFoldASCII(suf, "th"):
	default:
		return 0, false
	}
	d := atoi(w[:n])
	return d, d >= 1 && d <= 31
}

// dayStartOK rejects a day number that continues something before it: a
// price ("$3 March"), a decimal, a reference ("#3").
func dayStartOK(s string, i int) bool {
	r := runeBefore(s, i)
	return r < 0 || !strings.ContainsRune(".,$€£¥₹#+-/:", r)
}

// numberEndOK rejects a number followed by a decimal or time separator and
// another digit ("3.5", "3:30", "3/4") or by a per cent sign.
func numberEndOK(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	switch s[i] {
	case '.', ',', ':', '/', '-':
		return i+1 >= len(s) || !isDigit(s[i+1])
	case '%':
		return false
	}
	return true
}

// scanISODates finds "2026-03-03" (also with '/' or one-digit month and day).
func scanISODates(c *collector) {
	s := c.text
	for i := 0; i+8 <= len(s); i++ {
		if !isDigit(s[i]) || i > 0 && isDigit(s[i-1]) {
			continue
		}
		if r := runeBefore(s, i); isWordRune(r) || r == '-' || r == '/' || r == '.' {
			continue
		}
		k := i
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k-i != 4 || k >= len(s) || s[k] != '-' && s[k] != '/' {
			continue
		}
		sep := s[k]
		m, k1 := digitsAt(s, k+1, 2)
		if k1 >= len(s) || s[k1] != sep {
			continue
		}
		d, k2 := digitsAt(s, k1+1, 2)
		if m == 0 || d == 0 || k2 < len(s) && isDigit(s[k2]) {
			continue
		}
		if r := runeAt(s, k2); isWordRune(r) && !(r == 'T' && k2+1 < len(s) && isDigit(s[k2+1])) {
			continue
		}
		if !numberEndOK(s, k2) {
			continue
		}
		y := atoi(s[i:k])
		t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
		if m > 12 || t.Day() != d {
			continue
		}
		c.builtin(i, k2, prioDate, TypeDate, isoDate(t))
		i = k2 - 1
	}
}

// digitsAt reads 1 to max digits at i and returns their value and end; the
// value is 0 when there is no digit there or too many.
func digitsAt(s string, i, max int) (int, int) {
	k := i
	for k < len(s) && isDigit(s[k]) {
		k++
	}
	if k == i || k-i > max {
		return 0, k
	}
	return atoi(s[i:k]), k
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// atoi reads a short run of ASCII digits (callers bound the length).
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// isoDate formats t as YYYY-MM-DD without going through time.Format.
func isoDate(t time.Time) string {
	y, m, d := t.Date()
	if y < 0 || y > 9999 {
		return t.Format(time.DateOnly)
	}
	b := [10]byte{
		byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + int(m)/10), byte('0' + int(m)%10), '-',
		byte('0' + d/10), byte('0' + d%10),
	}
	return string(b[:])
}
