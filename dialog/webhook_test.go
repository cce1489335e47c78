package dialog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shoptest"
)

// withHooks is minimal with a webhook, an intent that calls it and the
// message said when it fails.
var withHooks = strings.Replace(minimal, "  fallback: Say again?\n", "  fallback: Say again?\n  webhook_failed: Our systems are down.\n", 1) +
	`  cancel_order:
    action: webhook:orders
    responses:
      default: Done.
webhooks:
  orders:
    url: https://backend.example.com/hooks/orders
    secret_env: SHOP_SECRET
`

func TestParseDomainWebhooks(t *testing.T) {
	d, err := dialog.ParseDomain("hooks.yml", []byte(withHooks), labels)
	if err != nil {
		t.Fatal(err)
	}
	h := d.Webhooks["orders"]
	if h == nil || h.URL != "https://backend.example.com/hooks/orders" || h.SecretEnv != "SHOP_SECRET" || h.Timeout != dialog.DefaultWebhookTimeout {
		t.Errorf("webhook orders = %+v", h)
	}
	if got := d.Intents["cancel_order"].Action; got != "webhook:orders" {
		t.Errorf("cancel_order action = %q", got)
	}
}

func TestParseDomainWebhookErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replace old with new in withHooks
		line     int
		reason   string
	}{
		{"unknown webhook", "webhook:orders", "webhook:billing", 26, `intent cancel_order: unknown webhook "billing"`},
		{"empty webhook name", "webhook:orders", `"webhook:"`, 26, `unknown webhook ""`},
		{"missing message", "  webhook_failed: Our systems are down.\n", "", 2, `missing "webhook_failed"`},
		{"relative url", "https://backend.example.com/hooks/orders", "/hooks/orders", 31, "want an absolute http or https URL"},
		{"ftp url", "https://backend.example.com/hooks/orders", "ftp://backend.example.com/x", 31, "want an absolute http or https URL"},
		{"missing secret", "    secret_env: SHOP_SECRET\n", "", 31, "missing secret_env"},
		{"secret not a name", "secret_env: SHOP_SECRET", "secret_env: hunter2!", 32, "not an environment variable name"},
		{"bad timeout", "secret_env: SHOP_SECRET\n", "secret_env: SHOP_SECRET\n    timeout: soon\n", 33, "timeout: want a duration"},
		{"long timeout", "secret_env: SHOP_SECRET\n", "secret_env: SHOP_SECRET\n    timeout: 5m\n", 33, "at most 1m"},
		{"unknown field", "secret_env: SHOP_SECRET\n", "secret_env: SHOP_SECRET\n    secret: abc\n", 33, `unknown field "secret"`},
		{"bad name", "  orders:\n    url", "  Orders!:\n    url", 30, "want a name of lower-case"},
		{"missing response", "    responses:\n      default: Done.\n", "", 25, `needs responses "default"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(withHooks, tt.old, tt.new, 1)
			if src == withHooks {
				t.Fatalf("case does not change the file")
			}
			_, err := dialog.ParseDomain("hooks.yml", []byte(src), labels)
			var de *dialog.DomainError
			if !errors.As(err, &de) || !errors.Is(err, dialog.ErrInvalidDomain) {
				t.Fatalf("err = %v, want a *DomainError", err)
			}
			if de.Line != tt.line || !strings.Contains(de.Reason, tt.reason) {
				t.Errorf("err = %v, want line %d and %q", err, tt.line, tt.reason)
			}
		})
	}
}

func TestNewNeedsCaller(t *testing.T) {
	_, err := dialog.New(dialog.Config{Domain: webhookDomain(t), Parser: &fakeNLU{}, Store: seededDB(t)})
	if !errors.Is(err, dialog.ErrConfig) {
		t.Errorf("New without a caller = %v, want ErrConfig", err)
	}
	if _, err := dialog.New(dialog.Config{Domain: shoptest.Domain(t), Parser: &fakeNLU{}, Store: seededDB(t)}); err != nil {
		t.Errorf("New for a domain without webhooks: %v", err)
	}
}

// A backend that hangs is cut off by the hook's timeout: the customer gets
// the polite message, the error is logged, and the bot goes on.
func TestWebhookTimeout(t *testing.T) {
	src := strings.Replace(withHooks, "secret_env: SHOP_SECRET\n", "secret_env: SHOP_SECRET\n    timeout: 1ms\n", 1)
	d, err := dialog.ParseDomain("hooks.yml", []byte(src), labels)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessWith(t, d, nil)
	h.caller.script("orders", hookResult{block: true})
	conv := h.start(t, "ana@example.com")
	out := h.say(t, conv.ID, "cancel it", "cancel_order:0.9")
	calls := h.caller.take()
	if len(calls) != 1 || !calls[0].deadline {
		t.Fatalf("calls = %+v, want one with a deadline", calls)
	}
	if len(out.Replies) != 1 || out.Replies[0].Text != "Our systems are down." {
		t.Errorf("replies = %+v, want the webhook_failed message", out.Replies)
	}
	if out.Conversation.State != crm.StateBot {
		t.Errorf("state = %s, want bot", out.Conversation.State)
	}
	if !strings.Contains(h.logs.String(), "deadline exceeded") || !strings.Contains(h.logs.String(), `"webhook":"orders"`) {
		t.Errorf("log = %s, want the timeout of webhook orders", h.logs)
	}
	// The next message is answered as usual.
	if out := h.say(t, conv.ID, "hello", "greet:0.9"); len(out.Replies) != 1 || out.Replies[0].Text != "Hello!" {
		t.Errorf("after the timeout: replies = %+v", out.Replies)
	}
}

func TestWebhookReplyValidate(t *testing.T) {
	many := map[string]string{}
	for i := range dialog.MaxWebhookSlots + 1 {
		many["s"+strings.Repeat("x", i)] = "v"
	}
	tests := []struct {
		name  string
		reply dialog.WebhookReply
		want  string // "" for valid
	}{
		{"text and slots", dialog.WebhookReply{Text: "You have 120 points.", Slots: map[string]string{"points": "120"}}, ""},
		{"empty", dialog.WebhookReply{}, ""},
		{"invalid utf-8", dialog.WebhookReply{Text: "bad \xff"}, "not valid UTF-8"},
		{"long text", dialog.WebhookReply{Text: strings.Repeat("a", dialog.MaxWebhookText+1)}, "at most"},
		{"engine slot", dialog.WebhookReply{Slots: map[string]string{"_failures": "0"}}, "slot name"},
		{"upper-case slot", dialog.WebhookReply{Slots: map[string]string{"Points": "1"}}, "slot name"},
		{"long value", dialog.WebhookReply{Slots: map[string]string{"note": strings.Repeat("a", dialog.MaxWebhookValue+1)}}, "at most"},
		{"too many slots", dialog.WebhookReply{Slots: many}, "slots, at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.reply.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}
