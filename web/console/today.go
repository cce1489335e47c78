package console

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/internal/httpjson"
)

// todayTTL is how long the Today numbers are served from memory: each
// computation reads every conversation of the day.
const todayTTL = 5 * time.Second

// todayAnswer is the answer of GET /console/api/today: the conversations
// created since local midnight, what became of them, and the ratings given
// today.
type todayAnswer struct {
	Conversations int `json:"conversations"`
	// Contained counts those no person took part in: never handed off,
	// claimed or assigned.
	Contained       int            `json:"contained"`
	ContainedPct    float64        `json:"contained_pct"` // 0 to 100, one decimal
	Handoffs        int            `json:"handoffs"`      // conversations handed off at least once
	HandoffsByQueue map[string]int `json:"handoffs_by_queue"`
	// MedianFirstResponseSeconds is the median time from a conversation's
	// first handoff to the first agent message after it, over those that
	// got one; null when none did.
	MedianFirstResponseSeconds *float64 `json:"median_first_response_seconds"`
	// CSATAverage is the mean of the ratings given today of the day's
	// conversations and of those resolved today; null without ratings.
	CSATAverage *float64 `json:"csat_average"`
	CSATCount   int      `json:"csat_count"`
	// Hourly counts the conversations created in each local hour.
	Hourly [24]int `json:"hourly"`
}

// todayCache keeps the latest Today numbers for todayTTL.
type todayCache struct {
	mu  sync.Mutex  // held while computing, so that concurrent asks compute once
	at  time.Time   // when v was computed; guarded by mu
	day time.Time   // the midnight v counts from; guarded by mu
	v   todayAnswer // guarded by mu
}

func (c *Console) serveToday(w http.ResponseWriter, r *http.Request, s session) {
	v, err := c.todayNumbers(r.Context())
	if err != nil {
		c.fail(w, r, "conversations", err)
		return
	}
	httpjson.Write(w, http.StatusOK, v)
}

// todayNumbers returns the Today numbers, computed at most every todayTTL.
// Errors come from the store.
func (c *Console) todayNumbers(ctx context.Context) (todayAnswer, error) {
	now := c.cfg.Now()
	from, to := dayOf(now)
	t := &c.today
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.day.Equal(from) && !t.at.IsZero() && now.Sub(t.at) < todayTTL && now.Sub(t.at) >= 0 {
		return t.v, nil
	}
	v, err := c.computeToday(ctx, from, to)
	if err != nil {
		return todayAnswer{}, fmt.Errorf("today: %w", err)
	}
	t.at, t.day, t.v = now, from, v
	return v, nil
}

// computeToday counts the day [from, to).
func (c *Console) computeToday(ctx context.Context, from, to time.Time) (todayAnswer, error) {
	st := c.cfg.Store
	v := todayAnswer{HandoffsByQueue: map[string]int{}}
	created, err := st.CreatedBetween(ctx, from, to, 0)
	if err != nil {
		return v, err
	}
	v.Conversations = len(created)
	var firsts []float64
	for _, conv := range created {
		v.Hourly[conv.CreatedAt.In(from.Location()).Hour()]++
		evs, err := st.Events(ctx, conv.ID, 0, 0)
		if err != nil {
			return v, err
		}
		person := slices.ContainsFunc(evs, func(ev crm.Event) bool {
			return ev.Type == crm.EventHandoff || ev.Type == crm.EventClaim || ev.Type == crm.EventAssign
		})
		if !person {
			v.Contained++
		}
		i := slices.IndexFunc(evs, func(ev crm.Event) bool { return ev.Type == crm.EventHandoff })
		if i < 0 {
			continue
		}
		handoff := evs[i]
		v.Handoffs++
		v.HandoffsByQueue[cmp.Or(handoff.Queue, conv.Queue, "none")]++
		if d, ok, err := c.firstResponse(ctx, conv.ID, handoff.At); err != nil {
			return v, err
		} else if ok {
			firsts = append(firsts, d.Seconds())
		}
	}
	if v.Conversations > 0 {
		v.ContainedPct = math.Round(1000*float64(v.Contained)/float64(v.Conversations)) / 10
	}
	if len(firsts) > 0 {
		m := median(firsts)
		v.MedianFirstResponseSeconds = &m
	}

	resolved, err := st.ResolvedBetween(ctx, from, to, 0)
	if err != nil {
		return v, err
	}
	seen := make(map[string]bool, len(created)+len(resolved))
	sum := 0
	for _, conv := range slices.Concat(created, resolved) {
		if seen[conv.ID] {
			continue
		}
		seen[conv.ID] = true
		f, err := st.ConversationFeedback(ctx, conv.ID)
		switch {
		case errors.Is(err, crm.ErrNotFound):
			continue
		case err != nil:
			return v, err
		}
		if !f.CreatedAt.Before(from) && f.CreatedAt.Before(to) {
			sum += f.Score
			v.CSATCount++
		}
	}
	if v.CSATCount > 0 {
		avg := math.Round(100*float64(sum)/float64(v.CSATCount)) / 100
		v.CSATAverage = &avg
	}
	return v, nil
}

// firstResponse is the time from a handoff at `since` to the first agent
// message after it; ok is false when no agent has written since.
func (c *Console) firstResponse(ctx context.Context, conversationID string, since time.Time) (time.Duration, bool, error) {
	ms, err := c.cfg.Store.MessagesAfter(ctx, conversationID, 0, 0)
	if err != nil {
		return 0, false, err
	}
	for _, m := range ms {
		if m.Sender == crm.SenderAgent && !m.CreatedAt.Before(since) {
			return m.CreatedAt.Sub(since), true, nil
		}
	}
	return 0, false, nil
}

// median of xs (not empty); xs is sorted in place.
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
