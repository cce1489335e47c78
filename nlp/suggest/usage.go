package suggest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ErrNotShown means a use was reported for a suggestion that was not shown
// in that conversation today (or the process restarted since).
var ErrNotShown = errors.New("suggestion not shown")

// maxTracked bounds the (conversation, suggestion) keys kept for one day;
// past it, new suggestions are still counted as shown but a use of them
// is refused with ErrNotShown. At three suggestions a customer message it
// is tens of thousands of messages a day.
const maxTracked = 200_000

// Usage counts the suggestions shown to agents and the ones they used:
// totals per source since the process started (for /metrics) and the
// numbers of the current day (for the console's Today page). A suggestion
// counts as shown once per conversation however often the page asks
// again, and as used once. Counts live in memory, per process. Safe for
// concurrent use.
type Usage struct {
	now func() time.Time

	mu        sync.Mutex
	shown     map[Source]uint64 // since start; guarded by mu
	used      map[Source]uint64 // since start; guarded by mu
	day       time.Time         // local midnight of the day counted; guarded by mu
	dayShown  int               // guarded by mu
	dayUsed   int               // guarded by mu
	dayShownK map[string]Source // conversation + "\x00" + suggestion id -> source, shown today; guarded by mu
	dayUsedK  map[string]bool   // the same keys, used today; guarded by mu
}

// NewUsage returns empty counts; now is the clock (nil: time.Now), whose
// location says when a day starts.
func NewUsage(now func() time.Time) *Usage {
	if now == nil {
		now = time.Now
	}
	return &Usage{now: now, shown: map[Source]uint64{}, used: map[Source]uint64{}}
}

// rollover starts a new day's counts when the day changed; mu held.
func (u *Usage) rollover() {
	t := u.now()
	y, m, d := t.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, t.Location())
	if day.Equal(u.day) && u.dayShownK != nil {
		return
	}
	u.day, u.dayShown, u.dayUsed = day, 0, 0
	u.dayShownK, u.dayUsedK = map[string]Source{}, map[string]bool{}
}

func usageKey(conversationID, id string) string { return conversationID + "\x00" + id }

// Shown counts the suggestions shown in conversation conversationID, each
// once per conversation and day.
func (u *Usage) Shown(conversationID string, list []Suggestion) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.rollover()
	for _, s := range list {
		k := usageKey(conversationID, s.ID)
		if _, ok := u.dayShownK[k]; ok {
			continue
		}
		if len(u.dayShownK) < maxTracked {
			u.dayShownK[k] = s.Source
		}
		u.shown[s.Source]++
		u.dayShown++
	}
}

// Used counts suggestion id as used in conversation conversationID and
// returns its source; fresh is false when it had been counted already. It
// fails with ErrNotShown (wrapped) when the suggestion was not shown
// there today.
func (u *Usage) Used(conversationID, id string) (src Source, fresh bool, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.rollover()
	k := usageKey(conversationID, id)
	src, ok := u.dayShownK[k]
	if !ok {
		return "", false, fmt.Errorf("use suggestion %q: %w", strings.ToValidUTF8(id, "?"), ErrNotShown)
	}
	if u.dayUsedK[k] {
		return src, false, nil
	}
	u.dayUsedK[k] = true
	u.used[src]++
	u.dayUsed++
	return src, true, nil
}

// Counts are the totals of one source since the process started.
type Counts struct {
	Shown uint64
	Used  uint64
}

// Totals returns the counts since the process started for every source
// in Sources (zero where none).
func (u *Usage) Totals() map[Source]Counts {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make(map[Source]Counts, len(Sources))
	for _, s := range Sources {
		out[s] = Counts{Shown: u.shown[s], Used: u.used[s]}
	}
	return out
}

// Today returns how many suggestions were shown and used since local
// midnight.
func (u *Usage) Today() (shown, used int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.rollover()
	return u.dayShown, u.dayUsed
}
