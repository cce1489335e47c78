package web

import (
	"net/http"
	"testing"
)

// TestConsoleMounted checks that /console and everything under it reach
// the console's handler with the full path, behind the security headers,
// and that a server without a console answers 404 there.
func TestConsoleMounted(t *testing.T) {
	const mark = "console-handler"
	console := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Test-Path", r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte(mark))
	})
	with := newAPIFixture(t, func(c *Config) { c.Console = console })
	without := newAPIFixture(t)
	for _, tc := range []struct{ method, target string }{
		{http.MethodGet, "/console"},
		{http.MethodGet, "/console/"},
		{http.MethodGet, "/console/app.js"},
		{http.MethodPost, "/console/api/login"},
		{http.MethodGet, "/console/ws"},
	} {
		rec := with.do(t, tc.method, tc.target, "", "")
		if rec.Code != http.StatusTeapot || rec.Body.String() != mark {
			t.Errorf("%s %s with a console: %d %q, want the console's answer", tc.method, tc.target, rec.Code, rec.Body)
		}
		if got := rec.Header().Get("X-Test-Path"); got != tc.target {
			t.Errorf("%s %s: the console saw path %q", tc.method, tc.target, got)
		}
		if got := rec.Header().Get("Content-Security-Policy"); got != CSP {
			t.Errorf("%s %s: CSP %q", tc.method, tc.target, got)
		}
		if rec := without.do(t, tc.method, tc.target, "", ""); rec.Code != http.StatusNotFound {
			t.Errorf("%s %s without a console: %d, want 404", tc.method, tc.target, rec.Code)
		}
	}
	// Paths that only start like the console's are not the console's.
	if rec := with.do(t, http.MethodGet, "/consoles", "", ""); rec.Body.String() == mark {
		t.Error("/consoles reached the console")
	}
}
