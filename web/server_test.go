package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyhq/parley/internal/httpjson"
)

func TestNewNeedsStore(t *testing.T) {
	if _, err := New(Config{}); !errors.Is(err, ErrConfig) {
		t.Fatalf("New without a store: %v, want ErrConfig", err)
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	f := newAPIFixture(t)
	for _, target := range []string{"/", "/widget.js", "/healthz", "/api/v1/conversations", "/no-such-page"} {
		rec := f.do(t, http.MethodGet, target, "", "")
		h := rec.Header()
		if got := h.Get("Content-Security-Policy"); got != CSP {
			t.Errorf("%s: CSP %q", target, got)
		}
		if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", target, got)
		}
		if got := h.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s: Referrer-Policy %q", target, got)
		}
	}
	// The policy forbids inline scripts: no 'unsafe-inline' or
	// 'unsafe-eval' for scripts.
	for _, d := range strings.Split(CSP, ";") {
		if d = strings.TrimSpace(d); strings.HasPrefix(d, "script-src") && strings.Contains(d, "unsafe") {
			t.Errorf("CSP allows unsafe scripts: %q", d)
		}
	}
}

func TestEmbeddedStaticFiles(t *testing.T) {
	f := newAPIFixture(t)
	tests := []struct {
		name, target string
		status       int
		ctype, cache string
		body         string // a substring the answer must contain
	}{
		{"demo page", "/", 200, "text/html; charset=utf-8", "no-cache", "widget.js"},
		{"page by name", "/index.html", 200, "text/html; charset=utf-8", "no-cache", "widget.js"},
		{"widget", "/widget.js", 200, "text/javascript; charset=utf-8", "public, max-age=300", ""},
		{"missing file", "/nothing.js", 404, "", "", ""},
		{"trailing slash", "/widget.js/", 404, "", "", ""},
		{"directory name", "/static/", 404, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.do(t, http.MethodGet, tc.target, "", "")
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if tc.status != 200 {
				return
			}
			if got := rec.Header().Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			if got := rec.Header().Get("Cache-Control"); got != tc.cache {
				t.Errorf("Cache-Control %q, want %q", got, tc.cache)
			}
			if rec.Header().Get("ETag") == "" {
				t.Error("no ETag")
			}
			if rec.Body.Len() == 0 || !strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("body (%d bytes) lacks %q", rec.Body.Len(), tc.body)
			}
		})
	}
}

func TestStaticRevalidation(t *testing.T) {
	f := newAPIFixture(t)
	first := f.do(t, http.MethodGet, "/widget.js", "", "")
	etag := first.Header().Get("ETag")
	if first.Code != 200 || !strings.HasPrefix(etag, `"`) {
		t.Fatalf("GET /widget.js: %d, ETag %q", first.Code, etag)
	}
	tests := []struct {
		name, ifNoneMatch string
		status            int
	}{
		{"same version", etag, http.StatusNotModified},
		{"other version", `"old"`, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/widget.js", nil)
			req.Header.Set("If-None-Match", tc.ifNoneMatch)
			rec := httptest.NewRecorder()
			f.srv.Handler().ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if tc.status == http.StatusNotModified && rec.Body.Len() != 0 {
				t.Errorf("304 with a body of %d bytes", rec.Body.Len())
			}
		})
	}
	other := f.do(t, http.MethodGet, "/index.html", "", "")
	if other.Header().Get("ETag") == etag {
		t.Error("index.html and widget.js share an ETag")
	}
}

func TestStaticNoDirectoryListing(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html":    {Data: []byte("<!doctype html><title>x</title>")},
		"img/logo.svg":  {Data: []byte("<svg xmlns='http://www.w3.org/2000/svg'/>")},
		"img/deep/a.js": {Data: []byte("1")},
	}
	srv, err := newServer(Config{Store: newAPIFixture(t).db}, fsys)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, target string
		status       int
		ctype        string
	}{
		{"directory", "/img", 404, ""},
		{"directory slash", "/img/", 404, ""},
		{"nested directory", "/img/deep/", 404, ""},
		{"file in directory", "/img/logo.svg", 200, "image/svg+xml"},
		{"nested file", "/img/deep/a.js", 200, "text/javascript; charset=utf-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.target, nil))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d; body %q", rec.Code, tc.status, rec.Body)
			}
			if tc.status == 200 && rec.Header().Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type %q, want %q", rec.Header().Get("Content-Type"), tc.ctype)
			}
			if strings.Contains(rec.Body.String(), "logo.svg") && tc.status != 200 {
				t.Errorf("listing: %q", rec.Body)
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	f := newAPIFixture(t)
	f.setReady(errors.New("model not loaded")) // health does not depend on readiness
	rec := f.do(t, http.MethodGet, "/healthz", "", "")
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "ok" {
		t.Fatalf("GET /healthz: %d %q", rec.Code, rec.Body)
	}
}

func TestReadyz(t *testing.T) {
	f := newAPIFixture(t)
	f.setReady(errors.New("model not loaded"))
	e := wantError(t, f.do(t, http.MethodGet, "/readyz", "", ""), http.StatusServiceUnavailable, codeNotReady)
	if e.Message != "model not loaded" {
		t.Errorf("reason %q", e.Message)
	}
	f.setReady(nil)
	rec := f.do(t, http.MethodGet, "/readyz", "", "")
	if rec.Code != 200 || decodeAs[map[string]string](t, rec)["status"] != "ready" {
		t.Fatalf("GET /readyz when ready: %d %s", rec.Code, rec.Body)
	}
}

func TestOptionalFeaturesOff(t *testing.T) {
	f := newAPIFixture(t, func(c *Config) { c.Chat, c.Metrics, c.Engine, c.Parser, c.Ready = nil, nil, nil, nil, nil })
	wantError(t, f.do(t, http.MethodGet, "/ws", "", ""), http.StatusServiceUnavailable, httpjson.CodeUnavailable)
	wantError(t, f.do(t, http.MethodGet, "/metrics", "", ""), http.StatusNotFound, httpjson.CodeNotFound)
	wantError(t, f.api(t, http.MethodPost, "/api/v1/parse", `{"text":"hi"}`), http.StatusServiceUnavailable, codeModelNotLoaded)
	c := f.startConversation(t, "")
	wantError(t, f.api(t, http.MethodPost, "/api/v1/conversations/"+c.ID+"/messages", `{"text":"hi","sender":"system"}`),
		http.StatusServiceUnavailable, httpjson.CodeUnavailable)
	if rec := f.do(t, http.MethodGet, "/readyz", "", ""); rec.Code != 200 {
		t.Errorf("readyz without a Ready func: %d", rec.Code)
	}
}

// TestChatUpgradeThroughMiddleware checks that /ws reaches the chat handler
// and that a WebSocket upgrade works through the logging and recovery
// wrappers (they must pass Hijack on).
func TestChatUpgradeThroughMiddleware(t *testing.T) {
	up := websocket.Upgrader{}
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(typ, msg); err != nil {
				return
			}
		}
	})
	f := newAPIFixture(t, func(c *Config) { c.Chat = echo })
	served := make(chan struct{}, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.srv.Handler().ServeHTTP(w, r)
		served <- struct{}{}
	}))
	defer ts.Close()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatalf("dial /ws: %v", err)
	}
	defer conn.Close()
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	_, got, err := conn.ReadMessage()
	if err != nil || string(got) != `{"type":"ping"}` {
		t.Fatalf("echo: %q, %v", got, err)
	}
	conn.Close()
	<-served // the handler returned, and so logged
	if !strings.Contains(f.logs.String(), `"path":"/ws","route":"/ws","status":101`) {
		t.Errorf("no log line for the upgrade in:\n%s", f.logs)
	}
}

func TestPanicRecovery(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	tests := []struct {
		name    string
		handler http.HandlerFunc
		status  int
		body    string
	}{
		{"panic before writing", func(w http.ResponseWriter, r *http.Request) { panic("boom") }, 500, `"code":"internal"`},
		{"panic after writing", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, "partial")
			panic("boom")
		}, http.StatusAccepted, "partial"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			recoverPanics(log, tc.handler).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.body) {
				t.Fatalf("got %d %q, want %d with %q", rec.Code, rec.Body, tc.status, tc.body)
			}
		})
	}
	if n := strings.Count(logs.String(), `"msg":"handler panic"`); n != len(tests) {
		t.Errorf("%d panic log lines, want %d:\n%s", n, len(tests), logs.String())
	}

	t.Run("abort handler goes on up", func(t *testing.T) {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Fatalf("recovered %v, want http.ErrAbortHandler", v)
			}
		}()
		recoverPanics(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler)
		})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
	})
}

// TestRequestLogLeaksNothing checks the log line of an API call: method,
// path, route and status, but not the token, the query or the body.
func TestRequestLogLeaksNothing(t *testing.T) {
	f := newAPIFixture(t)
	c := f.startConversation(t, "c-001")
	secret := "my card number is in here"
	if rec := f.api(t, http.MethodPost, "/api/v1/parse?debug=querysecret", `{"text":"`+secret+`"}`); rec.Code != 200 {
		t.Fatalf("parse: %d %s", rec.Code, rec.Body)
	}
	f.do(t, http.MethodGet, "/api/v1/conversations/"+c.ID, "wrong-token-value", "")
	logs := f.logs.String()
	for _, want := range []string{
		`"method":"POST","path":"/api/v1/parse","route":"POST /api/v1/parse","status":200`,
		`"path":"/api/v1/conversations/` + c.ID + `","route":"/api/","status":401`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	for _, leak := range []string{testToken, "wrong-token-value", secret, "querysecret"} {
		if strings.Contains(logs, leak) {
			t.Errorf("log contains %q:\n%s", leak, logs)
		}
	}
}

// A readiness check gets a deadline: one stuck on a store whose commits
// hang (a failing disk) answers 503 with its error instead of hanging the
// probe, and the answer is not cached.
func TestReadyzIsBounded(t *testing.T) {
	f := newAPIFixture(t, func(c *Config) {
		c.Ready = func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				return nil // the old probe: no deadline, and it said ready
			}
			<-ctx.Done()
			return fmt.Errorf("store cannot write: %w", ctx.Err())
		}
	})
	start := time.Now()
	rec := f.do(t, http.MethodGet, "/readyz", "", "")
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("readyz took %v", took)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	e := wantError(t, rec, http.StatusServiceUnavailable, codeNotReady)
	if !strings.Contains(e.Message, "store cannot write") {
		t.Errorf("reason %q", e.Message)
	}
}
