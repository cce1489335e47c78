package dialog_test

import (
	"errors"
	"testing"
	"time"
	_ "time/tzdata" // the zones the tests name, also on a host without zoneinfo

	"github.com/parleyhq/parley/dialog"
)

// hoursSeeds are real specs, as operators write them in --business-hours.
var hoursSeeds = []string{
	"mon-fri 09:00-17:00 Europe/Berlin",
	"mon-fri 09:00-17:00, sat 10:00-14:00 Europe/Berlin",
	"mon-fri 08:30-12:00, mon-fri 13:00-18:00 America/New_York",
	"mon-sun 22:00-06:00 Asia/Tokyo",
	"fri-mon 00:00-24:00 UTC",
	"Mon-Fri 9:00-17:00",
	"sat 10:00-14:00",
	"mon-fri 09:00-17:00 Europe/Atlantis",
	"",
}

func TestParseHours(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("time zone database: %v", err) // embedded by the time/tzdata import
	}
	at := func(day, hour, minute int) time.Time { // March 2026: the 9th is a Monday
		return time.Date(2026, 3, day, hour, minute, 0, 0, berlin)
	}
	tests := []struct {
		spec   string
		open   []time.Time
		closed []time.Time
		str    string
	}{
		{spec: "mon-fri 09:00-17:00 Europe/Berlin", str: "mon-fri 09:00-17:00 Europe/Berlin",
			open:   []time.Time{at(9, 9, 0), at(13, 16, 59), at(10, 9, 30).In(time.UTC)},
			closed: []time.Time{at(9, 8, 59), at(9, 17, 0), at(14, 12, 0), at(15, 12, 0), at(10, 8, 30).In(time.UTC)}},
		{spec: "mon-fri 09:00-12:00, sat 10:00-14:00 Europe/Berlin", str: "mon-fri 09:00-12:00, sat 10:00-14:00 Europe/Berlin",
			open:   []time.Time{at(14, 10, 0), at(11, 11, 59)},
			closed: []time.Time{at(11, 13, 0), at(15, 11, 0)}},
		{spec: "fri-mon 22:00-06:00 Europe/Berlin", str: "fri-mon 22:00-06:00 Europe/Berlin",
			open:   []time.Time{at(13, 23, 0), at(14, 5, 59), at(10, 5, 0), at(9, 23, 0)},
			closed: []time.Time{at(13, 21, 59), at(10, 6, 0), at(11, 5, 0), at(10, 23, 0)}},
		{spec: "SUN 0:00-24:00", str: "sun 00:00-24:00 UTC",
			open:   []time.Time{time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 15, 23, 59, 0, 0, time.UTC)},
			closed: []time.Time{time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)}},
		{spec: "mon-sun 08:00-20:00 UTC", str: "sun-sat 08:00-20:00 UTC",
			open: []time.Time{time.Date(2026, 3, 15, 8, 0, 0, 0, time.UTC), time.Date(2026, 3, 11, 19, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			h, err := dialog.ParseHours(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range tt.open {
				if !h.Open(x) {
					t.Errorf("closed at %v (%s), want open", x, x.Weekday())
				}
			}
			for _, x := range tt.closed {
				if h.Open(x) {
					t.Errorf("open at %v (%s), want closed", x, x.Weekday())
				}
			}
			if got := h.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
		})
	}
	var none *dialog.BusinessHours
	if !none.Open(at(14, 3, 0)) {
		t.Error("nil hours are closed")
	}
}

func TestParseHoursErrors(t *testing.T) {
	for _, spec := range []string{
		"",
		"mon-fri",
		"mon-fri 9-17",
		"mon-fri 09:00-17:60 UTC",
		"mon-fri 09:00-25:00 UTC",
		"mon-fri 24:00-24:00 UTC",
		"mon-fri +9:00-17:00 UTC",
		"mon-frx 09:00-17:00 UTC",
		"mon-fri 09:00-17:00 Europe/Atlantis",
		"mon-fri 09:00-17:00 ../../etc/passwd",
		"mon-fri 09:00-17:00 Local",
		"mon-fri 09:00-17:00 Europe/Berlin, sat 10:00-12:00",
		"mon-fri 09:00-17:00,",
	} {
		if h, err := dialog.ParseHours(spec); !errors.Is(err, dialog.ErrHours) {
			t.Errorf("ParseHours(%q) = %v, %v; want ErrHours", spec, h, err)
		}
	}
}

// FuzzParseHours: ParseHours never panics, and what it accepts it writes
// back (String) in a form that reads the same hours.
func FuzzParseHours(f *testing.F) {
	for _, s := range hoursSeeds {
		f.Add(s)
	}
	probe := make([]time.Time, 0, 7*48)
	for i := range cap(probe) {
		probe = append(probe, time.Date(2026, 3, 9, 0, 15, 0, 0, time.UTC).Add(time.Duration(i)*30*time.Minute))
	}
	f.Fuzz(func(t *testing.T, spec string) {
		h, err := dialog.ParseHours(spec)
		if err != nil {
			if !errors.Is(err, dialog.ErrHours) {
				t.Fatalf("error %v does not wrap ErrHours", err)
			}
			return
		}
		again, err := dialog.ParseHours(h.String())
		if err != nil {
			t.Fatalf("%q reads as %q, which does not parse: %v", spec, h.String(), err)
		}
		for _, x := range probe {
			if h.Open(x) != again.Open(x) {
				t.Fatalf("%q and its String %q differ at %v", spec, h.String(), x)
			}
		}
	})
}
