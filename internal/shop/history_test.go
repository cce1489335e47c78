package shop

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
)

func TestHistoryIsDeterministic(t *testing.T) {
	a, err := History(historyNow())
	if err != nil {
		t.Fatal(err)
	}
	b, err := History(historyNow())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("two calls with the same time give different histories")
	}
	later, err := History(historyNow().Add(24 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(later.Conversations) != len(a.Conversations) || !later.Conversations[0].CreatedAt.Equal(a.Conversations[0].CreatedAt.Add(24*time.Hour)) {
		t.Error("the history does not move with now")
	}
}

func historyNow() time.Time { return time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC) }

// TestHistoryShape checks that the history is rich enough to train on and
// noisy enough not to be trivial.
func TestHistoryShape(t *testing.T) {
	h, err := History(historyNow())
	if err != nil {
		t.Fatal(err)
	}
	queues, prios := map[string]int{}, map[crm.Priority]int{}
	for _, c := range h.Conversations {
		if c.Queue != "" {
			queues[c.Queue]++
			prios[c.Priority]++
		}
		if c.State != crm.StateResolved {
			t.Errorf("%s: state %s, want resolved", c.ID, c.State)
		}
	}
	handed := 0
	for _, n := range queues {
		handed += n
	}
	low := 0
	for _, f := range h.Feedback {
		if f.Score <= 2 {
			low++
		}
	}
	if n := len(h.Conversations); n < 300 || n > 800 {
		t.Errorf("%d conversations, want a few hundred", n)
	}
	if handed < 120 || len(queues) < 6 || len(prios) < 4 {
		t.Errorf("handed off: %d in queues %v with priorities %v", handed, queues, prios)
	}
	if len(h.Feedback) < 200 || low*10 < len(h.Feedback) || low*10 > 4*len(h.Feedback) {
		t.Errorf("%d ratings, %d low: want 200+ with 10%%..40%% low", len(h.Feedback), low)
	}
	for _, m := range h.Messages {
		if strings.Contains(m.Text, "{") || m.Text == "" {
			t.Errorf("message %q of %s is not filled in", m.Text, m.ConversationID)
		}
	}
	for _, tk := range h.Tickets {
		if tk.Status.Open() {
			t.Errorf("ticket %s is %s: history cases must all be closed", tk.ID, tk.Status)
		}
	}
}

// TestHistoryKeepsTheStory: the history lies before seed.json's own
// records, and every customer's newest rating is seed.json's, or 3 or
// better for customers seed.json does not rate.
func TestHistoryKeepsTheStory(t *testing.T) {
	ctx := context.Background()
	seed, err := Seed(historyNow())
	if err != nil {
		t.Fatal(err)
	}
	h, err := History(historyNow())
	if err != nil {
		t.Fatal(err)
	}
	first := historyNow()
	for _, c := range seed.Conversations {
		first = minTime(first, c.CreatedAt)
	}
	for _, f := range seed.Feedback {
		first = minTime(first, f.CreatedAt)
	}
	for _, f := range h.Feedback {
		if !f.CreatedAt.Before(first) {
			t.Errorf("history rating %s at %v is not before the seed's first record %v", f.ID, f.CreatedAt, first)
		}
	}
	for _, c := range h.Conversations {
		if !c.ClosedAt.Before(first) {
			t.Errorf("history conversation %s ends %v, after the seed's first record", c.ID, c.ClosedAt)
		}
	}

	db, err := boltdb.Open(filepath.Join(t.TempDir(), "parley.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := EnsureSeeded(ctx, db, historyNow()); err != nil {
		t.Fatal(err)
	}
	seedLatest := map[string]crm.Feedback{}
	for _, f := range seed.Feedback {
		if old, ok := seedLatest[f.CustomerID]; !ok || f.CreatedAt.After(old.CreatedAt) {
			seedLatest[f.CustomerID] = f
		}
	}
	for _, c := range seed.Customers {
		got, err := db.LatestFeedback(ctx, c.ID)
		want, rated := seedLatest[c.ID]
		switch {
		case rated && (err != nil || got.Score != want.Score):
			t.Errorf("%s: latest rating %d (%v), want seed.json's %d", c.ID, got.Score, err, want.Score)
		case !rated && err == nil && got.Score < 3:
			t.Errorf("%s: latest rating %d from the history, want none or 3+", c.ID, got.Score)
		}
		open, err := db.OpenTickets(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range open {
			if strings.HasPrefix(tk.ID, "T-H") {
				t.Errorf("%s: history ticket %s is open", c.ID, tk.ID)
			}
		}
	}
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(seed.Conversations) + len(h.Conversations); st.Conversations != want {
		t.Errorf("store holds %d conversations, want %d", st.Conversations, want)
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func BenchmarkEnsureSeeded(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		db, err := boltdb.Open(filepath.Join(b.TempDir(), "parley.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := EnsureSeeded(ctx, db, historyNow()); err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}
