package web_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/nlp/kb"
	"github.com/parleyhq/parley/nlp/suggest"
	"github.com/parleyhq/parley/web"
)

// suggestScreenshot, when set, is where the suggestions test writes a PNG
// of the console with suggestion chips above the reply box:
//
//	go test ./web -run 'ConsoleSuggestBrowser' -suggest-screenshot "$PWD/docs/console-suggestions.png"
var suggestScreenshot = flag.String("suggest-screenshot", "", "write a PNG of the console with suggested replies to this `file`")

// suggestServer serves cs's store, engine and console again, on another
// port, with suggested replies switched on as serve switches them on: the
// REST API's store and the console both suggest with sg, and use is
// counted in u and published in metrics.
func suggestServer(t *testing.T, cs *consoleStack, sg *suggest.Suggester, u *suggest.Usage, metrics *web.Metrics) string {
	t.Helper()
	server, err := web.New(web.Config{
		Store: cs.db, Suggester: sg, Engine: cs.engine, Parser: cs.model, Chat: cs.chat,
		Console: cs.console.WithSuggestions(sg, u), Metrics: metrics,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: server.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// TestConsoleSuggestBrowser: a conversation handed off after the customer
// said the parcel never arrived shows suggested replies above the reply
// box; the agent clicks one, edits it and sends it; the use is counted on
// the Today page and in /metrics.
func TestConsoleSuggestBrowser(t *testing.T) {
	browser := startBrowser(t)
	cs := startConsoleStack(t)
	ctx := context.Background()

	k, err := kb.Load(shop.KB())
	if err != nil {
		t.Fatal(err)
	}
	ix, err := kb.NewIndex(k, nil)
	if err != nil {
		t.Fatal(err)
	}
	sg := suggest.New(cs.db, &suggest.Options{KB: kb.NewSearcher(ix)})
	stats, err := sg.Rebuild(ctx)
	if err != nil || stats.Pairs == 0 {
		t.Fatalf("rebuild over the demo history: %+v, %v", stats, err)
	}
	u := suggest.NewUsage(cs.clock.Now)
	metrics := web.NewMetrics()
	if err := metrics.Suggestions(u); err != nil {
		t.Fatal(err)
	}
	cs.addr = suggestServer(t, cs, sg, u, metrics) // the tabs below open this server

	conv := cs.handOff(t, "c-001", "My parcel never arrived and the courier says it was delivered", "Talk to a person")
	a := openConsole(t, browser, cs)
	a.do(chromedp.EmulateViewport(1280, 800))
	a.login(maria)
	a.navigate("unassigned", conv)
	a.waitTranscript("customer", "My parcel never arrived")

	// Up to three chips, the demo history's shipping reply among them.
	a.poll(`!document.getElementById("suggestions").hidden && document.querySelectorAll("#suggestions .suggest-chip").length > 0`)
	if n := a.eval(`document.querySelectorAll("#suggestions .suggest-chip").length`); n != "1" && n != "2" && n != "3" {
		t.Errorf("%s chips, want 1 to 3", n)
	}
	const pastReply = `#suggestions .suggest-chip[data-source="past_reply"]`
	a.poll(`[...document.querySelectorAll(` + jsString(pastReply) + `)].some(c => c.textContent.includes("opened a claim with the carrier"))`)

	a.do(chromedp.Click("#act-claim"))
	a.poll(`document.getElementById("conv-meta").textContent.startsWith("With you")`)
	if *suggestScreenshot != "" {
		a.eval(`document.activeElement.blur()`)
		png, err := chromedp.Run(a.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(*suggestScreenshot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Clicking puts the text in the reply box; the agent adds to it and sends.
	a.do(chromedp.Click(pastReply))
	text := a.text("#composer-input")
	if !strings.Contains(text, "opened a claim with the carrier") {
		t.Fatalf("the reply box holds %q after the click, want the suggestion", text)
	}
	a.do(chromedp.KeyEvent(" Tracking follows by e-mail."), pressEnter)
	a.waitTranscript("agent", "opened a claim with the carrier")
	a.waitTranscript("agent", "Tracking follows by e-mail.")
	a.poll(`document.getElementById("suggestions").hidden`) // the agent spoke last: nothing to suggest

	// The use is counted: on the Today page and in /metrics.
	var shown uint64
	deadline := time.Now().Add(stepTimeout)
	for {
		tot := u.Totals()
		shown = tot[suggest.SourcePastReply].Shown + tot[suggest.SourceCanned].Shown + tot[suggest.SourceKB].Shown
		if tot[suggest.SourcePastReply].Used == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the use was not counted: %+v", tot)
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.do(chromedp.Click(`a[data-view="today"]`))
	want := fmt.Sprintf("suggestions used: 1 of %d shown (", shown)
	a.poll(`[...document.querySelectorAll("#today-numbers .stat-sub")].some(e => e.textContent.startsWith(` + jsString(want) + `))`)

	res, err := http.Get("http://" + cs.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `parley_suggestions_used_total{source="past_reply"} 1`) {
		t.Errorf("/metrics lacks the use:\n%s", grepLines(string(body), "parley_suggestions"))
	}
	msgs, err := cs.db.MessagesAfter(ctx, conv, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := msgs[len(msgs)-1]
	if last.Sender != crm.SenderAgent || !strings.HasSuffix(last.Text, "Tracking follows by e-mail.") || strings.Contains(last.Text, "{{") {
		t.Errorf("stored reply %+v", last)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
