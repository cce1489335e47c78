package console

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/inmem"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/httpjson"
	"github.com/parleyhq/parley/internal/shoptest"
	"github.com/parleyhq/parley/nlp/nlu"
)

// The console is tested through its handler (httptest) over an in-memory
// store and a real engine with the shop's domain; a stub parser decides
// what the customer's words mean.

const (
	password = "correct horse battery"
	origin   = "http://example.com" // httptest.NewRequest's Host
)

// Agents of the fixture.
const (
	admin   = "admin@example.com" // role admin
	bob     = "bob@example.com"   // serves orders and general
	carol   = "carol@example.com" // serves returns
	dave    = "dave@example.com"  // no teams: every queue
	queueGe = "general"           // the shop's default queue: where "person" goes
)

// clock is a settable clock shared by the store, the engine and the
// console.
type clock struct {
	mu  sync.Mutex
	now time.Time // guarded by mu
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// stubParser understands "person" as a request for a human, anything else
// as a greeting, with a ranking of four intents and an entity.
type stubParser struct{}

func (stubParser) Parse(ctx context.Context, text string) (*nlu.Result, error) {
	intent := "greet"
	if strings.Contains(text, "person") {
		intent = "human_agent"
	}
	return &nlu.Result{
		Text: text, Intent: intent, Confidence: 0.91, InScope: true, ScopeScore: 0.9,
		Ranking: []nlu.IntentScore{{Intent: intent, Confidence: 0.91}, {Intent: "thanks", Confidence: 0.05},
			{Intent: "goodbye", Confidence: 0.03}, {Intent: "order_status", Confidence: 0.01}},
		Entities:  []nlu.Entity{{Type: "order_id", Text: "#1042", Value: "1042", Start: 0, End: 5}},
		Embedding: []float32{0.5, 0.25},
	}, nil
}

// local is the fixture's time zone: "today" is counted in it.
var local = time.FixedZone("UTC+2", 2*3600)

type fixture struct {
	clock   *clock
	store   *inmem.Store
	engine  *dialog.Engine
	console *Console
	handler http.Handler
}

// newFixture returns a console over a store with the agents above, the
// customer c-1 (gold, two orders, rated 4 once) and c-2, at 09:00 local
// time.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := &clock{now: time.Date(2026, 3, 10, 9, 0, 0, 0, local)}
	st := inmem.New(&inmem.Options{Now: clk.Now, BcryptCost: 4})
	t.Cleanup(func() { st.Close() })
	err := st.Import(ctx, crm.Snapshot{
		Customers: []crm.Customer{
			{ID: "c-1", Name: "Ana Lopez", Email: "ana@example.com", Tier: crm.TierGold},
			{ID: "c-2", Name: "Ben Okafor", Email: "ben@example.com", Tier: crm.TierStandard},
		},
		Orders: []crm.Order{
			{ID: "1041", CustomerID: "c-1", TotalCents: 1000, Currency: "EUR", Status: crm.OrderDelivered, PlacedAt: clk.Now().AddDate(0, -2, 0)},
			{ID: "1042", CustomerID: "c-1", TotalCents: 2500, Currency: "EUR", Status: crm.OrderShipped, PlacedAt: clk.Now().AddDate(0, 0, -3)},
		},
		Conversations: []crm.Conversation{{ID: "old-1", Channel: crm.ChannelWeb, CustomerID: "c-1", State: crm.StateResolved,
			CreatedAt: clk.Now().AddDate(0, -1, 0), ClosedAt: clk.Now().AddDate(0, -1, 0)}},
		Feedback: []crm.Feedback{{ConversationID: "old-1", CustomerID: "c-1", Score: 4, CreatedAt: clk.Now().AddDate(0, -1, 0)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []crm.Agent{
		{Login: admin, Name: "Ada Admin", Role: crm.RoleAdmin},
		{Login: bob, Name: "Bob", Role: crm.RoleAgent, Teams: []string{"orders", queueGe}},
		{Login: carol, Name: "Carol", Role: crm.RoleAgent, Teams: []string{"returns"}},
		{Login: dave, Name: "Dave", Role: crm.RoleAgent},
	} {
		if _, err := st.PutAgent(ctx, a, password); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := dialog.New(dialog.Config{Domain: shoptest.Domain(t), Parser: stubParser{}, Store: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Store: st, Engine: eng, Queues: []string{queueGe, "orders", "returns", "shipping"}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &fixture{clock: clk, store: st, engine: eng, console: c, handler: c.Handler()}
}

// say starts a web conversation of the customer ("" unknown) if id is
// new, and has the customer say text to the bot.
func (f *fixture) say(t testing.TB, id, customer, text string) crm.Conversation {
	t.Helper()
	out, err := f.engine.Handle(context.Background(), dialog.Inbound{ConversationID: id, Text: text,
		Start: &dialog.StartRequest{Channel: crm.ChannelWeb, CustomerID: customer}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Conversation
}

// handedOff is a conversation the customer asked a person for: waiting in
// the general queue.
func (f *fixture) handedOff(t testing.TB, id, customer string) crm.Conversation {
	t.Helper()
	f.say(t, id, customer, "hello")
	c := f.say(t, id, customer, "I want a person")
	if c.State != crm.StateWaiting || c.Queue != queueGe {
		t.Fatalf("after asking for a person: state %s queue %q, want waiting in %s", c.State, c.Queue, queueGe)
	}
	return c
}

// request builds a request from the console's own origin (browsers send
// Origin on every POST) and from addr.
func request(method, target, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	if method != http.MethodGet && method != http.MethodHead {
		r.Header.Set("Origin", origin)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	return r
}

func (f *fixture) serve(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, r)
	return rec
}

// agent is a logged-in browser: its session cookie and CSRF token.
type agent struct {
	f      *fixture
	cookie *http.Cookie
	csrf   string
}

// login logs the agent in, failing the test unless it works.
func (f *fixture) login(t testing.TB, email string) *agent {
	t.Helper()
	rec := f.serve(request(http.MethodPost, "/console/api/login", `{"email":"`+email+`","password":"`+password+`"}`))
	if rec.Code != http.StatusOK {
		t.Fatalf("login %s: %d %s", email, rec.Code, rec.Body)
	}
	ans := decode[loginAnswer](t, rec)
	ck := sessionCookie(rec)
	if ck == nil || ans.CSRF == "" {
		t.Fatalf("login %s: cookie %v csrf %q", email, ck, ans.CSRF)
	}
	return &agent{f: f, cookie: ck, csrf: ans.CSRF}
}

// sessionCookie is the session cookie rec sets, or nil.
func sessionCookie(rec *httptest.ResponseRecorder) *http.Cookie {
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == cookieName {
			return ck
		}
	}
	return nil
}

// do sends a request as the agent, with its cookie and CSRF token.
func (a *agent) do(t testing.TB, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := request(method, target, body)
	r.AddCookie(a.cookie)
	r.Header.Set("X-CSRF-Token", a.csrf)
	return a.f.serve(r)
}

// ok sends a request that must answer status, and decodes its answer.
func ok[T any](t testing.TB, a *agent, status int, method, target, body string) T {
	t.Helper()
	rec := a.do(t, method, target, body)
	if rec.Code != status {
		t.Fatalf("%s %s: %d %s, want %d", method, target, rec.Code, rec.Body, status)
	}
	return decode[T](t, rec)
}

func decode[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json; body %s", ct, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return v
}

// wantError checks that rec is the JSON error with status and code.
func wantError(t testing.TB, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	e := decode[httpjson.ErrorBody](t, rec)
	if e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("error %+v, want code %q with a message", e.Error, code)
	}
}

// ids lists the ids of rows.
func ids(rows []Row) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r.ID)
	}
	return out
}

// httptestRequest is a request without a body or the headers a browser
// adds.
func httptestRequest(method, target string) *http.Request {
	return httptest.NewRequest(method, target, nil)
}
