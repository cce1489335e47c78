package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/httpjson"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/internal/shoptest"
	"github.com/parleyhq/parley/nlp"
)

// The helpers of this file serve the httptest-level tests of the server;
// the browser tests have their own stack.

const testToken = "s3cret-token-for-tests"

// stubParser answers every text with one intent, or with err.
type stubParser struct {
	intent string
	err    error

	mu    sync.Mutex
	calls []string // guarded by mu
}

func (p *stubParser) Parse(ctx context.Context, text string) (*nlp.Result, error) {
	p.mu.Lock()
	p.calls = append(p.calls, text)
	p.mu.Unlock()
	if p.err != nil {
		return nil, p.err
	}
	return &nlp.Result{
		Text: text, Intent: p.intent, Confidence: 0.97, InScope: true,
		Ranking: []nlp.IntentScore{{Intent: p.intent, Confidence: 0.97}, {Intent: "thanks", Confidence: 0.01}},
	}, nil
}

// apiFixture is a server over a seeded store in t.TempDir(), with a real
// engine (stub parser) whose events, parser and store writes are measured by
// metrics.
type apiFixture struct {
	db      *boltdb.DB
	engine  *dialog.Engine
	parser  *stubParser
	metrics *Metrics
	events  dialog.Events // the engine's, counted by metrics
	srv     *Server
	logs    *syncBuffer
	ready   error // returned by Ready; guarded by readyMu
	readyMu sync.Mutex
}

// fixtureOption changes the Config before New.
type fixtureOption func(*Config)

func newAPIFixture(t testing.TB, opts ...fixtureOption) *apiFixture {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "parley.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := shop.EnsureSeeded(ctx, db, now); err != nil {
		t.Fatal(err)
	}
	domain := shoptest.Domain(t)
	f := &apiFixture{db: db, parser: &stubParser{intent: "greet"}, metrics: NewMetrics(), logs: &syncBuffer{}}
	f.events = f.metrics.Events(dialog.NewBus())
	f.engine, err = dialog.New(dialog.Config{Domain: domain, Parser: f.metrics.Parser(f.parser), Store: f.metrics.Store(db), Events: f.events})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Store:    db,
		Engine:   f.engine,
		Parser:   f.metrics.Parser(f.parser),
		APIToken: testToken,
		Metrics:  f.metrics,
		Ready: func(context.Context) error {
			f.readyMu.Lock()
			defer f.readyMu.Unlock()
			return f.ready
		},
		Logger: slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, o := range opts {
		o(&cfg)
	}
	f.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *apiFixture) setReady(err error) {
	f.readyMu.Lock()
	f.ready = err
	f.readyMu.Unlock()
}

// startConversation opens a web conversation for the customer ("" for an
// unknown one).
func (f *apiFixture) startConversation(t testing.TB, customerID string) crm.Conversation {
	t.Helper()
	c, err := f.engine.Start(context.Background(), dialog.StartRequest{Channel: crm.ChannelWeb, CustomerID: customerID})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// do sends a request through the whole handler; token "" sends none.
func (f *apiFixture) do(t testing.TB, method, target, token, body string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(rec, req)
	return rec
}

// api is do with the right token.
func (f *apiFixture) api(t testing.TB, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	return f.do(t, method, target, testToken, body)
}

// decodeAs decodes a JSON answer, failing the test on a wrong content type
// or body.
func decodeAs[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json; body %s", ct, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return v
}

// wantError checks that rec is the JSON error with status and code.
func wantError(t testing.TB, rec *httptest.ResponseRecorder, status int, code string) httpjson.ErrorDetail {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	e := decodeAs[httpjson.ErrorBody](t, rec)
	if e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("error %+v, want code %q with a message", e.Error, code)
	}
	return e.Error
}

// scrape returns the metrics exposition.
func (f *apiFixture) scrape(t testing.TB) string {
	t.Helper()
	rec := f.do(t, http.MethodGet, "/metrics", "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// metricValue finds the sample "name{labels} value" in an exposition;
// labels is written as Prometheus writes it (sorted, quoted), "" for none.
// A missing sample is an error.
func metricValue(exposition, name, labels string) (float64, error) {
	prefix := name
	if labels != "" {
		prefix += "{" + labels + "}"
	}
	prefix += " "
	for line := range strings.SplitSeq(exposition, "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return strconv.ParseFloat(strings.Fields(v)[0], 64)
		}
	}
	return 0, errors.New("no sample " + strings.TrimSpace(prefix))
}

func mustMetric(t testing.TB, exposition, name, labels string) float64 {
	t.Helper()
	v, err := metricValue(exposition, name, labels)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer // guarded by mu
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
