package console

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/dialog"
)

func TestToday(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	at := func(day, hour, min, sec int) {
		f.clock.set(time.Date(2026, 3, day, hour, min, sec, 0, local))
	}
	sys := dialog.Actor{}

	// Yesterday 23:00: handed off, resolved and rated 2 today: its rating
	// counts, the conversation does not.
	at(9, 23, 0, 0)
	f.handedOff(t, "y-1", "c-2")
	// Today (local time):
	at(10, 9, 0, 0)
	f.say(t, "t-bot", "", "hello") // contained
	f.handedOff(t, "t-hand", "c-1")
	at(10, 9, 1, 30)
	if _, _, err := f.engine.Post(ctx, dialog.Outbound{ConversationID: "t-hand", Sender: "agent", AgentID: bob, Text: "Bob here"}); err != nil {
		t.Fatal(err) // first response after 90 s
	}
	at(10, 9, 30, 0)
	for id, score := range map[string]int{"t-hand": 5, "y-1": 2} {
		if _, err := f.engine.Resolve(ctx, id, sys); err != nil {
			t.Fatal(err)
		}
		if _, err := f.engine.Rate(ctx, id, score, ""); err != nil {
			t.Fatal(err)
		}
	}
	at(10, 10, 0, 0)
	f.handedOff(t, "t-hand2", "") // never answered
	at(10, 11, 0, 0)
	f.say(t, "t-claimed", "", "hello")
	if _, err := f.engine.Claim(ctx, "t-claimed", dialog.Actor{Login: dave}); err != nil {
		t.Fatal(err) // a person took it without a handoff: not contained
	}

	a := f.login(t, bob)
	got := ok[todayAnswer](t, a, http.StatusOK, http.MethodGet, "/console/api/today", "")
	if got.Conversations != 4 || got.Contained != 1 || got.ContainedPct != 25 {
		t.Errorf("conversations %d, contained %d (%.1f%%); want 4, 1 (25%%)", got.Conversations, got.Contained, got.ContainedPct)
	}
	if got.Handoffs != 2 || len(got.HandoffsByQueue) != 1 || got.HandoffsByQueue[queueGe] != 2 {
		t.Errorf("handoffs %d by queue %v; want 2 in %s", got.Handoffs, got.HandoffsByQueue, queueGe)
	}
	if m := got.MedianFirstResponseSeconds; m == nil || *m != 90 {
		t.Errorf("median first response %v, want 90 s", m)
	}
	if avg := got.CSATAverage; avg == nil || math.Abs(*avg-3.5) > 1e-9 || got.CSATCount != 2 {
		t.Errorf("CSAT %v over %d, want 3.5 over 2", avg, got.CSATCount)
	}
	want := [24]int{9: 2, 10: 1, 11: 1}
	if got.Hourly != want {
		t.Errorf("hourly %v, want %v", got.Hourly, want)
	}

	// Served from memory for a few seconds, then counted again.
	f.clock.advance(2 * time.Second)
	f.say(t, "t-late", "", "hello")
	if got := ok[todayAnswer](t, a, http.StatusOK, http.MethodGet, "/console/api/today", ""); got.Conversations != 4 {
		t.Errorf("within %v: %d conversations, want the cached 4", todayTTL, got.Conversations)
	}
	f.clock.advance(todayTTL)
	if got := ok[todayAnswer](t, a, http.StatusOK, http.MethodGet, "/console/api/today", ""); got.Conversations != 5 {
		t.Errorf("after %v: %d conversations, want 5", todayTTL, got.Conversations)
	}

	// A new day starts from nothing, whatever the cache holds.
	at(11, 0, 0, 1)
	a = f.login(t, bob)
	got = ok[todayAnswer](t, a, http.StatusOK, http.MethodGet, "/console/api/today", "")
	if got.Conversations != 0 || got.MedianFirstResponseSeconds != nil || got.CSATAverage != nil || got.ContainedPct != 0 {
		t.Errorf("next day: %+v, want nothing counted", got)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(tc.xs); got != tc.want {
			t.Errorf("median %v = %v, want %v", tc.xs, got, tc.want)
		}
	}
}
