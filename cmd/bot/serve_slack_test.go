package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/parleyhq/parley/internal/shoptest"
)

// slackEnv are the environment variables of serve's Slack flags.
var slackEnv = []string{"PARLEY_SLACK_BOT_TOKEN", "PARLEY_SLACK_APP_TOKEN", "PARLEY_SLACK_SIGNING_SECRET",
	"PARLEY_SLACK_AGENT_CHANNEL", "PARLEY_SLACK_API_URL", "PARLEY_SLACK_TRUST_EMAIL"}

// clearSlackEnv keeps the caller's environment out of the test.
func clearSlackEnv(t *testing.T) {
	t.Helper()
	for _, e := range slackEnv {
		t.Setenv(e, "")
	}
}

// TestSlackFlags checks which Slack settings serve takes, from flags and
// from the environment, and that a wrong one is refused with a message
// that names the flag and never shows the secret.
func TestSlackFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // the error's text; "" for a good config
		on   bool   // Slack on
	}{
		{name: "off"},
		{name: "socket mode", args: []string{"--slack-bot-token", "xoxb-1-secret", "--slack-app-token", "xapp-1-secret"}, on: true},
		{name: "events API", args: []string{"--slack-bot-token", "xoxb-1-secret", "--slack-signing-secret", "s3cret",
			"--slack-agent-channel", "CAGENTS", "--slack-api-url", "http://127.0.0.1:9/api/"}, on: true},
		{name: "from the environment", env: map[string]string{"PARLEY_SLACK_BOT_TOKEN": "xoxb-1-secret",
			"PARLEY_SLACK_APP_TOKEN": "xapp-1-secret", "PARLEY_SLACK_AGENT_CHANNEL": "GPRIVATE1", "PARLEY_SLACK_TRUST_EMAIL": "1"}, on: true},
		{name: "flag wins over the environment", args: []string{"--slack-bot-token", "xoxb-1-secret"},
			env: map[string]string{"PARLEY_SLACK_BOT_TOKEN": "nonsense", "PARLEY_SLACK_SIGNING_SECRET": "s3cret"}, on: true},
		{name: "user token", args: []string{"--slack-bot-token", "xoxp-1-secret", "--slack-app-token", "xapp-1-secret"},
			want: "--slack-bot-token (PARLEY_SLACK_BOT_TOKEN): want a bot token, starting with xoxb-"},
		{name: "bad token in the environment", env: map[string]string{"PARLEY_SLACK_BOT_TOKEN": "xapp-1-secret", "PARLEY_SLACK_APP_TOKEN": "xapp-1-secret"},
			want: "--slack-bot-token (PARLEY_SLACK_BOT_TOKEN): want a bot token, starting with xoxb-"},
		{name: "bot token as app token", args: []string{"--slack-bot-token", "xoxb-1-secret", "--slack-app-token", "xoxb-1-secret"},
			want: "--slack-app-token (PARLEY_SLACK_APP_TOKEN): want an app-level token, starting with xapp-"},
		{name: "bot token alone", args: []string{"--slack-bot-token", "xoxb-1-secret"},
			want: "--slack-bot-token needs a way to hear from Slack: --slack-app-token (Socket Mode, no public URL) or --slack-signing-secret"},
		{name: "app token alone", args: []string{"--slack-app-token", "xapp-1-secret"},
			want: "--slack-app-token needs --slack-bot-token"},
		{name: "agent channel alone", env: map[string]string{"PARLEY_SLACK_AGENT_CHANNEL": "CAGENTS"},
			want: "--slack-agent-channel needs --slack-bot-token"},
		{name: "trust e-mail alone", args: []string{"--slack-trust-email"}, want: "--slack-trust-email needs --slack-bot-token"},
		{name: "channel name", args: []string{"--slack-bot-token", "xoxb-1-secret", "--slack-app-token", "xapp-1-secret", "--slack-agent-channel", "#support"},
			want: `--slack-agent-channel (PARLEY_SLACK_AGENT_CHANNEL) "#support": want a channel id such as C0123456789`},
		{name: "API URL without scheme", args: []string{"--slack-bot-token", "xoxb-1-secret", "--slack-app-token", "xapp-1-secret", "--slack-api-url", "slack.example.com/api"},
			want: `--slack-api-url (PARLEY_SLACK_API_URL) "slack.example.com/api": want an http or https URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearSlackEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			f := flag.NewFlagSet("serve", flag.ContinueOnError)
			sf := addSlackFlags(f)
			if err := f.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if err := numberFromEnv(f, "slack-trust-email", "PARLEY_SLACK_TRUST_EMAIL", sf.trustEmail); err != nil {
				t.Fatal(err)
			}
			cfg, err := sf.config()
			switch {
			case tt.want != "":
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want one with %q", err, tt.want)
				}
				if strings.Contains(err.Error(), "1-secret") || strings.Contains(err.Error(), "s3cret") {
					t.Errorf("the error shows a secret: %v", err)
				}
			case err != nil:
				t.Fatal(err)
			case (cfg != nil) != tt.on:
				t.Fatalf("config %+v, want Slack on: %v", cfg, tt.on)
			}
		})
	}

	t.Run("config", func(t *testing.T) {
		clearSlackEnv(t)
		t.Setenv("PARLEY_SLACK_TRUST_EMAIL", "1")
		t.Setenv("PARLEY_SLACK_AGENT_CHANNEL", "CENV")
		f := flag.NewFlagSet("serve", flag.ContinueOnError)
		sf := addSlackFlags(f)
		err := f.Parse([]string{"--slack-bot-token", " xoxb-1-secret\n", "--slack-signing-secret", "s3cret", "--slack-agent-channel", "CFLAG"})
		if err != nil {
			t.Fatal(err)
		}
		if err := numberFromEnv(f, "slack-trust-email", "PARLEY_SLACK_TRUST_EMAIL", sf.trustEmail); err != nil {
			t.Fatal(err)
		}
		cfg, err := sf.config()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.BotToken != "xoxb-1-secret" || cfg.SigningSecret != "s3cret" || cfg.AppToken != "" || cfg.AgentChannel != "CFLAG" || !cfg.TrustEmail {
			t.Errorf("config %+v", cfg)
		}
		if got := slackBanner(*cfg, "http://127.0.0.1:8080"); got != "events at http://127.0.0.1:8080/slack/events and "+
			"http://127.0.0.1:8080/slack/interactions; handoffs to channel CFLAG; customers linked by Slack e-mail" {
			t.Errorf("banner %q", got)
		}
	})

	// Through the command: a usage error (exit 2) before the store is
	// opened, and no token in the help.
	t.Run("serve", func(t *testing.T) {
		clearSlackEnv(t)
		dir := filepath.Join(t.TempDir(), "data")
		code, _, errOut := run(t, "", "serve", "--data-dir", dir, "--slack-bot-token", "xoxp-1-secret", "--slack-app-token", "xapp-1-secret")
		if code != 2 || !strings.Contains(errOut, "--slack-bot-token (PARLEY_SLACK_BOT_TOKEN): want a bot token") || strings.Contains(errOut, "1-secret") {
			t.Errorf("bad bot token: exit %d, %q", code, errOut)
		}
		if _, err := os.Stat(filepath.Join(dir, storeFile)); err == nil {
			t.Error("serve opened the store before refusing its Slack flags")
		}
		t.Setenv("PARLEY_SLACK_BOT_TOKEN", "xoxb-1-secret")
		t.Setenv("PARLEY_SLACK_APP_TOKEN", "xapp-1-secret")
		t.Setenv("PARLEY_SLACK_SIGNING_SECRET", "s3cret")
		_, _, help := run(t, "", "serve", "-h")
		if strings.Contains(help, "1-secret") || strings.Contains(help, "s3cret") || !strings.Contains(help, "PARLEY_SLACK_SIGNING_SECRET") || !strings.Contains(help, "-slack-trust-email") {
			t.Errorf("serve -h with the Slack secrets in the environment:\n%s", help)
		}
	})
}

// slackCall is one Web API call the fake Slack answered.
type slackCall struct {
	Method                        string // "chat.postMessage", ...
	Channel, Text, ThreadTS, User string
	TS                            string // the ts the fake gave a message
}

// fakeSlackAPI is a fake Slack Web API in plain HTTP: auth.test, users.info
// (emails maps user ids to profile e-mail addresses), chat.postMessage and
// chat.postEphemeral, recording each call. Any other method answers
// unknown_method and is recorded too, so that a test shows it.
type fakeSlackAPI struct {
	*httptest.Server
	emails map[string]string // read-only once started
	mu     sync.Mutex
	calls  []slackCall // guarded by mu
	n      int         // messages posted, for their ts; guarded by mu
}

func newFakeSlackAPI(t *testing.T, emails map[string]string) *fakeSlackAPI {
	t.Helper()
	f := &fakeSlackAPI{emails: emails}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSlackAPI) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.Header.Get("Authorization") != "Bearer xoxb-test" && r.FormValue("token") != "xoxb-test" {
		slackJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	c := slackCall{Method: strings.Trim(r.URL.Path, "/"), Channel: r.FormValue("channel"), Text: r.FormValue("text"),
		ThreadTS: r.FormValue("thread_ts"), User: r.FormValue("user")}
	f.mu.Lock()
	if c.Method == "chat.postMessage" || c.Method == "chat.postEphemeral" {
		f.n++
		c.TS = fmt.Sprintf("1800000000.%06d", f.n)
	}
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	switch c.Method {
	case "auth.test":
		slackJSON(w, map[string]any{"ok": true, "team": "Shop", "team_id": "TSHOP", "user": "parley", "user_id": "UBOT", "bot_id": "BBOT"})
	case "users.info":
		email, ok := f.emails[c.User]
		if !ok {
			slackJSON(w, map[string]any{"ok": false, "error": "user_not_found"})
			return
		}
		slackJSON(w, map[string]any{"ok": true, "user": map[string]any{"id": c.User, "name": strings.ToLower(c.User),
			"real_name": "User " + c.User, "profile": map[string]any{"email": email, "real_name": "User " + c.User}}})
	case "chat.postMessage":
		slackJSON(w, map[string]any{"ok": true, "channel": c.Channel, "ts": c.TS, "message": map[string]any{"text": c.Text, "ts": c.TS}})
	case "chat.postEphemeral":
		slackJSON(w, map[string]any{"ok": true, "message_ts": c.TS})
	default:
		slackJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

func slackJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Calls returns a copy of the calls so far.
func (f *fakeSlackAPI) Calls() []slackCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// waitFor polls until a message posted as call from or later matches, and
// returns it. The deadline only keeps a broken test from hanging.
func (f *fakeSlackAPI) waitFor(t *testing.T, from int, what string, match func(slackCall) bool) slackCall {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, c := range f.Calls()[from:] {
			if c.Method == "chat.postMessage" && match(c) {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no chat.postMessage of %s; calls: %+v", what, f.Calls())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// slackEvent POSTs a signed event_callback of inner to base/slack/events
// and fails the test unless it is accepted. retry, when positive, is sent
// as Slack's X-Slack-Retry-Num.
func slackEvent(t *testing.T, base, secret, eventID string, retry int, inner map[string]any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"token": "legacy", "team_id": "TSHOP", "api_app_id": "AAPP", "type": "event_callback",
		"event_id": eventID, "event_time": time.Now().Unix(), "event": inner})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, base+"/slack/events", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", stamp, body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	if retry > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
		req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("event %s: %d %s", eventID, resp.StatusCode, b)
	}
}

// slackDM is a customer's direct message to the bot.
func slackDM(user, channel, ts, text string) map[string]any {
	return map[string]any{"type": "message", "channel_type": "im", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts}
}

// TestServeSlack is the contract over HTTP, through "bot serve"
// with the Events API: a signed direct message gets an answer in its
// channel; asking for a person posts a card to the agent channel; an
// agent's reply in the card's thread reaches the customer, in Slack and on
// the web chat. After a restart, an event delivered again is not answered
// again.
func TestServeSlack(t *testing.T) {
	clearSlackEnv(t)
	const (
		secret  = "8f742231b10e8888abcd99yyyzzz85a5"
		agents  = "CAGENTS"
		dm      = "D0CUSTOMER"
		agent   = "ada@shop.example"
		agentID = "UADA"
	)
	data := filepath.Join(t.TempDir(), "data")
	slack := newFakeSlackAPI(t, map[string]string{"UCUST": "grace@example.com", agentID: agent, "USTRANGE": "mallory@example.com"})
	args := []string{"--data-dir", data, "--model", shoptest.ModelDir(t),
		"--slack-bot-token", "xoxb-test", "--slack-signing-secret", secret, "--slack-api-url", slack.URL + "/", "--slack-agent-channel", agents}
	s := startServe(t, args...)
	// Ada is an agent: her Slack e-mail is her login (added through the
	// running server's admin socket).
	if code, out, errOut := run(t, testPassword+"\n", "agent", "add", agent, "--name", "Ada", "--data-dir", data); code != 0 {
		t.Fatalf("agent add: exit %d: %s %s", code, out, errOut)
	}
	if want := "  Slack                           events at " + s.base + "/slack/events and " + s.base +
		"/slack/interactions; handoffs to channel CAGENTS\n"; !strings.Contains(s.out.String(), want) {
		t.Errorf("the start-up banner lacks\n%q:\n%s", want, s.out)
	}

	// A direct message is answered in its channel.
	slackEvent(t, s.base, secret, "Ev0001", 0, slackDM("UCUST", dm, "1700000001.000100", "hello"))
	greeting := slack.waitFor(t, 0, "an answer to the DM", func(c slackCall) bool { return c.Channel == dm })
	if greeting.Text == "" {
		t.Errorf("the answer to the DM has no text: %+v", greeting)
	}

	// Asking for a person posts a card to the agent channel.
	slackEvent(t, s.base, secret, "Ev0002", 0, slackDM("UCUST", dm, "1700000002.000100", "I want to talk to a person"))
	card := slack.waitFor(t, 0, "a handoff card in the agent channel", func(c slackCall) bool { return c.Channel == agents && c.ThreadTS == "" })

	// The agent answers in the card's thread: the customer gets it in the DM.
	const reply = "Hi Grace, Ada here: I am looking at your order now."
	slackEvent(t, s.base, secret, "Ev0003", 0, map[string]any{"type": "message", "channel_type": "channel", "channel": agents,
		"user": agentID, "text": reply, "ts": "1700000003.000100", "thread_ts": card.TS, "event_ts": "1700000003.000100"})
	slack.waitFor(t, 0, "the agent's reply to the customer", func(c slackCall) bool { return c.Channel == dm && strings.Contains(c.Text, reply) })
	for _, c := range slack.Calls() {
		if c.Method == "chat.postEphemeral" {
			t.Errorf("the agent got a refusal: %+v", c)
		}
	}

	// A web chat customer's handoff is carded too, and the agent's reply in
	// that thread reaches the widget.
	conn, _ := dialChat(t, s.base, "")
	send(t, conn, map[string]any{"v": 1, "type": "message", "client_id": "w1", "text": "I want to talk to a person"})
	webCard := slack.waitFor(t, 0, "a handoff card of the web conversation", func(c slackCall) bool {
		return c.Channel == agents && c.ThreadTS == "" && c.TS != card.TS
	})
	const webReply = "Hello from Ada in Slack."
	slackEvent(t, s.base, secret, "Ev0005", 0, map[string]any{"type": "message", "channel_type": "channel", "channel": agents,
		"user": agentID, "text": webReply, "ts": "1700000005.000100", "thread_ts": webCard.TS, "event_ts": "1700000005.000100"})
	got := readUntil(t, conn, func(f wsFrame) bool { return f.Type == "message" && f.Sender == "agent" })
	if got.Text != webReply {
		t.Errorf("the web customer got %q from the agent, want %q", got.Text, webReply)
	}
	conn.Close()

	// Another customer, whom the bot answers, says hello.
	const other = "D0OTHER"
	slackEvent(t, s.base, secret, "Ev0006", 0, slackDM("UOTHER", other, "1700000006.000100", "hello"))
	slack.waitFor(t, 0, "an answer to the second customer", func(c slackCall) bool { return c.Channel == other })
	s.stop(t)
	greeted := map[string]bool{}
	for _, c := range slack.Calls() {
		if c.Channel == other {
			greeted[c.Text] = true
		}
	}

	// After a restart, Slack's retries of those events are duplicates: the
	// event ids taken are in the store. The second customer's next message
	// (after the retry, in the same channel, so handled after it) is
	// answered, and nothing is answered twice.
	before := len(slack.Calls())
	s = startServe(t, args...)
	slackEvent(t, s.base, secret, "Ev0001", 1, slackDM("UCUST", dm, "1700000001.000100", "hello"))
	slackEvent(t, s.base, secret, "Ev0006", 1, slackDM("UOTHER", other, "1700000006.000100", "hello"))
	slackEvent(t, s.base, secret, "Ev0007", 0, slackDM("UOTHER", other, "1700000007.000100", "thank you very much"))
	slack.waitFor(t, before, "an answer to the second customer after a restart", func(c slackCall) bool { return c.Channel == other })
	for _, c := range slack.Calls()[before:] {
		if c.Channel == dm || c.Channel == other && greeted[c.Text] {
			t.Errorf("after a restart, a duplicate event was answered again: %+v", c)
		}
	}
}

// TestSlackManifest parses the committed app manifest and checks that it
// asks for what the adapter uses: the scopes of the Web API methods it
// calls and of the events it reads, those events, the buttons, and Socket
// Mode with the Events API's URLs at hand.
func TestSlackManifest(t *testing.T) {
	raw, err := os.ReadFile("../../docs/slack-app-manifest.yml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Metadata struct {
			MajorVersion int `yaml:"major_version"`
		} `yaml:"_metadata"`
		DisplayInformation struct {
			Name string `yaml:"name"`
		} `yaml:"display_information"`
		Features struct {
			AppHome struct {
				MessagesTabEnabled         bool `yaml:"messages_tab_enabled"`
				MessagesTabReadOnlyEnabled bool `yaml:"messages_tab_read_only_enabled"`
			} `yaml:"app_home"`
			BotUser struct {
				DisplayName string `yaml:"display_name"`
			} `yaml:"bot_user"`
		} `yaml:"features"`
		OAuthConfig struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			EventSubscriptions struct {
				BotEvents []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
			Interactivity struct {
				IsEnabled bool `yaml:"is_enabled"`
			} `yaml:"interactivity"`
			SocketModeEnabled bool `yaml:"socket_mode_enabled"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if m.Metadata.MajorVersion != 1 || m.DisplayInformation.Name != "Parley" || m.Features.BotUser.DisplayName == "" {
		t.Errorf("manifest head: %+v", m)
	}
	if !m.Features.AppHome.MessagesTabEnabled || m.Features.AppHome.MessagesTabReadOnlyEnabled {
		t.Error("customers cannot write to the bot in its Messages tab")
	}
	for _, scope := range []string{
		"chat:write",                     // chat.postMessage, chat.postEphemeral
		"users:read", "users:read.email", // users.info: agents by e-mail
		"im:history", "im:read", "im:write", // direct messages
		"app_mentions:read",                  // mentions
		"channels:history", "groups:history", // the agent channel's threads
	} {
		if !slices.Contains(m.OAuthConfig.Scopes.Bot, scope) {
			t.Errorf("the manifest lacks the bot scope %s (has %v)", scope, m.OAuthConfig.Scopes.Bot)
		}
	}
	for _, ev := range []string{"message.im", "app_mention", "message.channels", "message.groups"} {
		if !slices.Contains(m.Settings.EventSubscriptions.BotEvents, ev) {
			t.Errorf("the manifest lacks the bot event %s (has %v)", ev, m.Settings.EventSubscriptions.BotEvents)
		}
	}
	if !m.Settings.Interactivity.IsEnabled || !m.Settings.SocketModeEnabled {
		t.Errorf("interactivity %v, socket mode %v: want both on", m.Settings.Interactivity.IsEnabled, m.Settings.SocketModeEnabled)
	}
	for _, url := range []string{"request_url: https://YOUR-HOST/slack/events", "request_url: https://YOUR-HOST/slack/interactions"} {
		if !bytes.Contains(raw, []byte(url)) {
			t.Errorf("the manifest does not show how to switch to the Events API (%s)", url)
		}
	}
}
