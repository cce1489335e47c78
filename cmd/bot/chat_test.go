package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm"
)

// tinyDomain answers the three intents of tinyNLU.
const tinyDomain = `version: 1
policy:
  clarify_margin: 0
messages:
  ask_identity: Who are you?
  identified: Thanks, {first_name}.
  identity_not_found: No account for {value}.
  clarify: Do you mean {options}?
  out_of_scope: I can't help with that.
  handoff: A person from {queue} will reply.
  handoff_failures: Sorry, a person from {queue} will reply.
  handoff_frustrated: Sorry! A person from {queue} will reply.
  form_cancelled: Stopped.
  repeat_offer: Want a person?
  fallback: Say again?
intents:
  order_status:
    action: lookup_order
    queue: orders
    responses:
      default: "Order {order.id}: {order.status}."
      shipped: "Hi {first_name}: order {order.id} shipped {order.shipped}."
      not_found: No order {value}.
      no_orders: No orders.
  refund:
    action: create_ticket
    responses:
      created: Refund case opened.
      existing_ticket: "Your refund case {ticket.id} is open."
  password:
    responses:
      default: Use 'Forgot password?'.
`

func TestChat(t *testing.T) {
	dir := t.TempDir()
	domain := filepath.Join(dir, "domain.yml")
	if err := os.WriteFile(domain, []byte(tinyDomain), 0o644); err != nil {
		t.Fatal(err)
	}
	model := trainTiny(t, dir)
	store := filepath.Join(dir, "data")
	args := []string{"chat", "--data-dir", store, "--model", model, "--domain", domain}

	code, out, errOut := run(t, "where is my order\n", append(args, "--as", "ana@example.com", "--debug")...)
	if code != 0 {
		t.Fatalf("chat exit %d: %s %s", code, out, errOut)
	}
	for _, want := range []string{"[nlu] order_status", "bot: Hi Ana: order 1042 shipped yesterday.", "actions: lookup_order; state bot"} {
		if !strings.Contains(out, want) {
			t.Errorf("chat output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "loaded the demo shop") {
		t.Errorf("first start did not seed the store: %s", errOut)
	}

	// Second start: the store is kept, not seeded again; an anonymous visitor
	// is asked who they are.
	code, out, errOut = run(t, "where is my order\n", args...)
	if code != 0 || strings.Contains(errOut, "loaded the demo shop") {
		t.Fatalf("chat exit %d, stderr %s", code, errOut)
	}
	if !strings.Contains(out, "bot: Who are you?") || strings.Contains(out, "[nlu]") {
		t.Errorf("anonymous chat output:\n%s", out)
	}

	if code, _, errOut := run(t, "", append(args, "--as", "nobody@example.com")...); code != 1 || !strings.Contains(errOut, "no customer with e-mail") {
		t.Errorf("unknown --as: exit %d, %s", code, errOut)
	}
	if code, _, _ := run(t, "", "chat", "extra"); code != 2 {
		t.Errorf("stray argument: exit %d, want 2", code)
	}
}

// TestChatLongLine feeds lines over the store's message limit, one of them
// longer than any line buffer: each is refused with a line that says why,
// nothing is stored, and the chat goes on to answer the next message.
func TestChatLongLine(t *testing.T) {
	dir := t.TempDir()
	domain := filepath.Join(dir, "domain.yml")
	if err := os.WriteFile(domain, []byte(tinyDomain), 0o644); err != nil {
		t.Fatal(err)
	}
	model := trainTiny(t, dir)
	args := []string{"chat", "--data-dir", filepath.Join(dir, "data"), "--model", model, "--domain", domain, "--as", "ana@example.com"}

	in := strings.Repeat("where is my order ", 100_000/18) + "\n" + // 100 KB
		strings.Repeat("é", 1<<20) + "\n" + // 2 MiB
		strings.Repeat("x", crm.DefaultMaxMessageBytes) + "\n" + // at the limit: sent
		"  " + strings.Repeat("y", crm.DefaultMaxMessageBytes+1) + "  \r\n" + // 1 byte over, padded
		"where is \xff my order\n" +
		"where is my order\n"
	code, out, errOut := run(t, in, args...)
	if code != 0 {
		t.Fatalf("chat exit %d: %s %s", code, out, errOut)
	}
	for _, want := range []string{
		"message not sent: 99990 bytes, over the limit of 4096 bytes; send it in shorter parts\n",
		"message not sent: 2097152 bytes, over the limit of 4096 bytes; send it in shorter parts\n",
		"message not sent: it is not valid UTF-8",
		"bot: Hi Ana: order 1042 shipped yesterday.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("chat output lacks %q:\n%.2000s", want, out)
		}
	}
	if !strings.Contains(out, "message not sent: 4097 bytes,") {
		t.Errorf("the padded line 1 byte over the limit was not refused:\n%.2000s", out)
	}
	if n := strings.Count(out, "message not sent"); n != 4 {
		t.Errorf("%d lines refused, want 4:\n%.2000s", n, out)
	}
	if strings.Contains(out, "error:") || strings.Contains(errOut, "error") {
		t.Errorf("an error was printed:\n%.2000s\n%.2000s", out, errOut)
	}
}

// FuzzReadLines holds the chat's line reader to its contract on any input:
// lines come in order, without their line break; a line kept is the input's
// line as it was, and one too long is only counted, with its size.
func FuzzReadLines(f *testing.F) {
	f.Add([]byte("hi\nwhere is my order?\r\nana@example.com\n1042\nI want to talk to a person"), 16)
	f.Add([]byte(strings.Repeat("x", 300)+"\n\n  padded  \r\n"), 64)
	f.Add([]byte("where is \xff my order\n"+strings.Repeat("é", 100)), 32)
	f.Add([]byte(""), 1)
	f.Fuzz(func(t *testing.T, in []byte, limit int) {
		limit = 1 + abs(limit)%256
		keep := 2*limit + 64
		var want []inputLine
		rest := string(in)
		for rest != "" {
			line, after, found := strings.Cut(rest, "\n")
			if found {
				line = strings.TrimSuffix(line, "\r")
			}
			l := inputLine{size: len(line), cut: len(line) > keep}
			if !l.cut {
				l.text = line
			}
			want = append(want, l)
			rest = after
		}
		lines, errc := readLines(bytes.NewReader(in), limit)
		var got []inputLine
		for l := range lines {
			got = append(got, l)
		}
		if err := <-errc; err != nil {
			t.Fatalf("read: %v", err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("readLines(%q, %d) =\n%+v\nwant\n%+v", in, limit, got, want)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
