package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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

	code, out, errOut := runBot(t, "where is my order\n", append(args, "--as", "ana@example.com", "--debug")...)
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
	code, out, errOut = runBot(t, "where is my order\n", args...)
	if code != 0 || strings.Contains(errOut, "loaded the demo shop") {
		t.Fatalf("chat exit %d, stderr %s", code, errOut)
	}
	if !strings.Contains(out, "bot: Who are you?") || strings.Contains(out, "[nlu]") {
		t.Errorf("anonymous chat output:\n%s", out)
	}

	if code, _, errOut := runBot(t, "", append(args, "--as", "nobody@example.com")...); code != 1 || !strings.Contains(errOut, "no customer with e-mail") {
		t.Errorf("unknown --as: exit %d, %s", code, errOut)
	}
	if code, _, _ := runBot(t, "", "chat", "extra"); code != 2 {
		t.Errorf("stray argument: exit %d, want 2", code)
	}
}
