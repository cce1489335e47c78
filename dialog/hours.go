package dialog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrHours means a business hours spec could not be read; ParseHours wraps
// it with what is wrong.
var ErrHours = errors.New("invalid business hours")

// BusinessHours says when the team answers, in one time zone: outside them
// a handed-off conversation is told at once that nobody is free (see
// Config.QueueTimeout). A nil *BusinessHours is always open. Read-only
// after ParseHours; safe for concurrent use.
type BusinessHours struct {
	loc    *time.Location
	ranges []hoursRange
}

// hoursRange is open on days from the minute from of the day to the minute
// to (exclusive); to <= from runs past midnight into the next day.
type hoursRange struct {
	days     [7]bool // by time.Weekday
	from, to int     // minutes since midnight; to may be 24*60
}

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// maxHoursSpec bounds a spec's length: it comes from a flag or a file.
const maxHoursSpec = 1024

// ParseHours reads business hours such as "mon-fri 09:00-17:00
// Europe/Berlin": one or more ranges separated by ",", each days (a day,
// or a span such as "mon-fri" or "fri-mon") and a time range HH:MM-HH:MM
// (H:MM too; 24:00 ends a day; a range whose end is not after its start runs past
// midnight), then the IANA time zone, or UTC when it is left out:
//
//	mon-fri 09:00-17:00, sat 10:00-14:00 Europe/Berlin
//	mon-sun 22:00-06:00 America/New_York
//
// Errors wrap ErrHours and say what is wrong.
func ParseHours(spec string) (*BusinessHours, error) {
	if len(spec) > maxHoursSpec {
		return nil, fmt.Errorf("business hours: %d bytes, limit %d: %w", len(spec), maxHoursSpec, ErrHours)
	}
	h := &BusinessHours{loc: time.UTC}
	parts := strings.Split(spec, ",")
	last := strings.Fields(parts[len(parts)-1])
	if n := len(last); n == 3 {
		loc, err := loadZone(last[2])
		if err != nil {
			return nil, err
		}
		h.loc = loc
		parts[len(parts)-1] = last[0] + " " + last[1]
	}
	for _, p := range parts {
		r, err := parseRange(p)
		if err != nil {
			return nil, err
		}
		h.ranges = append(h.ranges, r)
	}
	return h, nil
}

// loadZone loads an IANA zone by name, refusing what cannot be one before
// it looks on disk.
func loadZone(name string) (*time.Location, error) {
	bad := name == "" || len(name) > 64 || name == "Local" || strings.Contains(name, "..") ||
		strings.HasPrefix(name, "/") || strings.IndexFunc(name, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("/_-+", r))
	}) >= 0
	if bad {
		return nil, fmt.Errorf("business hours: time zone %q: %w", name, ErrHours)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("business hours: time zone %q: %v: %w", name, err, ErrHours)
	}
	return loc, nil
}

// parseRange reads "DAYS HH:MM-HH:MM".
func parseRange(s string) (hoursRange, error) {
	var r hoursRange
	f := strings.Fields(s)
	if len(f) != 2 {
		return r, fmt.Errorf("business hours: %q: want days and a time range such as \"mon-fri 09:00-17:00\": %w", strings.TrimSpace(s), ErrHours)
	}
	first, last, span := strings.Cut(strings.ToLower(f[0]), "-")
	a, b := day(first), day(last)
	if !span {
		b = a
	}
	if a < 0 || b < 0 {
		return r, fmt.Errorf("business hours: days %q: want mon, tue, ... or a span such as mon-fri: %w", f[0], ErrHours)
	}
	for d := a; ; d = (d + 1) % 7 {
		r.days[d] = true
		if d == b {
			break
		}
	}
	from, to, ok := strings.Cut(f[1], "-")
	var err1, err2 error
	r.from, err1 = clock(from)
	r.to, err2 = clock(to)
	if !ok || err1 != nil || err2 != nil || r.from == 24*60 {
		return r, fmt.Errorf("business hours: time range %q: want HH:MM-HH:MM: %w", f[1], ErrHours)
	}
	return r, nil
}

// day returns the time.Weekday of a three-letter name, or -1.
func day(s string) int {
	for i, n := range dayNames {
		if s == n {
			return i
		}
	}
	return -1
}

// clock reads "HH:MM" or "H:MM" (00:00 to 24:00) as minutes since
// midnight.
func clock(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 {
		return 0, ErrHours
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || h == 24 && m != 0 || hh[0] == '+' || mm[0] == '+' {
		return 0, ErrHours
	}
	return h*60 + m, nil
}

// Open reports whether t is within the hours; always for a nil h.
func (h *BusinessHours) Open(t time.Time) bool {
	if h == nil {
		return true
	}
	lt := t.In(h.loc)
	wd, min := int(lt.Weekday()), lt.Hour()*60+lt.Minute()
	prev := (wd + 6) % 7
	for _, r := range h.ranges {
		if r.from < r.to {
			if r.days[wd] && r.from <= min && min < r.to {
				return true
			}
			continue
		}
		// Past midnight: from the start to the end of the day, then
		// from midnight to the end on the next day.
		if r.days[wd] && min >= r.from || r.days[prev] && min < r.to {
			return true
		}
	}
	return false
}

// String writes h in the form ParseHours reads ("always" for nil).
func (h *BusinessHours) String() string {
	if h == nil {
		return "always"
	}
	var b strings.Builder
	for i, r := range h.ranges {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.dayList())
		fmt.Fprintf(&b, " %02d:%02d-%02d:%02d", r.from/60, r.from%60, r.to/60, r.to%60)
	}
	b.WriteString(" " + h.loc.String())
	return b.String()
}

// dayList writes the range's days as one day or one span: the first day
// open after a closed one starts it (mon-fri, fri-mon, mon-sun).
func (r hoursRange) dayList() string {
	start := 0
	for d := range 7 {
		if r.days[d] && !r.days[(d+6)%7] {
			start = d
			break
		}
	}
	end := start
	for r.days[(end+1)%7] && (end+1)%7 != start {
		end = (end + 1) % 7
	}
	if start == end {
		return dayNames[start]
	}
	return dayNames[start] + "-" + dayNames[end]
}
