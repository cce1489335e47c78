package dialog_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

var ticketID = regexp.MustCompile(`tkt_[0-9a-z]+`)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata")

// TestTranscripts plays each testdata/*.chat script against the shop domain,
// the seeded CRM and a scripted NLU, checks the script's own expectations,
// and compares the whole transcript (replies, quick replies, actions, slots,
// state) with testdata/*.golden. Script lines:
//
//	domain webhook                play against testdata/webhook/domain.yml (first line)
//	as EMAIL                      the conversation starts with a known customer
//	source SOURCE                 the messages that follow come from SOURCE (Inbound.Source)
//	new                           the lines that follow play a new conversation (same engine)
//	hook NAME JSON                the next call of webhook NAME answers JSON
//	hook NAME fail REASON         the next call of webhook NAME fails
//	> TEXT || SPEC                the customer says TEXT; SPEC scripts the NLU
//	= state|queue|priority|form|customer|routing VALUE
//	= action NAME                 one of the last message's actions
//	= reply SUBSTRING             in the last message's replies
//	= hides SUBSTRING             in none of the last message's replies
//	= silent                      no reply to the last message
//	= slot NAME VALUE             ("-" for not set)
//	= order ID STATUS             the order's status in the store
//	= ticket TOPIC COUNT          the customer's open tickets on the topic
//	= case SUBSTRING              in the subject of one of the customer's open tickets
//	= log SUBSTRING               in the engine's log
func TestTranscripts(t *testing.T) {
	playGoldens(t, filepath.Join("testdata", "*.chat"), 15, func(t *testing.T, script string) []byte {
		return play(t, script, nil)
	})
}

// playGoldens plays every script of glob (failing when fewer than atLeast
// match) and compares each transcript with the script's .golden file, or
// rewrites it with -update.
func playGoldens(t *testing.T, glob string, atLeast int, play func(t *testing.T, script string) []byte) {
	scripts, err := filepath.Glob(glob)
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) < atLeast {
		t.Fatalf("%d transcripts match %s, want at least %d", len(scripts), glob, atLeast)
	}
	for _, script := range scripts {
		name := strings.TrimSuffix(filepath.Base(script), ".chat")
		t.Run(name, func(t *testing.T) {
			got := play(t, script)
			golden := strings.TrimSuffix(script, ".chat") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./dialog -run %s -update)", err, t.Name())
			}
			if !bytes.Equal(got, want) {
				t.Errorf("transcript differs from %s (-update to accept):\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

// scriptExt extends the script language of play: harness makes the
// harness (newHarness when nil), and line reads a line of its own,
// reporting whether it was one and whether it was an expectation.
type scriptExt struct {
	harness func(t testing.TB) *harness
	line    func(where, line string) (ok, check bool)
}

func play(t *testing.T, script string, ext *scriptExt) []byte {
	t.Helper()
	f, err := os.Open(script)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	var h *harness
	newH := newHarness
	if ext != nil && ext.harness != nil {
		newH = ext.harness
	}
	var (
		out  bytes.Buffer
		conv crm.Conversation
		last dialog.Outcome
		seen bool
	)
	started, checks := false, 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		where := fmt.Sprintf("%s:%d", script, n)
		if ext != nil {
			if ok, check := ext.line(where, line); ok {
				if check {
					checks++
				}
				continue
			}
		}
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			if strings.HasPrefix(line, "#") && !started {
				fmt.Fprintln(&out, line)
			}
		case strings.HasPrefix(line, "domain "):
			if h != nil {
				t.Fatalf("%s: 'domain' must come first", where)
			}
			if name := strings.TrimSpace(line[7:]); name != "webhook" {
				t.Fatalf("%s: unknown domain %q", where, name)
			}
			h = newHarnessWith(t, webhookDomain(t), nil)
			fmt.Fprintln(&out, "[domain testdata/webhook/domain.yml]")
		case strings.HasPrefix(line, "hook "):
			if h == nil {
				h = newH(t)
			}
			scriptHook(t, h, where, strings.TrimSpace(line[5:]))
		case strings.HasPrefix(line, "source "):
			if h == nil {
				h = newH(t)
			}
			h.source = strings.TrimSpace(line[7:])
			fmt.Fprintf(&out, "[source %s]\n", h.source)
		case line == "new":
			if !started {
				t.Fatalf("%s: 'new' before any conversation", where)
			}
			started, seen = false, false
			fmt.Fprintln(&out, "\n[new conversation]")
		case strings.HasPrefix(line, "as "):
			if h == nil {
				h = newH(t)
			}
			if started {
				t.Fatalf("%s: 'as' after the first message", where)
			}
			conv = h.start(t, strings.TrimSpace(line[3:]))
			started = true
			fmt.Fprintf(&out, "[customer %s]\n", conv.CustomerID)
		case strings.HasPrefix(line, ">"):
			if h == nil {
				h = newH(t)
			}
			if !started {
				conv = h.start(t, "")
				started = true
				fmt.Fprintln(&out, "[anonymous visitor]")
			}
			text, spec, ok := strings.Cut(strings.TrimSpace(line[1:]), "||")
			if !ok {
				t.Fatalf("%s: want '> TEXT || SPEC'", where)
			}
			text = strings.TrimSpace(text)
			last = h.say(t, conv.ID, text, spec)
			seen = true
			writeTurn(&out, text, strings.TrimSpace(spec), last)
			writeCalls(&out, h.caller.take())
			// Ticket ids are random: the golden file shows them as tkt_ID.
			normalized := ticketID.ReplaceAll(out.Bytes(), []byte("tkt_ID"))
			out.Reset()
			out.Write(normalized)
		case strings.HasPrefix(line, "="):
			if !seen {
				t.Fatalf("%s: expectation before any message", where)
			}
			expect(ctx, t, h, where, strings.Fields(line[1:]), last)
			checks++
		default:
			t.Fatalf("%s: cannot read %q", where, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if checks < 3 {
		// The golden file alone would bless whatever the engine says.
		t.Errorf("%s: %d expectations, want at least 3", script, checks)
	}
	return out.Bytes()
}

func writeTurn(w *bytes.Buffer, text, spec string, o dialog.Outcome) {
	fmt.Fprintf(w, "\ncustomer: %s\n  nlu: %s\n", text, spec)
	for _, r := range o.Replies {
		fmt.Fprintf(w, "  bot: %s\n", r.Text)
		if len(r.QuickReplies) > 0 {
			fmt.Fprintf(w, "    quick replies: %s\n", strings.Join(r.QuickReplies, " | "))
		}
	}
	c := o.Conversation
	fmt.Fprintf(w, "  actions: %s\n", strings.Join(o.Actions, ", "))
	form := c.ActiveForm
	if form == "" {
		form = "-"
	}
	fmt.Fprintf(w, "  state: %s, queue: %s, priority: %s, form: %s, customer: %s\n", c.State, dash(c.Queue), c.Priority, form, dash(c.CustomerID))
	var slots []string
	for k, v := range c.Slots {
		slots = append(slots, k+"="+v)
	}
	slices.Sort(slots)
	fmt.Fprintf(w, "  slots: %s\n", strings.Join(slots, " "))
	if c.RoutingReason != "" {
		fmt.Fprintf(w, "  routing: %s\n", c.RoutingReason)
	}
}

// scriptHook reads "NAME JSON" or "NAME fail REASON".
func scriptHook(t *testing.T, h *harness, where, spec string) {
	t.Helper()
	name, rest, _ := strings.Cut(spec, " ")
	rest = strings.TrimSpace(rest)
	var r hookResult
	switch {
	case strings.HasPrefix(rest, "fail "):
		r.err = errors.New(strings.TrimSpace(rest[5:]))
	default:
		if err := json.Unmarshal([]byte(rest), &r.reply); err != nil {
			t.Fatalf("%s: hook reply: %v", where, err)
		}
	}
	h.caller.script(name, r)
}

// writeCalls shows what the engine sent to each webhook.
func writeCalls(w *bytes.Buffer, calls []hookCall) {
	for _, c := range calls {
		body, _ := json.Marshal(c.req)
		// The conversation id is random: the golden file shows it as CONV.
		body = bytes.Replace(body, []byte(c.req.ConversationID), []byte("CONV"), 1)
		fmt.Fprintf(w, "  webhook %s: %s\n", c.hook.Name, body)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func expect(ctx context.Context, t *testing.T, h *harness, where string, f []string, o dialog.Outcome) {
	t.Helper()
	if len(f) == 0 {
		t.Fatalf("%s: empty expectation", where)
	}
	c := o.Conversation
	arg := strings.Join(f[1:], " ")
	check := func(what, got, want string) {
		if got != want {
			t.Errorf("%s: %s = %q, want %q", where, what, got, want)
		}
	}
	switch f[0] {
	case "state":
		check("state", string(c.State), arg)
	case "queue":
		check("queue", c.Queue, arg)
	case "priority":
		check("priority", string(c.Priority), arg)
	case "form":
		check("form", dash(c.ActiveForm), arg)
	case "customer":
		check("customer", dash(c.CustomerID), arg)
	case "routing":
		check("routing reason", c.RoutingReason, arg)
	case "action":
		if !slices.Contains(o.Actions, arg) {
			t.Errorf("%s: actions %q lack %q", where, o.Actions, arg)
		}
	case "reply":
		var all []string
		for _, r := range o.Replies {
			all = append(all, r.Text)
		}
		if !strings.Contains(strings.Join(all, "\n"), arg) {
			t.Errorf("%s: replies %q lack %q", where, all, arg)
		}
	case "log":
		if !strings.Contains(h.logs.String(), arg) {
			t.Errorf("%s: log lacks %q:\n%s", where, arg, h.logs)
		}
	case "hides":
		for _, r := range o.Replies {
			if strings.Contains(r.Text, arg) {
				t.Errorf("%s: reply %q shows %q", where, r.Text, arg)
			}
		}
	case "silent":
		if len(o.Replies) != 0 {
			t.Errorf("%s: want no reply, got %d", where, len(o.Replies))
		}
	case "slot":
		if len(f) < 3 {
			t.Fatalf("%s: want '= slot NAME VALUE'", where)
		}
		v, ok := c.Slots[f[1]]
		if !ok {
			v = "-"
		}
		check("slot "+f[1], v, strings.Join(f[2:], " "))
	case "order":
		if len(f) != 3 {
			t.Fatalf("%s: want '= order ID STATUS'", where)
		}
		ord, err := h.db.Order(ctx, f[1])
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		check("order "+f[1], string(ord.Status), f[2])
	case "ticket":
		if len(f) != 3 {
			t.Fatalf("%s: want '= ticket TOPIC COUNT'", where)
		}
		tks, err := h.db.OpenTickets(ctx, c.CustomerID)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		n := 0
		for _, tk := range tks {
			if tk.Topic == f[1] {
				n++
			}
		}
		check("open tickets on "+f[1], fmt.Sprint(n), f[2])
	case "case":
		tks, err := h.db.OpenTickets(ctx, c.CustomerID)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if !slices.ContainsFunc(tks, func(tk crm.Ticket) bool { return strings.Contains(tk.Subject, arg) }) {
			t.Errorf("%s: no open ticket of %s has %q in its subject", where, dash(c.CustomerID), arg)
		}
	default:
		t.Fatalf("%s: unknown expectation %q", where, f[0])
	}
}
