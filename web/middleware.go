package web

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/httpjson"
)

// CSP is the Content-Security-Policy of every response. Scripts come only
// from this server's own files (no inline scripts, no eval), the chat
// connects back to this server over HTTP or WebSocket, styles may be
// inline (the widget sets element styles), and no other site may frame the
// pages.
const CSP = "default-src 'self'; script-src 'self'; connect-src 'self' ws: wss:; " +
	"style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// quietPaths are probed often by machines: their requests are logged at
// debug level.
var quietPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// logRequests logs one line per request once it is done: method, path
// without the query, the route that matched, status, bytes written and
// duration. Bodies, queries and headers (tokens) are never logged.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		level := slog.LevelInfo
		switch {
		case rec.status >= 500:
			level = slog.LevelError
		case quietPaths[r.URL.Path] && rec.status < 400:
			level = slog.LevelDebug
		}
		s.log.LogAttrs(r.Context(), level, "http request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", r.Pattern),
			slog.Int("status", rec.statusOr200()),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)),
		)
	})
}

// recoverPanics turns a panic of a handler into a logged 500 with the JSON
// error (when nothing was written yet), so that one bad request does not
// end the process. http.ErrAbortHandler goes on up, as net/http expects.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, ok := w.(*recorder)
		if !ok {
			rec = &recorder{ResponseWriter: w}
		}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			log.Error("handler panic", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !rec.wrote && !rec.hijacked {
				httpjson.WriteError(rec, http.StatusInternalServerError, httpjson.CodeInternal, "internal error")
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// recorder remembers what a handler wrote. It passes Hijack (for
// WebSocket upgrades) and Flush through, and Unwrap for
// http.ResponseController.
type recorder struct {
	http.ResponseWriter
	status   int
	bytes    int64
	wrote    bool
	hijacked bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status = code
		// 1xx responses are informational: the real status follows.
		r.wrote = code >= 200 || code == http.StatusSwitchingProtocols
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) statusOr200() int {
	switch {
	case r.hijacked && r.status == 0:
		return http.StatusSwitchingProtocols
	case r.status == 0:
		return http.StatusOK
	}
	return r.status
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		if !r.wrote {
			r.status, r.wrote = http.StatusOK, true
		}
		f.Flush()
	}
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijack: response writer does not support it")
	}
	c, rw, err := h.Hijack()
	if err == nil {
		r.hijacked, r.wrote = true, true
	}
	return c, rw, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// tokenChecker compares bearer tokens in constant time: both sides are
// hashed first, so neither the content nor the length of the token leaks
// through timing.
type tokenChecker struct {
	set  bool
	hash [sha256.Size]byte
}

func newTokenChecker(token string) tokenChecker {
	if token == "" {
		return tokenChecker{}
	}
	return tokenChecker{set: true, hash: sha256.Sum256([]byte(token))}
}

// check returns the API error for the request's Authorization header, or
// nil when it carries the token.
func (t tokenChecker) check(r *http.Request) *httpjson.Error {
	if !t.set {
		return &httpjson.Error{Status: http.StatusForbidden, Code: codeAPIDisabled,
			Message: "the REST API is disabled: no API token is configured on this server"}
	}
	auth := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(auth, " ")
	if auth == "" || !ok || !strings.EqualFold(scheme, "Bearer") {
		return &httpjson.Error{Status: http.StatusUnauthorized, Code: httpjson.CodeUnauthorized,
			Message: "missing bearer token: send Authorization: Bearer <token>"}
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	if subtle.ConstantTimeCompare(got[:], t.hash[:]) != 1 {
		return &httpjson.Error{Status: http.StatusUnauthorized, Code: httpjson.CodeUnauthorized,
			Message: "wrong bearer token"}
	}
	return nil
}
