package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
)

// retryBackoff is how long the outbox waits before each retry of a message
// that failed with a transient error (network, 5xx, Slack's own
// internal_error): three retries, then the message's Done gets the error.
var retryBackoff = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}

// minRetryAfter is the wait after a 429 that names no (or a zero)
// Retry-After.
const minRetryAfter = time.Second

// maxLinger bounds how long an idle channel's goroutine stays after its
// last message, waiting for its token bucket to fill up again (so that a
// channel's rate holds across quiet spells). After that it exits and its
// state is forgotten: a DM that got one reply leaves nothing behind.
const maxLinger = time.Minute

// transientSlackErrors are the "ok":false answers worth retrying; every
// other Slack error (channel_not_found, not_in_channel, is_archived,
// msg_too_long, invalid_blocks, invalid_auth, missing_scope, ...) fails
// the same way the next time, so the message fails at once.
var transientSlackErrors = map[string]bool{
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
	"team_added_to_org":   true,
}

// outMsg is one chat.postMessage call. Done, when set, is called once with
// the posted message's ts, or with "" and the error when the message
// failed for good; it is called on the outbox's goroutine for the channel
// (so the next message of the channel waits for it) and may call send. It
// is not called for messages still queued or in flight when the outbox
// stops.
type outMsg struct {
	Channel, ThreadTS, Text string
	Blocks                  []slack.Block
	Done                    func(ts string, err error)
}

// outbox posts messages to Slack: in order per channel, at most rate
// messages a second per channel with bursts of burst, waiting out 429s
// (never dropping a message for a rate limit) and retrying transient
// errors. Each channel with work has its own goroutine, started by run
// and gone once the channel has been idle a while.
//
// The queues live in memory only: when run's context ends, the messages
// still queued are dropped and their Done is not called. Callers keep a
// durable cursor advanced in Done (the customer side's "slack:c:sent:",
// the agent side's "slack:a:sent:") and send again from it at the next
// start, so a stop loses nothing; it can at worst post a message twice
// (posted, then stopped before Done saved the cursor).
type outbox struct {
	api   *slack.Client
	rate  float64 // messages a second per channel
	burst int     // messages at once per channel
	now   func() time.Time
	log   *slog.Logger
	// wait waits d or until ctx ends and reports whether it waited the
	// full d; tests replace it to record the waits without sleeping.
	wait func(ctx context.Context, d time.Duration) bool

	kick chan struct{} // a value tells run that ready has lanes (buffer 1)
	live atomic.Int32  // channel goroutines running, for tests and logs

	mu     sync.Mutex
	lanes  map[string]*lane // by Slack channel id; guarded by mu
	ready  []*lane          // lanes owed a goroutine, for run to start; guarded by mu
	queued int              // messages in all queues; guarded by mu
}

// lane is one Slack channel's queue and token bucket. A lane is in
// outbox.lanes from its first message until its goroutine exits idle.
type lane struct {
	channel string
	wake    chan struct{} // a value tells the idle goroutine there is work (buffer 1)

	// Guarded by outbox.mu:
	queue   []outMsg
	running bool   // a goroutine serves the lane, or run owes it one
	bucket  bucket // touched only by the lane's goroutine, but under mu for the race detector's sake
}

// newOutbox returns an outbox posting with api at rate messages a second
// and bursts of burst per channel (non-positive: 1 and 3), with the clock
// now (nil: time.Now) and logging to log (nil: discard). Nothing is posted
// before run.
func newOutbox(api *slack.Client, rate float64, burst int, now func() time.Time, log *slog.Logger) *outbox {
	if rate <= 0 {
		rate = 1
	}
	if burst <= 0 {
		burst = 3
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &outbox{
		api: api, rate: rate, burst: burst, now: now, log: log, wait: sleep,
		kick:  make(chan struct{}, 1),
		lanes: map[string]*lane{},
	}
}

// send queues m behind the messages already queued for its channel. It
// never blocks and never drops: a message sent before run (or after it
// returned) waits for the next run.
func (o *outbox) send(m outMsg) {
	o.mu.Lock()
	l := o.lanes[m.Channel]
	if l == nil {
		l = &lane{channel: m.Channel, wake: make(chan struct{}, 1)}
		o.lanes[m.Channel] = l
	}
	l.queue = append(l.queue, m)
	o.queued++
	n := len(l.queue)
	start := !l.running
	if start {
		l.running = true
		o.ready = append(o.ready, l)
	}
	o.mu.Unlock()
	if start {
		notify(o.kick)
	} else {
		notify(l.wake)
	}
	if n == 100 || n == 1000 || n == 10000 {
		o.log.Warn("slack outbox: a channel's backlog is growing", "channel", m.Channel, "queued", n)
	}
}

// notify puts a value in c unless it has one already.
func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// pending is how many messages wait in the queues (in-flight ones not
// counted).
func (o *outbox) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.queued
}

// run posts until ctx ends. It starts a goroutine for each channel with
// work and returns once all of them have stopped; the messages still
// queued then are dropped (see outbox). Call it once at a time.
func (o *outbox) run(ctx context.Context) {
	var wg sync.WaitGroup
	for {
		select {
		case <-o.kick:
			o.mu.Lock()
			ready := o.ready
			o.ready = nil
			o.mu.Unlock()
			for _, l := range ready {
				o.live.Add(1)
				wg.Go(func() {
					defer o.live.Add(-1)
					o.serve(ctx, l)
				})
			}
		case <-ctx.Done():
			wg.Wait()
			o.mu.Lock()
			dropped := o.queued
			o.lanes, o.ready, o.queued = map[string]*lane{}, nil, 0
			o.mu.Unlock()
			if dropped > 0 {
				o.log.Info("slack outbox stopped; queued messages dropped, they are sent again from the store at the next start", "dropped", dropped)
			}
			return
		}
	}
}

// serve posts l's messages one by one until l has been idle a while or
// ctx ends.
func (o *outbox) serve(ctx context.Context, l *lane) {
	for {
		m, ok := o.next(ctx, l)
		if !ok {
			return
		}
		ts, err := o.deliver(ctx, l, m)
		if err != nil && ctx.Err() != nil {
			return // stopping: not delivered, and the caller re-sends it at the next start
		}
		if m.Done != nil {
			m.Done(ts, err)
		}
	}
}

// next takes the first message of l's queue, waiting for one while l's
// token bucket fills up again (at most maxLinger). It reports false when
// the goroutine should exit: l was idle long enough (l is then forgotten)
// or ctx ended.
func (o *outbox) next(ctx context.Context, l *lane) (outMsg, bool) {
	lingered := false
	for {
		o.mu.Lock()
		if len(l.queue) > 0 {
			m := l.queue[0]
			l.queue[0] = outMsg{} // let the text and Done be collected
			l.queue = l.queue[1:]
			o.queued--
			o.mu.Unlock()
			return m, true
		}
		linger := min(l.bucket.fullIn(o.now(), o.rate, o.burst), maxLinger)
		if lingered || linger <= 0 {
			l.running = false
			delete(o.lanes, l.channel)
			o.mu.Unlock()
			return outMsg{}, false
		}
		o.mu.Unlock()
		t := time.NewTimer(linger)
		select {
		case <-l.wake:
		case <-t.C:
			lingered = true // exit unless a message came meanwhile, even if a fake clock stood still
		case <-ctx.Done():
			t.Stop()
			return outMsg{}, false
		}
		t.Stop()
	}
}

// deliver posts m, waiting for l's token bucket before each try. A rate
// limit (429) is waited out and retried until ctx ends; a transient error
// is retried after each of retryBackoff; a permanent one is not. It
// returns the message's ts, or the last error (logged at Error) or ctx's.
func (o *outbox) deliver(ctx context.Context, l *lane, m outMsg) (string, error) {
	opts := []slack.MsgOption{
		slack.MsgOptionText(m.Text, false),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	}
	if len(m.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.Blocks...))
	}
	if m.ThreadTS != "" {
		opts = append(opts, slack.MsgOptionTS(m.ThreadTS))
	}
	retries := 0
	for tries := 1; ; tries++ {
		o.mu.Lock()
		d := l.bucket.take(o.now(), o.rate, o.burst)
		o.mu.Unlock()
		if d > 0 && !o.wait(ctx, d) {
			return "", ctx.Err()
		}
		_, ts, err := o.api.PostMessageContext(ctx, m.Channel, opts...)
		if err == nil {
			return ts, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		err = fmt.Errorf("slack chat.postMessage to %s: %w", m.Channel, err)
		if after, limited := rateLimited(err); limited {
			o.log.Info("slack outbox: rate limited; waiting", "channel", m.Channel, "retry_after", after)
			if !o.wait(ctx, after) {
				return "", ctx.Err()
			}
			continue
		}
		if !permanent(err) && retries < len(retryBackoff) {
			wait := retryBackoff[retries]
			retries++
			o.log.Warn("slack outbox: post failed; retrying", "channel", m.Channel, "err", err, "in", wait)
			if !o.wait(ctx, wait) {
				return "", ctx.Err()
			}
			continue
		}
		o.log.Error("slack outbox: message not delivered", "channel", m.Channel, "thread", m.ThreadTS, "tries", tries, "err", err)
		return "", err
	}
}

// rateLimited reports whether err is Slack's rate limit and how long to
// wait before the next try: Retry-After, at least minRetryAfter.
func rateLimited(err error) (time.Duration, bool) {
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &rl):
		return max(rl.RetryAfter, minRetryAfter), true
	case errors.As(err, &sc) && sc.Code == http.StatusTooManyRequests: // a 429 without Retry-After
		return minRetryAfter, true
	case errors.As(err, &se) && se.Err == "ratelimited":
		return minRetryAfter, true
	}
	return 0, false
}

// permanent reports whether err fails the same way on every try: a Slack
// error answer other than transientSlackErrors, or an HTTP 4xx.
func permanent(err error) bool {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return !transientSlackErrors[se.Err]
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return sc.Code >= 400 && sc.Code < 500 && sc.Code != http.StatusRequestTimeout
	}
	return false
}

// bucket is a token bucket: up to burst tokens, refilled at rate a
// second, one per message. Its zero value is full.
type bucket struct {
	tokens float64 // may go negative: a reservation the caller waits out
	last   time.Time
	primed bool // tokens and last are set
}

// refill adds the tokens earned since the last call.
func (b *bucket) refill(now time.Time, rate float64, burst int) {
	if !b.primed {
		b.tokens, b.last, b.primed = float64(burst), now, true
		return
	}
	if el := now.Sub(b.last); el > 0 { // a clock going back earns nothing
		b.tokens = min(float64(burst), b.tokens+el.Seconds()*rate)
		b.last = now
	}
}

// take spends a token and returns how long to wait before using it (0:
// at once).
func (b *bucket) take(now time.Time, rate float64, burst int) time.Duration {
	b.refill(now, rate, burst)
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return seconds(-b.tokens / rate)
}

// fullIn is how long until the bucket is full again.
func (b *bucket) fullIn(now time.Time, rate float64, burst int) time.Duration {
	b.refill(now, rate, burst)
	return seconds((float64(burst) - b.tokens) / rate)
}

// seconds converts s seconds to a duration, rounded to the microsecond so
// that float noise does not show.
func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Microsecond)
}
