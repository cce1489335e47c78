package suggest

import (
	"errors"
	"testing"
	"time"
)

func TestUsage(t *testing.T) {
	now := time.Date(2026, 3, 10, 23, 0, 0, 0, time.UTC)
	u := NewUsage(func() time.Time { return now })
	a := Suggestion{ID: "past_reply:c1:1", Source: SourcePastReply}
	b := Suggestion{ID: "canned:x:2", Source: SourceCanned}
	u.Shown("c", []Suggestion{a, b})
	u.Shown("c", []Suggestion{a, b}) // the page asked again: not counted again
	u.Shown("d", []Suggestion{a})
	if shown, used := u.Today(); shown != 3 || used != 0 {
		t.Errorf("Today = %d, %d; want 3, 0", shown, used)
	}
	if src, fresh, err := u.Used("c", a.ID); err != nil || !fresh || src != SourcePastReply {
		t.Errorf("Used = %v, %v, %v", src, fresh, err)
	}
	if _, fresh, err := u.Used("c", a.ID); err != nil || fresh {
		t.Errorf("second Used = %v, %v; want counted once", fresh, err)
	}
	if _, _, err := u.Used("e", a.ID); !errors.Is(err, ErrNotShown) {
		t.Errorf("use of a suggestion never shown there: %v, want ErrNotShown", err)
	}
	tot := u.Totals()
	if tot[SourcePastReply] != (Counts{Shown: 2, Used: 1}) || tot[SourceCanned] != (Counts{Shown: 1}) || tot[SourceKB] != (Counts{}) {
		t.Errorf("Totals = %+v", tot)
	}
	if shown, used := u.Today(); shown != 3 || used != 1 {
		t.Errorf("Today = %d, %d; want 3, 1", shown, used)
	}

	// A new day starts at midnight; the totals go on.
	now = now.Add(2 * time.Hour)
	if shown, used := u.Today(); shown != 0 || used != 0 {
		t.Errorf("next day = %d, %d; want 0, 0", shown, used)
	}
	if _, _, err := u.Used("c", b.ID); !errors.Is(err, ErrNotShown) {
		t.Errorf("yesterday's suggestion: %v, want ErrNotShown", err)
	}
	if tot := u.Totals(); tot[SourcePastReply].Shown != 2 {
		t.Errorf("totals lost at midnight: %+v", tot)
	}
}
