package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/internal/httpjson"
)

// addAgents stores agents with the given logins (role agent; a login
// starting with "admin" gets role admin) in one import, with a cheap hash.
func (f *apiFixture) addAgents(t testing.TB, logins ...string) {
	t.Helper()
	hash, err := crm.HashPassword("correct horse battery", 4)
	if err != nil {
		t.Fatal(err)
	}
	var s crm.Snapshot
	for _, l := range logins {
		role := crm.RoleAgent
		if strings.HasPrefix(l, "admin") {
			role = crm.RoleAdmin
		}
		s.Agents = append(s.Agents, crm.SeedAgent{Agent: crm.Agent{Login: l, Name: strings.ToUpper(l[:1]) + l[1:], Role: role, PasswordHash: hash}})
	}
	if err := f.db.Import(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// handOff puts a conversation in the waiting state of queue, as the bot's
// handoff does.
func (f *apiFixture) handOff(t testing.TB, id, queue string) {
	t.Helper()
	if _, err := f.db.UpdateConversation(context.Background(), id, func(c *crm.Conversation) error {
		c.State, c.Queue = crm.StateWaiting, queue
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// claimedAnswer is the 409 already_claimed body.
func wantClaimed(t testing.TB, status int, body []byte, holder string) {
	t.Helper()
	if status != http.StatusConflict {
		t.Fatalf("status %d, want 409; body %s", status, body)
	}
	var b claimedBody
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if b.Error.Code != httpjson.CodeAlreadyClaimed || b.Error.Message == "" || b.Agent != holder {
		t.Fatalf("answer %s, want already_claimed naming %q", body, holder)
	}
}

// TestClaimConcurrent fires 100 simultaneous claims by 100 agents at one
// waiting conversation: exactly one wins, the 99 others are told who did,
// and exactly one claim event is stored.
func TestClaimConcurrent(t *testing.T) {
	f := newAPIFixture(t)
	c := f.startConversation(t, "c-001")
	f.handOff(t, c.ID, "billing")
	const n = 100
	logins := make([]string, n)
	for i := range logins {
		logins[i] = fmt.Sprintf("agent%03d", i)
	}
	f.addAgents(t, logins...)

	type answer struct {
		login  string
		status int
		body   []byte
	}
	answers := make([]answer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, l := range logins {
		wg.Go(func() {
			<-start
			rec := f.api(t, http.MethodPost, "/api/v1/conversations/"+c.ID+"/claim", `{"agent_id":"`+l+`"}`)
			answers[i] = answer{l, rec.Code, rec.Body.Bytes()}
		})
	}
	close(start)
	wg.Wait()

	var winners []answer
	for _, a := range answers {
		if a.status == http.StatusOK {
			winners = append(winners, a)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d claims won, want exactly 1", len(winners))
	}
	win := winners[0]
	var got crm.Conversation
	if err := json.Unmarshal(win.body, &got); err != nil || got.State != crm.StateAgent || got.AssignedAgent != win.login {
		t.Fatalf("winner %s got %s (%v)", win.login, win.body, err)
	}
	for _, a := range answers {
		if a.login != win.login {
			wantClaimed(t, a.status, a.body, win.login)
		}
	}
	evs, err := f.db.Events(context.Background(), c.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	claims := 0
	for _, ev := range evs {
		if ev.Type == crm.EventClaim {
			claims++
			if ev.Actor != win.login || ev.Agent != win.login {
				t.Errorf("claim event %+v, want by and for %s", ev, win.login)
			}
		}
	}
	if claims != 1 {
		t.Errorf("%d claim events stored, want 1: %+v", claims, evs)
	}
}

// TestLifecycleAPI walks a conversation through its life by the REST API.
func TestLifecycleAPI(t *testing.T) {
	f := newAPIFixture(t)
	f.addAgents(t, "sam", "kim", "admin-ada")
	c := f.startConversation(t, "c-001")
	f.handOff(t, c.ID, "billing")
	base := "/api/v1/conversations/" + c.ID

	steps := []struct {
		name, route, body string
		status            int
		code              string                   // the error's code when status is not 2xx
		check             func(c crm.Conversation) // on a 200
	}{
		{"sam claims", "claim", `{"agent_id":"sam"}`, 200, "", func(c crm.Conversation) {
			if c.State != crm.StateAgent || c.AssignedAgent != "sam" || c.Queue != "billing" {
				t.Errorf("after claim %s/%s/%s", c.State, c.AssignedAgent, c.Queue)
			}
		}},
		{"sam claims again", "claim", `{"agent_id":"sam"}`, 200, "", func(c crm.Conversation) {
			if c.AssignedAgent != "sam" {
				t.Errorf("assignee %q", c.AssignedAgent)
			}
		}},
		{"kim may not release it", "release", `{"agent_id":"kim"}`, 403, httpjson.CodeForbidden, nil},
		{"kim may not return it", "return", `{"agent_id":"kim"}`, 403, httpjson.CodeForbidden, nil},
		{"sam releases", "release", `{"agent_id":"sam"}`, 200, "", func(c crm.Conversation) {
			if c.State != crm.StateWaiting || c.AssignedAgent != "" || c.Queue != "billing" {
				t.Errorf("after release %s/%s/%s", c.State, c.AssignedAgent, c.Queue)
			}
		}},
		{"nobody holds it to release", "release", `{"agent_id":"sam"}`, 409, httpjson.CodeConflict, nil},
		{"the system moves it", "transfer", `{"queue":"returns"}`, 200, "", func(c crm.Conversation) {
			if c.State != crm.StateWaiting || c.Queue != "returns" || c.AssignedAgent != "" {
				t.Errorf("after transfer to a queue %s/%s/%s", c.State, c.AssignedAgent, c.Queue)
			}
		}},
		{"ada gives it to kim", "transfer", `{"agent_id":"kim","by":"admin-ada"}`, 200, "", func(c crm.Conversation) {
			if c.State != crm.StateAgent || c.AssignedAgent != "kim" {
				t.Errorf("after transfer to kim %s/%s", c.State, c.AssignedAgent)
			}
		}},
		{"sam may not take it from kim", "transfer", `{"queue":"billing","by":"sam"}`, 403, httpjson.CodeForbidden, nil},
		{"kim returns it to the bot", "return", `{"agent_id":"kim"}`, 200, "", func(c crm.Conversation) {
			if c.State != crm.StateBot || c.AssignedAgent != "" {
				t.Errorf("after return %s/%s", c.State, c.AssignedAgent)
			}
		}},
		{"the system resolves it", "resolve", ``, 200, "", func(c crm.Conversation) {
			if c.State != crm.StateResolved {
				t.Errorf("after resolve %s", c.State)
			}
		}},
		{"no claim once resolved", "claim", `{"agent_id":"sam"}`, 409, httpjson.CodeConflict, nil},
	}
	for _, st := range steps {
		rec := f.api(t, http.MethodPost, base+"/"+st.route, st.body)
		if st.code != "" {
			wantError(t, rec, st.status, st.code)
			continue
		}
		if rec.Code != st.status {
			t.Fatalf("%s: %d %s", st.name, rec.Code, rec.Body)
		}
		got := decodeAs[crm.Conversation](t, rec)
		if got.ID != c.ID {
			t.Fatalf("%s: answered conversation %q", st.name, got.ID)
		}
		st.check(got)
	}

	// A note after all that, by an agent.
	rec := f.api(t, http.MethodPost, base+"/notes", `{"text":"Customer prefers e-mail.","agent_id":"kim"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("note: %d %s", rec.Code, rec.Body)
	}
	note := decodeAs[crm.Event](t, rec)
	if note.Type != crm.EventNote || note.Actor != "kim" || note.Text != "Customer prefers e-mail." || note.ConversationID != c.ID || note.Seq == 0 {
		t.Errorf("note %+v", note)
	}

	// Every change is an event, with who did it, in order; the note last.
	rec = f.api(t, http.MethodGet, base+"/events", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"events":[`) {
		t.Fatalf("events: %d %s", rec.Code, rec.Body)
	}
	all := decodeAs[eventList](t, rec)
	want := []string{"claim:sam", "release:sam", "transfer:system", "transfer:admin-ada", "return:kim", "resolve:system", "note:kim"}
	var got []string
	for _, ev := range all.Events {
		got = append(got, string(ev.Type)+":"+ev.Actor)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	if all.NextAfter != all.Events[len(all.Events)-1].Seq {
		t.Errorf("next_after %d, last seq %d", all.NextAfter, all.Events[len(all.Events)-1].Seq)
	}

	// Paging as with messages.
	second := all.Events[1].Seq
	page := decodeAs[eventList](t, f.api(t, http.MethodGet, fmt.Sprintf("%s/events?after=%d&limit=2", base, all.Events[0].Seq), ""))
	if len(page.Events) != 2 || page.Events[0].Seq != second || page.NextAfter != page.Events[1].Seq {
		t.Errorf("page %+v", page)
	}
	end := decodeAs[eventList](t, f.api(t, http.MethodGet, fmt.Sprintf("%s/events?after=%d", base, all.NextAfter), ""))
	if len(end.Events) != 0 || end.NextAfter != all.NextAfter {
		t.Errorf("past the end %+v", end)
	}
}

// TestLifecycleAPIErrors covers the refusals before and from the engine.
func TestLifecycleAPIErrors(t *testing.T) {
	f := newAPIFixture(t)
	f.addAgents(t, "sam", "kim")
	c := f.startConversation(t, "c-001")
	f.handOff(t, c.ID, "billing")
	base := "/api/v1/conversations/" + c.ID
	long := strings.Repeat("a", maxIDBytes+1)

	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"claim without agent", "POST", base + "/claim", `{}`, 400, httpjson.CodeBadRequest},
		{"claim with empty body", "POST", base + "/claim", ``, 400, httpjson.CodeInvalidJSON},
		{"claim by unknown agent", "POST", base + "/claim", `{"agent_id":"nobody"}`, 400, httpjson.CodeUnknownAgent},
		{"claim with long agent", "POST", base + "/claim", `{"agent_id":"` + long + `"}`, 400, httpjson.CodeBadRequest},
		{"claim with unknown field", "POST", base + "/claim", `{"agent_id":"sam","force":true}`, 400, httpjson.CodeInvalidJSON},
		{"claim of unknown conversation", "POST", "/api/v1/conversations/nope/claim", `{"agent_id":"sam"}`, 404, httpjson.CodeNotFound},
		{"release by unknown agent", "POST", base + "/release", `{"agent_id":"nobody"}`, 400, httpjson.CodeUnknownAgent},
		{"release with malformed body", "POST", base + "/release", `{"agent_id":`, 400, httpjson.CodeInvalidJSON},
		{"release of what nobody holds", "POST", base + "/release", ``, 409, httpjson.CodeConflict},
		{"resolve of unknown conversation", "POST", "/api/v1/conversations/nope/resolve", `{}`, 404, httpjson.CodeNotFound},
		{"transfer to nothing", "POST", base + "/transfer", `{}`, 400, httpjson.CodeBadRequest},
		{"transfer to both", "POST", base + "/transfer", `{"queue":"billing","agent_id":"sam"}`, 400, httpjson.CodeBadRequest},
		{"transfer to unknown agent", "POST", base + "/transfer", `{"agent_id":"nobody"}`, 400, httpjson.CodeUnknownAgent},
		{"transfer by unknown agent", "POST", base + "/transfer", `{"queue":"returns","by":"nobody"}`, 400, httpjson.CodeUnknownAgent},
		{"transfer to long queue", "POST", base + "/transfer", `{"queue":"` + strings.Repeat("q", maxQueueBytes+1) + `"}`, 400, httpjson.CodeBadRequest},
		{"transfer to padded queue", "POST", base + "/transfer", `{"queue":" billing"}`, 400, httpjson.CodeBadRequest},
		{"note without text", "POST", base + "/notes", `{"agent_id":"sam"}`, 400, httpjson.CodeBadRequest},
		{"note without agent", "POST", base + "/notes", `{"text":"hm"}`, 400, httpjson.CodeBadRequest},
		{"note by unknown agent", "POST", base + "/notes", `{"text":"hm","agent_id":"nobody"}`, 400, httpjson.CodeUnknownAgent},
		{"note too long", "POST", base + "/notes", `{"text":"` + strings.Repeat("n", maxTextBytes+1) + `","agent_id":"sam"}`, 413, httpjson.CodeTooLarge},
		{"note on unknown conversation", "POST", "/api/v1/conversations/nope/notes", `{"text":"hm","agent_id":"sam"}`, 404, httpjson.CodeNotFound},
		{"events of unknown conversation", "GET", "/api/v1/conversations/nope/events", "", 404, httpjson.CodeNotFound},
		{"events after -1", "GET", base + "/events?after=-1", "", 400, httpjson.CodeBadRequest},
		{"events limit 0", "GET", base + "/events?limit=0", "", 400, httpjson.CodeBadRequest},
		{"events limit too big", "GET", base + "/events?limit=1001", "", 400, httpjson.CodeBadRequest},
		{"claim by GET", "GET", base + "/claim", "", 405, httpjson.CodeMethodNotAllowed},
		{"events by POST", "POST", base + "/events", `{}`, 405, httpjson.CodeMethodNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, f.api(t, tc.method, tc.path, tc.body), tc.status, tc.code)
		})
	}
	if evs, err := f.db.Events(context.Background(), c.ID, 0, 0); err != nil || len(evs) != 0 {
		t.Errorf("refused requests stored events %+v, %v", evs, err)
	}

	t.Run("no engine", func(t *testing.T) {
		off := newAPIFixture(t, func(c *Config) { c.Engine = nil })
		off.addAgents(t, "sam")
		for _, route := range []string{"claim", "release", "return", "resolve", "notes"} {
			body := `{"agent_id":"sam"}`
			if route == "notes" {
				body = `{"agent_id":"sam","text":"hm"}`
			}
			wantError(t, off.api(t, http.MethodPost, "/api/v1/conversations/conv-seed-1/"+route, body), 503, httpjson.CodeUnavailable)
		}
	})
}

// TestPostMessageClaims: an agent's message on a conversation the bot or a
// queue holds claims it for that agent; on one another agent holds it is
// refused, and nothing is stored.
func TestPostMessageClaims(t *testing.T) {
	f := newAPIFixture(t)
	f.addAgents(t, "sam", "kim")
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		waiting bool
	}{{"bot holds it", false}, {"waiting in a queue", true}} {
		t.Run(tc.name, func(t *testing.T) {
			c := f.startConversation(t, "c-001")
			if tc.waiting {
				f.handOff(t, c.ID, "billing")
			}
			path := "/api/v1/conversations/" + c.ID + "/messages"
			rec := f.api(t, http.MethodPost, path, `{"text":"Hi, Sam here.","sender":"agent","agent_id":"sam"}`)
			if rec.Code != http.StatusCreated {
				t.Fatalf("post: %d %s", rec.Code, rec.Body)
			}
			got, err := f.db.Conversation(ctx, c.ID)
			if err != nil || got.State != crm.StateAgent || got.AssignedAgent != "sam" {
				t.Fatalf("after sam's message: %s/%s, %v", got.State, got.AssignedAgent, err)
			}
			rec = f.api(t, http.MethodPost, path, `{"text":"Kim here.","sender":"agent","agent_id":"kim"}`)
			wantClaimed(t, rec.Code, rec.Body.Bytes(), "sam")
			wantError(t, f.api(t, http.MethodPost, path, `{"text":"Who?","sender":"agent","agent_id":"nobody"}`), 400, httpjson.CodeUnknownAgent)
			if ms, _ := f.db.MessagesAfter(ctx, c.ID, 0, 0); len(ms) != 1 {
				t.Errorf("%d messages stored, want only sam's", len(ms))
			}
		})
	}
}
