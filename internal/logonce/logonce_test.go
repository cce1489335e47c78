package logonce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is the inner handler: it keeps one line per record, "LEVEL msg
// k=v ...", with the attributes its WithAttrs added first.
type recorder struct {
	mu    *sync.Mutex
	lines *[]string // guarded by mu
	attrs string
}

func newRecorder() *recorder { return &recorder{mu: &sync.Mutex{}, lines: new([]string)} }

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Level.String() + " " + rec.Message + r.attrs)
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	r.mu.Lock()
	*r.lines = append(*r.lines, b.String())
	r.mu.Unlock()
	return nil
}

func (r *recorder) WithAttrs(as []slog.Attr) slog.Handler {
	c := *r
	for _, a := range as {
		c.attrs += fmt.Sprintf(" %s=%v", a.Key, a.Value)
	}
	return &c
}

func (r *recorder) WithGroup(string) slog.Handler { return r }

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(*r.lines)
}

// clock is a test clock moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTest(t *testing.T) (*slog.Logger, *Handler, *recorder, *clock) {
	t.Helper()
	rec := newRecorder()
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	h := New(rec, &Options{Window: time.Minute, Now: clk.Now})
	return slog.New(h), h, rec, clk
}

func wantLines(t *testing.T, rec *recorder, want ...string) {
	t.Helper()
	if got := rec.got(); !slices.Equal(got, want) {
		t.Errorf("log:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

var errFull = errors.New("write parley.db: no space left on device")

func TestRepeatedErrorIsLoggedOnceWithACount(t *testing.T) {
	log, _, rec, clk := newTest(t)
	for i := range 1000 {
		log.Error("webchat receive message", "conversation", fmt.Sprintf("conv_%d", i), "err", errFull)
		clk.add(10 * time.Millisecond) // 1000 in 10 s: one window
	}
	wantLines(t, rec, "ERROR webchat receive message conversation=conv_0 err="+errFull.Error())
	// The next record after the window ended brings the summary, then
	// the error opens a new window and is logged again.
	clk.add(time.Minute)
	log.Error("webchat receive message", "conversation", "conv_x", "err", errFull)
	wantLines(t, rec,
		"ERROR webchat receive message conversation=conv_0 err="+errFull.Error(),
		"ERROR webchat receive message err="+errFull.Error()+" repeated=999 within=1m0s",
		"ERROR webchat receive message conversation=conv_x err="+errFull.Error(),
	)
}

func TestDifferentErrorsAndLevels(t *testing.T) {
	log, h, rec, clk := newTest(t)
	other := errors.New("open parley.db: input/output error")
	log.Error("store commit", "err", errFull)
	log.Error("store commit", "err", other)          // another error: its own line
	log.Error("webchat answer", "err", errFull)      // another message: its own line
	log.Warn("slow client dropped", "remote", "ip1") // below ERROR: every one passes
	log.Warn("slow client dropped", "remote", "ip1")
	log.Error("store commit", "err", errFull)
	log.Error("no error attribute")
	log.Error("no error attribute")
	log.Error("grouped", slog.Group("req", slog.String("id", "r1"), slog.Any("cause", errFull)))
	log.Error("grouped", slog.Group("req", slog.String("id", "r2"), slog.Any("cause", errFull)))
	clk.add(30 * time.Second)
	log.Error("store commit", "err", other)
	wantLines(t, rec,
		"ERROR store commit err="+errFull.Error(),
		"ERROR store commit err="+other.Error(),
		"ERROR webchat answer err="+errFull.Error(),
		"WARN slow client dropped remote=ip1",
		"WARN slow client dropped remote=ip1",
		"ERROR no error attribute",
		"ERROR grouped req=[id=r1 cause="+errFull.Error()+"]",
	)
	// Flush writes what is held back, window ended or not, in any order.
	if err := h.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := rec.got()[7:]
	slices.Sort(got)
	want := []string{
		"ERROR grouped cause=" + errFull.Error() + " repeated=1 within=30s",
		"ERROR no error attribute repeated=1 within=30s",
		"ERROR store commit err=" + errFull.Error() + " repeated=1 within=30s",
		"ERROR store commit err=" + other.Error() + " repeated=1 within=30s",
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("flushed:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// Flushed windows are forgotten: the same error is logged again.
	log.Error("store commit", "err", errFull)
	if n := len(rec.got()); n != 12 {
		t.Errorf("%d lines after a flush and a new error, want 12", n)
	}
}

// A window that ends without repeats writes no summary; the summary goes to
// the handler (with its attributes) that logged the first.
func TestWindowWithoutRepeatsAndSharedState(t *testing.T) {
	log, _, rec, clk := newTest(t)
	web := log.With("component", "web")
	web.Error("readyz", "err", errFull)
	clk.add(2 * time.Minute)
	web.Error("readyz", "err", errFull) // a new window: logged
	log.Error("readyz", "err", errFull) // the same kind through the parent: held back
	clk.add(time.Minute)
	log.Info("tick")
	wantLines(t, rec,
		"ERROR readyz component=web err="+errFull.Error(),
		"ERROR readyz component=web err="+errFull.Error(),
		"ERROR readyz component=web err="+errFull.Error()+" repeated=1 within=1m0s",
		"INFO tick",
	)
}

func TestMaxKindsPassesTheRestThrough(t *testing.T) {
	rec := newRecorder()
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	log := slog.New(New(rec, &Options{Now: clk.Now, MaxKinds: 2}))
	for range 2 {
		for i := range 4 {
			log.Error("fail", "err", fmt.Errorf("error %d", i))
		}
	}
	// Kinds 0 and 1 are tracked (their repeats held back); 2 and 3 are not.
	if got := len(rec.got()); got != 6 {
		t.Errorf("%d lines, want 6: %v", got, rec.got())
	}
}

func TestConcurrentRepeatsAreCountedOnce(t *testing.T) {
	log, h, rec, _ := newTest(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				log.Error("commit failed", "err", errFull)
			}
		})
	}
	wg.Wait()
	if err := h.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantLines(t, rec,
		"ERROR commit failed err="+errFull.Error(),
		"ERROR commit failed err="+errFull.Error()+" repeated=799 within=0s",
	)
}

// Run writes a summary when its window ends though nothing else is logged,
// and flushes the rest when its context ends.
func TestRunWritesDueSummaries(t *testing.T) {
	rec := newRecorder()
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	h := New(rec, &Options{Window: 5 * time.Millisecond, Now: clk.Now})
	log := slog.New(h)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()

	log.Error("a", "err", errFull)
	log.Error("a", "err", errFull)
	clk.add(time.Second)
	for len(rec.got()) < 2 {
		time.Sleep(time.Millisecond)
	}
	log.Error("b", "err", errFull)
	log.Error("b", "err", errFull) // its window never ends on the test clock: flushed by the cancel
	cancel()
	<-done
	wantLines(t, rec,
		"ERROR a err="+errFull.Error(),
		"ERROR a err="+errFull.Error()+" repeated=1 within=5ms",
		"ERROR b err="+errFull.Error(),
		"ERROR b err="+errFull.Error()+" repeated=1 within=0s",
	)
}
