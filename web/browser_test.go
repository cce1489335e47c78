package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// The browser tests drive the demo page and the widget in a real headless
// Chromium against the whole stack (stack_test.go). One browser serves every
// test of the binary; each test gets its own stack, port and browser context
// (a fresh profile: no localStorage of another test).
//
// Waits are polls bounded by a context (stepTimeout), never sleeps.

// stepTimeout bounds one step of a test (a page load, a bot answer): generous,
// because -race and a busy 2-core machine slow everything down.
const stepTimeout = 90 * time.Second

func TestBrowser(t *testing.T) {
	browser := startBrowser(t)
	// The model trains once per binary, and slowly under -race: do it
	// before any step's timeout starts.
	startStack(t).stop()

	tests := []struct {
		name string
		run  func(t *testing.T, w *widgetTab)
	}{
		{"greeting and starters on first open", testWelcome},
		{"a starter is sent and answered", testStarter},
		{"newest message shown after a reload and on open", testScrolledToNewest},
		{"no missing resources on load", testNoMissingResources},
		{"order question is answered", testOrderQuestion},
		{"history survives a reload", testReloadHistory},
		{"server restart loses and doubles nothing", testServerRestart},
		{"markup shows as text and runs nothing", testNoInjection},
		{"keyboard opens and closes", testKeyboard},
		{"survey after goodbye", testSurvey},
		{"quick reply sends its text", testQuickReply},
		{"phone width fills the screen", testPhoneWidth},
		{"agent and system messages while closed", testUnread},
		{"too long a message is refused politely", testTooLong},
		{"1,100 emoji are too long too", testTooLongEmoji},
		{"rate limited messages arrive later, once", testRateLimited},
		{"embedded on another site with a signed identity", testEmbeddedIdentity},
		{"a wrong identity signature stops the chat", testWrongIdentity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, openTab(t, browser, startStack(t)))
		})
	}
}

// testOrderQuestion: open the demo page, open the widget, ask about a seeded
// order and see its status.
func testOrderQuestion(t *testing.T, w *widgetTab) {
	w.load()
	w.openByClick()
	// Record whether the bot's typing indicator showed while it worked.
	w.eval(`(() => {
		const el = ` + shadow + `.querySelector(".parley-typing");
		window.parleySawTyping = false;
		new MutationObserver(() => { if (!el.hidden) window.parleySawTyping = true; }).observe(el, {attributes: true});
	})()`)
	w.say("Where is my order 1042?")
	w.waitMessage("bot", "the e-mail address on that order") // a number alone shows nothing
	w.say("ana@example.com")
	reply := w.waitMessage("bot", "DP3953828283")
	if got := w.eval(`window.parleySawTyping`); got != "true" {
		t.Errorf("the typing indicator never showed before the answer")
	}
	for _, want := range []string{"1042", "shipped", "DPD"} {
		if !strings.Contains(reply.Text, want) {
			t.Errorf("answer %q lacks %q", reply.Text, want)
		}
	}
	w.waitSettled()
	got := w.messages()
	if len(got) < 2 || got[0].Sender != "customer" || got[0].Text != "Where is my order 1042?" {
		t.Fatalf("panel shows %+v, want the question first", got)
	}
	w.checkAgainstStore()
}

// testReloadHistory: after a reload the conversation is still there, first
// from localStorage and, with only the token kept, from the server.
func testReloadHistory(t *testing.T, w *widgetTab) {
	w.load()
	w.openByClick()
	w.say("Where is my order 1042?")
	w.waitMessage("bot", "the e-mail address on that order") // a number alone shows nothing
	w.say("ana@example.com")
	w.waitMessage("bot", "DP3953828283")
	w.say("What payment methods do you accept?")
	w.waitMessage("bot", "Visa")
	w.waitSettled()
	before := w.messages()

	w.do(chromedp.Reload())
	w.waitReady()
	w.waitOpen() // it was open: it opens again
	if got := w.messages(); !slices.Equal(got, before) {
		t.Fatalf("after reload the panel shows\n%+v\nwant\n%+v", got, before)
	}

	// Keep only the token: the server must replay the whole history.
	w.eval(`(() => {
		const k = Object.keys(localStorage).find(k => k.startsWith("parley:v1:"));
		const s = JSON.parse(localStorage.getItem(k));
		s.messages = []; s.lastSeq = 0;
		localStorage.setItem(k, JSON.stringify(s));
	})()`)
	w.do(chromedp.Reload())
	w.waitReady()
	w.waitOpen()
	w.poll(fmt.Sprintf(`%s.querySelectorAll(".parley-msg").length === %d`, shadow, len(before)))
	if got := w.messages(); !slices.Equal(got, before) {
		t.Fatalf("history replayed by the server is\n%+v\nwant\n%+v", got, before)
	}
	w.checkAgainstStore()
}

// testServerRestart: the server goes away mid-conversation; the widget says it
// is reconnecting, keeps what is typed meanwhile, and delivers it once after
// the restart.
func testServerRestart(t *testing.T, w *widgetTab) {
	w.load()
	w.openByClick()
	w.say("Where is my order 1042?")
	w.waitMessage("bot", "the e-mail address on that order") // a number alone shows nothing
	w.say("ana@example.com")
	w.waitMessage("bot", "DP3953828283")
	w.waitSettled()

	w.stack.stop()
	w.poll(shadow + `.querySelector(".parley-status").textContent.includes("Reconnecting")`)
	const offline = "What payment methods do you accept?"
	w.say(offline)
	w.poll(shadow + `.querySelector(".parley-msg--pending") !== null`)

	w.stack.start(w.stack.addr)
	w.waitMessage("bot", "Visa")
	w.waitSettled()
	w.poll(`!` + shadow + `.querySelector(".parley-status").textContent.includes("Reconnecting")`)

	n := 0
	for _, m := range w.messages() {
		if m.Text == offline {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the message sent while the server was down shows %d times, want 1", n)
	}
	w.checkAgainstStore()
}

// testNoInjection: markup in a customer's message and in an agent's message is
// shown as text; no element is made from it and no script runs.
func testNoInjection(t *testing.T, w *widgetTab) {
	w.load()
	w.eval(`window.parleyInjected = false`)
	w.openByClick()
	const evil = `<img src=x onerror=alert(1)> <img src=y onerror="window.parleyInjected=true">`
	w.say(evil)
	w.waitSettled()
	w.waitMessage("bot", "")

	const agentText = `<b>hi</b><img src=z onerror=alert(2)><script>alert(3)</script>`
	if _, _, err := w.stack.engine.Post(context.Background(), dialog.Outbound{
		ConversationID: w.conversationID(), Sender: crm.SenderAgent, AgentID: "maria", Text: agentText,
	}); err != nil {
		t.Fatalf("post agent message: %v", err)
	}
	w.waitMessage("agent", "")

	check := func(when string) {
		t.Helper()
		ms := w.messages()
		for _, want := range []shownMessage{{Sender: "customer", Text: evil}, {Sender: "agent", Text: agentText}} {
			if !slices.ContainsFunc(ms, func(m shownMessage) bool { return m.Sender == want.Sender && m.Text == want.Text }) {
				t.Errorf("%s: the %s's markup %q is not shown verbatim: %+v", when, want.Sender, want.Text, ms)
			}
		}
		elems := w.eval(`document.querySelectorAll("img,script:not([src]),b").length + ` +
			shadow + `.querySelectorAll("img,script,b").length`)
		if elems != "0" {
			t.Errorf("%s: %s elements were made from message text", when, elems)
		}
		if got := w.eval(`window.parleyInjected`); got != "false" {
			t.Errorf("%s: injected script ran (window.parleyInjected = %s)", when, got)
		}
		if n := w.dialogCount(); n != 0 {
			t.Errorf("%s: %d JavaScript dialogs opened", when, n)
		}
	}
	check("live")
	w.do(chromedp.Reload())
	w.waitReady()
	w.eval(`window.parleyInjected = false`)
	w.waitOpen()
	w.waitMessage("agent", "")
	check("after reload")
}

// testKeyboard: Enter on the launcher opens the panel with the focus in the
// input; Enter sends; Escape closes and gives the focus back to the launcher.
// It checks the ARIA roles and labels a screen reader relies on too.
func testKeyboard(t *testing.T, w *widgetTab) {
	w.load()
	w.do(chromedp.Focus(launcher))
	w.do(pressEnter)
	w.waitOpen()
	w.poll(shadow + `.activeElement === ` + shadow + `.querySelector("#parley-input")`)
	if got := w.eval(shadow + `.querySelector(".parley-launcher").getAttribute("aria-expanded")`); got != `"true"` {
		t.Errorf("open launcher has aria-expanded %s, want \"true\"", got)
	}

	w.do(chromedp.KeyEvent("Where is my order 1042?"), pressEnter)
	w.waitMessage("bot", "the e-mail address on that order") // a number alone shows nothing
	w.say("ana@example.com")
	w.waitMessage("bot", "DP3953828283")
	if got := w.eval(shadow + `.querySelector("#parley-input").value`); got != `""` {
		t.Errorf("input after Enter holds %s, want it empty", got)
	}

	aria := w.eval(`(() => {
		const r = ` + shadow + `;
		const p = r.querySelector(".parley-panel"), log = r.querySelector(".parley-log"), l = r.querySelector(".parley-launcher");
		const input = r.querySelector("#parley-input");
		return [
			l.tagName, !!l.getAttribute("aria-label"),
			p.getAttribute("role"), r.getElementById(p.getAttribute("aria-labelledby")).textContent,
			log.getAttribute("role"), log.getAttribute("aria-live"),
			input.labels.length === 1 && input.labels[0].textContent,
		].join("|");
	})()`)
	if want := `"BUTTON|true|dialog|Chat with us|log|polite|Your message"`; aria != want {
		t.Errorf("roles and labels: got %s, want %s", aria, want)
	}

	w.do(chromedp.KeyEvent(kb.Escape))
	w.poll(shadow + `.querySelector(".parley-panel").hidden`)
	w.poll(shadow + `.activeElement === ` + shadow + `.querySelector(".parley-launcher")`)
	if got := w.eval(shadow + `.querySelector(".parley-launcher").getAttribute("aria-expanded")`); got != `"false"` {
		t.Errorf("closed launcher has aria-expanded %s, want \"false\"", got)
	}
}

// testSurvey: saying goodbye resolves the conversation; the survey appears and
// a rating is thanked for and stored.
func testSurvey(t *testing.T, w *widgetTab) {
	w.load()
	w.openByClick()
	w.say("Where is my order 1042?")
	w.waitMessage("bot", "the e-mail address on that order") // a number alone shows nothing
	w.say("ana@example.com")
	w.waitMessage("bot", "DP3953828283")
	w.say("bye")
	w.waitMessage("bot", "Goodbye")
	w.poll(`!` + shadow + `.querySelector(".parley-csat").hidden`)
	w.do(chromedp.Click(chromedp.JSPath(shadow + `.querySelector('.parley-csat-score[data-score="4"]')`)))
	w.do(chromedp.SendKeys(chromedp.JSPath(shadow+`.querySelector(".parley-csat-comment")`), "quick and helpful"))
	w.do(chromedp.Click(chromedp.JSPath(shadow + `.querySelector(".parley-csat-send")`)))
	w.poll(`!` + shadow + `.querySelector(".parley-csat-thanks").hidden`)
	if got := w.eval(shadow + `.querySelector(".parley-csat-thanks").textContent`); !strings.Contains(got, "Thank you") {
		t.Errorf("after rating the survey says %s", got)
	}
	fb, err := w.stack.db.ConversationFeedback(context.Background(), w.conversationID())
	if err != nil {
		t.Fatalf("stored rating: %v", err)
	}
	if fb.Score != 4 || fb.Comment != "quick and helpful" {
		t.Errorf("stored rating %d %q, want 4 %q", fb.Score, fb.Comment, "quick and helpful")
	}
}

// testQuickReply: asking the same thing twice makes the bot offer a person as
// a quick reply; clicking it sends its text and hands the conversation over.
func testQuickReply(t *testing.T, w *widgetTab) {
	w.load()
	w.openByClick()
	w.say("What payment methods do you accept?")
	w.waitMessage("bot", "Visa")
	w.say("What payment methods do you accept?")
	w.waitMessage("bot", "Would you like to talk to a person?")
	button := chromedp.JSPath(shadow + `.querySelector(".parley-reply")`)
	w.do(chromedp.WaitVisible(button))
	label := w.eval(shadow + `.querySelector(".parley-reply").textContent`)
	w.do(chromedp.Click(button))
	var text string
	if err := json.Unmarshal([]byte(label), &text); err != nil {
		t.Fatalf("quick reply label %s: %v", label, err)
	}
	w.waitMessage("customer", text)
	w.waitMessage("bot", "passing you to a person")
	w.poll(shadow + `.querySelector(".parley-subtitle").textContent.includes("Waiting for a person")`)
	w.poll(shadow + `.querySelector(".parley-replies").hidden`)
}

// testPhoneWidth: on a phone-sized screen the open panel covers the screen.
func testPhoneWidth(t *testing.T, w *widgetTab) {
	w.do(chromedp.EmulateViewport(375, 700, chromedp.EmulateMobile))
	w.load()
	w.openByClick()
	got := w.eval(`(() => {
		const r = ` + shadow + `.querySelector(".parley-panel").getBoundingClientRect();
		return [r.left, r.top, r.width, r.height].map(Math.round).join(",");
	})()`)
	if got != `"0,0,375,700"` {
		t.Errorf("panel at %s on a 375x700 screen, want 0,0,375,700", got)
	}
}

// testUnread: messages of an agent and of the system, posted while the panel
// is closed, show as a count on the launcher and look different from the
// bot's.
func testUnread(t *testing.T, w *widgetTab) {
	w.load()
	w.openByClick()
	w.say("Talk to a person")
	w.waitMessage("bot", "passing you to a person")
	w.do(chromedp.KeyEvent(kb.Escape))
	w.poll(shadow + `.querySelector(".parley-panel").hidden`)

	conv := w.conversationID()
	for _, o := range []dialog.Outbound{
		{ConversationID: conv, Sender: crm.SenderSystem, Text: "Maria joined the conversation."},
		{ConversationID: conv, Sender: crm.SenderAgent, AgentID: "maria", Text: "Hi, I'm Maria. Let me look at this."},
	} {
		if _, _, err := w.stack.engine.Post(context.Background(), o); err != nil {
			t.Fatalf("post %s message: %v", o.Sender, err)
		}
	}
	w.poll(shadow + `.querySelector(".parley-badge").textContent === "2" && !` + shadow + `.querySelector(".parley-badge").hidden`)
	if got := w.eval(shadow + `.querySelector(".parley-launcher").getAttribute("aria-label")`); got != `"Open chat, 2 new messages"` {
		t.Errorf("launcher label %s, want it to count the new messages", got)
	}
	w.openByClick()
	w.poll(shadow + `.querySelector(".parley-badge").hidden`)
	w.waitMessage("system", "Maria joined")
	agent := w.eval(shadow + `.querySelector(".parley-msg--agent .parley-msg-name").textContent`)
	if agent != `"maria (agent)"` {
		t.Errorf("agent message is signed %s, want \"maria (agent)\"", agent)
	}
	w.checkAgainstStore()
}

// testTooLong: a message over 2,000 characters is not sent; the widget says
// why and keeps the text.
func testTooLong(t *testing.T, w *widgetTab) {
	w.load()
	w.openByClick()
	long := strings.Repeat("a", 2001)
	w.eval(shadow + `.querySelector("#parley-input").value = "` + long + `"`)
	w.do(chromedp.Focus(chromedp.JSPath(shadow+`.querySelector("#parley-input")`)), pressEnter)
	w.poll(shadow + `.querySelector(".parley-notice").textContent.includes("too long")`)
	if got := w.eval(shadow + `.querySelector("#parley-input").value.length`); got != "2001" {
		t.Errorf("input holds %s characters after the refusal, want the 2001 typed", got)
	}
	if ms := w.messages(); len(ms) != 0 {
		t.Errorf("panel shows %+v, want nothing sent", ms)
	}
}

// testTooLongEmoji: 1,100 emoji are under 2,000 characters but over the
// protocol's 4,096 bytes: the widget refuses them itself, like a long text.
func testTooLongEmoji(t *testing.T, w *widgetTab) {
	w.load()
	w.openByClick()
	w.eval(shadow + `.querySelector("#parley-input").value = "\u{1F600}".repeat(1100)`)
	w.do(chromedp.Focus(chromedp.JSPath(shadow+`.querySelector("#parley-input")`)), pressEnter)
	w.poll(shadow + `.querySelector(".parley-notice").textContent.includes("too long")`)
	if got := w.eval(`Array.from(` + shadow + `.querySelector("#parley-input").value).length`); got != "1100" {
		t.Errorf("input holds %s characters after the refusal, want the 1100 emoji typed", got)
	}
	if ms := w.messages(); len(ms) != 0 {
		t.Errorf("panel shows %+v, want nothing sent", ms)
	}
	// Refused by the widget, not sent for the server to refuse.
	if n := w.stack.chat.Stats().Errors["too_large"]; n != 0 {
		t.Errorf("the server answered too_large %d times: the widget sent the message", n)
	}
}

// testRateLimited: more messages at once than the server's burst allows get
// rate_limited; the widget says so, keeps them and sends them again later,
// so that each is stored once.
func testRateLimited(t *testing.T, w *widgetTab) {
	w.load()
	w.openByClick()
	const n = 14 // the default burst per socket is 10
	for i := range n {
		w.say(fmt.Sprintf("hello %d", i+1))
	}
	w.poll(shadow + `.querySelector(".parley-notice").textContent.includes("quickly")`)
	w.poll(fmt.Sprintf(`%s.querySelectorAll(".parley-msg--customer:not(.parley-msg--pending)").length === %d`, shadow, n))
	w.checkAgainstStore()
}

// hostPage serves a page of another origin that embeds the widget from the
// stack, with the given script tag attributes.
func hostPage(t *testing.T, s *stack, attrs string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(rw, r)
			return
		}
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(rw, `<!doctype html><html lang="en"><head><title>Another shop</title>
<script src="%swidget.js" %s defer></script></head>
<body><h1>Another shop</h1><p>Signed in as Ana.</p></body></html>`, s.URL(), attrs)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// testEmbeddedIdentity: on a page of another origin, the widget finds its
// server from its script's address, and the signed-in user of the page is
// the CRM customer the bot talks to.
func testEmbeddedIdentity(t *testing.T, w *widgetTab) {
	attrs := fmt.Sprintf(`data-user-id="u-ana" data-email="ana@example.com" data-name="Ana Lopez" data-signature="%s"`,
		w.stack.sign("u-ana", "ana@example.com"))
	w.do(chromedp.Navigate(hostPage(t, w.stack, attrs)))
	w.waitReady()
	w.openByClick()
	w.poll(shadow + `.querySelector(".parley-subtitle").textContent.includes("Hi Ana")`)
	w.say("Where is my order?")
	w.waitMessage("bot", "DP3953828283") // Ana's latest order, 1042, with no number given
	conv, err := w.stack.db.Conversation(context.Background(), w.conversationID())
	if err != nil {
		t.Fatalf("conversation: %v", err)
	}
	if conv.CustomerID != "c-001" {
		t.Errorf("conversation linked to customer %q, want Ana (c-001)", conv.CustomerID)
	}
}

// testWrongIdentity: a bad signature is refused; the widget says so and does
// not retry in a loop.
func testWrongIdentity(t *testing.T, w *widgetTab) {
	attrs := `data-user-id="u-ana" data-email="ana@example.com" data-signature="00ff"`
	w.do(chromedp.Navigate(hostPage(t, w.stack, attrs)))
	w.waitReady()
	w.openByClick()
	w.poll(shadow + `.querySelector(".parley-status").textContent.includes("couldn't confirm who you are")`)
	w.say("hello?")
	w.poll(shadow + `.querySelector(".parley-msg--pending") !== null`)
	if got := w.stack.chat.Stats().Accepted; got != 1 {
		t.Errorf("%d sockets accepted, want the refused one only", got)
	}
}

// ---- the tab -------------------------------------------------------------

// shadow is the widget's shadow root; launcher its button.
const shadow = `document.querySelector(".parley-host").shadowRoot`

var launcher = chromedp.JSPath(shadow + `.querySelector(".parley-launcher")`)

// widgetTab is a browser tab, in a fresh browser context, on a stack's demo
// page.
type widgetTab struct {
	t     *testing.T
	ctx   context.Context
	stack *stack

	mu         sync.Mutex
	dialogs    int      // guarded by mu
	exceptions []string // guarded by mu
	failed     []string // guarded by mu: responses of 400 and above, and error log entries, as "status URL"
	icons      int      // guarded by mu: icon responses seen
}

func openTab(t *testing.T, browser context.Context, s *stack) *widgetTab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	w := &widgetTab{t: t, ctx: ctx, stack: s}
	if err := chromedp.Do(ctx); err != nil { // opens the tab, with no deadline
		t.Fatalf("open tab: %v", err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			w.mu.Lock()
			w.dialogs++
			w.mu.Unlock()
			// A dialog blocks the page: dismiss it (not from the event loop).
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		case *network.EventResponseReceived:
			if r := ev.Response; r != nil {
				w.mu.Lock()
				if r.Status >= 400 {
					w.failed = append(w.failed, fmt.Sprintf("%d %s", r.Status, r.URL))
				}
				if strings.Contains(r.URL, "favicon") || strings.HasPrefix(r.MimeType, "image/") {
					w.icons++
				}
				w.mu.Unlock()
			}
		case *cdplog.EventEntryAdded:
			if e := ev.Entry; e != nil && e.Level == cdplog.EntryLevelError {
				w.mu.Lock()
				w.failed = append(w.failed, fmt.Sprintf("console %s: %s %s", e.Source, e.Text, e.URL))
				w.mu.Unlock()
			}
		case *runtime.EventExceptionThrown:
			w.mu.Lock()
			d := ev.ExceptionDetails
			text := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				text = d.Exception.Description
			}
			w.exceptions = append(w.exceptions, fmt.Sprintf("%s:%d: %s", d.URL, d.LineNumber+1, text))
			w.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	// The pages are served with the Content-Security-Policy of package web:
	// record what it blocks, from before any script of the page runs.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.parleyCSP = [];
			document.addEventListener("securitypolicyviolation",
				e => window.parleyCSP.push(e.violatedDirective + " " + e.blockedURI), true);`,
	}); err != nil {
		t.Fatalf("watch for CSP violations: %v", err)
	}
	t.Cleanup(func() {
		w.mu.Lock()
		for _, e := range w.exceptions {
			t.Errorf("uncaught exception in the page: %s", e)
		}
		w.mu.Unlock()
		ctx, cancel := context.WithTimeout(w.ctx, 10*time.Second)
		defer cancel()
		blocked, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.parleyCSP || []`))
		if err != nil {
			t.Logf("read CSP violations: %v", err)
		}
		for _, b := range blocked {
			t.Errorf("the Content-Security-Policy blocked: %s", b)
		}
	})
	return w
}

func (w *widgetTab) dialogCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dialogs
}

// do runs actions with the step timeout.
func (w *widgetTab) do(actions ...chromedp.Action[chromedp.Void]) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		w.t.Fatalf("browser: %v\n%s", err, w.dump())
	}
}

// eval returns the JSON of a JavaScript expression's value.
func (w *widgetTab) eval(expr string) string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, stepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		w.t.Fatalf("evaluate %s: %v", expr, err)
	}
	if raw == nil {
		return "undefined"
	}
	return string(raw)
}

// poll waits until a JavaScript expression is truthy.
func (w *widgetTab) poll(expr string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, stepTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(0)))
	if err != nil {
		w.t.Fatalf("waiting for %s: %v\n%s", expr, err, w.dump())
	}
}

// load opens the demo page and waits for the widget's launcher.
func (w *widgetTab) load() {
	w.t.Helper()
	w.do(chromedp.Navigate(w.stack.URL()))
	w.waitReady()
}

func (w *widgetTab) waitReady() {
	w.t.Helper()
	w.do(chromedp.WaitVisible(launcher))
}

func (w *widgetTab) openByClick() {
	w.t.Helper()
	w.do(chromedp.Click(launcher))
	w.waitOpen()
}

func (w *widgetTab) waitOpen() {
	w.t.Helper()
	w.do(chromedp.WaitVisible(chromedp.JSPath(shadow + `.querySelector("#parley-input")`)))
}

// say types text into the chat input and presses Enter.
func (w *widgetTab) say(text string) {
	w.t.Helper()
	w.do(chromedp.SendKeys(chromedp.JSPath(shadow+`.querySelector("#parley-input")`), text), pressEnter)
}

// pressEnter presses Enter as a keyboard does: keydown (with its keypress) and
// keyup. chromedp's KeyEvent sends the character as a separate event, which
// lands in the input even when the keydown was handled, as no real key does.
var pressEnter = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	down := input.DispatchKeyEventParams{
		Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter",
		WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13, Text: "\r", UnmodifiedText: "\r",
	}
	up := input.DispatchKeyEventParams{
		Type: input.DispatchKeyEventTypeKeyUp, Key: "Enter", Code: "Enter",
		WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
	}
	for _, ev := range []input.DispatchKeyEventParams{down, up} {
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, ev); err != nil {
			return fmt.Errorf("press enter: %w", err)
		}
	}
	return nil
})

// shownMessage is a message as the panel shows it.
type shownMessage struct {
	Sender  string `json:"sender"`
	Text    string `json:"text"`
	Seq     string `json:"seq"`
	Pending bool   `json:"pending"`
}

func (w *widgetTab) messages() []shownMessage {
	w.t.Helper()
	raw := w.eval(`[...` + shadow + `.querySelectorAll(".parley-msg")].map(e => ({
		sender: [...e.classList].find(c => c.startsWith("parley-msg--") && c !== "parley-msg--pending").slice(12),
		text: e.querySelector(".parley-msg-text").textContent,
		seq: e.dataset.seq || "",
		pending: e.classList.contains("parley-msg--pending"),
	}))`)
	var ms []shownMessage
	if err := json.Unmarshal([]byte(raw), &ms); err != nil {
		w.t.Fatalf("decode messages %s: %v", raw, err)
	}
	return ms
}

// waitMessage waits for a message from sender containing text and returns it.
func (w *widgetTab) waitMessage(sender, text string) shownMessage {
	w.t.Helper()
	q, _ := json.Marshal(text)
	w.poll(fmt.Sprintf(`[...%s.querySelectorAll(".parley-msg--%s:not(.parley-msg--pending) .parley-msg-text")].some(e => e.textContent.includes(%s))`, shadow, sender, q))
	for _, m := range slices.Backward(w.messages()) {
		if m.Sender == sender && strings.Contains(m.Text, text) {
			return m
		}
	}
	w.t.Fatalf("message from %s with %q went away", sender, text)
	return shownMessage{}
}

// waitFor polls cond, called with w.mu held, until it holds.
func (w *widgetTab) waitFor(what string, cond func() bool) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, stepTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		w.mu.Lock()
		ok := cond()
		w.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			w.t.Fatalf("waiting for %s: %v\n%s", what, ctx.Err(), w.dump())
		case <-tick.C:
		}
	}
}

// waitSettled waits until nothing is pending and the bot is not typing.
func (w *widgetTab) waitSettled() {
	w.t.Helper()
	w.poll(shadow + `.querySelector(".parley-msg--pending") === null && ` + shadow + `.querySelector(".parley-typing").hidden`)
}

// conversationID is the conversation the widget keeps in localStorage.
func (w *widgetTab) conversationID() string {
	w.t.Helper()
	raw := w.eval(`(() => {
		const k = Object.keys(localStorage).find(k => k.startsWith("parley:v1:"));
		return k ? JSON.parse(localStorage.getItem(k)).conversationId : "";
	})()`)
	var id string
	if err := json.Unmarshal([]byte(raw), &id); err != nil || id == "" {
		w.t.Fatalf("no conversation in localStorage (%s, %v)", raw, err)
	}
	return id
}

// checkAgainstStore checks that the panel shows exactly the stored messages,
// in order, each once.
func (w *widgetTab) checkAgainstStore() {
	w.t.Helper()
	w.waitSettled()
	stored := w.stack.messages(w.conversationID())
	shown := w.messages()
	var want []shownMessage
	for _, m := range stored {
		want = append(want, shownMessage{Sender: string(m.Sender), Text: m.Text, Seq: fmt.Sprint(m.Seq)})
	}
	if !slices.Equal(shown, want) {
		w.t.Errorf("panel shows\n%+v\nstore holds\n%+v", shown, want)
	}
}

// dump describes the widget's state for a failure message.
func (w *widgetTab) dump() string {
	ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`(() => {
		const h = document.querySelector(".parley-host");
		if (!h) return "no widget on the page";
		const r = h.shadowRoot;
		return {
			status: r.querySelector(".parley-status").textContent,
			notice: r.querySelector(".parley-notice").textContent,
			messages: [...r.querySelectorAll(".parley-msg")].map(e => e.className + ": " + e.textContent),
		};
	})()`))
	if err != nil {
		return "(widget state unavailable: " + err.Error() + ")"
	}
	return "widget state: " + string(raw)
}

// ---- the browser -----------------------------------------------------------

// startBrowser starts headless Chromium for the test and its subtests. With no
// Chromium installed the test is skipped, except in CI (CI=true), where it
// fails.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		const msg = "no Chromium (chromium, chromium-browser or google-chrome) on PATH: install Debian's chromium to run the browser tests"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // root in containers
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	if err := chromedp.Do(browser); err != nil { // starts the browser, with no deadline
		t.Fatalf("start %s: %v", path, err)
	}
	return browser
}
