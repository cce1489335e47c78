package logonce

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Options configures New; zero fields take the default in their comment.
type Options struct {
	Window time.Duration    // how long repeats are held back after the first (1 minute)
	Now    func() time.Time // the clock (time.Now)
	// MaxKinds bounds the kinds of error tracked at once (1000); an error
	// of a new kind past it is passed through untracked.
	MaxKinds int
}

// Handler is the wrapping slog.Handler. It is safe for concurrent use, and
// the handlers its WithAttrs and WithGroup return share its memory of the
// errors seen.
type Handler struct {
	inner slog.Handler
	s     *state
}

var _ slog.Handler = (*Handler)(nil)

type state struct {
	window   time.Duration
	now      func() time.Time
	maxKinds int

	mu    sync.Mutex
	kinds map[kind]*entry // guarded by mu
	next  time.Time       // guarded by mu: the earliest end of a window held in kinds
}

// kind is what makes two error records the same.
type kind struct{ msg, err string }

// entry is one kind's window.
type entry struct {
	start   time.Time    // when the first came
	end     time.Time    // start plus the window
	repeats int          // records held back since the first
	first   slog.Record  // the first record of the window
	errAttr slog.Attr    // its error attribute (empty Key: none)
	h       slog.Handler // the handler the first went to, for the summary
}

// New returns a handler that passes records to inner. A nil opts means the
// defaults.
func New(inner slog.Handler, opts *Options) *Handler {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Window <= 0 {
		o.Window = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxKinds <= 0 {
		o.MaxKinds = 1000
	}
	return &Handler{inner: inner, s: &state{window: o.Window, now: o.Now, maxKinds: o.MaxKinds, kinds: make(map[kind]*entry)}}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{inner: h.inner.WithAttrs(as), s: h.s}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{inner: h.inner.WithGroup(name), s: h.s}
}

// Handle implements slog.Handler: it writes the summaries of the windows
// that ended, then r, unless r repeats an error of an open window. The
// error is the inner handler's (the first one, when summaries failed).
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	now := h.s.now()
	err := h.s.write(ctx, h.s.due(now, false), now)
	if r.Level < slog.LevelError {
		return firstErr(err, h.inner.Handle(ctx, r))
	}
	errAttr := findError(r)
	k := kind{msg: r.Message, err: errAttr.Value.String()}
	h.s.mu.Lock()
	if e := h.s.kinds[k]; e != nil {
		e.repeats++
		h.s.mu.Unlock()
		return err
	}
	if len(h.s.kinds) < h.s.maxKinds {
		e := &entry{start: now, end: now.Add(h.s.window), first: r.Clone(), errAttr: errAttr, h: h.inner}
		h.s.kinds[k] = e
		if h.s.next.IsZero() || e.end.Before(h.s.next) {
			h.s.next = e.end
		}
	}
	h.s.mu.Unlock()
	return firstErr(err, h.inner.Handle(ctx, r))
}

// Flush writes the summaries of every window, ended or not, and forgets
// them: call it before the program exits.
func (h *Handler) Flush(ctx context.Context) error {
	now := h.s.now()
	return h.s.write(ctx, h.s.due(now, true), now)
}

// Run writes the summaries of the windows that end while no record comes,
// checking every second (or every window, when shorter), until ctx ends;
// then it flushes the rest and returns.
func (h *Handler) Run(ctx context.Context) {
	tick := time.NewTicker(min(time.Second, h.s.window))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = h.Flush(context.Background())
			return
		case <-tick.C:
			now := h.s.now()
			_ = h.s.write(ctx, h.s.due(now, false), now)
		}
	}
}

// due removes the windows that ended by now (all of them with all) and
// returns those with repeats to summarise.
func (s *state) due(now time.Time, all bool) []*entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !all && (s.next.IsZero() || now.Before(s.next)) {
		return nil
	}
	var out []*entry
	s.next = time.Time{}
	for k, e := range s.kinds {
		if !all && now.Before(e.end) {
			if s.next.IsZero() || e.end.Before(s.next) {
				s.next = e.end
			}
			continue
		}
		delete(s.kinds, k)
		if e.repeats > 0 {
			out = append(out, e)
		}
	}
	return out
}

// write writes one summary record per entry.
func (s *state) write(ctx context.Context, es []*entry, now time.Time) error {
	var err error
	for _, e := range es {
		r := slog.NewRecord(now, e.first.Level, e.first.Message, 0)
		if e.errAttr.Key != "" {
			r.AddAttrs(e.errAttr)
		}
		r.AddAttrs(slog.Int("repeated", e.repeats), slog.Duration("within", min(now.Sub(e.start), s.window)))
		err = firstErr(err, e.h.Handle(ctx, r))
	}
	return err
}

// findError returns r's first attribute whose value is an error or that is
// named err or error, looking into groups; an empty Attr when there is none.
func findError(r slog.Record) slog.Attr {
	var found slog.Attr
	r.Attrs(func(a slog.Attr) bool {
		found = errorIn(a)
		return found.Key == ""
	})
	return found
}

func errorIn(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		for _, g := range v.Group() {
			if f := errorIn(g); f.Key != "" {
				return f
			}
		}
		return slog.Attr{}
	case slog.KindAny:
		if _, ok := v.Any().(error); ok {
			return slog.Attr{Key: a.Key, Value: v}
		}
	}
	if a.Key == "err" || a.Key == "error" {
		return slog.Attr{Key: a.Key, Value: v}
	}
	return slog.Attr{}
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
