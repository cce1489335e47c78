package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/httpjson"
	"github.com/parleyhq/parley/nlp"
)

func TestAPIAuth(t *testing.T) {
	f := newAPIFixture(t)
	tests := []struct {
		name   string
		header string // Authorization; "" sends none
		status int
		code   string
	}{
		{"no header", "", 401, httpjson.CodeUnauthorized},
		{"other scheme", "Basic " + testToken, 401, httpjson.CodeUnauthorized},
		{"scheme only", "Bearer", 401, httpjson.CodeUnauthorized},
		{"wrong token", "Bearer nope", 401, httpjson.CodeUnauthorized},
		{"token prefix", "Bearer " + testToken[:len(testToken)-1], 401, httpjson.CodeUnauthorized},
		{"token with more", "Bearer " + testToken + "x", 401, httpjson.CodeUnauthorized},
		{"right token", "Bearer " + testToken, 200, ""},
		{"scheme in lower case", "bearer " + testToken, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/conversations", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			rec := httptest.NewRecorder()
			f.srv.Handler().ServeHTTP(rec, req)
			if tc.code == "" {
				if rec.Code != tc.status {
					t.Fatalf("status %d, want %d; %s", rec.Code, tc.status, rec.Body)
				}
				return
			}
			wantError(t, rec, tc.status, tc.code)
			if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", rec.Header().Get("WWW-Authenticate"))
			}
		})
	}

	t.Run("unknown routes need the token too", func(t *testing.T) {
		wantError(t, f.do(t, http.MethodGet, "/api/v2/secrets", "", ""), 401, httpjson.CodeUnauthorized)
	})
	t.Run("no token configured", func(t *testing.T) {
		off := newAPIFixture(t, func(c *Config) { c.APIToken = "" })
		for _, token := range []string{"", "anything"} {
			e := wantError(t, off.do(t, http.MethodGet, "/api/v1/conversations", token, ""), 403, codeAPIDisabled)
			if !strings.Contains(e.Message, "no API token is configured") {
				t.Errorf("message %q does not say why", e.Message)
			}
		}
	})
}

func TestAPIRouting(t *testing.T) {
	f := newAPIFixture(t)
	tests := []struct {
		name, method, target string
		status               int
		code, allow          string
	}{
		{"unknown route", "GET", "/api/v1/nothing", 404, httpjson.CodeNotFound, ""},
		{"unknown version", "GET", "/api/v2/conversations", 404, httpjson.CodeNotFound, ""},
		{"parse by GET", "GET", "/api/v1/parse", 405, httpjson.CodeMethodNotAllowed, "POST"},
		{"delete conversation", "DELETE", "/api/v1/conversations/x", 405, httpjson.CodeMethodNotAllowed, "GET, HEAD"},
		{"put messages", "PUT", "/api/v1/conversations/x/messages", 405, httpjson.CodeMethodNotAllowed, "GET, POST, HEAD"},
		{"post customer", "POST", "/api/v1/customers/c-001", 405, httpjson.CodeMethodNotAllowed, "GET, HEAD"},
		{"get claim", "GET", "/api/v1/conversations/x/claim", 405, httpjson.CodeMethodNotAllowed, "POST"},
		{"put transfer", "PUT", "/api/v1/conversations/x/transfer", 405, httpjson.CodeMethodNotAllowed, "POST"},
		{"delete notes", "DELETE", "/api/v1/conversations/x/notes", 405, httpjson.CodeMethodNotAllowed, "POST"},
		{"post events", "POST", "/api/v1/conversations/x/events", 405, httpjson.CodeMethodNotAllowed, "GET, HEAD"},
		{"unknown lifecycle route", "POST", "/api/v1/conversations/x/snooze", 404, httpjson.CodeNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.api(t, tc.method, tc.target, "")
			wantError(t, rec, tc.status, tc.code)
			if got := rec.Header().Get("Allow"); got != tc.allow {
				t.Errorf("Allow %q, want %q", got, tc.allow)
			}
		})
	}
}

func TestParse(t *testing.T) {
	f := newAPIFixture(t)
	f.parser.intent = "order_status"
	rec := f.api(t, http.MethodPost, "/api/v1/parse", `{"text":"where is my order 1042?"}`)
	if rec.Code != 200 {
		t.Fatalf("parse: %d %s", rec.Code, rec.Body)
	}
	res := decodeAs[nlp.Result](t, rec)
	if res.Intent != "order_status" || res.Text != "where is my order 1042?" || len(res.Ranking) != 2 {
		t.Errorf("result %+v", res)
	}
	if len(f.parser.calls) != 1 || f.parser.calls[0] != "where is my order 1042?" {
		t.Errorf("parser calls %q", f.parser.calls)
	}
}

// TestParseWithSwapParser serves parse from the parser the engine shares:
// 503 while it has no model, the new model's answer once one is swapped in.
func TestParseWithSwapParser(t *testing.T) {
	swap := dialog.NewSwapParser(nil)
	f := newAPIFixture(t, func(c *Config) { c.Parser = swap })
	wantError(t, f.api(t, http.MethodPost, "/api/v1/parse", `{"text":"hi"}`), http.StatusServiceUnavailable, codeModelNotLoaded)
	f.parser.intent = "order_status"
	swap.Swap(f.parser)
	rec := f.api(t, http.MethodPost, "/api/v1/parse", `{"text":"where is my order 1042?"}`)
	if rec.Code != 200 {
		t.Fatalf("parse after the swap: %d %s", rec.Code, rec.Body)
	}
	if res := decodeAs[nlp.Result](t, rec); res.Intent != "order_status" {
		t.Errorf("result %+v", res)
	}
}

func TestParseErrors(t *testing.T) {
	f := newAPIFixture(t)
	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"empty body", "", 400, httpjson.CodeInvalidJSON},
		{"blank body", "  \n", 400, httpjson.CodeInvalidJSON},
		{"malformed", `{"text":`, 400, httpjson.CodeInvalidJSON},
		{"not an object", `["hi"]`, 400, httpjson.CodeInvalidJSON},
		{"text not a string", `{"text":42}`, 400, httpjson.CodeInvalidJSON},
		{"unknown field", `{"text":"hi","lang":"en"}`, 400, httpjson.CodeInvalidJSON},
		{"two objects", `{"text":"hi"}{"text":"again"}`, 400, httpjson.CodeInvalidJSON},
		{"invalid UTF-8", "{\"text\":\"caf\xe9\"}", 400, httpjson.CodeInvalidJSON},
		{"no text", `{}`, 400, httpjson.CodeBadRequest},
		{"empty text", `{"text":""}`, 400, httpjson.CodeBadRequest},
		{"blank text", `{"text":" \t\n"}`, 400, httpjson.CodeBadRequest},
		{"text too long", `{"text":"` + strings.Repeat("a", maxTextBytes+1) + `"}`, 413, httpjson.CodeTooLarge},
		{"body too large", `{"text":"hi","x":"` + strings.Repeat("a", maxBodyBytes) + `"}`, 413, httpjson.CodeTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, f.api(t, http.MethodPost, "/api/v1/parse", tc.body), tc.status, tc.code)
		})
	}
	if len(f.parser.calls) != 0 {
		t.Errorf("the parser saw invalid requests: %q", f.parser.calls)
	}

	t.Run("longest text", func(t *testing.T) {
		if rec := f.api(t, http.MethodPost, "/api/v1/parse", `{"text":"`+strings.Repeat("é", maxTextBytes/2)+`"}`); rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
	t.Run("parser fails", func(t *testing.T) {
		f.parser.err = errors.New("tensor on fire")
		e := wantError(t, f.api(t, http.MethodPost, "/api/v1/parse", `{"text":"hi"}`), 500, httpjson.CodeInternal)
		if strings.Contains(e.Message, "tensor") {
			t.Errorf("internal error leaked: %q", e.Message)
		}
		if !strings.Contains(f.logs.String(), "tensor on fire") {
			t.Error("the failure is not logged")
		}
	})
}

func TestListConversations(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	bot := f.startConversation(t, "c-001")
	waiting := f.startConversation(t, "c-002")
	agent := f.startConversation(t, "")
	set := func(id string, state crm.ConversationState, queue string) {
		if _, err := f.db.UpdateConversation(ctx, id, func(c *crm.Conversation) error {
			c.State, c.Queue = state, queue
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	set(waiting.ID, crm.StateWaiting, "billing")
	set(agent.ID, crm.StateAgent, "orders")

	tests := []struct {
		name, query string
		want        []string
	}{
		{"all open", "", []string{bot.ID, waiting.ID, agent.ID}},
		{"waiting", "?state=waiting", []string{waiting.ID}},
		{"by queue", "?queue=orders", []string{agent.ID}},
		{"state and queue", "?state=waiting&queue=orders", nil},
		{"limit", "?limit=2", []string{bot.ID, waiting.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.api(t, http.MethodGet, "/api/v1/conversations"+tc.query, "")
			if rec.Code != 200 {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), `"conversations":[`) {
				t.Errorf("no list in %s", rec.Body)
			}
			var got []string
			for _, c := range decodeAs[conversationList](t, rec).Conversations {
				got = append(got, c.ID)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}

	bad := []struct{ name, query string }{
		{"resolved", "?state=resolved"},
		{"unknown state", "?state=open"},
		{"zero limit", "?limit=0"},
		{"huge limit", "?limit=100000"},
		{"limit not a number", "?limit=ten"},
		{"queue too long", "?queue=" + strings.Repeat("q", maxQueueBytes+1)},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, f.api(t, http.MethodGet, "/api/v1/conversations"+tc.query, ""), 400, httpjson.CodeBadRequest)
		})
	}
}

func TestGetConversation(t *testing.T) {
	f := newAPIFixture(t)
	rec := f.api(t, http.MethodGet, "/api/v1/conversations/conv-seed-1", "")
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	c := decodeAs[crm.Conversation](t, rec)
	if c.ID != "conv-seed-1" || c.CustomerID != "c-003" || c.State != crm.StateResolved || c.LastSeq == 0 {
		t.Errorf("conversation %+v", c)
	}
	wantError(t, f.api(t, http.MethodGet, "/api/v1/conversations/no-such-conv", ""), 404, httpjson.CodeNotFound)
}

func TestListMessages(t *testing.T) {
	f := newAPIFixture(t)
	all, err := f.db.MessagesAfter(context.Background(), "conv-seed-1", 0, 0)
	if err != nil || len(all) < 3 {
		t.Fatalf("seed messages: %d, %v", len(all), err)
	}
	last := all[len(all)-1].Seq
	tests := []struct {
		name, query string
		seqs        []uint64
		next        uint64
	}{
		{"first page", "?limit=2", []uint64{1, 2}, 2},
		{"next page", "?after=2&limit=1", []uint64{3}, 3},
		{"all", "", seqsOf(all), last},
		{"past the end", "?after=" + strconv.FormatUint(last, 10), nil, last},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.api(t, http.MethodGet, "/api/v1/conversations/conv-seed-1/messages"+tc.query, "")
			if rec.Code != 200 {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), `"messages":[`) {
				t.Errorf("no list in %s", rec.Body)
			}
			got := decodeAs[messageList](t, rec)
			if seqs := seqsOf(got.Messages); !slices.Equal(seqs, tc.seqs) || got.NextAfter != tc.next {
				t.Errorf("seqs %v next %d, want %v next %d", seqs, got.NextAfter, tc.seqs, tc.next)
			}
			for _, m := range got.Messages {
				if m.ConversationID != "conv-seed-1" || m.Text == "" || m.Sender == "" {
					t.Errorf("message %+v", m)
				}
			}
		})
	}
	wantError(t, f.api(t, http.MethodGet, "/api/v1/conversations/nope/messages", ""), 404, httpjson.CodeNotFound)
	for _, q := range []string{"?after=-1", "?after=x", "?limit=0", "?limit=1001"} {
		wantError(t, f.api(t, http.MethodGet, "/api/v1/conversations/conv-seed-1/messages"+q, ""), 400, httpjson.CodeBadRequest)
	}
}

func seqsOf(ms []crm.Message) []uint64 {
	var out []uint64
	for _, m := range ms {
		out = append(out, m.Seq)
	}
	return out
}

func TestGetCustomer(t *testing.T) {
	f := newAPIFixture(t)
	fresh := f.startConversation(t, "c-001")
	rec := f.api(t, http.MethodGet, "/api/v1/customers/c-001", "")
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	v := decodeAs[customerView](t, rec)
	if v.ID != "c-001" || v.Name != "Ana Lopez" || v.Email != "ana@example.com" {
		t.Errorf("customer %+v", v.Customer)
	}
	var ids []string
	for i, c := range v.RecentConversations {
		ids = append(ids, c.ID)
		if c.CustomerID != "c-001" {
			t.Errorf("conversation %s of customer %q", c.ID, c.CustomerID)
		}
		if i > 0 && c.CreatedAt.After(v.RecentConversations[i-1].CreatedAt) {
			t.Errorf("conversation %s is newer than the one before it", c.ID)
		}
	}
	// The seed gives Ana more than customerRecent conversations.
	if len(ids) != customerRecent || ids[0] != fresh.ID || !slices.Contains(ids, "conv-seed-2") {
		t.Errorf("recent conversations %q, want %d starting with %s and holding conv-seed-2", ids, customerRecent, fresh.ID)
	}
	wantError(t, f.api(t, http.MethodGet, "/api/v1/customers/c-999", ""), 404, httpjson.CodeNotFound)
}

func TestPostMessage(t *testing.T) {
	f := newAPIFixture(t)
	f.addAgents(t, "sam")
	c := f.startConversation(t, "c-001")
	events, stop := f.engine.Subscribe(c.ID, 16)
	defer stop()
	path := "/api/v1/conversations/" + c.ID + "/messages"

	rec := f.api(t, http.MethodPost, path, `{"text":"Your refund was sent today.","sender":"agent","agent_id":"sam","client_id":"crm-1"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("post: %d %s", rec.Code, rec.Body)
	}
	m := decodeAs[crm.Message](t, rec)
	if m.ID == "" || m.Seq != 1 || m.Sender != crm.SenderAgent || m.AgentID != "sam" || m.Text != "Your refund was sent today." {
		t.Fatalf("message %+v", m)
	}
	stored, err := f.db.MessagesAfter(context.Background(), c.ID, 0, 0)
	if err != nil || len(stored) != 1 || stored[0].ID != m.ID {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	// Sam's message claimed the conversation first: its state and claim
	// are published before the message.
	if ev := <-events; ev.Type != dialog.EventState || ev.Conversation == nil || ev.Conversation.AssignedAgent != "sam" {
		t.Fatalf("first event %+v, want the claim's state", ev)
	}
	if ev := <-events; ev.Type != dialog.EventLifecycle || ev.Lifecycle == nil || ev.Lifecycle.Type != crm.EventClaim {
		t.Fatalf("second event %+v, want the claim", ev)
	}
	ev := <-events
	if ev.Type != dialog.EventMessage || ev.Message == nil || ev.Message.ID != m.ID {
		t.Fatalf("event %+v", ev)
	}

	// A resend answers 200 with the same message and publishes nothing: the
	// next event is the next message.
	again := f.api(t, http.MethodPost, path, `{"text":"Your refund was sent today.","sender":"agent","agent_id":"sam","client_id":"crm-1"}`)
	if again.Code != http.StatusOK || decodeAs[crm.Message](t, again).ID != m.ID {
		t.Fatalf("resend: %d %s", again.Code, again.Body)
	}
	next := f.api(t, http.MethodPost, path, `{"text":"Anything else?","sender":"system"}`)
	if next.Code != http.StatusCreated {
		t.Fatalf("second post: %d %s", next.Code, next.Body)
	}
	if ev := <-events; ev.Message == nil || ev.Message.Text != "Anything else?" || ev.Message.Seq != 2 {
		t.Fatalf("event after the resend %+v", ev)
	}
	if got, _ := f.db.Conversation(context.Background(), c.ID); got.State != crm.StateAgent || got.AssignedAgent != "sam" {
		t.Errorf("after sam's message and a system message: %s/%s, want agent/sam", got.State, got.AssignedAgent)
	}

	bad := []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"unknown conversation", "/api/v1/conversations/nope/messages", `{"text":"hi","sender":"bot"}`, 404, httpjson.CodeNotFound},
		{"no sender", path, `{"text":"hi"}`, 400, httpjson.CodeBadRequest},
		{"customer sender", path, `{"text":"hi","sender":"customer"}`, 400, httpjson.CodeBadRequest},
		{"agent without id", path, `{"text":"hi","sender":"agent"}`, 400, httpjson.CodeBadRequest},
		{"agent id for the bot", path, `{"text":"hi","sender":"bot","agent_id":"sam"}`, 400, httpjson.CodeBadRequest},
		{"empty text", path, `{"text":"","sender":"bot"}`, 400, httpjson.CodeBadRequest},
		{"text too long", path, `{"text":"` + strings.Repeat("x", maxTextBytes+1) + `","sender":"bot"}`, 413, httpjson.CodeTooLarge},
		{"agent id too long", path, `{"text":"hi","sender":"agent","agent_id":"` + strings.Repeat("a", maxIDBytes+1) + `"}`, 400, httpjson.CodeBadRequest},
		{"client id too long", path, `{"text":"hi","sender":"bot","client_id":"` + strings.Repeat("c", maxIDBytes+1) + `"}`, 400, httpjson.CodeBadRequest},
		{"unknown field", path, `{"text":"hi","sender":"bot","html":true}`, 400, httpjson.CodeInvalidJSON},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, f.api(t, http.MethodPost, tc.path, tc.body), tc.status, tc.code)
		})
	}
	if n, _ := f.db.MessagesAfter(context.Background(), c.ID, 0, 0); len(n) != 2 {
		t.Errorf("%d messages stored, want 2", len(n))
	}
}
