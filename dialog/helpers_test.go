package dialog_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/inmem"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/internal/shoptest"
	"github.com/parleyhq/parley/nlp"
)

// now is the tests' clock: the seed's orders are placed relative to it.
var now = time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)

// fakeNLU answers from a table of scripted results, keyed by text.
type fakeNLU struct {
	mu      sync.Mutex
	results map[string]*nlp.Result // guarded by mu
}

func (f *fakeNLU) Parse(_ context.Context, text string) (*nlp.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.results[text]
	if !ok {
		return nil, fmt.Errorf("fake nlu: no script for %q", text)
	}
	c := *r
	return &c, nil
}

func (f *fakeNLU) set(text string, r *nlp.Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.results == nil {
		f.results = make(map[string]*nlp.Result)
	}
	f.results[text] = r
}

// scripted builds a result from a spec such as
// "order_status:0.6 delivery_time:0.3 @order_id=1042" ("oos" marks it out
// of scope).
func scripted(text, spec string) (*nlp.Result, error) {
	r := &nlp.Result{Text: text, InScope: true}
	for _, f := range strings.Fields(spec) {
		switch {
		case f == "oos":
			r.InScope = false
		case strings.HasPrefix(f, "@"):
			typ, val, ok := strings.Cut(f[1:], "=")
			if !ok {
				return nil, fmt.Errorf("entity %q: want @type=value", f)
			}
			start := strings.Index(text, val)
			if start < 0 {
				return nil, fmt.Errorf("entity %q not in %q", val, text)
			}
			rs := len([]rune(text[:start]))
			r.Entities = append(r.Entities, nlp.Entity{Type: typ, Text: val, Value: strings.ToLower(val), Start: rs, End: rs + len([]rune(val))})
		default:
			name, conf, ok := strings.Cut(f, ":")
			x, err := strconv.ParseFloat(conf, 64)
			if !ok || err != nil {
				return nil, fmt.Errorf("intent %q: want name:confidence", f)
			}
			r.Ranking = append(r.Ranking, nlp.IntentScore{Intent: name, Confidence: x})
		}
	}
	if len(r.Ranking) == 0 {
		return nil, fmt.Errorf("spec %q names no intent", spec)
	}
	r.Intent, r.Confidence = r.Ranking[0].Intent, r.Ranking[0].Confidence
	return r, nil
}

// seededDB is an in-memory store holding the demo shop's seed.
func seededDB(t testing.TB) crm.Store {
	t.Helper()
	db := inmem.New(&inmem.Options{Now: func() time.Time { return now }})
	t.Cleanup(func() { db.Close() })
	// The seed without the synthetic history: the transcripts do not need
	// it, and importing it costs most of a second under -race.
	seed, err := shop.Seed(now)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Import(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	return db
}

type harness struct {
	db     crm.Store
	nlu    *fakeNLU
	parser *dialog.SwapParser // the engine's parser: h.nlu until swapped
	engine *dialog.Engine
	bus    *dialog.Bus
	caller *fakeCaller
	logs   *bytes.Buffer // the engine's log, as JSON lines
	source string        // Inbound.Source of what say sends
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessWith(t, shoptest.Domain(t), nil)
}

// newHarnessWith runs domain d, with a fakeCaller for its webhooks and kb
// (nil for none) as the engine's Answerer.
func newHarnessWith(t testing.TB, d *dialog.Domain, kb dialog.Answerer) *harness {
	t.Helper()
	h := &harness{db: seededDB(t), nlu: &fakeNLU{}, bus: dialog.NewBus(), caller: &fakeCaller{}, logs: &bytes.Buffer{}}
	h.parser = dialog.NewSwapParser(h.nlu)
	t.Cleanup(h.bus.Close)
	var err error
	h.engine, err = dialog.New(dialog.Config{
		Domain: d, Parser: h.parser, Store: h.db, Events: h.bus, Now: func() time.Time { return now },
		Caller: h.caller, Logger: slog.New(slog.NewJSONHandler(&lockedWriter{w: h.logs}, nil)), KB: kb,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// start opens a conversation, as the customer with the e-mail when given.
func (h *harness) start(t testing.TB, email string) crm.Conversation {
	t.Helper()
	req := dialog.StartRequest{Channel: crm.ChannelWeb}
	if email != "" {
		c, err := h.db.CustomerByEmail(context.Background(), email)
		if err != nil {
			t.Fatal(err)
		}
		req.CustomerID = c.ID
	}
	conv, err := h.engine.Start(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return conv
}

// say sends text scripted by spec and returns the outcome.
func (h *harness) say(t testing.TB, convID, text, spec string) dialog.Outcome {
	t.Helper()
	r, err := scripted(text, spec)
	if err != nil {
		t.Fatal(err)
	}
	h.nlu.set(text, r)
	out, err := h.engine.Handle(context.Background(), dialog.Inbound{ConversationID: convID, Text: text, Source: h.source})
	if err != nil {
		t.Fatalf("handle %q: %v", text, err)
	}
	return out
}

// webhookDomain loads testdata/webhook/domain.yml against the shop's labels.
func webhookDomain(t testing.TB) *dialog.Domain {
	t.Helper()
	path := filepath.Join("testdata", "webhook", "domain.yml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dialog.ParseDomain(path, data, shoptest.Labels(t))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// fakeCaller answers webhook calls from scripted results, in order, per
// hook, and records the requests. A call without a script fails.
type fakeCaller struct {
	mu      sync.Mutex
	scripts map[string][]hookResult // guarded by mu
	calls   []hookCall              // guarded by mu
}

type hookResult struct {
	reply dialog.WebhookReply
	err   error
	block bool // wait for the context to end, as a hung backend does
}

type hookCall struct {
	hook     dialog.Webhook
	req      dialog.WebhookRequest
	deadline bool // the context had a deadline
}

func (f *fakeCaller) script(name string, r hookResult) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.scripts == nil {
		f.scripts = make(map[string][]hookResult)
	}
	f.scripts[name] = append(f.scripts[name], r)
}

// take returns the calls made since the last take.
func (f *fakeCaller) take() []hookCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func (f *fakeCaller) Call(ctx context.Context, hook dialog.Webhook, req dialog.WebhookRequest) (dialog.WebhookReply, error) {
	_, hasDeadline := ctx.Deadline()
	f.mu.Lock()
	f.calls = append(f.calls, hookCall{hook: hook, req: req, deadline: hasDeadline})
	queue := f.scripts[hook.Name]
	if len(queue) == 0 {
		f.mu.Unlock()
		return dialog.WebhookReply{}, fmt.Errorf("fake caller: no script for webhook %s", hook.Name)
	}
	r := queue[0]
	f.scripts[hook.Name] = queue[1:]
	f.mu.Unlock()
	if r.block {
		<-ctx.Done()
		return dialog.WebhookReply{}, ctx.Err()
	}
	return r.reply, r.err
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer // guarded by mu
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
