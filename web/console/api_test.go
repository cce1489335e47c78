package console

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/httpjson"
)

func convPath(id, action string) string {
	p := "/console/api/conversations/" + id
	if action != "" {
		p += "/" + action
	}
	return p
}

func TestListViews(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sys := dialog.Actor{}
	// bot: still with the bot; waiting: handed off to general; returns:
	// waiting in returns; mine: held by bob; davess: held by dave;
	// closed: resolved today; old-1: resolved a month ago.
	f.say(t, "bot", "", "hello")
	f.handedOff(t, "waiting", "c-1")
	f.clock.advance(time.Minute)
	f.handedOff(t, "returns", "")
	if _, err := f.engine.Transfer(ctx, "returns", dialog.Target{Queue: "returns"}, sys); err != nil {
		t.Fatal(err)
	}
	f.handedOff(t, "mine", "")
	if _, err := f.engine.Claim(ctx, "mine", dialog.Actor{Login: bob}); err != nil {
		t.Fatal(err)
	}
	f.handedOff(t, "davess", "")
	if _, err := f.engine.Claim(ctx, "davess", dialog.Actor{Login: dave}); err != nil {
		t.Fatal(err)
	}
	f.say(t, "closed", "", "hello")
	if _, err := f.engine.Resolve(ctx, "closed", sys); err != nil {
		t.Fatal(err)
	}
	f.clock.advance(4 * time.Minute) // "waiting" has waited 5 minutes: the SLA

	for _, tc := range []struct {
		who, view string
		want      []string
	}{
		{admin, "mine", nil},
		{bob, "mine", []string{"mine"}},
		{admin, "unassigned", []string{"waiting", "returns"}},
		{bob, "unassigned", []string{"waiting"}},             // returns is not bob's queue
		{carol, "unassigned", []string{"returns"}},           // general is not carol's
		{dave, "unassigned", []string{"waiting", "returns"}}, // no teams: every queue
		{carol, "open", []string{"bot", "returns"}},          // the bot's has no queue
		{admin, "open", []string{"bot", "davess", "mine", "returns", "waiting"}},
		{bob, "resolved", []string{"closed"}},
		{carol, "", []string{"bot", "returns"}}, // open by default
	} {
		t.Run(tc.who+" "+tc.view, func(t *testing.T) {
			a := f.login(t, tc.who)
			got := ok[listAnswer](t, a, http.StatusOK, http.MethodGet, "/console/api/conversations?view="+tc.view, "")
			gotIDs := ids(got.Conversations)
			if tc.view == "open" || tc.view == "" {
				slices.Sort(gotIDs)
			}
			if want := append([]string{}, tc.want...); !slices.Equal(gotIDs, want) {
				t.Fatalf("view %q for %s: %v, want %v", tc.view, tc.who, gotIDs, want)
			}
		})
	}

	a := f.login(t, admin)
	rows := ok[listAnswer](t, a, http.StatusOK, http.MethodGet, "/console/api/conversations?view=open", "").Conversations
	byID := map[string]Row{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	w := byID["waiting"]
	if w.State != crm.StateWaiting || w.Queue != queueGe || w.WaitingSeconds != 5*60 || !w.SLABreached {
		t.Errorf("waiting row %+v: want 300 s in general, at the SLA", w)
	}
	if w.Customer == nil || w.Customer.Name != "Ana Lopez" || w.Customer.Tier != crm.TierGold {
		t.Errorf("waiting row customer %+v", w.Customer)
	}
	if w.Priority != crm.PriorityHigh {
		t.Errorf("gold customer's handoff priority %s, want high", w.Priority)
	}
	if w.LastMessage == nil || w.LastMessage.Sender != crm.SenderBot || w.LastMessage.Text == "" {
		t.Errorf("waiting row last message %+v, want the bot's handoff message", w.LastMessage)
	}
	if r := byID["returns"]; r.WaitingSeconds != 4*60 || r.SLABreached || r.Customer != nil {
		t.Errorf("returns row %+v: want 240 s, within the SLA, no customer", r)
	}
	if m := byID["mine"]; m.AssignedAgent != bob || m.AssignedName != "Bob" || m.WaitingSeconds != 0 || m.SLABreached {
		t.Errorf("mine row %+v: want held by Bob, not waiting", m)
	}

	wantError(t, a.do(t, http.MethodGet, "/console/api/conversations?view=everything", ""), http.StatusBadRequest, "bad_request")
	// The resolved view is today's: tomorrow it is empty.
	f.clock.advance(24 * time.Hour)
	a = f.login(t, admin) // the session expired meanwhile
	if got := ok[listAnswer](t, a, http.StatusOK, http.MethodGet, "/console/api/conversations?view=resolved", ""); len(got.Conversations) != 0 {
		t.Fatalf("resolved tomorrow: %v", ids(got.Conversations))
	}
}

func TestVisibility(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.handedOff(t, "ret", "")
	if _, err := f.engine.Transfer(ctx, "ret", dialog.Target{Queue: "returns"}, dialog.Actor{}); err != nil {
		t.Fatal(err)
	}
	b := f.login(t, bob) // orders and general
	for _, tc := range []struct{ method, action, body string }{
		{http.MethodGet, "", ""},
		{http.MethodPost, "claim", ""},
		{http.MethodPost, "resolve", ""},
		{http.MethodPost, "messages", `{"text":"hi"}`},
		{http.MethodPost, "notes", `{"text":"hi"}`},
		{http.MethodPost, "transfer", `{"queue":"general"}`},
	} {
		wantError(t, b.do(t, tc.method, convPath("ret", tc.action), tc.body), http.StatusForbidden, httpjson.CodeForbidden)
	}
	if c, _ := f.store.Conversation(ctx, "ret"); c.State != crm.StateWaiting || c.LastSeq != 4 {
		t.Fatalf("refused requests changed the conversation: %+v", c)
	}
	// Assigned to bob, it is his to see even in a queue he does not serve.
	if _, err := f.engine.Transfer(ctx, "ret", dialog.Target{Agent: bob}, dialog.Actor{}); err != nil {
		t.Fatal(err)
	}
	ok[detailAnswer](t, b, http.StatusOK, http.MethodGet, convPath("ret", ""), "")
	for _, who := range []string{carol, dave, admin} {
		ok[detailAnswer](t, f.login(t, who), http.StatusOK, http.MethodGet, convPath("ret", ""), "")
	}
	wantError(t, b.do(t, http.MethodGet, convPath("nope", ""), ""), http.StatusNotFound, httpjson.CodeNotFound)
	wantError(t, b.do(t, http.MethodPost, convPath("nope", "claim"), ""), http.StatusNotFound, httpjson.CodeNotFound)
}

func TestClaimRace(t *testing.T) {
	f := newFixture(t)
	f.handedOff(t, "race", "c-2")
	agents := []*agent{f.login(t, bob), f.login(t, dave), f.login(t, admin)}
	const n = 30
	type result struct {
		status int
		body   string
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rec := agents[i%len(agents)].do(t, http.MethodPost, convPath("race", "claim"), "")
			results <- result{rec.Code, rec.Body.String()}
		})
	}
	wg.Wait()
	close(results)
	won, lost := 0, 0
	for r := range results {
		switch r.status {
		case http.StatusOK:
			won++
		case http.StatusConflict:
			lost++
		default:
			t.Errorf("claim: %d %s", r.status, r.body)
		}
	}
	c, _ := f.store.Conversation(context.Background(), "race")
	// The winner's own repeated claims are 200 (unchanged): every other
	// agent's is a 409.
	var winner int
	for i, a := range []string{bob, dave, admin} {
		if a == c.AssignedAgent {
			winner = i
		}
	}
	wantWon := n / len(agents)
	if won != wantWon || won+lost != n {
		t.Fatalf("%d won, %d lost; want the %d claims of the winner %s to win", won, lost, wantWon, c.AssignedAgent)
	}
	evs, _ := f.store.Events(context.Background(), "race", 0, 0)
	claims := 0
	for _, ev := range evs {
		if ev.Type == crm.EventClaim {
			claims++
		}
	}
	if claims != 1 {
		t.Fatalf("%d claim events, want 1", claims)
	}

	// A loser hears who has it.
	loser := agents[(winner+1)%len(agents)]
	rec := loser.do(t, http.MethodPost, convPath("race", "claim"), "")
	wantError(t, rec, http.StatusConflict, httpjson.CodeAlreadyClaimed)
	body := decode[claimedBody](t, rec)
	name := map[string]string{bob: "Bob", dave: "Dave", admin: "Ada Admin"}[c.AssignedAgent]
	if body.Agent != c.AssignedAgent || body.AgentName != name || body.Error.Message != name+" has it" {
		t.Fatalf("409 body %+v, want %s (%s)", body, c.AssignedAgent, name)
	}
}

func TestActions(t *testing.T) {
	f := newFixture(t)
	f.handedOff(t, "act", "c-2")
	b, d, adm := f.login(t, bob), f.login(t, dave), f.login(t, admin)
	state := func(a *agent, status int, action, body string) Row {
		t.Helper()
		return ok[conversationAnswer](t, a, status, http.MethodPost, convPath("act", action), body).Conversation
	}

	// Nobody holds it: release is a conflict, claim works.
	wantError(t, b.do(t, http.MethodPost, convPath("act", "release"), ""), http.StatusConflict, httpjson.CodeConflict)
	if r := state(b, http.StatusOK, "claim", "{}"); r.State != crm.StateAgent || r.AssignedAgent != bob || r.AssignedName != "Bob" {
		t.Fatalf("after claim: %+v", r)
	}
	// Only the holder (or an admin) may release it.
	wantError(t, d.do(t, http.MethodPost, convPath("act", "release"), ""), http.StatusForbidden, httpjson.CodeForbidden)
	if r := state(b, http.StatusOK, "release", ""); r.State != crm.StateWaiting || r.AssignedAgent != "" || r.Queue != queueGe {
		t.Fatalf("after release: %+v", r)
	}
	// Transfer to a queue, then to an agent.
	if r := state(b, http.StatusOK, "transfer", `{"queue":"orders"}`); r.State != crm.StateWaiting || r.Queue != "orders" {
		t.Fatalf("after transfer to orders: %+v", r)
	}
	if r := state(b, http.StatusOK, "transfer", `{"agent_id":"`+dave+`"}`); r.State != crm.StateAgent || r.AssignedAgent != dave {
		t.Fatalf("after transfer to dave: %+v", r)
	}
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"unknown queue", `{"queue":"billing"}`, http.StatusBadRequest, codeUnknownQueue},
		{"unknown agent", `{"agent_id":"zed@example.com"}`, http.StatusBadRequest, httpjson.CodeUnknownAgent},
		{"both", `{"queue":"orders","agent_id":"` + bob + `"}`, http.StatusBadRequest, "bad_request"},
		{"neither", `{}`, http.StatusBadRequest, "bad_request"},
		{"not the holder", `{"queue":"orders"}`, http.StatusForbidden, httpjson.CodeForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, b.do(t, http.MethodPost, convPath("act", "transfer"), tc.body), tc.status, tc.code)
		})
	}
	// Claiming a conversation another agent holds fails; an admin may take
	// it back to the bot.
	wantError(t, b.do(t, http.MethodPost, convPath("act", "claim"), ""), http.StatusConflict, httpjson.CodeAlreadyClaimed)
	if r := state(adm, http.StatusOK, "return", ""); r.State != crm.StateBot || r.AssignedAgent != "" {
		t.Fatalf("after return: %+v", r)
	}
	if r := state(b, http.StatusOK, "resolve", ""); r.State != crm.StateResolved {
		t.Fatalf("after resolve: %+v", r)
	}
	wantError(t, b.do(t, http.MethodPost, convPath("act", "claim"), ""), http.StatusConflict, httpjson.CodeConflict)
	// Action bodies are empty or {}.
	wantError(t, b.do(t, http.MethodPost, convPath("act", "resolve"), `{"force":true}`), http.StatusBadRequest, "invalid_json")

	// Every step is an event with who did it.
	evs, err := f.store.Events(context.Background(), "act", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		got = append(got, string(ev.Type)+":"+ev.Actor)
	}
	want := []string{"handoff:bot", "claim:" + bob, "release:" + bob, "transfer:" + bob, "transfer:" + bob, "return:" + admin, "resolve:" + bob}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

func TestMessagesAndNotes(t *testing.T) {
	f := newFixture(t)
	f.handedOff(t, "msg", "c-1")
	b, d := f.login(t, bob), f.login(t, dave)

	// A message on a waiting conversation claims it for the agent.
	m := ok[messageAnswer](t, b, http.StatusCreated, http.MethodPost, convPath("msg", "messages"), `{"text":"Hi Ana, <b>Bob</b> here","client_id":"c1"}`).Message
	if m.Sender != crm.SenderAgent || m.AgentID != bob || m.Text != "Hi Ana, <b>Bob</b> here" || m.Seq == 0 {
		t.Fatalf("message %+v", m)
	}
	c, _ := f.store.Conversation(context.Background(), "msg")
	if c.State != crm.StateAgent || c.AssignedAgent != bob {
		t.Fatalf("after the message: state %s agent %q, want held by bob", c.State, c.AssignedAgent)
	}
	// A resend of the same client_id is not stored again.
	again := ok[messageAnswer](t, b, http.StatusOK, http.MethodPost, convPath("msg", "messages"), `{"text":"Hi Ana, <b>Bob</b> here","client_id":"c1"}`).Message
	if again.ID != m.ID {
		t.Fatalf("resend stored %s, want %s again", again.ID, m.ID)
	}
	// Another agent cannot write into it.
	wantError(t, d.do(t, http.MethodPost, convPath("msg", "messages"), `{"text":"me too"}`), http.StatusConflict, httpjson.CodeAlreadyClaimed)

	ev := ok[eventAnswer](t, d, http.StatusCreated, http.MethodPost, convPath("msg", "notes"), `{"text":"VIP: be quick"}`).Event
	if ev.Type != crm.EventNote || ev.Actor != dave || ev.Text != "VIP: be quick" {
		t.Fatalf("note %+v", ev)
	}
	ms, _ := f.store.MessagesAfter(context.Background(), "msg", 0, 0)
	for _, m := range ms {
		if strings.Contains(m.Text, "VIP") {
			t.Fatalf("the note is a message: %+v", m)
		}
	}

	for _, tc := range []struct {
		name, action, body string
		status             int
		code               string
	}{
		{"empty message", "messages", `{"text":"  "}`, http.StatusBadRequest, "bad_request"},
		{"message too long", "messages", `{"text":"` + strings.Repeat("a", maxTextBytes+1) + `"}`, http.StatusRequestEntityTooLarge, "too_large"},
		{"long client id", "messages", `{"text":"a","client_id":"` + strings.Repeat("a", maxIDBytes+1) + `"}`, http.StatusBadRequest, "bad_request"},
		{"message as agent", "messages", `{"text":"a","sender":"bot"}`, http.StatusBadRequest, "invalid_json"},
		{"empty note", "notes", `{"text":""}`, http.StatusBadRequest, "bad_request"},
		{"note too long", "notes", `{"text":"` + strings.Repeat("a", crm.MaxEventText+1) + `"}`, http.StatusRequestEntityTooLarge, "too_large"},
		{"note not JSON", "notes", `text=hi`, http.StatusBadRequest, "invalid_json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, b.do(t, http.MethodPost, convPath("msg", tc.action), tc.body), tc.status, tc.code)
		})
	}
}

func TestDetail(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.handedOff(t, "det", "c-1")
	if _, err := f.store.CreateTicket(ctx, crm.Ticket{CustomerID: "c-1", Subject: "Parcel late <script>", Topic: "delivery_problem"}); err != nil {
		t.Fatal(err)
	}
	f.clock.advance(time.Second) // the sidebar shows what was there before now
	b := f.login(t, bob)
	ok[eventAnswer](t, b, http.StatusCreated, http.MethodPost, convPath("det", "notes"), `{"text":"looking"}`)

	d := ok[detailAnswer](t, b, http.StatusOK, http.MethodGet, convPath("det", ""), "")
	if d.Conversation.ID != "det" || d.Conversation.State != crm.StateWaiting {
		t.Fatalf("detail row %+v", d.Conversation)
	}
	if len(d.Messages) != 4 || d.Messages[0].Text != "hello" || d.Messages[2].Text != "I want a person" {
		t.Fatalf("transcript %+v", d.Messages)
	}
	for _, m := range d.Messages {
		if m.Parse != nil {
			t.Fatalf("message %d carries its parse", m.Seq)
		}
	}
	if len(d.Events) != 2 || d.Events[0].Type != crm.EventHandoff || d.Events[1].Type != crm.EventNote {
		t.Fatalf("events %+v", d.Events)
	}
	cu := d.Customer
	if cu == nil || cu.ID != "c-1" || cu.Tier != crm.TierGold || cu.LifetimeOrders != 2 || cu.LastRating == nil || *cu.LastRating != 4 {
		t.Fatalf("customer card %+v", cu)
	}
	if len(d.Orders) != 2 || d.Orders[0].ID != "1042" {
		t.Fatalf("orders %+v, want the latest first", d.Orders)
	}
	if len(d.OpenTickets) != 1 || d.OpenTickets[0].Subject != "Parcel late <script>" {
		t.Fatalf("open tickets %+v", d.OpenTickets)
	}
	if len(d.PastConversations) != 1 || d.PastConversations[0].ID != "old-1" || d.PastConversations[0].State != crm.StateResolved {
		t.Fatalf("past conversations %+v", d.PastConversations)
	}
	h := d.Handoff
	if h == nil {
		t.Fatal("no handoff card")
	}
	if h.Queue != queueGe || h.Priority != crm.PriorityHigh || h.Reason == "" || !strings.Contains(h.RoutingReason, "gold") {
		t.Errorf("handoff card %+v", h)
	}
	if h.Intent != "human_agent" || h.Confidence != 0.91 || len(h.Top) != 3 || h.Top[1].Intent != "thanks" {
		t.Errorf("handoff parse: intent %q %.2f top %+v", h.Intent, h.Confidence, h.Top)
	}
	if len(h.Entities) != 1 || h.Entities[0].Value != "1042" || h.Entities[0].Type != "order_id" {
		t.Errorf("handoff entities %+v", h.Entities)
	}
	if d.Viewers == nil {
		t.Error("viewers is null, want a list")
	}

	// A conversation never handed off has no card; one without a
	// customer has no sidebar.
	f.say(t, "plain", "", "hello")
	d = ok[detailAnswer](t, b, http.StatusOK, http.MethodGet, convPath("plain", ""), "")
	if d.Handoff != nil || d.Customer != nil || len(d.Orders) != 0 || d.Orders == nil {
		t.Fatalf("plain detail: handoff %+v customer %+v orders %v", d.Handoff, d.Customer, d.Orders)
	}
}

func TestCanned(t *testing.T) {
	f := newFixture(t)
	b, adm := f.login(t, bob), f.login(t, admin)
	put := `{"title":"Refund sent","text":"Hi {{customer.name}}, the refund for {{order.id}} is on its way."}`

	wantError(t, b.do(t, http.MethodPut, "/console/api/canned/refund-sent", put), http.StatusForbidden, httpjson.CodeForbidden)
	cr := ok[crm.CannedResponse](t, adm, http.StatusOK, http.MethodPut, "/console/api/canned/refund-sent", put)
	if cr.Shortcut != "refund-sent" || cr.UpdatedBy != admin || cr.UpdatedAt.IsZero() {
		t.Fatalf("stored %+v", cr)
	}
	list := ok[cannedList](t, b, http.StatusOK, http.MethodGet, "/console/api/canned", "")
	if len(list.Canned) != 1 || list.Canned[0].Text != "Hi {{customer.name}}, the refund for {{order.id}} is on its way." {
		t.Fatalf("list %+v", list)
	}
	wantError(t, adm.do(t, http.MethodPut, "/console/api/canned/Bad%20Name", put), http.StatusBadRequest, "bad_request")
	wantError(t, adm.do(t, http.MethodPut, "/console/api/canned/empty", `{"title":"x","text":" "}`), http.StatusBadRequest, "bad_request")
	wantError(t, adm.do(t, http.MethodPut, "/console/api/canned/long",
		fmt.Sprintf(`{"title":"x","text":"%s"}`, strings.Repeat("a", crm.MaxCannedText+1))), http.StatusRequestEntityTooLarge, "too_large")

	wantError(t, b.do(t, http.MethodDelete, "/console/api/canned/refund-sent", ""), http.StatusForbidden, httpjson.CodeForbidden)
	if rec := adm.do(t, http.MethodDelete, "/console/api/canned/refund-sent", ""); rec.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body)
	}
	wantError(t, adm.do(t, http.MethodDelete, "/console/api/canned/refund-sent", ""), http.StatusNotFound, httpjson.CodeNotFound)
	if list := ok[cannedList](t, b, http.StatusOK, http.MethodGet, "/console/api/canned", ""); list.Canned == nil || len(list.Canned) != 0 {
		t.Fatalf("list after delete %+v, want []", list.Canned)
	}
}

func TestAgentsAndQueues(t *testing.T) {
	f := newFixture(t)
	b := f.login(t, bob)
	rec := b.do(t, http.MethodGet, "/console/api/agents", "")
	if strings.Contains(rec.Body.String(), "$2a$") || strings.Contains(rec.Body.String(), "password") {
		t.Fatalf("agents list shows password hashes: %s", rec.Body)
	}
	as := decode[agentList](t, rec).Agents
	var logins []string
	for _, a := range as {
		logins = append(logins, a.Login)
		if a.Presence != "offline" || a.Teams == nil {
			t.Errorf("agent %+v: want offline (no socket) and a teams list", a)
		}
	}
	if !slices.Equal(logins, []string{admin, bob, carol, dave}) {
		t.Fatalf("agents %v", logins)
	}
	qs := ok[queueList](t, b, http.StatusOK, http.MethodGet, "/console/api/queues", "")
	if !slices.Equal(qs.Queues, []string{queueGe, "orders", "returns", "shipping"}) {
		t.Fatalf("queues %v", qs.Queues)
	}
	wantError(t, f.serve(httptestRequest(http.MethodGet, "/console/api/agents")), http.StatusUnauthorized, httpjson.CodeUnauthorized)
}

func TestRoutesAndStatic(t *testing.T) {
	f := newFixture(t)
	b := f.login(t, bob)
	wantError(t, b.do(t, http.MethodGet, "/console/api/nothing", ""), http.StatusNotFound, httpjson.CodeNotFound)
	rec := b.do(t, http.MethodGet, "/console/api/login", "")
	wantError(t, rec, http.StatusMethodNotAllowed, httpjson.CodeMethodNotAllowed)
	if got := rec.Header().Get("Allow"); got != "POST" {
		t.Errorf("Allow %q, want POST", got)
	}

	index, err := fs.ReadFile(embedded, "static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	etag := f.serve(httptestRequest(http.MethodGet, "/console/index.html")).Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on index.html")
	}
	for _, tc := range []struct {
		method, target string
		status         int
		ctype          string
	}{
		{http.MethodGet, "/console", 200, "text/html; charset=utf-8"},
		{http.MethodGet, "/console/", 200, "text/html; charset=utf-8"},
		{http.MethodHead, "/console", 200, "text/html; charset=utf-8"},
		{http.MethodGet, "/console/index.html", 200, "text/html; charset=utf-8"},
		{http.MethodGet, "/console/nothing.js", 404, ""},
		{http.MethodGet, "/console/static/index.html", 404, ""},
		{http.MethodPost, "/console/index.html", 405, ""},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			rec := f.serve(httptestRequest(tc.method, tc.target))
			if rec.Code != tc.status {
				t.Fatalf("%d, want %d", rec.Code, tc.status)
			}
			if tc.status != 200 {
				return
			}
			if got := rec.Header().Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			if rec.Header().Get("ETag") != etag || rec.Header().Get("Cache-Control") != "no-cache" {
				t.Errorf("ETag %q Cache-Control %q", rec.Header().Get("ETag"), rec.Header().Get("Cache-Control"))
			}
			if tc.method == http.MethodGet && rec.Body.String() != string(index) {
				t.Error("body is not index.html")
			}
		})
	}
	// Every embedded file is served with a known type, and revalidates.
	names, err := fs.Glob(embedded, "static/*")
	if err != nil || len(names) < 2 {
		t.Fatalf("embedded files %v, %v", names, err)
	}
	for _, name := range names {
		name = strings.TrimPrefix(name, "static/")
		rec := f.serve(httptestRequest(http.MethodGet, "/console/"+name))
		if rec.Code != 200 || rec.Header().Get("Content-Type") == "application/octet-stream" || rec.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("%s: %d %s %s", name, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"))
		}
		r := httptestRequest(http.MethodGet, "/console/"+name)
		r.Header.Set("If-None-Match", rec.Header().Get("ETag"))
		if rec := f.serve(r); rec.Code != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d, want 304", name, rec.Code)
		}
	}
}

func TestNewNeedsStoreAndEngine(t *testing.T) {
	f := newFixture(t)
	for _, cfg := range []Config{{}, {Store: f.store}, {Engine: f.engine}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) worked", cfg)
		}
	}
}
