package web_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shoptest"
)

// The browser tests of what a visitor sees first: the greeting and the
// starters, the newest message in view, a page with nothing missing. They
// run as subtests of TestBrowser (browser_test.go), on its tab helpers.

// screenshot, when set, is where testWelcome writes a PNG of the demo page
// with the widget open on its greeting (the README's picture):
//
//	go test ./web -run 'Browser/greeting' -screenshot "$PWD/docs/widget.png"
var screenshot = flag.String("screenshot", "", "write a PNG of the widget's greeting to this `file`")

// testWelcome: the first open shows the domain's greeting and its starters as
// buttons, and nothing is sent or stored for it.
func testWelcome(t *testing.T, w *widgetTab) {
	want := shoptest.Domain(t).Welcome
	if want.Greeting == "" || len(want.Starters) != 3 {
		t.Fatalf("the shop's domain has welcome %+v, want a greeting and three starters", want)
	}
	w.do(chromedp.EmulateViewport(1100, 760))
	w.load()
	w.openByClick()
	w.poll(shadow + `.querySelectorAll(".parley-starter").length > 0`)
	greeting := w.eval(`(() => {
		const g = ` + shadow + `.querySelector(".parley-greeting");
		return g && !g.hidden && g.getBoundingClientRect().height > 0 ? g.textContent : "";
	})()`)
	if q, _ := json.Marshal(want.Greeting); greeting != string(q) {
		t.Errorf("greeting shown: %s, want %s", greeting, q)
	}
	if got := w.starters(); !slices.Equal(got, want.Starters) {
		t.Errorf("starters shown: %q, want %q", got, want.Starters)
	}
	if ms := w.messages(); len(ms) != 0 {
		t.Errorf("panel shows messages %+v before anything was said", ms)
	}
	if *screenshot != "" {
		png, err := chromedp.Run(w.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(*screenshot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// After a reload (the panel was open) it greets again, still with nothing
	// stored.
	w.do(chromedp.Reload())
	w.waitReady()
	w.waitOpen()
	w.poll(shadow + `.querySelectorAll(".parley-starter").length === 3 && !` + shadow + `.querySelector(".parley-greeting").hidden`)
}

// testStarter: a starter clicked is the visitor's first message; the bot
// answers it, and the starters give way to the conversation.
func testStarter(t *testing.T, w *widgetTab) {
	starters := shoptest.Domain(t).Welcome.Starters
	const label = "What payment methods do you accept?"
	if !slices.Contains(starters, label) {
		t.Fatalf("the shop's starters %q lack %q", starters, label)
	}
	w.load()
	w.openByClick()
	w.poll(shadow + `.querySelectorAll(".parley-starter").length === 3`)
	q, _ := json.Marshal(label)
	w.do(chromedp.Click(chromedp.JSPath(`[...` + shadow + `.querySelectorAll(".parley-starter")].find(b => b.textContent === ` + string(q) + `)`)))
	w.waitMessage("customer", label)
	w.waitMessage("bot", "Visa")
	w.poll(shadow + `.querySelector(".parley-starter") === null`)
	if got := w.eval(shadow + `.querySelector(".parley-greeting").hidden`); got != "false" {
		t.Errorf("the greeting went away once the conversation started (hidden %s)", got)
	}
	w.checkAgainstStore()
}

// testScrolledToNewest: a conversation longer than the panel shows its
// newest message after a reload with the panel open, and when the panel is
// opened again after messages came in while it was closed.
func testScrolledToNewest(t *testing.T, w *widgetTab) {
	w.load()
	w.openByClick()
	w.say("Where is my order 1042?")
	w.waitMessage("bot", "")
	w.waitSettled()
	conv := w.conversationID()
	post := func(from, to int) {
		t.Helper()
		for i := from; i <= to; i++ {
			if _, _, err := w.stack.engine.Post(context.Background(), dialog.Outbound{
				ConversationID: conv, Sender: crm.SenderAgent, AgentID: "maria", Text: fmt.Sprintf("Update %d on your order.", i),
			}); err != nil {
				t.Fatalf("post agent message: %v", err)
			}
		}
	}
	post(1, 25)
	w.waitMessage("agent", "Update 25 on")
	w.waitSettled()
	// The log is taller than the panel, and scrolled to its end.
	atBottom := func(when string) {
		t.Helper()
		got := w.eval(`(() => {
			const log = ` + shadow + `.querySelector(".parley-log");
			return {height: log.scrollHeight, top: log.scrollTop, shown: log.clientHeight};
		})()`)
		var l struct{ Height, Top, Shown float64 }
		if err := json.Unmarshal([]byte(got), &l); err != nil {
			t.Fatalf("%s: %s: %v", when, got, err)
		}
		if l.Height < l.Shown+100 || l.Height-l.Top-l.Shown >= 2 {
			t.Errorf("%s: the log is %.0f px high, shows %.0f px from %.0f: want it taller than shown, and shown to its end", when, l.Height, l.Shown, l.Top)
		}
	}
	atBottom("live conversation")

	w.do(chromedp.Reload())
	w.waitReady() // the widget shows once its styles are in: the panel is laid out
	w.waitOpen()
	w.poll(shadow + `.querySelectorAll(".parley-msg").length >= 27`)
	atBottom("after a reload with the panel open")

	w.do(chromedp.Click(chromedp.JSPath(shadow + `.querySelector(".parley-close")`)))
	w.poll(shadow + `.querySelector(".parley-panel").hidden`)
	w.eval(shadow + `.querySelector(".parley-log").scrollTop = 0`)
	post(26, 30)
	w.poll(shadow + `.querySelector(".parley-badge").textContent === "5"`)
	w.openByClick()
	w.waitMessage("agent", "Update 30 on")
	atBottom("opened again after new messages")
}

// testNoMissingResources: loading the demo page (a favicon included),
// opening the widget, talking and reloading request nothing that is missing
// and log no error in the console.
func testNoMissingResources(t *testing.T, w *widgetTab) {
	w.load()
	// A browser asks for the page's icon on its own, after the load: for
	// /favicon.ico when the page names none.
	w.waitFor("the request for the page's icon", func() bool { return w.icons > 0 })
	ctx, cancel := context.WithTimeout(w.ctx, stepTimeout)
	defer cancel()
	icon, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const l = document.querySelector('link[rel~="icon"]');
		if (!l) return "no icon link";
		const r = await fetch(l.href);
		return r.ok && r.headers.get("Content-Type").startsWith("image/") ? "ok" : r.status + " " + r.headers.get("Content-Type");
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch the page's icon: %v", err)
	}
	if icon != "ok" {
		t.Errorf("the page's icon: %s", icon)
	}
	w.openByClick()
	w.say("hello")
	w.waitMessage("bot", "")
	w.waitSettled()
	w.do(chromedp.Reload())
	w.waitReady()
	w.waitOpen()
	w.waitSettled()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.failed {
		t.Errorf("on load: %s", f)
	}
}

// starters returns the labels of the starter buttons shown.
func (w *widgetTab) starters() []string {
	w.t.Helper()
	raw := w.eval(`[...` + shadow + `.querySelectorAll(".parley-starter")].map(b => b.textContent)`)
	var got []string
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		w.t.Fatalf("decode starters %s: %v", raw, err)
	}
	return got
}
