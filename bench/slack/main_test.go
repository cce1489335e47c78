package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// postTo posts a chat.postMessage to the fake.
func postTo(t *testing.T, f *fakeSlack, channel string) {
	t.Helper()
	resp, err := http.PostForm(f.url+"chat.postMessage", url.Values{"channel": {channel}, "text": {"hi"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestSettleCountsMissingAndDuplicatedReplies(t *testing.T) {
	f, err := startFakeSlack()
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	now := time.Now()
	r := &result{
		sentAt: map[string][]time.Time{"DA": {now, now}, "DB": {now}, "DC": {now, now}},
		end:    now, quiet: 100 * time.Millisecond,
	}
	postTo(t, f, "DA")
	postTo(t, f, "DA")
	postTo(t, f, "DB")
	postTo(t, f, "DB") // DB's one event answered twice
	postTo(t, f, "DC") // DC's second event never answered
	r.settle(context.Background(), f)
	if r.replies != 5 || r.missing != 1 || r.duplicated != 1 || len(r.replyLatency) != 4 {
		t.Errorf("replies %d missing %d duplicated %d latencies %d, want 5 1 1 4", r.replies, r.missing, r.duplicated, len(r.replyLatency))
	}
	table := render(r, config{users: 3, rate: 1, duration: time.Second})
	if !strings.Contains(table, "| 5 | 1 | 1 |") {
		t.Errorf("table does not show replies, missing, duplicated:\n%s", table)
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 6}, {0.99, 10}, {1, 10}, {0, 1}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("percentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}
