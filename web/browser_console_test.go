package web_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// The browser tests of the agent console (/console): one browser context is
// the customer in the widget on the demo page, others are agents in the
// console, against the whole stack with the console's hub running. They use
// the widget tests' browser and tab helpers (browser_test.go).

// consoleScreenshot, when set, is where the handoff test writes a PNG of the
// console with a claimed conversation open (the README's picture):
//
//	go test ./web -run 'ConsoleBrowser/handoff' -console-screenshot "$PWD/docs/console.png"
var consoleScreenshot = flag.String("console-screenshot", "", "write a PNG of the console to this `file`")

func TestConsoleBrowser(t *testing.T) {
	browser := startBrowser(t)
	startConsoleStack(t).stop() // the model trains once per binary: before any step's timeout

	tests := []struct {
		name string
		run  func(t *testing.T, s *consoleStack, browser context.Context)
	}{
		{"handoff claimed, answered, noted and resolved", testConsoleHandoff},
		{"two agents claim at once", testConsoleClaimRace},
		{"nobody claims in time", testConsoleQueueTimeout},
		{"return to bot", testConsoleReturn},
		{"markup shows as text and runs nothing", testConsoleNoInjection},
		{"login locked after five failures", testConsoleLockout},
		{"a request without the CSRF token is refused", testConsoleCSRF},
		{"keyboard only", testConsoleKeyboard},
		{"today's numbers and the canned responses editor", testConsolePages},
		{"tablet widths", testConsoleTablet},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, startConsoleStack(t), browser)
		})
	}
}

// Agents of the console stack: all with agentPassword.
const (
	agentPassword = "correct horse battery"
	maria         = "maria@example.com" // "Maria Lopez", agent, every queue
	sam           = "sam@example.com"   // "Sam Fox", agent, every queue
	ada           = "ada@example.com"   // "Ada Admin", admin
)

// testConsoleHandoff is the main story: the customer asks for a
// person; the agent is alerted, claims, replies; the customer sees the reply
// live and the bot says nothing more; a private note stays private; a canned
// response is filled in; resolving asks the customer for a rating.
func testConsoleHandoff(t *testing.T, s *consoleStack, browser context.Context) {
	w := openTab(t, browser, s.stack)
	w.load()
	w.openByClick()
	w.say("Where is my order 1042?")
	w.waitMessage("bot", "the e-mail address on that order")
	w.say("ana@example.com") // the bot now knows her: Ana Lopez, c-001
	w.waitMessage("bot", "DP3953828283")

	a := openConsole(t, browser, s)
	a.do(chromedp.EmulateViewport(1280, 800))
	a.login(maria)
	a.poll(`document.title === "Parley console"`)

	w.say("Talk to a person")
	w.waitMessage("bot", "passing you to a person")
	conv := w.conversationID()

	// The alert: the title counts it (and a beep was made).
	a.poll(`document.title === "(1) Parley console"`)
	a.poll(`Number(document.documentElement.dataset.beeps) >= 1`)
	a.do(chromedp.Click(`a[data-view="unassigned"]`))
	row := a.rowSelector(conv)
	a.poll(`document.querySelector(` + jsString(row) + `) !== null`)
	if got := a.text(row + " .row-name"); got != "Ana Lopez" {
		t.Errorf("the row names the customer %q, want Ana Lopez", got)
	}
	a.do(chromedp.Click(row))
	a.poll(`document.title === "Parley console"`) // seen
	a.waitTranscript("customer", "Talk to a person")
	a.poll(`document.querySelector("#side .card--handoff") !== null`)
	a.do(chromedp.Click("#act-claim"))
	a.poll(`document.getElementById("conv-meta").textContent.startsWith("With you")`)
	w.poll(shadow + `.querySelector(".parley-subtitle").textContent.includes("chatting with our team")`)

	// Each sees the other typing.
	const reply = "Hi Ana, Maria here. I'm looking at your parcel now."
	a.do(chromedp.SendKeys("#composer-input", reply[:20]))
	w.poll(`!` + shadow + `.querySelector(".parley-typing").hidden && ` + shadow + `.querySelector(".parley-typing").textContent.includes("agent is typing")`)
	a.write(reply[20:])
	a.waitTranscript("agent", reply)
	w.waitMessage("agent", reply)

	// The customer writes again: the agent sees it live, the bot stays silent.
	w.do(chromedp.SendKeys(chromedp.JSPath(shadow+`.querySelector("#parley-input")`), "Thanks! "))
	a.poll(`!document.getElementById("cust-typing").hidden`)
	w.say("It was due on Monday.")
	a.waitTranscript("customer", "due on Monday")
	a.poll(`document.getElementById("cust-typing").hidden`)

	// A private note.
	const note = "Gold customer: offer the express refund if DPD lost it."
	a.do(chromedp.Click("#tab-note"))
	a.write(note)
	a.poll(`[...document.querySelectorAll("#transcript .note .msg-text")].some(e => e.textContent === ` + jsString(note) + `)`)

	// A canned response through "/", with the customer's name and order.
	a.do(chromedp.Click("#tab-reply"))
	a.do(chromedp.SendKeys("#composer-input", "/order-c"))
	a.poll(`!document.getElementById("canned-menu").hidden && document.querySelector(".canned-item--active .canned-key").textContent === "/order-check"`)
	a.do(pressEnter) // picks the canned response
	filled := a.text("#composer-input")
	orders, err := s.db.OrdersByCustomer(context.Background(), "c-001", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filled, "Hi Ana Lopez, I'm checking order ") || strings.Contains(filled, "{{") ||
		!slices.ContainsFunc(orders, func(o crm.Order) bool { return strings.Contains(filled, "order "+o.ID+" ") }) {
		t.Errorf("the canned response was filled in as %q: want Ana's name and one of her orders", filled)
	}
	a.do(pressEnter) // sends it
	a.waitTranscript("agent", "Hi Ana Lopez, I'm checking order")
	w.waitMessage("agent", "Hi Ana Lopez, I'm checking order")

	if *consoleScreenshot != "" {
		// Others wait, one of them past the SLA: a list worth a picture.
		late := s.handOff(t, "c-003")
		s.clock.advance(3 * time.Minute)
		s.handOff(t, "c-002")
		a.navigate("open", conv)
		a.poll(`document.querySelectorAll("#rows .row").length === 3 && document.querySelector(` + jsString(a.rowSelector(late)) + `).classList.contains("row--late")`)
		a.eval(`document.activeElement.blur()`)
		png, err := chromedp.Run(a.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(*consoleScreenshot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	a.do(chromedp.Click("#act-resolve"))
	a.poll(`document.getElementById("conv-meta").textContent.startsWith("Resolved")`)
	w.poll(`!` + shadow + `.querySelector(".parley-csat").hidden`)

	for _, m := range w.messages() {
		if strings.Contains(m.Text, "express refund") {
			t.Errorf("the customer sees the private note: %+v", m)
		}
	}
	var agentSaid bool
	for _, m := range s.messages(conv) {
		switch {
		case strings.Contains(m.Text, "express refund"):
			t.Errorf("the private note is stored as a message: %+v", m)
		case m.Sender == crm.SenderAgent:
			agentSaid = true
		case agentSaid && m.Sender == crm.SenderBot:
			t.Errorf("the bot spoke after the agent took over: %q", m.Text)
		}
	}
	got, err := s.db.Conversation(context.Background(), conv)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != crm.StateResolved || got.AssignedAgent != maria {
		t.Errorf("stored conversation is %s with %q, want resolved with %s", got.State, got.AssignedAgent, maria)
	}
}

// testConsoleClaimRace: two agents look at the same conversation (each sees
// the other viewing, then typing) and claim it at the same moment: one wins,
// the other is told who has it.
func testConsoleClaimRace(t *testing.T, s *consoleStack, browser context.Context) {
	conv := s.handOff(t, "")
	m := openConsole(t, browser, s)
	m.login(maria)
	o := openConsole(t, browser, s)
	o.login(sam)
	for _, a := range []*consoleTab{m, o} {
		a.navigate("unassigned", conv)
		a.waitTranscript("customer", "Talk to a person")
	}
	m.poll(`document.getElementById("collision").textContent === "Sam Fox is viewing"`)
	o.poll(`document.getElementById("collision").textContent === "Maria Lopez is viewing"`)
	o.do(chromedp.SendKeys("#composer-input", "Let me s"))
	m.poll(`document.getElementById("collision").textContent === "Sam Fox is typing…"`)

	var wg sync.WaitGroup
	for _, a := range []*consoleTab{m, o} {
		wg.Go(func() { a.eval(`document.getElementById("act-claim").click()`) })
	}
	wg.Wait()
	var c crm.Conversation
	s.waitConversation(t, conv, func(cv crm.Conversation) bool { c = cv; return cv.State == crm.StateAgent })
	winner, loser, name := m, o, "Maria Lopez"
	switch c.AssignedAgent {
	case maria:
	case sam:
		winner, loser, name = o, m, "Sam Fox"
	default:
		t.Fatalf("conversation assigned to %q", c.AssignedAgent)
	}
	winner.poll(`document.getElementById("conv-meta").textContent.startsWith("With you")`)
	loser.poll(`document.getElementById("act-claim").textContent === ` + jsString(name+" has it") +
		` && document.getElementById("act-claim").disabled && document.getElementById("conv-meta").textContent.startsWith(` + jsString("With "+name) + `)`)
	loser.poll(`document.getElementById("composer-input").disabled`)

	// Sam steps away: the others see it.
	o.eval(`(s => { s.value = "away"; s.dispatchEvent(new Event("change")); })(document.getElementById("presence"))`)
	deadline := time.Now().Add(stepTimeout)
	for m.evalAsync(`fetch("/console/api/agents").then(r => r.json()).then(d => d.agents.find(a => a.login === `+jsString(sam)+`).presence)`) != `"away"` {
		if time.Now().After(deadline) {
			t.Fatalf("Sam never shows as away")
		}
		time.Sleep(100 * time.Millisecond)
	}
	events, err := s.db.Events(context.Background(), conv, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	claims := 0
	for _, ev := range events {
		if ev.Type == crm.EventClaim {
			claims++
		}
	}
	if claims != 1 {
		t.Errorf("%d claim events stored, want 1", claims)
	}
}

// testConsoleQueueTimeout: nobody claims a handed-off conversation in time:
// the customer hears so (and is offered an e-mail reply), the agent sees the
// event, the row turns red past the SLA, and the conversation can still be
// claimed.
func testConsoleQueueTimeout(t *testing.T, s *consoleStack, browser context.Context) {
	w := openTab(t, browser, s.stack)
	w.load()
	w.openByClick()
	w.say("Talk to a person")
	w.waitMessage("bot", "passing you to a person")
	conv := w.conversationID()

	a := openConsole(t, browser, s)
	a.login(maria)
	a.navigate("unassigned", "")
	row := a.rowSelector(conv)
	a.poll(`document.querySelector(` + jsString(row) + `) !== null`)
	if got := a.eval(`document.querySelector(` + jsString(row) + `).classList.contains("row--late")`); got != "false" {
		t.Errorf("a row just handed off is late (%s)", got)
	}

	s.clock.advance(3 * time.Minute) // past the queue timeout (2m) and the SLA (2m in this stack)
	n, err := s.engine.Sweep(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("sweep changed %d conversations (%v), want 1", n, err)
	}
	w.waitMessage("bot", "nobody from our general team is free right now")
	a.poll(`document.querySelector(` + jsString(row) + `).classList.contains("row--late")`)
	a.do(chromedp.Click(row))
	a.poll(`[...document.querySelectorAll("#transcript .event--timeout")].length === 1`)
	a.waitTranscript("bot", "leave your e-mail address")
	a.do(chromedp.Click("#act-claim"))
	a.poll(`document.getElementById("conv-meta").textContent.startsWith("With you")`)
}

// testConsoleReturn: the agent gives the conversation back to the bot; the
// customer is told, and the bot answers again (the agent sees it live).
func testConsoleReturn(t *testing.T, s *consoleStack, browser context.Context) {
	w := openTab(t, browser, s.stack)
	w.load()
	w.openByClick()
	w.say("Talk to a person")
	w.waitMessage("bot", "passing you to a person")
	conv := w.conversationID()

	a := openConsole(t, browser, s)
	a.login(maria)
	a.navigate("unassigned", conv)
	a.waitTranscript("customer", "Talk to a person")
	a.do(chromedp.Click("#act-claim"))
	a.poll(`document.getElementById("conv-meta").textContent.startsWith("With you")`)
	a.write("That's all sorted. The assistant can help with anything else.")
	w.waitMessage("agent", "That's all sorted")

	a.do(chromedp.Click("#act-return"))
	a.poll(`document.getElementById("conv-meta").textContent.startsWith("With the bot")`)
	w.waitMessage("system", "chatting with the assistant again")
	w.poll(shadow + `.querySelector(".parley-subtitle").textContent.includes("Our assistant answers")`)
	a.poll(`[...document.querySelectorAll("#transcript .event--return")].length === 1`)
	w.say("What payment methods do you accept?")
	w.waitMessage("bot", "Visa")
	a.waitTranscript("bot", "Visa")
	if got := a.eval(`document.getElementById("act-return").hidden && document.getElementById("act-claim").textContent === "Claim"`); got != "true" {
		t.Errorf("with the bot again, the buttons are not Claim without Return (%s)", got)
	}
}

// evil is markup in every agent-visible string the console shows.
var evil = struct{ name, customer, note, agent, cannedTitle, cannedText string }{
	name:        `<img src=x onerror="window.parleyInjected=true">Eve`,
	customer:    `<script>window.parleyInjected=true</script><b>bold</b>`,
	note:        `<img src=y onerror=alert(1)> a note`,
	agent:       `<svg onload=alert(2)></svg><a href="javascript:alert(3)">link</a>`,
	cannedTitle: `<i onmouseover=alert(4)>title</i>`,
	cannedText:  `<iframe src="javascript:alert(5)"></iframe> {{customer.name}}`,
}

// testConsoleNoInjection: the XSS corpus in a customer's name, messages,
// notes and canned responses shows as text in the list, the transcript, the
// sidebar and the canned menu; no element is made of it, nothing runs.
func testConsoleNoInjection(t *testing.T, s *consoleStack, browser context.Context) {
	ctx := context.Background()
	cu, err := s.db.CreateCustomer(ctx, crm.Customer{Name: evil.name, Email: "eve@example.com", Tier: crm.TierGold})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.PutCanned(ctx, crm.CannedResponse{Shortcut: "evil", Title: evil.cannedTitle, Text: evil.cannedText}); err != nil {
		t.Fatal(err)
	}
	conv := s.handOff(t, cu.ID, evil.customer, "Talk to a person")
	if _, err := s.engine.Note(ctx, conv, dialog.Actor{Login: sam}, evil.note); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.engine.Post(ctx, dialog.Outbound{ConversationID: conv, Sender: crm.SenderAgent, AgentID: sam, Text: evil.agent}); err != nil {
		t.Fatal(err)
	}

	a := openConsole(t, browser, s)
	a.login(maria)
	a.eval(`window.parleyInjected = false`)
	a.navigate("open", conv)
	a.waitTranscript("agent", "link")
	a.poll(`document.querySelector("#side .cust-name") !== null`)
	a.do(chromedp.Click("#tab-note")) // notes may be written on a conversation another agent holds
	a.do(chromedp.SendKeys("#composer-input", "/evil"))
	a.poll(`!document.getElementById("canned-menu").hidden`)

	checks := []struct{ what, expr, want string }{
		{"row name", `document.querySelector(` + jsString(a.rowSelector(conv)+" .row-name") + `).textContent`, evil.name},
		{"title", `document.getElementById("conv-title").textContent`, evil.name},
		{"customer card", `document.querySelector("#side .cust-name").firstChild.textContent`, evil.name},
		{"customer message", `document.querySelector("#transcript .msg--customer .msg-text").textContent`, evil.customer},
		{"note", `document.querySelector("#transcript .note .msg-text").textContent`, evil.note},
		{"agent message", `document.querySelector("#transcript .msg--agent .msg-text").textContent`, evil.agent},
		{"canned title", `document.querySelector("#canned-menu .canned-title").textContent`, evil.cannedTitle},
		{"canned text", `document.querySelector("#canned-menu .canned-preview").textContent`, evil.cannedText},
	}
	for _, c := range checks {
		if got := a.eval(c.expr); got != jsString(c.want) {
			t.Errorf("%s shows %s, want the markup as text %s", c.what, got, jsString(c.want))
		}
	}
	a.do(pressEnter) // inserts the canned text, with the evil name filled in
	if got, want := a.text("#composer-input"), `<iframe src="javascript:alert(5)"></iframe> `+evil.name; got != want {
		t.Errorf("canned text inserted as %q, want %q", got, want)
	}
	a.do(chromedp.Click("#act-claim")) // a dialog, had one opened, would stop this
	if n := a.eval(`document.querySelectorAll("img, b, i, a[href^=javascript], iframe, svg, script:not([src])").length`); n != "0" {
		t.Errorf("%s elements were made of server strings", n)
	}
	if got := a.eval(`window.parleyInjected`); got != "false" {
		t.Errorf("injected script ran (window.parleyInjected = %s)", got)
	}
	if n := a.dialogCount(); n != 0 {
		t.Errorf("%d JavaScript dialogs opened", n)
	}
}

// testConsoleLockout: five wrong passwords, then even the right one is
// refused for a while, and the form says so.
func testConsoleLockout(t *testing.T, s *consoleStack, browser context.Context) {
	a := openConsole(t, browser, s)
	a.do(chromedp.Navigate(s.URL() + "console"))
	a.do(chromedp.WaitVisible("#login-email"))
	attempt := func(password string) string {
		t.Helper()
		a.eval(`document.getElementById("login-email").value = ` + jsString(maria) + `;
			document.getElementById("login-password").value = ` + jsString(password) + `;
			document.getElementById("login-error").textContent = ""`)
		a.do(chromedp.Click("#login-submit"))
		a.poll(`document.getElementById("login-error").textContent !== "" && !document.getElementById("login-submit").disabled`)
		return a.text("#login-error")
	}
	for i := range 5 {
		if got := attempt(fmt.Sprintf("wrong password %d!", i)); got != "Wrong e-mail or password." {
			t.Fatalf("attempt %d: the form says %q", i+1, got)
		}
	}
	if got := attempt(agentPassword); !strings.HasPrefix(got, "Too many failed attempts. Try again in ") {
		t.Errorf("the 6th attempt, with the right password, says %q", got)
	}
	if got := a.eval(`document.getElementById("app").hidden`); got != "true" {
		t.Errorf("the console opened while locked (app hidden: %s)", got)
	}
}

// testConsoleCSRF: a state-changing request of the signed-in page without
// the session's X-CSRF-Token is refused with 403 csrf; with it, it passes
// that check. Logging out ends the session.
func testConsoleCSRF(t *testing.T, s *consoleStack, browser context.Context) {
	conv := s.handOff(t, "")
	a := openConsole(t, browser, s)
	a.login(maria)
	path := jsString("/console/api/conversations/" + url.PathEscape(conv) + "/claim")
	without := a.evalAsync(`fetch(` + path + `, {method: "POST", body: "{}", headers: {"Content-Type": "application/json"}})
		.then(async r => r.status + " " + (await r.json()).error.code)`)
	if without != `"403 csrf"` {
		t.Errorf("claim without the CSRF token answered %s, want 403 csrf", without)
	}
	if c, err := s.db.Conversation(context.Background(), conv); err != nil || c.State != crm.StateWaiting {
		t.Errorf("after the refused claim the conversation is %s (%v), want waiting", c.State, err)
	}
	with := a.evalAsync(`fetch("/console/api/me").then(r => r.json()).then(me =>
		fetch(` + path + `, {method: "POST", body: "{}", headers: {"Content-Type": "application/json", "X-CSRF-Token": me.csrf}}))
		.then(r => r.status)`)
	if with != "200" {
		t.Errorf("claim with the CSRF token answered %s, want 200", with)
	}

	a.do(chromedp.Click("#logout"))
	a.poll(`!document.getElementById("login").hidden && document.getElementById("login-error").textContent === "You are signed out."`)
	if got := a.evalAsync(`fetch("/console/api/me").then(r => r.status)`); got != "401" {
		t.Errorf("after logout GET /console/api/me answers %s, want 401", got)
	}
}

// testConsoleKeyboard: sign in, pick, open, claim, answer and resolve a
// conversation, and see the help, with the keyboard alone.
func testConsoleKeyboard(t *testing.T, s *consoleStack, browser context.Context) {
	first := s.handOff(t, "")
	second := s.handOff(t, "")
	a := openConsole(t, browser, s)
	a.do(chromedp.Navigate(s.URL() + "console"))
	a.do(chromedp.WaitVisible("#login-email"))
	a.poll(`document.activeElement === document.getElementById("login-email")`)
	a.do(chromedp.KeyEvent(maria), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(agentPassword), pressEnter)
	a.waitSignedIn()

	a.do(chromedp.KeyEvent("2")) // Unassigned
	a.poll(`location.hash === "#/unassigned" && document.querySelectorAll("#rows .row").length === 2`)
	order := a.eval(`[...document.querySelectorAll("#rows .row")].map(r => r.dataset.id)`)
	var ids []string
	if err := json.Unmarshal([]byte(order), &ids); err != nil || !slices.Contains(ids, first) || !slices.Contains(ids, second) {
		t.Fatalf("unassigned rows %s (%v), want %s and %s", order, err, first, second)
	}
	a.do(chromedp.KeyEvent("j"), chromedp.KeyEvent("j"), chromedp.KeyEvent("k"))
	a.poll(`document.querySelector("#rows .row--selected").dataset.id === ` + jsString(ids[0]))
	a.do(chromedp.KeyEvent("j"), pressEnter)
	a.poll(`location.hash === ` + jsString("#/unassigned/"+url.PathEscape(ids[1])) + ` || location.hash === ` + jsString("#/unassigned/"+ids[1]))
	a.waitTranscript("customer", "Talk to a person")
	a.do(chromedp.KeyEvent("a"))
	a.poll(`document.getElementById("conv-meta").textContent.startsWith("With you")`)
	a.do(chromedp.KeyEvent("r"))
	a.poll(`document.activeElement === document.getElementById("composer-input")`)
	a.do(chromedp.KeyEvent("On it, one moment please."), pressEnter)
	a.waitTranscript("agent", "On it, one moment please.")
	a.do(chromedp.KeyEvent(kb.Escape))
	a.poll(`document.activeElement !== document.getElementById("composer-input")`)
	a.do(chromedp.KeyEvent("?"))
	a.poll(`!document.getElementById("help").hidden`)
	a.do(chromedp.KeyEvent(kb.Escape))
	a.poll(`document.getElementById("help").hidden`)
	a.do(chromedp.KeyEvent("e"))
	a.poll(`document.getElementById("conv-meta").textContent.startsWith("Resolved")`)
	s.waitConversation(t, ids[1], func(c crm.Conversation) bool { return c.State == crm.StateResolved && c.AssignedAgent == maria })
	if c, err := s.db.Conversation(context.Background(), ids[0]); err != nil || c.State != crm.StateWaiting {
		t.Errorf("the other conversation is %s (%v), want still waiting", c.State, err)
	}
}

// testConsolePages: the Today page shows the server's numbers and a bar per
// hour; an admin adds and deletes a canned response, an agent only reads them.
func testConsolePages(t *testing.T, s *consoleStack, browser context.Context) {
	s.handOff(t, "c-002")
	a := openConsole(t, browser, s)
	a.login(ada)
	a.do(chromedp.Click(`a[data-view="today"]`))
	a.poll(`document.querySelectorAll("#today-chart rect.chart-bar").length === 24`)
	var want struct {
		Conversations int            `json:"conversations"`
		Handoffs      int            `json:"handoffs"`
		ByQueue       map[string]int `json:"handoffs_by_queue"`
		Hourly        []int          `json:"hourly"`
	}
	if err := json.Unmarshal([]byte(a.evalAsync(`fetch("/console/api/today").then(r => r.json())`)), &want); err != nil {
		t.Fatal(err)
	}
	if want.Handoffs < 1 || want.ByQueue["general"] < 1 {
		t.Errorf("today's numbers %+v lack the handoff to general", want)
	}
	if got, w := a.text("#today-numbers .stat-value"), fmt.Sprint(want.Conversations); got != w {
		t.Errorf("the page shows %s conversations, want %s", got, w)
	}
	total := 0
	for _, n := range want.Hourly {
		total += n
	}
	if got := a.eval(`[...document.querySelectorAll("#today-chart rect.chart-bar")].reduce((n, r) => n + Number(r.dataset.count), 0)`); got != fmt.Sprint(total) {
		t.Errorf("the chart's bars add up to %s, want %d", got, total)
	}
	a.poll(`[...document.querySelectorAll("#today-queues li")].some(li => li.textContent === "general" + ` + jsString(fmt.Sprint(want.ByQueue["general"])) + `)`)

	a.do(chromedp.Click(`a[data-view="canned"]`))
	a.do(chromedp.WaitVisible("#canned-form"))
	a.do(chromedp.SendKeys("#canned-shortcut", "still-there"), chromedp.SendKeys("#canned-title-input", "Still there?"),
		chromedp.SendKeys("#canned-text", "Are you still there, {{customer.name}}?"), chromedp.Click(`#canned-form button[type="submit"]`))
	a.poll(`document.querySelector('#canned-list [data-shortcut="still-there"]') !== null`)
	list, err := s.db.CannedResponses(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(list, func(c crm.CannedResponse) bool {
		return c.Shortcut == "still-there" && c.Text == "Are you still there, {{customer.name}}?" && c.UpdatedBy == ada
	}) {
		t.Errorf("the canned response added is not stored as written by %s: %+v", ada, list)
	}
	a.do(chromedp.Click(`#canned-list [data-shortcut="still-there"] .btn--danger`))
	a.poll(`document.querySelector('#canned-list [data-shortcut="still-there"]') === null`)

	m := openConsole(t, browser, s)
	m.login(maria)
	m.navigate("canned", "")
	m.poll(`document.querySelectorAll("#canned-list .canned-entry").length > 0`)
	if got := m.eval(`document.getElementById("canned-form").hidden && document.querySelector("#canned-list button") === null`); got != "true" {
		t.Errorf("an agent who is not an admin can edit canned responses (%s)", got)
	}
}

// testConsoleTablet: a tablet in landscape shows the list and the
// conversation, the context on demand; in portrait one pane at a time.
func testConsoleTablet(t *testing.T, s *consoleStack, browser context.Context) {
	conv := s.handOff(t, "c-001")
	a := openConsole(t, browser, s)
	a.do(chromedp.EmulateViewport(1024, 768))
	a.login(maria)
	a.navigate("unassigned", conv)
	shown := func(id string) string {
		return `(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && r.left < innerWidth && r.right > 0 && getComputedStyle(e).visibility === "visible"; })(document.getElementById("` + id + `"))`
	}
	if got := a.eval(`[` + shown("rows") + `, ` + shown("conv") + `, ` + shown("side") + `]`); got != "[true,true,false]" {
		t.Errorf("at 1024x768 list, conversation, context shown: %s, want [true,true,false]", got)
	}
	a.do(chromedp.Click("#side-toggle"))
	a.poll(shown("side") + ` && document.querySelector("#side .card--customer") !== null`)
	a.do(chromedp.KeyEvent(kb.Escape))
	a.poll(`!` + shown("side"))

	a.do(chromedp.EmulateViewport(768, 1024))
	a.poll(`!` + shown("rows") + ` && ` + shown("conv") + ` && ` + shown("conv-back"))
	a.do(chromedp.Click("#conv-back"))
	a.poll(shown("rows") + ` && !` + shown("conv"))
	a.do(chromedp.Click(a.rowSelector(conv)))
	a.poll(shown("conv") + ` && !` + shown("rows"))
	// Nothing is wider than the screen.
	if got := a.eval(`document.documentElement.scrollWidth <= innerWidth`); got != "true" {
		t.Errorf("at 768 px the page scrolls sideways")
	}
}
