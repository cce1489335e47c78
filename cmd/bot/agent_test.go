package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/crm/inmem"
	"github.com/parleyhq/parley/internal/admin"
	"github.com/parleyhq/parley/internal/shoptest"
)

const (
	testPassword  = "correct horse battery"
	testPassword2 = "staple-and-something-else"
)

// agentSteps runs the agent commands against the store in dir, in order,
// each with its standard input, and checks the exit code and what it
// says. They are the same whether the commands open the file or reach a
// server holding it. hold gives conv_1 to an agent before they are removed.
func agentSteps(t *testing.T, dir string, hold func(login string)) {
	t.Helper()
	steps := []struct {
		name     string
		input    string
		args     []string
		wantCode int
		want     string // in stdout when wantCode is 0, else in stderr
		notWant  string // in neither
	}{
		{"list empty", "", []string{"list"}, 0, "no agents yet: add one with bot agent add", ""},
		{"add", testPassword + "\n", []string{"add", " Ana@Example.COM ", "--name", "Ana Lopez", "--queues", "billing, returns,billing"},
			0, "added agent ana@example.com (Ana Lopez), queues: billing,returns", ""},
		{"add admin, flags first, no newline", testPassword, []string{"add", "--role", "admin", "--name", "Sam", "sam@example.com"},
			0, "added admin sam@example.com (Sam), queues: all", ""},
		{"add taken", testPassword + "\n", []string{"add", "ana@example.com", "--name", "Ana"},
			1, "agent ana@example.com exists already (to set a new password: bot agent passwd ana@example.com)", "already exists"},
		{"add short password", "short pass\n", []string{"add", "bo@example.com", "--name", "Bo"}, 1, "password too short: at least 12 characters", ""},
		{"add no password", "", []string{"add", "bo@example.com", "--name", "Bo"}, 1, "no password on standard input", ""},
		{"add not an address", testPassword + "\n", []string{"add", "bo", "--name", "Bo"}, 1, `login "bo": want an e-mail address`, ""},
		{"add display name", testPassword + "\n", []string{"add", "Bo <bo@example.com>", "--name", "Bo"}, 1, "want an e-mail address", ""},
		{"add no name", testPassword + "\n", []string{"add", "bo@example.com"}, 1, "the agent's name is required (--name)", ""},
		{"add bad role", testPassword + "\n", []string{"add", "bo@example.com", "--name", "Bo", "--role", "boss"}, 1, `role "boss": want agent or admin`, ""},
		{"add no email", testPassword + "\n", []string{"add", "--name", "Bo"}, 2, "missing EMAIL", ""},
		{"list", "", []string{"list"}, 0, "ana@example.com  Ana Lopez  agent  billing,returns", "$2"},
		{"passwd", testPassword2 + "\r\n", []string{"passwd", "ANA@example.com"}, 0, "changed the password of ana@example.com", ""},
		{"passwd unknown", testPassword2 + "\n", []string{"passwd", "bo@example.com"}, 1, "no agent bo@example.com (bot agent list shows them)", ""},
		{"passwd too long", strings.Repeat("x", 73) + "\n", []string{"passwd", "sam@example.com"}, 1, "password longer than 72 bytes", ""},
		{"remove", "", []string{"remove", "sam@example.com"}, 0, "removed agent sam@example.com and put the conversation they held back in its queue", ""},
		{"remove again", "", []string{"remove", "sam@example.com"}, 1, "no agent sam@example.com", ""},
		{"unknown command", "", []string{"rename"}, 2, `unknown agent command "rename"`, ""},
	}
	for _, s := range steps {
		if s.name == "remove" {
			hold("sam@example.com")
		}
		code, stdout, stderr := run(t, s.input, append(append([]string{"agent"}, s.args...), "--data-dir", dir)...)
		got := stdout
		if s.wantCode != 0 {
			got = stderr
		}
		if code != s.wantCode || !strings.Contains(got, s.want) ||
			s.notWant != "" && strings.Contains(stdout+stderr, s.notWant) {
			t.Errorf("%s: exit %d (want %d)\nstdout: %s\nstderr: %s\nwant %q", s.name, code, s.wantCode, stdout, stderr, s.want)
		}
	}
}

// checkAgents opens the store in dir and checks what the steps left: Ana
// with her queues and the new password, no Sam, no Bo, and conv_1, which
// Sam held, waiting for an agent again.
func checkAgents(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	db, err := boltdb.Open(filepath.Join(dir, storeFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	as, err := db.Agents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0].Login != "ana@example.com" || as[0].Name != "Ana Lopez" || as[0].Role != crm.RoleAgent ||
		strings.Join(as[0].Teams, ",") != "billing,returns" {
		t.Errorf("agents %+v, want Ana alone, serving billing and returns", as)
	}
	if _, err := db.Authenticate(ctx, "ana@example.com", testPassword2); err != nil {
		t.Errorf("the new password does not sign in: %v", err)
	}
	if _, err := db.Authenticate(ctx, "ana@example.com", testPassword); !errors.Is(err, crm.ErrUnauthorized) {
		t.Errorf("the old password: %v, want %v", err, crm.ErrUnauthorized)
	}
	c, err := db.Conversation(ctx, "conv_1")
	if err != nil {
		t.Fatal(err)
	}
	evs, err := db.Events(ctx, "conv_1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A release follows the claim (serve's sweeper may add a queue timeout
	// after it: outside business hours, at once).
	released := slices.ContainsFunc(evs, func(ev crm.Event) bool { return ev.Type == crm.EventRelease })
	if c.State != crm.StateWaiting || c.AssignedAgent != "" || !released {
		t.Errorf("the removed agent's conversation: state %s, agent %q, events %+v; want waiting, nobody's, released",
			c.State, c.AssignedAgent, evs)
	}
}

func TestAgentFileStore(t *testing.T) {
	dir, _ := seedStore(t)
	agentSteps(t, dir, func(login string) {
		db, err := boltdb.Open(filepath.Join(dir, storeFile), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, err = db.UpdateConversation(context.Background(), "conv_1", func(c *crm.Conversation) error {
			c.State, c.AssignedAgent = crm.StateAgent, login
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	checkAgents(t, dir)
}

// TestAgentWhileServing runs the same steps while "bot serve" holds the
// store: they can only succeed through its admin socket. An agent added
// then signs in to the console it serves, and one removed cannot.
func TestAgentWhileServing(t *testing.T) {
	dir, _ := seedStore(t)
	const token = "api-token-for-tests"
	s := startServe(t, "--data-dir", dir, "--model", shoptest.ModelDir(t), "--api-token", token,
		"--business-hours", "mon-fri 09:00-17:00, sat 10:00-14:00 Europe/Berlin", "--auto-assign", "--sla", "1m",
		"--queue-timeout", "90s", "--agent-timeout", "10m", "--console-session-ttl", "1h")
	if !strings.Contains(s.out.String(), "agent console                   "+s.base+"/console") {
		t.Errorf("serve does not say where the console is:\n%s", s.out)
	}
	if code, body := s.get(t, "/console"); code != http.StatusOK || !strings.Contains(body, "Parley console") {
		t.Errorf("GET /console: %d %.200q, want the login page", code, body)
	}
	// Sam, an admin, signs in before being removed.
	run(t, testPassword+"\n", "agent", "add", "sam@example.com", "--name", "Sam", "--role", "admin", "--data-dir", dir)
	samCookie, _ := consoleLogin(t, s.base, "sam@example.com", testPassword, http.StatusOK)
	run(t, "", "agent", "remove", "sam@example.com", "--data-dir", dir)

	agentSteps(t, dir, func(login string) {
		req, err := http.NewRequest(http.MethodPost, s.base+"/api/v1/conversations/conv_1/claim",
			strings.NewReader(`{"agent_id":"`+login+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("claim conv_1 for %s: %s", login, resp.Status)
		}
	})
	_, agent := consoleLogin(t, s.base, "ana@example.com", testPassword2, http.StatusOK)
	if agent.Login != "ana@example.com" || agent.Name != "Ana Lopez" || agent.Role != "agent" ||
		strings.Join(agent.Teams, ",") != "billing,returns" {
		t.Errorf("signed in as %+v, want Ana, agent of billing and returns", agent)
	}
	consoleLogin(t, s.base, "ana@example.com", testPassword, http.StatusUnauthorized)
	consoleLogin(t, s.base, "sam@example.com", testPassword, http.StatusUnauthorized)
	// The removed admin's session ended with the removal.
	req, err := http.NewRequest(http.MethodGet, s.base+"/console/api/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(samCookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the removed agent's session: GET /console/api/me %s, want 401", resp.Status)
	}
	s.stop(t)
	checkAgents(t, dir)
}

// consoleAgent is the agent of a console login's answer.
type consoleAgent struct {
	Login string   `json:"login"`
	Name  string   `json:"name"`
	Role  string   `json:"role"`
	Teams []string `json:"teams"`
}

// consoleLogin signs in to the console at base as a browser on its page
// would, expects the status want, and returns the session cookie and the
// agent (on 200).
func consoleLogin(t *testing.T, base, email, password string, want int) (*http.Cookie, consoleAgent) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req, err := http.NewRequest(http.MethodPost, base+"/console/api/login", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Agent consoleAgent `json:"agent"`
		CSRF  string       `json:"csrf"`
	}
	if resp.StatusCode != want {
		t.Fatalf("console login as %s: %s, want %d", email, resp.Status, want)
	}
	if want != http.StatusOK {
		return nil, consoleAgent{}
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || answer.CSRF == "" {
		t.Fatalf("console login as %s: answer %+v, %v", email, answer, err)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "parley_console" && c.HttpOnly {
			return c, answer.Agent
		}
	}
	t.Fatalf("console login as %s: no HttpOnly parley_console cookie in %v", email, resp.Header["Set-Cookie"])
	return nil, consoleAgent{}
}

// TestServeConsoleFlags checks that serve refuses bad values of the
// console's flags and their environment variables before it opens anything.
func TestServeConsoleFlags(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		wantInErr string
	}{
		{"hours", nil, []string{"--business-hours", "someday 9-5"}, "--business-hours: "},
		{"hours zone", nil, []string{"--business-hours", "mon-fri 09:00-17:00 Mars/Olympus"}, "--business-hours: "},
		{"hours env", map[string]string{"PARLEY_BUSINESS_HOURS": "mon-fri 25:00-26:00"}, nil, "--business-hours: "},
		{"queue timeout", nil, []string{"--queue-timeout", "0s"}, "--queue-timeout 0s: want a positive duration"},
		{"agent timeout env", map[string]string{"PARLEY_AGENT_TIMEOUT": "five minutes"}, nil, `PARLEY_AGENT_TIMEOUT="five minutes": want a duration`},
		{"sla env", map[string]string{"PARLEY_SLA": "-1m"}, nil, "--sla -1m0s: want a positive duration"},
		{"session ttl", nil, []string{"--console-session-ttl", "12"}, "invalid value"},
		{"auto-assign env", map[string]string{"PARLEY_AUTO_ASSIGN": "sometimes"}, nil, `PARLEY_AUTO_ASSIGN="sometimes": want 1 or 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, _, stderr := run(t, "", append([]string{"serve", "--data-dir", t.TempDir()}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.wantInErr) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.wantInErr)
			}
		})
	}
}

func TestAgentNoStore(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := run(t, testPassword+"\n", "agent", "add", "ana@example.com", "--name", "Ana", "--data-dir", dir)
	if code != 1 || !strings.Contains(stderr, "no store at") {
		t.Errorf("add without a store: exit %d, stderr %q", code, stderr)
	}
}

func TestNormalizeLogin(t *testing.T) {
	tests := []struct {
		in, want string // want "" for refused
	}{
		{"ana@example.com", "ana@example.com"},
		{"  Ana.Lopez+support@Example.COM\n", "ana.lopez+support@example.com"},
		{"admin@localhost", "admin@localhost"},
		{"ana", ""},
		{"@example.com", ""},
		{"ana@", ""},
		{"ana@@example.com", ""},
		{"ana@b@example.com", ""},
		{"ana lopez@example.com", ""},
		{"Ana <ana@example.com>", ""},
		{"ana@example..com", ""},
		{"ana@.example.com", ""},
		{"ana@example.com.", ""},
		{"ana@example.com (work)", ""},
		{"", ""},
		{strings.Repeat("a", 300) + "@example.com", ""},
	}
	for _, tt := range tests {
		got, err := normalizeLogin(tt.in)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("normalizeLogin(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if err != nil && !errors.Is(err, crm.ErrInvalid) {
			t.Errorf("normalizeLogin(%q): %v does not match crm.ErrInvalid", tt.in, err)
		}
	}
}

// FuzzAgentOps feeds arbitrary arguments to the agent operations of the
// admin socket (outside input: any local process of the server's user may
// call them). They never panic, fail only with the errors the channel
// turns into codes, and what agent.put accepts is a valid agent whose
// password signs in, whose login is normal, and that agent.list shows
// without its hash.
func FuzzAgentOps(f *testing.F) {
	for _, seed := range []struct {
		op   string
		args any
	}{
		{opAgentPut, agentPutArgs{Mode: agentModeAdd, Login: "ana@example.com", Name: "Ana Lopez", Role: crm.RoleAgent, Teams: []string{"billing", "returns"}, Password: testPassword}},
		{opAgentPut, agentPutArgs{Mode: agentModeAdd, Login: " Sam@Example.com", Name: "Sam", Role: crm.RoleAdmin, Password: "ünïcödé-pässwörd"}},
		{opAgentPut, agentPutArgs{Mode: agentModePasswd, Login: "ana@example.com", Password: testPassword2}},
		{opAgentPut, agentPutArgs{Mode: agentModePasswd, Login: "ana@example.com", Name: "x", Password: testPassword2}},
		{opAgentPut, map[string]any{"mode": "add", "login": "a@b", "name": "A", "role": "agent", "password": "short"}},
		{opAgentPut, map[string]any{"mode": "add", "login": "a@b", "name": "A", "role": "agent", "password": testPassword, "password_hash": "$2a$04$x"}},
		{opAgentDelete, agentLoginArgs{Login: "ana@example.com"}},
		{opAgentDelete, map[string]any{"login": 7}},
		{opAgentList, nil},
		{opAgentList, map[string]any{"x": 1}},
	} {
		b, err := json.Marshal(seed.args)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seed.op, b)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, op string, args []byte) {
		db := inmem.New(&inmem.Options{BcryptCost: 4})
		defer db.Close()
		if _, err := db.PutAgent(ctx, crm.Agent{Login: "ana@example.com", Name: "Ana", Role: crm.RoleAgent}, testPassword); err != nil {
			t.Fatal(err)
		}
		ops := map[string]admin.Op{}
		for _, o := range agentOps(db, releaseInStore(db)) {
			ops[o.Name] = o
		}
		o, ok := ops[op]
		if !ok {
			return
		}
		var out bytes.Buffer
		err := o.Run(ctx, args, &out)
		if err != nil {
			if !errors.Is(err, admin.ErrBadRequest) && !errors.Is(err, crm.ErrInvalid) &&
				!errors.Is(err, crm.ErrNotFound) && !errors.Is(err, crm.ErrConflict) {
				t.Fatalf("%s %q: error %v has no code the client understands", op, args, err)
			}
			return
		}
		if strings.Contains(out.String(), "$2") {
			t.Fatalf("%s answered a password hash: %s", op, out.String())
		}
		if op != opAgentPut {
			return
		}
		var v agentView
		if err := json.Unmarshal(out.Bytes(), &v); err != nil {
			t.Fatalf("agent.put answered %q: %v", out.String(), err)
		}
		if login, err := normalizeLogin(v.Login); err != nil || login != v.Login {
			t.Fatalf("agent.put stored the login %q, not in its normal form (%v)", v.Login, err)
		}
		a, err := db.Agent(ctx, v.Login)
		if err != nil {
			t.Fatal(err)
		}
		if err := crm.ValidateAgent(&a); err != nil {
			t.Fatalf("agent.put stored an invalid agent %+v: %v", a, err)
		}
		var in agentPutArgs
		json.Unmarshal(args, &in)
		if _, err := db.Authenticate(ctx, v.Login, in.Password); err != nil {
			t.Fatalf("the password agent.put took does not sign in: %v", err)
		}
	})
}
