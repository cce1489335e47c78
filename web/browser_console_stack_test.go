package web_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/channels/webchat"
	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/internal/shoptest"
	"github.com/parleyhq/parley/web"
	"github.com/parleyhq/parley/web/console"
)

// The console tab and the stack with the console, for the console's browser
// tests (browser_console_test.go).

// ---- the console tab ------------------------------------------------------------

// consoleTab is a browser tab, in a fresh browser context, on the console.
// It has the widget tab's helpers (do, eval, poll) and its watch on
// dialogs, exceptions and the Content-Security-Policy.
type consoleTab struct {
	*widgetTab
	s *consoleStack
}

func openConsole(t *testing.T, browser context.Context, s *consoleStack) *consoleTab {
	t.Helper()
	return &consoleTab{widgetTab: openTab(t, browser, s.stack), s: s}
}

// login signs in with the form and waits for the live console.
func (a *consoleTab) login(login string) {
	a.t.Helper()
	a.do(chromedp.Navigate(a.s.URL() + "console"))
	a.do(chromedp.WaitVisible("#login-email"))
	a.do(chromedp.SendKeys("#login-email", login), chromedp.SendKeys("#login-password", agentPassword))
	a.do(chromedp.Click("#login-submit"))
	a.waitSignedIn()
}

func (a *consoleTab) waitSignedIn() {
	a.t.Helper()
	a.poll(`!document.getElementById("app").hidden && document.documentElement.dataset.socket === "up"`)
}

// navigate shows a view, and a conversation in it ("" for none).
func (a *consoleTab) navigate(view, conv string) {
	a.t.Helper()
	hash := "#/" + view
	if conv != "" {
		hash += "/" + url.PathEscape(conv)
	}
	a.eval(`location.hash = ` + jsString(hash))
	if conv != "" {
		a.poll(`!document.getElementById("conv-body").hidden && document.querySelector("#transcript .loading") === null`)
	}
}

func (a *consoleTab) rowSelector(conv string) string {
	q, _ := json.Marshal(conv)
	return `#rows .row[data-id=` + string(q) + `]`
}

// text is an element's textContent (an input's value).
func (a *consoleTab) text(sel string) string {
	a.t.Helper()
	raw := a.eval(`(e => e.value !== undefined ? e.value : e.textContent)(document.querySelector(` + jsString(sel) + `))`)
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		a.t.Fatalf("text of %s: %s: %v", sel, raw, err)
	}
	return s
}

// write types text in the composer's current tab and sends it with Enter.
func (a *consoleTab) write(text string) {
	a.t.Helper()
	a.do(chromedp.SendKeys("#composer-input", text), pressEnter)
}

// waitTranscript waits for a stored item of a kind (customer, bot, agent,
// system) with text in the conversation shown.
func (a *consoleTab) waitTranscript(kind, text string) {
	a.t.Helper()
	a.poll(`[...document.querySelectorAll("#transcript .msg--` + kind + `:not(.msg--pending) .msg-text")].some(e => e.textContent.includes(` + jsString(text) + `))`)
}

// evalAsync returns the JSON of a promise's value.
func (a *consoleTab) evalAsync(expr string) string {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(a.ctx, stepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		a.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return string(raw)
}

// jsString quotes s for a JavaScript expression (as JSON, with "<" as is, so
// that a value compared with the page's reads as in the page).
func jsString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// poll waits until a JavaScript expression is truthy; a failure describes
// the console.
func (a *consoleTab) poll(expr string) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(a.ctx, stepTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(0)))
	if err != nil {
		a.t.Fatalf("waiting for %s: %v\n%s", expr, err, a.dump())
	}
}

// dump describes the console's state for a failure message.
func (a *consoleTab) dump() string {
	ctx, cancel := context.WithTimeout(a.ctx, 5*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`(() => {
		const t = id => (document.getElementById(id) || {}).textContent;
		return {
			hash: location.hash, title: document.title, socket: document.documentElement.dataset.socket,
			status: t("status"), notice: t("notice"), login: t("login-error"), meta: t("conv-meta"),
			rows: [...document.querySelectorAll("#rows .row")].map(e => e.dataset.id + ": " + e.textContent),
			transcript: [...document.querySelectorAll("#transcript > *")].map(e => e.className + ": " + e.textContent),
		};
	})()`))
	if err != nil {
		return "(console state unavailable: " + err.Error() + ")"
	}
	return "console state: " + string(raw)
}

// ---- the stack with the console ----------------------------------------------------

// consoleStack is the widget tests' stack with the console mounted and its
// hub running, agents and a canned response in the store, and a clock the
// engine and the console share that the test can move on (the store keeps
// real time).
type consoleStack struct {
	*stack
	clock   *offsetClock
	console *console.Console
	stopHub context.CancelFunc
	hubDone chan struct{}
}

// offsetClock is the real time moved on by what advance added.
type offsetClock struct {
	mu     sync.Mutex
	offset time.Duration // guarded by mu
}

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *offsetClock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

func startConsoleStack(t *testing.T) *consoleStack {
	t.Helper()
	s := &stack{t: t, dir: t.TempDir(), key: make([]byte, 32), model: shoptest.Model(t),
		identitySecret: []byte("the host shop's identity secret")}
	rand.Read(s.key)
	cs := &consoleStack{stack: s, clock: &offsetClock{}}
	cs.start()
	t.Cleanup(cs.stop)
	return cs
}

func (cs *consoleStack) start() {
	s, t := cs.stack, cs.t
	t.Helper()
	ctx := context.Background()
	db, err := boltdb.Open(filepath.Join(s.dir, "parley.db"), &boltdb.Options{BcryptCost: 4})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	fail := func(format string, args ...any) {
		t.Helper()
		db.Close()
		t.Fatalf(format, args...)
	}
	if _, err := shop.EnsureSeeded(ctx, db, time.Now()); err != nil {
		fail("seed store: %v", err)
	}
	for _, a := range []crm.Agent{{Login: maria, Name: "Maria Lopez", Role: crm.RoleAgent}, {Login: sam, Name: "Sam Fox", Role: crm.RoleAgent},
		{Login: ada, Name: "Ada Admin", Role: crm.RoleAdmin}} {
		if _, err := db.PutAgent(ctx, a, agentPassword); err != nil {
			fail("put agent: %v", err)
		}
	}
	if _, err := db.PutCanned(ctx, crm.CannedResponse{Shortcut: "order-check", Title: "Checking the order",
		Text: "Hi {{customer.name}}, I'm checking order {{order.id}} with the carrier now."}); err != nil {
		fail("put canned response: %v", err)
	}
	domain, err := dialog.ParseDomain("shop/domain.yml", shop.Domain(), s.model.Labels())
	if err != nil {
		fail("parse domain: %v", err)
	}
	engine, err := dialog.New(dialog.Config{Domain: domain, Parser: s.model, Store: db, Now: cs.clock.Now})
	if err != nil {
		fail("new engine: %v", err)
	}
	chat, err := webchat.New(webchat.Config{Engine: engine, Store: db, TokenKey: s.key, IdentitySecret: s.identitySecret})
	if err != nil {
		fail("new web chat: %v", err)
	}
	queues := []string{domain.Policy.DefaultQueue}
	for _, it := range domain.Intents {
		if it.Queue != "" && !slices.Contains(queues, it.Queue) {
			queues = append(queues, it.Queue)
		}
	}
	slices.Sort(queues)
	cons, err := console.New(console.Config{Store: db, Engine: engine, Queues: queues, SLA: 2 * time.Minute, Now: cs.clock.Now})
	if err != nil {
		fail("new console: %v", err)
	}
	server, err := web.New(web.Config{Store: db, Engine: engine, Parser: s.model, Chat: chat, Welcome: domain.Welcome, Console: cons.Handler()})
	if err != nil {
		fail("new web server: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("listen: %v", err)
	}
	hubCtx, stopHub := context.WithCancel(context.Background())
	cs.console, cs.stopHub, cs.hubDone = cons, stopHub, make(chan struct{})
	go func() {
		defer close(cs.hubDone)
		cons.Run(hubCtx)
	}()
	s.addr = ln.Addr().String()
	s.db, s.engine, s.chat = db, engine, chat
	s.srv = &http.Server{Handler: server.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.served = make(chan error, 1)
	go func(srv *http.Server, done chan<- error) { done <- srv.Serve(ln) }(s.srv, s.served)
}

// stop closes the agents' sockets and stops the hub, then the rest of the
// stack.
func (cs *consoleStack) stop() {
	if cs.console == nil {
		return
	}
	cs.console.Close()
	cs.stopHub()
	<-cs.hubDone
	cs.console = nil
	cs.stack.stop()
}

// handOff starts a conversation of the customer ("" for an anonymous
// visitor) whose messages (by default "Talk to a person") end with a
// handoff to the general queue, and returns its id.
func (cs *consoleStack) handOff(t *testing.T, customerID string, texts ...string) string {
	t.Helper()
	ctx := context.Background()
	c, err := cs.engine.Start(ctx, dialog.StartRequest{Channel: crm.ChannelWeb, CustomerID: customerID})
	if err != nil {
		t.Fatal(err)
	}
	if len(texts) == 0 {
		texts = []string{"Talk to a person"}
	}
	for _, text := range texts {
		if _, err := cs.engine.Handle(ctx, dialog.Inbound{ConversationID: c.ID, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	if c, err = cs.db.Conversation(ctx, c.ID); err != nil || c.State != crm.StateWaiting {
		t.Fatalf("conversation after %q is %s (%v), want waiting", texts, c.State, err)
	}
	return c.ID
}

// waitConversation polls the store until ok holds for the conversation.
func (cs *consoleStack) waitConversation(t *testing.T, id string, ok func(crm.Conversation) bool) {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		c, err := cs.db.Conversation(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(c) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("conversation %s stays %+v", id, c)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
