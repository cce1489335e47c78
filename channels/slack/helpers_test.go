package slack

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/inmem"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/internal/shoptest"
	"github.com/parleyhq/parley/nlp/nlu"
)

// The tests' workspace: the bot, a customer, an agent, a stranger.
const (
	testSecret   = "8f742231b10e8888abcd99yyyzzz85a5"
	botUser      = "UBOT"
	botID        = "BBOT"
	agentChannel = "CAGENTS"
	customerUser = "UCUST"
	agentUser    = "UAGENT"
	strangerUser = "USTRANGE"
	agentEmail   = "ada@shop.example"
)

// keywordParser is the tests' NLU: "person" or "human" asks for a person
// (human_agent), "bye" says goodbye, "thank" thanks, anything else greets.
type keywordParser struct{}

func (keywordParser) Parse(_ context.Context, text string) (*nlu.Result, error) {
	low := strings.ToLower(text)
	intent := "greet"
	switch {
	case strings.Contains(low, "person"), strings.Contains(low, "human"):
		intent = "human_agent"
	case strings.Contains(low, "bye"):
		intent = "goodbye"
	case strings.Contains(low, "thank"):
		intent = "thanks"
	}
	return &nlu.Result{
		Text: text, Intent: intent, Confidence: 0.97, InScope: true,
		Ranking: []nlu.IntentScore{{Intent: intent, Confidence: 0.97}},
	}, nil
}

// post is one call of chat.postMessage or chat.postEphemeral the fake
// Slack got.
type post struct {
	Method   string // "chat.postMessage" or "chat.postEphemeral"
	Channel  string
	User     string // chat.postEphemeral's user
	Text     string
	ThreadTS string
	Blocks   string // the blocks' JSON as sent
	TS       string // the ts the fake gave the message
	At       time.Time
}

// fakeSlack is a fake Web API (slacktest with our own handlers) that
// records what the adapter posts. Users maps Slack user ids to profile
// e-mail addresses for users.info. Limit, when set, is asked before each
// chat.postMessage: a positive answer is a 429 with that Retry-After (in
// seconds).
type fakeSlack struct {
	*slacktest.Server

	mu    sync.Mutex
	posts []post            // guarded by mu
	users map[string]string // guarded by mu
	limit func(n int) int   // guarded by mu
	// down, when set, holds every Web API call until it is closed: Slack
	// is out.
	down   chan struct{} // guarded by mu
	calls  int           // chat.postMessage calls, 429s included; guarded by mu
	posted chan struct{} // gets a value after each recorded post
	nextTS int           // guarded by mu
}

func newFakeSlack(t testing.TB) *fakeSlack {
	t.Helper()
	f := &fakeSlack{
		users:  map[string]string{customerUser: "grace@example.com", agentUser: agentEmail, strangerUser: "mallory@example.com"},
		posted: make(chan struct{}, 1024),
	}
	f.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", f.record("chat.postMessage"))
		c.Handle("/chat.postEphemeral", f.record("chat.postEphemeral"))
		c.Handle("/users.info", f.userInfo)
		c.Handle("/auth.test", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, map[string]any{"ok": true, "team": "Shop", "team_id": "TSHOP", "user": "parley", "user_id": botUser, "bot_id": botID})
		})
	})
	f.Start()
	t.Cleanup(f.Stop)
	return f
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeSlack) record(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		down := f.down
		f.mu.Unlock()
		if down != nil {
			<-down
		}
		f.mu.Lock()
		f.calls++
		if f.limit != nil && method == "chat.postMessage" {
			if after := f.limit(f.calls); after > 0 {
				f.mu.Unlock()
				w.Header().Set("Retry-After", strconv.Itoa(after))
				w.WriteHeader(http.StatusTooManyRequests)
				writeJSON(w, map[string]any{"ok": false, "error": "ratelimited"})
				return
			}
		}
		f.nextTS++
		p := post{
			Method: method, Channel: r.FormValue("channel"), User: r.FormValue("user"), Text: r.FormValue("text"),
			ThreadTS: r.FormValue("thread_ts"), Blocks: r.FormValue("blocks"),
			TS: fmt.Sprintf("1700000000.%06d", f.nextTS), At: time.Now(),
		}
		f.posts = append(f.posts, p)
		f.mu.Unlock()
		f.posted <- struct{}{}
		if method == "chat.postEphemeral" {
			writeJSON(w, map[string]any{"ok": true, "message_ts": p.TS})
			return
		}
		writeJSON(w, map[string]any{"ok": true, "channel": p.Channel, "ts": p.TS, "message": map[string]any{"text": p.Text, "ts": p.TS}})
	}
}

func (f *fakeSlack) userInfo(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id := r.FormValue("user")
	f.mu.Lock()
	email, ok := f.users[id]
	f.mu.Unlock()
	if !ok {
		writeJSON(w, map[string]any{"ok": false, "error": "user_not_found"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "user": map[string]any{
		"id": id, "name": strings.ToLower(id), "real_name": "User " + id, "profile": map[string]any{"email": email},
	}})
}

// Posts returns a copy of what was posted so far.
func (f *fakeSlack) Posts() []post {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]post(nil), f.posts...)
}

// waitFor waits until match holds for the posts so far and returns them.
// The deadline only keeps a broken test from hanging: it is not a speed
// requirement.
func (f *fakeSlack) waitFor(t testing.TB, what string, match func([]post) bool) []post {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if ps := f.Posts(); match(ps) {
			return ps
		}
		select {
		case <-f.posted:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("waiting for %s; posts: %+v", what, f.Posts())
		}
	}
}

// count is how many posts match.
func count(ps []post, match func(post) bool) int {
	n := 0
	for _, p := range ps {
		if match(p) {
			n++
		}
	}
	return n
}

// stack is an adapter over a real engine and an in-memory store seeded
// with the demo shop, talking to a fake Slack, with its Events API served
// by srv.
type stack struct {
	store   *inmem.Store
	engine  *dialog.Engine
	slack   *fakeSlack
	adapter *Adapter
	srv     *httptest.Server
	now     time.Time
}

// newStack starts an adapter (Run) with the signing secret and the agent
// channel set; opts change its config first.
func newStack(t testing.TB, opts ...func(*Config)) *stack {
	t.Helper()
	now := time.Now() // signatures are checked against the real clock
	st := inmem.New(nil)
	seed, err := shop.Seed(now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Import(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutAgent(context.Background(), crm.Agent{Login: agentEmail, Name: "Ada", Role: crm.RoleAgent}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	engine, err := dialog.New(dialog.Config{Domain: shoptest.Domain(t), Parser: keywordParser{}, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{store: st, engine: engine, slack: newFakeSlack(t), now: now}
	cfg := Config{
		Engine: engine, Store: st, BotToken: "xoxb-test", SigningSecret: testSecret,
		AgentChannel: agentChannel, APIURL: s.slack.GetAPIURL(), Rate: 1000, Burst: 1000,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	for _, o := range opts {
		o(&cfg)
	}
	s.adapter, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.adapter.Run(ctx) }()
	s.srv = httptest.NewServer(s.adapter.Handler())
	t.Cleanup(func() {
		s.srv.Close()
		cancel()
		<-done
	})
	return s
}

// testWriter sends log lines to the test's log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// sign returns the headers Slack signs body with at ts.
func sign(secret string, ts time.Time, body []byte) http.Header {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", stamp, body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", stamp)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// send POSTs body to path with headers h and returns the status and body.
func (s *stack) send(t testing.TB, path, contentType string, body []byte, h http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// event POSTs a signed event_callback carrying inner (an event's JSON
// object) with event id id to /slack/events, and returns the status.
func (s *stack) event(t testing.TB, id string, inner map[string]any) int {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"token": "legacy", "team_id": "TSHOP", "api_app_id": "AAPP", "type": "event_callback",
		"event_id": id, "event_time": s.now.Unix(), "event": inner,
	})
	if err != nil {
		t.Fatal(err)
	}
	code, _ := s.send(t, "/slack/events", "application/json", body, sign(testSecret, time.Now(), body))
	return code
}

// dm is a customer's direct message to the bot.
func dm(user, channel, ts, text string) map[string]any {
	return map[string]any{"type": "message", "channel_type": "im", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts}
}

// threadReply is a message in a thread of a channel.
func threadReply(user, channel, threadTS, ts, text string) map[string]any {
	return map[string]any{"type": "message", "channel_type": "channel", "channel": channel, "user": user, "text": text, "ts": ts, "thread_ts": threadTS, "event_ts": ts}
}

// click POSTs a signed block_actions interaction: user pressed the button
// actionID with value on the message ts (in thread threadTS, or none) of
// channel.
func (s *stack) click(t testing.TB, user, channel, ts, threadTS, actionID, value string) int {
	t.Helper()
	msg := map[string]any{"type": "message", "ts": ts}
	if threadTS != "" {
		msg["thread_ts"] = threadTS
	}
	payload, err := json.Marshal(map[string]any{
		"type": "block_actions", "trigger_id": fmt.Sprintf("trig-%s-%s-%d", user, actionID, time.Now().UnixNano()),
		"team": map[string]any{"id": "TSHOP"}, "user": map[string]any{"id": user},
		"channel": map[string]any{"id": channel}, "container": map[string]any{"type": "message", "message_ts": ts, "channel_id": channel},
		"message": msg,
		"actions": []map[string]any{{"type": "button", "action_id": actionID, "block_id": "b", "value": value, "action_ts": "1700000001.000100"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("payload=" + url.QueryEscape(string(payload)))
	code, _ := s.send(t, "/slack/interactions", "application/x-www-form-urlencoded", body, sign(testSecret, time.Now(), body))
	return code
}
