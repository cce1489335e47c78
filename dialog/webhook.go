package dialog

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// ActionWebhook prefixes the action of an intent or a form that asks the
// company's own backend: "webhook:NAME" names a hook of Domain.Webhooks.
const ActionWebhook = "webhook:"

// DefaultWebhookTimeout bounds a webhook call whose hook names no timeout.
const DefaultWebhookTimeout = 3 * time.Second

// Limits of a webhook reply (WebhookReply.Validate).
const (
	MaxWebhookText  = 4000 // bytes of reply text
	MaxWebhookSlots = 32   // slots set by one reply
	MaxWebhookValue = 1000 // bytes of one slot value
)

// Webhook is one endpoint of the company's backend that the domain declares.
type Webhook struct {
	Name string
	URL  string // absolute http or https URL
	// SecretEnv names the environment variable that holds the secret the
	// request body is signed with; the Caller reads it, the domain file
	// never holds the secret itself.
	SecretEnv string
	Timeout   time.Duration // > 0; DefaultWebhookTimeout unless the domain says
}

// Caller calls a webhook. internal/webhook's Client is the HTTP
// implementation. Call returns an error when the backend cannot be reached,
// times out (ctx carries the hook's timeout) or answers with something that
// is not a valid reply; the engine then says the domain's webhook_failed
// message and logs the error.
type Caller interface {
	Call(ctx context.Context, hook Webhook, req WebhookRequest) (WebhookReply, error)
}

// WebhookRequest is the JSON body posted to a webhook.
type WebhookRequest struct {
	ConversationID string            `json:"conversation_id"`
	Customer       *WebhookCustomer  `json:"customer,omitempty"` // absent while the customer is unknown
	Intent         string            `json:"intent"`
	Slots          map[string]string `json:"slots"` // the conversation's slots, without the engine's own
	Entities       []WebhookEntity   `json:"entities"`
	Text           string            `json:"text"` // the customer's message
}

// WebhookCustomer is the customer as a webhook sees them.
type WebhookCustomer struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Tier  string `json:"tier,omitempty"`
}

// WebhookEntity is one entity the NLU found in the message.
type WebhookEntity struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Value string `json:"value,omitempty"`
}

// WebhookReply is what a webhook answers, as JSON:
//
//	{"text": "You have 120 loyalty points.", "slots": {"points": "120"}}
//
// Both fields are optional. Slots are stored in the conversation (a form
// or a later response may use them as {slot.NAME}); Text is said to the
// customer. Without text the intent's default response is said, filled
// with the new slots.
type WebhookReply struct {
	Text  string            `json:"text,omitempty"`
	Slots map[string]string `json:"slots,omitempty"`
}

var slotName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Validate returns an error saying why r cannot be used: text or a value
// that is not valid UTF-8 or too long, too many slots, or a slot name that
// is not lower-case letters, digits and _ starting with a letter (names
// starting with _ are the engine's own).
func (r WebhookReply) Validate() error {
	if !utf8.ValidString(r.Text) {
		return errors.New("reply text is not valid UTF-8")
	}
	if len(r.Text) > MaxWebhookText {
		return fmt.Errorf("reply text is %d bytes, at most %d", len(r.Text), MaxWebhookText)
	}
	if len(r.Slots) > MaxWebhookSlots {
		return fmt.Errorf("reply sets %d slots, at most %d", len(r.Slots), MaxWebhookSlots)
	}
	for k, v := range r.Slots {
		if !slotName.MatchString(k) {
			return fmt.Errorf("reply slot name %q: want lower-case letters, digits and _, starting with a letter", k)
		}
		if !utf8.ValidString(v) || len(v) > MaxWebhookValue {
			return fmt.Errorf("reply slot %s: want valid UTF-8 of at most %d bytes", k, MaxWebhookValue)
		}
	}
	return nil
}

// webhookName returns the hook an action names, if it is a webhook action.
func webhookName(action string) (string, bool) {
	return strings.CutPrefix(action, ActionWebhook)
}

// actionKind maps "webhook:NAME" to ActionWebhook, other actions to
// themselves, for the table of response keys.
func actionKind(action string) string {
	if _, ok := webhookName(action); ok {
		return ActionWebhook
	}
	return action
}

// usesWebhooks reports whether an intent or a form of d calls a webhook.
func (d *Domain) usesWebhooks() bool {
	for _, it := range d.Intents {
		if _, ok := webhookName(it.Action); ok {
			return true
		}
	}
	for _, fo := range d.Forms {
		if _, ok := webhookName(fo.Action); ok {
			return true
		}
	}
	return false
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (p *domainParser) webhooks(n *yaml.Node) (map[string]*Webhook, error) {
	ps, err := p.pairs(n, "webhooks")
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Webhook, len(ps))
	for _, kv := range ps {
		name := kv[0].Value
		what := "webhook " + name
		if !slotName.MatchString(name) {
			return nil, p.errf(kv[0], "%s: want a name of lower-case letters, digits and _", what)
		}
		f, err := p.fields(kv[1], what, "url", "secret_env", "timeout")
		if err != nil {
			return nil, err
		}
		h := &Webhook{Name: name, Timeout: DefaultWebhookTimeout}
		un, ok := f["url"]
		if !ok {
			return nil, p.errf(kv[1], "%s: missing url", what)
		}
		if h.URL, err = p.str(un, what+" url"); err != nil {
			return nil, err
		}
		u, err := url.Parse(h.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, p.errf(un, "%s: url %q: want an absolute http or https URL", what, h.URL)
		}
		sn, ok := f["secret_env"]
		if !ok {
			return nil, p.errf(kv[1], "%s: missing secret_env (the environment variable holding the signing secret)", what)
		}
		if h.SecretEnv, err = p.str(sn, what+" secret_env"); err != nil {
			return nil, err
		}
		if !envName.MatchString(h.SecretEnv) {
			return nil, p.errf(sn, "%s: secret_env %q is not an environment variable name", what, h.SecretEnv)
		}
		if tn, ok := f["timeout"]; ok {
			d, err := time.ParseDuration(tn.Value)
			if err != nil || d <= 0 || d > time.Minute {
				return nil, p.errf(tn, "%s: timeout: want a duration such as 3s, at most 1m, got %q", what, tn.Value)
			}
			h.Timeout = d
		}
		out[name] = h
	}
	return out, nil
}

// checkWebhook reports an action naming an unknown hook, at the action's line.
func (p *domainParser) checkWebhook(d *Domain, owner any, what, action string) error {
	name, ok := webhookName(action)
	if !ok {
		return nil
	}
	if _, ok := d.Webhooks[name]; !ok {
		return &DomainError{File: p.file, Line: p.actionLines[owner], Reason: fmt.Sprintf("%s: unknown webhook %q", what, name)}
	}
	return nil
}

// webhook calls the hook an intent's (or its form's) action names. On
// failure the customer hears the domain's webhook_failed message, the error
// is logged and the conversation goes on as it was: no slots change and no
// failure is counted against the bot.
func (t *turn) webhook(ctx context.Context, it *Intent, action string) error {
	name, _ := webhookName(action)
	hook := t.e.domain.Webhooks[name]
	r, err := t.callWebhook(ctx, hook, it)
	if err != nil {
		t.e.log.ErrorContext(ctx, "webhook failed", "webhook", name, "conversation", t.conv.ID, "intent", it.Name, "err", err)
		t.say(t.msg("webhook_failed"), nil)
		t.act("webhook_failed " + name)
		return nil
	}
	for k, v := range r.Slots {
		t.conv.Slots[k] = v
	}
	if r.Text != "" {
		t.replies = append(t.replies, reply{text: r.Text})
	} else {
		t.respond(it, "default", nil)
	}
	t.act("webhook " + name)
	return nil
}

func (t *turn) callWebhook(ctx context.Context, hook *Webhook, it *Intent) (WebhookReply, error) {
	if hook == nil || t.e.caller == nil { // ParseDomain and New rule both out
		return WebhookReply{}, errors.New("webhook not configured")
	}
	req := WebhookRequest{
		ConversationID: t.conv.ID, Intent: it.Name, Text: t.text,
		Slots: make(map[string]string), Entities: []WebhookEntity{},
	}
	if c := t.customer; c != nil {
		req.Customer = &WebhookCustomer{ID: c.ID, Name: c.Name, Email: c.Email, Tier: string(c.Tier)}
	}
	for k, v := range t.conv.Slots {
		if !strings.HasPrefix(k, "_") {
			req.Slots[k] = v
		}
	}
	for _, e := range t.res.Entities {
		req.Entities = append(req.Entities, WebhookEntity{Type: e.Type, Text: e.Text, Value: e.Value})
	}
	ctx, cancel := context.WithTimeout(ctx, hook.Timeout)
	defer cancel()
	r, err := t.e.caller.Call(ctx, *hook, req)
	if err != nil {
		return WebhookReply{}, fmt.Errorf("call webhook %s: %w", hook.Name, err)
	}
	if err := r.Validate(); err != nil {
		return WebhookReply{}, fmt.Errorf("call webhook %s: %w", hook.Name, err)
	}
	return r, nil
}
