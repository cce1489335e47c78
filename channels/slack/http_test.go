package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
)

// httpLog collects an adapter's log lines.
type httpLog struct {
	mu  sync.Mutex
	buf bytes.Buffer // guarded by mu
}

func (l *httpLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// count is how many lines contain s.
func (l *httpLog) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), s)
}

// httpStack is newStack with the adapter's log (Debug and up) in log.
func httpStack(t *testing.T) (*stack, *httpLog) {
	t.Helper()
	log := &httpLog{}
	s := newStack(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	return s, log
}

// httpTaken reports whether the adapter took the event with key (accept
// records "slack:"+key); the check itself records it.
func httpTaken(t *testing.T, s *stack, key string) bool {
	t.Helper()
	fresh, err := s.store.MarkSeen(context.Background(), "slack:"+key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return !fresh
}

// httpSlackConversations is how many conversations on channel slack the
// store has.
func httpSlackConversations(t *testing.T, s *stack) int {
	t.Helper()
	convs, err := s.store.OpenConversations(context.Background(), crm.ConversationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range convs {
		if c.Channel == crm.ChannelSlack {
			n++
		}
	}
	return n
}

// httpDM is a signed-able event_callback body: customerUser's DM with
// event id id.
func httpDM(t *testing.T, id, text string) []byte {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"token": "legacy", "team_id": "TSHOP", "api_app_id": "AAPP", "type": "event_callback",
		"event_id": id, "event_time": time.Now().Unix(), "event": dm(customerUser, "DCUST", "1700000001.000100", text),
	})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func TestHTTPURLVerification(t *testing.T) {
	s, _ := httpStack(t)
	body := parseTestdata(t, "events/url_verification.json")
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/slack/events", bytes.NewReader(body))
	req.Header = sign(testSecret, time.Now(), body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Challenge string }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
		got.Challenge != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("got %d %q %+v; want 200 with the challenge", resp.StatusCode, resp.Header.Get("Content-Type"), got)
	}
}

func TestHTTPRejectsBadSignatures(t *testing.T) {
	s, log := httpStack(t)
	tests := []struct {
		name    string
		path    string
		body    func(id string) []byte
		headers func(body []byte) http.Header
		sent    func(body []byte) []byte // what goes on the wire; nil: body
	}{
		{name: "unsigned", headers: func([]byte) http.Header { return http.Header{} }},
		{name: "signature without timestamp", headers: func(b []byte) http.Header {
			h := sign(testSecret, time.Now(), b)
			h.Del("X-Slack-Request-Timestamp")
			return h
		}},
		{name: "forged", headers: func(b []byte) http.Header { return sign("not-the-secret", time.Now(), b) }},
		{name: "stale", headers: func(b []byte) http.Header { return sign(testSecret, time.Now().Add(-6*time.Minute), b) }},
		{name: "from the future", headers: func(b []byte) http.Header { return sign(testSecret, time.Now().Add(6*time.Minute), b) }},
		{name: "malformed signature", headers: func(b []byte) http.Header {
			h := sign(testSecret, time.Now(), b)
			h.Set("X-Slack-Signature", "v0=zz")
			return h
		}},
		{name: "timestamp changed after signing", headers: func(b []byte) http.Header {
			now := time.Now()
			h := sign(testSecret, now, b)
			h.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix()-1, 10))
			return h
		}},
		{name: "body changed after signing",
			headers: func(b []byte) http.Header { return sign(testSecret, time.Now(), b) },
			sent:    func(b []byte) []byte { return bytes.Replace(b, []byte("hello"), []byte("HELLO"), 1) }},
		{name: "interaction forged", path: "/slack/interactions",
			body: func(id string) []byte {
				payload := `{"type":"block_actions","trigger_id":"` + id + `","user":{"id":"UCUST"},"channel":{"id":"DCUST"},` +
					`"container":{"message_ts":"1.1"},"actions":[{"action_id":"parley_reply","value":"hello"}]}`
				return []byte("payload=" + url.QueryEscape(payload))
			},
			headers: func(b []byte) http.Header { return sign("not-the-secret", time.Now(), b) }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "EvBAD" + string(rune('A'+i))
			path, body, key := "/slack/events", httpDM(t, id, "hello <!channel>"), "ev:"+id
			if tt.path != "" {
				path, body, key = tt.path, tt.body(id), "act:"+id+":parley_reply"
			}
			h := tt.headers(body)
			if tt.sent != nil {
				body = tt.sent(body)
			}
			before := log.count("rejected a request")
			code, resp := s.send(t, path, "application/json", body, h)
			if code != http.StatusUnauthorized || len(resp) > 100 {
				t.Errorf("got %d %q; want 401 with a short body", code, resp)
			}
			if n := log.count("rejected a request") - before; n != 1 {
				t.Errorf("logged %d times; want once", n)
			}
			if httpTaken(t, s, key) {
				t.Error("a rejected event was accepted")
			}
		})
	}
	if n := httpSlackConversations(t, s); n != 0 {
		t.Errorf("%d Slack conversations after rejected requests; want none", n)
	}
}

func TestHTTPAcceptsSignedEvent(t *testing.T) {
	s, log := httpStack(t)
	body := httpDM(t, "EvGOOD1", "hello")
	code, resp := s.send(t, "/slack/events", "application/json", body, sign(testSecret, time.Now(), body))
	if code != http.StatusOK || resp != "" {
		t.Fatalf("got %d %q; want 200 and no body", code, resp)
	}
	if !httpTaken(t, s, "ev:EvGOOD1") {
		t.Error("the event was not accepted")
	}
	// Slack's retry of it: 200 again, noted at Debug.
	h := sign(testSecret, time.Now(), body)
	h.Set("X-Slack-Retry-Num", "1")
	h.Set("X-Slack-Retry-Reason", "http_timeout")
	if code, _ := s.send(t, "/slack/events", "application/json", body, h); code != http.StatusOK {
		t.Errorf("retry: got %d; want 200", code)
	}
	if log.count("retried request") != 1 || log.count("http_timeout") != 1 {
		t.Error("the retry was not logged")
	}
}

func TestHTTPEventsAnswers(t *testing.T) {
	s, _ := httpStack(t)
	tests := []struct {
		name string
		body []byte
		code int
		key  string // the event's key; taken says whether accept got it
		took bool
	}{
		{name: "bad json", body: []byte(`{"type":"event_callback","event_id":"EvX1",`), code: http.StatusBadRequest},
		{name: "not utf-8", body: []byte("{\"type\":\"url_verification\",\"challenge\":\"\xff\"}"), code: http.StatusBadRequest},
		{name: "ignored event type", body: parseTestdata(t, "events/reaction_added.json"), code: http.StatusOK, key: "ev:Ev0REACT01"},
		{name: "edit", body: parseTestdata(t, "events/message_changed.json"), code: http.StatusOK, key: "ev:Ev0PV5EDIT"},
		{name: "unknown outer type", body: parseTestdata(t, "events/app_rate_limited.json"), code: http.StatusOK},
		{name: "mention", body: parseTestdata(t, "events/app_mention.json"), code: http.StatusOK, key: "ev:Ev0LAN670R", took: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _ := s.send(t, "/slack/events", "application/json", tt.body, sign(testSecret, time.Now(), tt.body))
			if code != tt.code {
				t.Errorf("got %d; want %d", code, tt.code)
			}
			if tt.key != "" && httpTaken(t, s, tt.key) != tt.took {
				t.Errorf("accepted: %v; want %v", !tt.took, tt.took)
			}
		})
	}
}

func TestHTTPTooLarge(t *testing.T) {
	s, log := httpStack(t)
	body := append([]byte(`{"type":"url_verification","challenge":"`), bytes.Repeat([]byte("x"), maxBody)...)
	body = append(body, `"}`...)
	code, _ := s.send(t, "/slack/events", "application/json", body, sign(testSecret, time.Now(), body))
	if code != http.StatusRequestEntityTooLarge || log.count("body over 1 MiB") != 1 {
		t.Errorf("got %d; want 413, logged once", code)
	}
}

func TestHTTPInteractions(t *testing.T) {
	s, _ := httpStack(t)
	form := func(file string) []byte {
		return []byte("payload=" + url.QueryEscape(string(parseTestdata(t, "interactions/"+file))))
	}
	tests := []struct {
		name string
		body []byte
		code int
		key  string
	}{
		{"click", form("block_actions_dm.json"), http.StatusOK, "act:1700000161.61097.1b3f5e2a9c0d4e7f8a6b5c4d3e2f1a0b:parley_reply"},
		{"agent button", form("block_actions_thread.json"), http.StatusOK, "act:1700000170.61097.aa3f5e2a9c0d4e7f8a6b5c4d3e2f1a0b:parley_take"},
		{"view submission", form("view_submission.json"), http.StatusOK, ""},
		{"no payload", []byte("foo=bar"), http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, resp := s.send(t, "/slack/interactions", "application/x-www-form-urlencoded", tt.body, sign(testSecret, time.Now(), tt.body))
			if code != tt.code || (code == http.StatusOK && resp != "") {
				t.Errorf("got %d %q; want %d", code, resp, tt.code)
			}
			if tt.key != "" && !httpTaken(t, s, tt.key) {
				t.Error("the click was not accepted")
			}
		})
	}
	// helpers_test's click, end to end.
	if code := s.click(t, customerUser, "DCUST", "1700000002.000100", "", "parley_reply", "Track my order"); code != http.StatusOK {
		t.Errorf("click: got %d; want 200", code)
	}
}

func TestHTTPStoppedAdapterAsksForRetry(t *testing.T) {
	s, _ := httpStack(t)
	// A second adapter over the same store, stopped: accept cannot take
	// the event.
	a, err := New(Config{Engine: s.engine, Store: s.store, BotToken: "xoxb-test", SigningSecret: testSecret, APIURL: s.slack.GetAPIURL()})
	if err != nil {
		t.Fatal(err)
	}
	a.work.stop()
	body := httpDM(t, "EvSTOP1", "hello")
	req := httptest.NewRequest(http.MethodPost, "/slack/events", bytes.NewReader(body))
	req.Header = sign(testSecret, time.Now(), body)
	w := httptest.NewRecorder()
	a.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("got %d; want 503 so that Slack retries", w.Code)
	}
}
