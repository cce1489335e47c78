package web

import (
	"io"
	"net/http"
	"testing"
)

// TestSlackMounted checks that the Slack endpoints reach the Slack
// adapter's handler with their path and body, and that a server without
// Slack answers 404 there.
func TestSlackMounted(t *testing.T) {
	const mark = "slack-handler"
	slack := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Test-Path", r.URL.Path)
		w.Header().Set("X-Test-Body", string(body))
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte(mark))
	})
	with := newAPIFixture(t, func(c *Config) { c.Slack = slack })
	without := newAPIFixture(t)
	for _, tc := range []struct{ method, target, body string }{
		{http.MethodPost, "/slack/events", `{"type":"url_verification","challenge":"c"}`},
		{http.MethodPost, "/slack/interactions", "payload=%7B%7D"},
		{http.MethodGet, "/slack/events", ""}, // the adapter decides what a GET gets
	} {
		rec := with.do(t, tc.method, tc.target, "", tc.body)
		if rec.Code != http.StatusTeapot || rec.Body.String() != mark {
			t.Errorf("%s %s with Slack: %d %q, want the Slack handler's answer", tc.method, tc.target, rec.Code, rec.Body)
		}
		if got := rec.Header().Get("X-Test-Path"); got != tc.target {
			t.Errorf("%s %s: the Slack handler saw path %q", tc.method, tc.target, got)
		}
		if got := rec.Header().Get("X-Test-Body"); got != tc.body {
			t.Errorf("%s %s: the Slack handler read body %q, want %q", tc.method, tc.target, got, tc.body)
		}
		if rec := without.do(t, tc.method, tc.target, "", tc.body); rec.Code != http.StatusNotFound {
			t.Errorf("%s %s without Slack: %d, want 404", tc.method, tc.target, rec.Code)
		}
	}
	// The rest of the server is not Slack's.
	if rec := with.do(t, http.MethodGet, "/slackers", "", ""); rec.Body.String() == mark {
		t.Error("/slackers reached the Slack handler")
	}
	if rec := with.do(t, http.MethodGet, "/healthz", "", ""); rec.Code != http.StatusOK {
		t.Errorf("/healthz with Slack: %d", rec.Code)
	}
}
