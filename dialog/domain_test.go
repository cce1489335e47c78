package dialog_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shop"
)

// minimal is a small valid domain; the cases below break it one way each.
const minimal = `version: 1
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
  greet:
    responses:
      default: Hello!
  order_status:
    action: lookup_order
    responses:
      default: Order {order.id} is {order.status}.
      not_found: No order {value}.
      no_orders: No orders.
`

var labels = []string{"greet", "order_status", "cancel_order"}

func TestParseDomain(t *testing.T) {
	d, err := dialog.ParseDomain("minimal.yml", []byte(minimal), labels)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Intents["order_status"].Action; got != dialog.ActionLookupOrder {
		t.Errorf("order_status action = %q", got)
	}
	if d.Policy.MaxFailures != 2 || d.Policy.ClarifyMargin != 0.15 || d.Policy.DefaultQueue != "general" {
		t.Errorf("policy defaults = %+v", d.Policy)
	}
	if got := d.Messages["clarify"]; len(got) != 1 || got[0] != "Do you mean {options}?" {
		t.Errorf("clarify message = %q", got)
	}
}

func TestParseDomainErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replace old with new in minimal
		line     int    // -1: any line but 0
		reason   string
	}{
		{"syntax", "intents:\n", "intents: [\n", -1, "did not find expected"},
		{"version", "version: 1", "version: 2", 1, "version \"2\" not supported"},
		{"unknown field", "  greet:\n    responses:", "  greet:\n    answers: x\n    responses:", 16, "unknown field \"answers\""},
		{"unknown intent", "  greet:\n", "  weather:\n    responses: {default: Sunny.}\n  greet:\n", 15, "intent \"weather\" is not among"},
		{"unknown action", "action: lookup_order", "action: launch_rocket", 19, "unknown action \"launch_rocket\""},
		{"missing response", "      no_orders: No orders.\n", "", 18, "needs responses \"no_orders\""},
		{"unknown placeholder", "Hello!", "Hello {nickname}!", 17, "unknown placeholder {nickname}"},
		{"missing message", "  fallback: Say again?\n", "", 2, "missing \"fallback\""},
		{"unknown form", "  greet:\n    responses:", "  greet:\n    form: nope\n    responses:", 15, "unknown form \"nope\""},
		{"cancel without form", "  greet:\n    responses:", "  cancel_order:\n    action: cancel_order\n  greet:\n    responses:", 16, "needs a form"},
		{"bad margin", "version: 1\n", "version: 1\npolicy:\n  clarify_margin: 3\n", 3, "clarify_margin"},
		{"duplicate intent", "  greet:\n    responses:\n      default: Hello!\n", "  greet:\n    responses:\n      default: Hello!\n  greet:\n    responses:\n      default: Hi!\n", 18, "\"greet\" twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(minimal, tt.old, tt.new, 1)
			if src == minimal {
				t.Fatalf("case does not change the file")
			}
			_, err := dialog.ParseDomain("d.yml", []byte(src), labels)
			var de *dialog.DomainError
			if !errors.As(err, &de) || !errors.Is(err, dialog.ErrInvalidDomain) {
				t.Fatalf("err = %v, want a *DomainError", err)
			}
			lineOK := de.Line == tt.line || (tt.line < 0 && de.Line > 0) // -1: any line, but one
			if de.File != "d.yml" || !lineOK || !strings.Contains(de.Reason, tt.reason) {
				t.Errorf("err = %v, want line %d and %q", err, tt.line, tt.reason)
			}
		})
	}
}

func TestParseDomainForms(t *testing.T) {
	const form = `
forms:
  cancel:
    action: cancel_order
    slots:
      - name: order_id
        validate: open_order
        ask: Which order?
        invalid: {default: "No order {value}."}
`
	withIntent := strings.Replace(minimal, "  greet:\n", "  cancel_order:\n    form: cancel\n    responses: {cancelled: Done., kept: Kept.}\n  greet:\n", 1)
	_, err := dialog.ParseDomain("d.yml", []byte(withIntent+form), labels)
	if err == nil || !strings.Contains(err.Error(), "from: confirm") {
		t.Errorf("cancel form without a confirmation: err = %v", err)
	}
	confirm := form + "      - name: confirm\n        from: confirm\n        ask: Sure?\n        invalid: {default: \"Yes or no?\"}\n"
	d, err := dialog.ParseDomain("d.yml", []byte(withIntent+confirm), labels)
	if err != nil {
		t.Fatal(err)
	}
	if s := d.Forms["cancel"].Slots; len(s) != 2 || s[0].Entity != "order_id" || s[1].From != dialog.FromConfirm {
		t.Errorf("slots = %+v", s)
	}
}

func FuzzParseDomain(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add(shop.Domain())
	f.Add([]byte("version: 1\nintents: {}\n"))
	f.Add([]byte("version: [1\n"))
	f.Add([]byte(minimal + "welcome:\n  greeting: Hi!\n  starters: [Where is my order?, \"Hi {name}\", hi, Hi]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := dialog.ParseDomain("fuzz.yml", data, labels)
		if err != nil {
			var de *dialog.DomainError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DomainError", err)
			}
			return
		}
		if w := d.Welcome; len(w.Starters) > dialog.MaxStarters || slices.Contains(w.Starters, "") {
			t.Fatalf("welcome starters %q", w.Starters)
		}
		for name, it := range d.Intents {
			if it.Form != "" && d.Forms[it.Form] == nil {
				t.Fatalf("intent %s names missing form %q", name, it.Form)
			}
		}
	})
}
