package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
)

// outboxClock is the outbox's clock in tests: it stands still except when
// the outbox waits, and it records every wait, so the tests check the
// computed waits and never depend on the machine's speed.
type outboxClock struct {
	mu    sync.Mutex
	t     time.Time       // guarded by mu
	waits []time.Duration // guarded by mu
}

func (c *outboxClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// wait records d and moves the clock by it at once.
func (c *outboxClock) wait(ctx context.Context, d time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.t = c.t.Add(d)
	return true
}

func (c *outboxClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.waits)
}

// newTestOutbox returns an outbox posting to the fake Web API at apiURL,
// on a fake clock that only its waits move.
func newTestOutbox(t testing.TB, apiURL string, rate float64, burst int) (*outbox, *outboxClock) {
	t.Helper()
	c := &outboxClock{t: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)}
	api := slack.New("xoxb-test", slack.OptionAPIURL(apiURL))
	o := newOutbox(api, rate, burst, c.now, outboxLogger(t))
	o.wait = c.wait
	return o, c
}

// outboxLogger logs warnings and errors to the test's log.
func outboxLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// startOutbox runs o until the test ends or stop is called; stop cancels
// run and waits for it to return.
func startOutbox(t testing.TB, o *outbox) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); o.run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(20 * time.Second): // only keeps a broken test from hanging
				t.Fatal("outbox run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// outboxResult is what one message's Done got.
type outboxResult struct {
	ts  string
	err error
}

// outboxDone records the Done calls of messages by name.
type outboxDone struct {
	mu      sync.Mutex
	results map[string][]outboxResult // guarded by mu
	called  chan struct{}
}

func newOutboxDone() *outboxDone {
	return &outboxDone{results: map[string][]outboxResult{}, called: make(chan struct{}, 4096)}
}

// of returns the Done func of the message named name.
func (d *outboxDone) of(name string) func(string, error) {
	return func(ts string, err error) {
		d.mu.Lock()
		d.results[name] = append(d.results[name], outboxResult{ts, err})
		d.mu.Unlock()
		d.called <- struct{}{}
	}
}

// get returns the Done calls of name.
func (d *outboxDone) get(name string) []outboxResult {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.results[name])
}

// waitN waits until Done was called n times in all.
func (d *outboxDone) waitN(t testing.TB, n int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		d.mu.Lock()
		got := 0
		for _, rs := range d.results {
			got += len(rs)
		}
		d.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-d.called:
		case <-deadline:
			t.Fatalf("waiting for %d Done calls, got %d", n, got)
		}
	}
}

// outboxReply is how the scripted Web API answers one chat.postMessage:
// the zero value is a success.
type outboxReply struct {
	status     int    // HTTP status; 0: 200
	retryAfter string // Retry-After header, for a 429
	slackErr   string // "ok":false with this error
}

// outboxSlack is a fake Web API whose chat.postMessage answers as reply
// says for each call (numbered from 1 per channel) and records the forms
// of the calls that succeeded.
type outboxSlack struct {
	*slacktest.Server
	reply func(channel string, call int) outboxReply

	mu     sync.Mutex
	calls  map[string]int // chat.postMessage calls per channel; guarded by mu
	posted []url.Values   // the successful calls' forms; guarded by mu
}

func newOutboxSlack(t testing.TB, reply func(channel string, call int) outboxReply) *outboxSlack {
	t.Helper()
	s := &outboxSlack{reply: reply, calls: map[string]int{}}
	s.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", s.postMessage)
	})
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

func (s *outboxSlack) postMessage(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ch := r.FormValue("channel")
	s.mu.Lock()
	s.calls[ch]++
	n := s.calls[ch]
	s.mu.Unlock()
	var rep outboxReply
	if s.reply != nil {
		rep = s.reply(ch, n)
	}
	switch {
	case rep.status != 0:
		if rep.retryAfter != "" {
			w.Header().Set("Retry-After", rep.retryAfter)
		}
		w.WriteHeader(rep.status)
		_, _ = w.Write([]byte("<html>no</html>"))
	case rep.slackErr != "":
		writeJSON(w, map[string]any{"ok": false, "error": rep.slackErr})
	default:
		s.mu.Lock()
		s.posted = append(s.posted, r.Form)
		ts := fmt.Sprintf("1700000000.%06d", len(s.posted))
		s.mu.Unlock()
		writeJSON(w, map[string]any{"ok": true, "channel": ch, "ts": ts})
	}
}

func (s *outboxSlack) callsTo(channel string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[channel]
}

func (s *outboxSlack) forms() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.posted)
}

// TestOutboxOrderPerChannel: messages of one channel are posted in the
// order sent, including those sent before run; each Done gets its
// message's ts.
func TestOutboxOrderPerChannel(t *testing.T) {
	f := newFakeSlack(t)
	o, _ := newTestOutbox(t, f.GetAPIURL(), 1, 3)
	done := newOutboxDone()
	channels := []string{"D1", "C2"}
	name := func(ch string, i int) string { return fmt.Sprintf("%s #%02d", ch, i) }
	for i := range 20 {
		if i == 5 {
			startOutbox(t, o) // the first five of each channel were queued before run
		}
		for _, ch := range channels {
			o.send(outMsg{Channel: ch, Text: name(ch, i), Done: done.of(name(ch, i))})
		}
	}
	done.waitN(t, 40)
	posts := f.Posts()
	for _, ch := range channels {
		var got, want []string
		for i := range 20 {
			want = append(want, name(ch, i))
		}
		for _, p := range posts {
			if p.Channel == ch {
				got = append(got, p.Text)
				if r := done.get(p.Text); len(r) != 1 || r[0].ts != p.TS || r[0].err != nil {
					t.Errorf("Done of %q: %+v, want one call with ts %s", p.Text, r, p.TS)
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("channel %s posted %q, want %q", ch, got, want)
		}
	}
	if n := o.pending(); n != 0 {
		t.Errorf("pending = %d after all were posted", n)
	}
}

// TestOutboxMessageOptions: text as given (not escaped again), blocks,
// thread and no unfurling.
func TestOutboxMessageOptions(t *testing.T) {
	s := newOutboxSlack(t, nil)
	o, _ := newTestOutbox(t, s.GetAPIURL(), 1, 3)
	startOutbox(t, o)
	done := newOutboxDone()
	blocks := []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*hi*", false, false), nil, nil)}
	o.send(outMsg{Channel: "C1", ThreadTS: "1700000000.000001", Text: "a &lt;b&gt; https://x.example", Blocks: blocks, Done: done.of("threaded")})
	o.send(outMsg{Channel: "C1", Text: "plain", Done: done.of("plain")})
	done.waitN(t, 2)
	forms := s.forms()
	if len(forms) != 2 {
		t.Fatalf("posted %d messages, want 2", len(forms))
	}
	tests := []struct {
		name string
		form url.Values
		want map[string]string // form field → value; "" means absent
	}{
		{"threaded", forms[0], map[string]string{
			"text": "a &lt;b&gt; https://x.example", "thread_ts": "1700000000.000001",
			"unfurl_links": "false", "unfurl_media": "false",
		}},
		{"plain", forms[1], map[string]string{"text": "plain", "thread_ts": "", "blocks": "", "unfurl_links": "false", "unfurl_media": "false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.want {
				if got := tt.form.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
	if b := forms[0].Get("blocks"); b == "" || !strings.Contains(b, "*hi*") {
		t.Errorf("blocks = %q, want the section block", b)
	}
}

// TestOutboxRateLimited: a 429 is waited out for its Retry-After (at
// least a second) and the same message is retried: nothing is lost,
// nothing reordered.
func TestOutboxRateLimited(t *testing.T) {
	f := newFakeSlack(t)
	f.mu.Lock()
	f.limit = func(n int) int {
		if n == 1 {
			return 1 // the first call: 429, Retry-After: 1
		}
		return 0
	}
	f.mu.Unlock()
	o, clock := newTestOutbox(t, f.GetAPIURL(), 1, 3)
	startOutbox(t, o)
	done := newOutboxDone()
	for i := range 3 {
		o.send(outMsg{Channel: "C1", Text: fmt.Sprint("m", i), Done: done.of(fmt.Sprint("m", i))})
	}
	done.waitN(t, 3)
	var got []string
	for _, p := range f.Posts() {
		got = append(got, p.Text)
	}
	if want := []string{"m0", "m1", "m2"}; !slices.Equal(got, want) {
		t.Errorf("posted %q, want %q", got, want)
	}
	for i := range 3 {
		if r := done.get(fmt.Sprint("m", i)); len(r) != 1 || r[0].err != nil || r[0].ts == "" {
			t.Errorf("Done of m%d: %+v, want one success", i, r)
		}
	}
	// The 429 cost one wait of Retry-After; the bucket (burst 3) had a
	// token for the retry and the two others after that second.
	if w, want := clock.Waits(), []time.Duration{time.Second}; !slices.Equal(w, want) {
		t.Errorf("waits = %v, want %v", w, want)
	}
	f.mu.Lock()
	calls := f.calls
	f.mu.Unlock()
	if calls != 4 {
		t.Errorf("chat.postMessage calls = %d, want 4 (one 429, three posts)", calls)
	}
}

// TestOutboxRateLimitedVariants: every form of a rate limit is waited out
// and retried without a limit on tries.
func TestOutboxRateLimitedVariants(t *testing.T) {
	tests := []struct {
		name  string
		reply outboxReply
		times int // calls answered so before a success
		waits []time.Duration
	}{
		{"retry after 2 s, five times", outboxReply{status: 429, retryAfter: "2"}, 5, []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second}},
		{"retry after 0 waits a second", outboxReply{status: 429, retryAfter: "0"}, 1, []time.Duration{time.Second}},
		{"429 without retry after waits a second", outboxReply{status: 429}, 1, []time.Duration{time.Second}},
		{"ok false ratelimited", outboxReply{slackErr: "ratelimited"}, 2, []time.Duration{time.Second, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newOutboxSlack(t, func(_ string, call int) outboxReply {
				if call <= tt.times {
					return tt.reply
				}
				return outboxReply{}
			})
			// A fast bucket, so that only the rate limit waits.
			o, clock := newTestOutbox(t, s.GetAPIURL(), 1000, 1000)
			startOutbox(t, o)
			done := newOutboxDone()
			o.send(outMsg{Channel: "C1", Text: "hello", Done: done.of("hello")})
			done.waitN(t, 1)
			if r := done.get("hello"); r[0].err != nil {
				t.Fatalf("Done error %v, want success", r[0].err)
			}
			if got := s.callsTo("C1"); got != tt.times+1 {
				t.Errorf("calls = %d, want %d", got, tt.times+1)
			}
			if w := clock.Waits(); !slices.Equal(w, tt.waits) {
				t.Errorf("waits = %v, want %v", w, tt.waits)
			}
		})
	}
}

// TestOutboxTokenBucket: a channel gets burst messages at once, then one
// each 1/rate seconds; another channel has its own bucket.
func TestOutboxTokenBucket(t *testing.T) {
	tests := []struct {
		name     string
		rate     float64
		burst    int
		channels []string
		n        int // messages per channel
		total    time.Duration
	}{
		{"rate 1 burst 3, five messages", 1, 3, []string{"C1"}, 5, 2 * time.Second},
		{"rate 2 burst 1, three messages", 2, 1, []string{"C1"}, 3, time.Second},
		{"within the burst", 1, 3, []string{"C1"}, 3, 0},
		// A shared bucket would make three of these wait (the fake clock
		// stands still without waits, so the case is deterministic).
		{"two channels, one bucket each", 1, 3, []string{"C1", "C2"}, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSlack(t)
			o, clock := newTestOutbox(t, f.GetAPIURL(), tt.rate, tt.burst)
			startOutbox(t, o)
			done := newOutboxDone()
			for i := range tt.n {
				for _, ch := range tt.channels {
					o.send(outMsg{Channel: ch, Text: fmt.Sprint(ch, i), Done: done.of(fmt.Sprint(ch, i))})
				}
			}
			done.waitN(t, tt.n*len(tt.channels))
			var sum time.Duration
			for _, w := range clock.Waits() {
				sum += w
			}
			if d := sum - tt.total; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("waits %v sum to %v, want %v", clock.Waits(), sum, tt.total)
			}
		})
	}
}

// TestOutboxBucket checks the token bucket's arithmetic.
func TestOutboxBucket(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	type step struct {
		at   time.Duration // after t0
		want time.Duration // take's wait
	}
	tests := []struct {
		name   string
		rate   float64
		burst  int
		steps  []step
		fullIn time.Duration // after the last step, at its time
	}{
		{"burst then rate", 1, 3, []step{{0, 0}, {0, 0}, {0, 0}, {0, time.Second}, {0, 2 * time.Second}}, 5 * time.Second},
		{"refills over time", 1, 3, []step{{0, 0}, {0, 0}, {0, 0}, {2 * time.Second, 0}, {2 * time.Second, 0}, {2 * time.Second, time.Second}}, 4 * time.Second},
		{"never above burst", 1, 2, []step{{0, 0}, {time.Hour, 0}, {time.Hour, 0}, {time.Hour, time.Second}}, 3 * time.Second},
		{"a clock going back earns nothing", 1, 1, []step{{10 * time.Second, 0}, {0, time.Second}}, 2 * time.Second},
		{"fractional rate", 0.5, 1, []step{{0, 0}, {0, 2 * time.Second}}, 4 * time.Second},
		{"fresh bucket is full", 1, 3, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bucket
			last := t0
			for i, s := range tt.steps {
				last = t0.Add(s.at)
				if got := b.take(last, tt.rate, tt.burst); got != s.want {
					t.Errorf("take %d at +%v waits %v, want %v", i, s.at, got, s.want)
				}
			}
			if got := b.fullIn(last, tt.rate, tt.burst); got != tt.fullIn {
				t.Errorf("fullIn = %v, want %v", got, tt.fullIn)
			}
		})
	}
}

// TestOutboxFailures: permanent errors fail at once; transient ones are
// retried after 1, 2 and 4 s, then fail; either way Done gets the error
// and the channel goes on with its next message.
func TestOutboxFailures(t *testing.T) {
	tests := []struct {
		name    string
		reply   outboxReply
		times   int // calls answered so; then successes
		calls   int // calls for the first message
		waits   []time.Duration
		wantErr func(error) bool // nil: success
	}{
		{"channel_not_found is permanent", outboxReply{slackErr: "channel_not_found"}, 100, 1, nil, isSlackError("channel_not_found")},
		{"not_in_channel is permanent", outboxReply{slackErr: "not_in_channel"}, 100, 1, nil, isSlackError("not_in_channel")},
		{"invalid_blocks is permanent", outboxReply{slackErr: "invalid_blocks"}, 100, 1, nil, isSlackError("invalid_blocks")},
		{"a 400 is permanent", outboxReply{status: 400}, 100, 1, nil, isStatus(400)},
		{"a 500 twice is retried", outboxReply{status: 500}, 2, 3, []time.Duration{time.Second, 2 * time.Second}, nil},
		{"internal_error once is retried", outboxReply{slackErr: "internal_error"}, 1, 2, []time.Duration{time.Second}, nil},
		{"a 503 for good fails after three retries", outboxReply{status: 503}, 4, 4, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, isStatus(503)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newOutboxSlack(t, func(_ string, call int) outboxReply {
				if call <= tt.times {
					return tt.reply
				}
				return outboxReply{}
			})
			o, clock := newTestOutbox(t, s.GetAPIURL(), 1000, 1000)
			startOutbox(t, o)
			done := newOutboxDone()
			o.send(outMsg{Channel: "C1", Text: "first", Done: done.of("first")})
			done.waitN(t, 1)
			r := done.get("first")
			switch {
			case tt.wantErr == nil && (r[0].err != nil || r[0].ts == ""):
				t.Errorf("Done(%q, %v), want a success", r[0].ts, r[0].err)
			case tt.wantErr != nil && (r[0].err == nil || !tt.wantErr(r[0].err) || r[0].ts != ""):
				t.Errorf("Done(%q, %v), want the error", r[0].ts, r[0].err)
			}
			if got := s.callsTo("C1"); got != tt.calls {
				t.Errorf("calls = %d, want %d", got, tt.calls)
			}
			if w := clock.Waits(); !slices.Equal(w, tt.waits) {
				t.Errorf("waits = %v, want %v", w, tt.waits)
			}
			if tt.times >= 100 {
				return // the channel is gone for good
			}
			o.send(outMsg{Channel: "C1", Text: "second", Done: done.of("second")})
			done.waitN(t, 2)
			if r := done.get("second"); r[0].err != nil {
				t.Errorf("the next message failed too: %v", r[0].err)
			}
		})
	}
}

func isSlackError(code string) func(error) bool {
	return func(err error) bool {
		var se slack.SlackErrorResponse
		return errors.As(err, &se) && se.Err == code
	}
}

func isStatus(code int) func(error) bool {
	return func(err error) bool {
		var sc slack.StatusCodeError
		return errors.As(err, &sc) && sc.Code == code
	}
}

// TestOutboxDoneMaySend: Done runs on the channel's goroutine and may
// queue more messages, to its own channel or another, without deadlock.
func TestOutboxDoneMaySend(t *testing.T) {
	f := newFakeSlack(t)
	o, _ := newTestOutbox(t, f.GetAPIURL(), 1000, 1000)
	startOutbox(t, o)
	done := newOutboxDone()
	o.send(outMsg{Channel: "C1", Text: "card", Done: func(ts string, err error) {
		done.of("card")(ts, err)
		o.send(outMsg{Channel: "C1", ThreadTS: ts, Text: "reply in thread", Done: done.of("reply")})
		o.send(outMsg{Channel: "C2", Text: "elsewhere", Done: done.of("elsewhere")})
	}})
	done.waitN(t, 3)
	posts := f.Posts()
	card := done.get("card")[0].ts
	if n := count(posts, func(p post) bool { return p.Channel == "C1" && p.ThreadTS == card && p.Text == "reply in thread" }); n != 1 {
		t.Errorf("thread replies to the card: %d, want 1; posts %+v", n, posts)
	}
	if n := count(posts, func(p post) bool { return p.Channel == "C2" }); n != 1 {
		t.Errorf("posts to C2: %d, want 1", n)
	}
}

// TestOutboxStop: run returns once ctx ends even while a channel waits out
// a long rate limit; no channel goroutine is left; messages still queued
// are dropped without Done (the callers re-send them from their cursors).
func TestOutboxStop(t *testing.T) {
	s := newOutboxSlack(t, func(ch string, _ int) outboxReply {
		if ch == "CSTUCK" {
			return outboxReply{status: 429, retryAfter: "3600"}
		}
		return outboxReply{}
	})
	o, _ := newTestOutbox(t, s.GetAPIURL(), 1000, 1000)
	waiting := make(chan struct{}, 1)
	o.wait = func(ctx context.Context, d time.Duration) bool { // a real wait, interrupted by ctx only
		notify(waiting)
		<-ctx.Done()
		return false
	}
	stop := startOutbox(t, o)
	done := newOutboxDone()
	for i := range 3 {
		o.send(outMsg{Channel: "CSTUCK", Text: fmt.Sprint("stuck", i), Done: done.of("stuck")})
	}
	for i := range 50 {
		o.send(outMsg{Channel: "D" + strconv.Itoa(i), Text: "hi", Done: done.of("dm")})
	}
	done.waitN(t, 50)
	select {
	case <-waiting:
	case <-time.After(20 * time.Second):
		t.Fatal("CSTUCK never waited for its rate limit")
	}
	if n := o.pending(); n != 2 {
		t.Errorf("pending = %d while CSTUCK waits, want 2", n)
	}
	stop()
	if n := o.live.Load(); n != 0 {
		t.Errorf("%d channel goroutines left after run returned", n)
	}
	if n := o.pending(); n != 0 {
		t.Errorf("pending = %d after run returned, want the queue dropped", n)
	}
	if r := done.get("stuck"); len(r) != 0 {
		t.Errorf("Done called for undelivered messages: %+v", r)
	}
	if n := len(done.get("dm")); n != 50 {
		t.Errorf("Done of the DMs: %d calls, want 50", n)
	}
}

// TestOutboxIdleExit: the goroutine of a channel exits once the channel
// is idle and its bucket full again, and a later message starts a new one.
func TestOutboxIdleExit(t *testing.T) {
	f := newFakeSlack(t)
	api := slack.New("xoxb-test", slack.OptionAPIURL(f.GetAPIURL()))
	o := newOutbox(api, 1000, 3, time.Now, outboxLogger(t)) // a real clock: a bucket refills in 1 ms
	startOutbox(t, o)
	done := newOutboxDone()
	for i := range 200 {
		o.send(outMsg{Channel: "D" + strconv.Itoa(i), Text: "hi", Done: done.of("dm")})
	}
	done.waitN(t, 200)
	deadline := time.After(20 * time.Second) // only keeps a broken test from hanging
	for {
		o.mu.Lock()
		lanes := len(o.lanes)
		o.mu.Unlock()
		if lanes == 0 && o.live.Load() == 0 {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("%d lanes and %d goroutines left while idle", lanes, o.live.Load())
		case <-time.After(10 * time.Millisecond):
		}
	}
	o.send(outMsg{Channel: "D7", Text: "again", Done: done.of("again")})
	done.waitN(t, 201)
	if r := done.get("again"); r[0].err != nil {
		t.Errorf("a message after the idle exit failed: %v", r[0].err)
	}
}
