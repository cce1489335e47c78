package dialog

import (
	"context"
	"strings"
	"unicode"

	"github.com/parleyhq/parley/crm"
)

// Words that answer a yes/no question when the NLU did not say affirm or deny.
var (
	yesWords = []string{"yes", "y", "yeah", "yep", "sure", "ok", "okay", "confirm", "please do", "do it", "go ahead"}
	noWords  = []string{"no", "n", "nope", "don't", "dont", "do not", "keep it", "never mind", "nevermind"}
)

func (t *turn) clearForm() {
	t.conv.ActiveForm = ""
	delete(t.conv.Slots, keyFormIntent)
}

// startForm begins the intent's form, taking what this message already
// says, and asks for the first missing slot.
func (t *turn) startForm(ctx context.Context, it *Intent) error {
	fo := t.e.domain.Forms[it.Form]
	for _, s := range fo.Slots {
		delete(t.conv.Slots, s.Name)
	}
	t.conv.ActiveForm = fo.Name
	t.conv.Slots[keyFormIntent] = it.Name
	t.act("form " + fo.Name)
	for _, s := range fo.Slots {
		if s.From != FromEntity || t.entity(s.Entity) == "" {
			continue
		}
		v, reason, o, err := t.fill(ctx, s)
		if err != nil {
			return err
		}
		if reason != "" {
			t.invalid(s, reason, v, o)
			t.act("invalid " + s.Name)
			return t.fail(ctx)
		}
		t.conv.Slots[s.Name] = v
		t.act("fill " + s.Name)
	}
	return t.nextSlot(ctx, fo, it)
}

// continueForm takes the answer to the slot last asked for.
func (t *turn) continueForm(ctx context.Context) error {
	fo := t.e.domain.Forms[t.conv.ActiveForm]
	it := t.e.domain.Intents[t.conv.Slots[keyFormIntent]]
	if fo == nil || it == nil { // the domain changed under the conversation
		t.clearForm()
		return t.runIntent(ctx, t.res.Intent)
	}
	s, ok := missing(fo, t.conv.Slots)
	if !ok {
		return t.complete(ctx, fo, it)
	}
	if s.From != FromConfirm && t.res.InScope && t.res.Intent == intentDeny {
		t.clearForm()
		t.say(t.msg("form_cancelled"), nil)
		t.act("form_cancelled")
		return nil
	}
	v, reason, o, err := t.fill(ctx, *s)
	if err != nil {
		return err
	}
	if reason != "" {
		t.invalid(*s, reason, v, o)
		t.act("invalid " + s.Name)
		return t.fail(ctx)
	}
	t.conv.Slots[s.Name] = v
	t.act("fill " + s.Name)
	return t.nextSlot(ctx, fo, it)
}

func missing(fo *Form, slots map[string]string) (*Slot, bool) {
	for i := range fo.Slots {
		if _, ok := slots[fo.Slots[i].Name]; !ok {
			return &fo.Slots[i], true
		}
	}
	return nil, false
}

// nextSlot asks for the first missing slot, or runs the form's action.
func (t *turn) nextSlot(ctx context.Context, fo *Form, it *Intent) error {
	s, ok := missing(fo, t.conv.Slots)
	if !ok {
		return t.complete(ctx, fo, it)
	}
	extra := vars{}
	if id := t.orderSlot(fo); id != "" {
		o, err := t.findOrder(ctx, id)
		if err != nil {
			return err
		}
		extra.order(o, t.now)
	}
	var quick []string
	if s.From == FromConfirm {
		quick = []string{"Yes", "No"}
	}
	t.say(s.Ask, extra, quick...)
	t.act("ask " + s.Name)
	return nil
}

// orderSlot returns the value of the form's order slot, if filled.
func (t *turn) orderSlot(fo *Form) string {
	for _, s := range fo.Slots {
		if s.Validate == ValidateOrder || s.Validate == ValidateOpenOrder || s.Entity == "order_id" {
			return t.conv.Slots[s.Name]
		}
	}
	return ""
}

// fill reads the slot from this message. reason is empty when v is good,
// else the key of the slot's invalid message.
func (t *turn) fill(ctx context.Context, s Slot) (v, reason string, o *crm.Order, err error) {
	switch s.From {
	case FromConfirm:
		return t.confirmation()
	case FromText:
		v = strings.TrimSpace(t.text)
		if s.Validate == ValidateText {
			letters := 0
			for _, r := range v {
				if unicode.IsLetter(r) {
					letters++
				}
			}
			if letters < 3 {
				return v, "too_short", nil, nil
			}
		}
		return v, "", nil, nil
	}
	v = t.entity(s.Entity)
	if v == "" {
		return "", "missing", nil, nil
	}
	switch s.Validate {
	case ValidateOrder, ValidateOpenOrder:
		o, err = t.findOrder(ctx, v)
		if err != nil {
			return v, "", nil, err
		}
		if o == nil {
			return v, "not_found", nil, nil
		}
		if s.Validate == ValidateOpenOrder && o.Status != crm.OrderPlaced && o.Status != crm.OrderPaid {
			return v, "not_open", o, nil
		}
	}
	return v, "", o, nil
}

func (t *turn) confirmation() (string, string, *crm.Order, error) {
	if t.res.InScope && t.res.Intent == intentAffirm {
		return "yes", "", nil, nil
	}
	if t.res.InScope && t.res.Intent == intentDeny {
		return "no", "", nil, nil
	}
	text := strings.ToLower(strings.Trim(strings.TrimSpace(t.text), ".!"))
	for _, w := range noWords {
		if text == w || strings.HasPrefix(text, w+" ") || strings.HasPrefix(text, w+",") {
			return "no", "", nil, nil
		}
	}
	for _, w := range yesWords {
		if text == w || strings.HasPrefix(text, w+" ") || strings.HasPrefix(text, w+",") {
			return "yes", "", nil, nil
		}
	}
	return "", "not_yes_no", nil, nil
}

// invalid says why the answer did not fit, falling back to asking again.
func (t *turn) invalid(s Slot, reason, v string, o *crm.Order) {
	variants, ok := s.Invalid[reason]
	if !ok {
		variants, ok = s.Invalid["default"]
	}
	if !ok {
		variants = s.Ask
	}
	extra := vars{"value": v}
	extra.order(o, t.now)
	var quick []string
	if s.From == FromConfirm {
		quick = []string{"Yes", "No"}
	}
	t.say(variants, extra, quick...)
}

// complete runs the form's action with its slots, for a verified visitor
// when it needs one (the form begins again once they are).
func (t *turn) complete(ctx context.Context, fo *Form, it *Intent) error {
	t.clearForm()
	if asked, err := t.gate(ctx, it); asked || err != nil {
		return err
	}
	switch fo.Action {
	case ActionTicket:
		return t.ticket(ctx, it)
	case ActionLookupOrder:
		return t.lookupOrder(ctx, it, t.orderSlot(fo))
	case ActionCancelOrder:
		return t.cancelOrder(ctx, fo, it)
	default:
		if _, ok := webhookName(fo.Action); ok {
			return t.webhook(ctx, it, fo.Action)
		}
		t.respond(it, "default", nil)
		t.act("respond " + it.Name)
		return nil
	}
}

// cancelOrder cancels only on an explicit yes, and only an order of the
// verified customer that has not shipped (checked again: it may have
// changed while the form ran).
func (t *turn) cancelOrder(ctx context.Context, fo *Form, it *Intent) error {
	confirmed := false
	for _, s := range fo.Slots {
		if s.From == FromConfirm {
			confirmed = t.conv.Slots[s.Name] == "yes"
		}
	}
	o, err := t.findOrder(ctx, t.orderSlot(fo))
	if err != nil {
		return err
	}
	v := vars{}
	if o == nil {
		t.respond(it, "not_found", vars{"value": t.orderSlot(fo)})
		t.act("keep_order")
		return nil
	}
	v.order(o, t.now)
	if !confirmed {
		t.respond(it, "kept", v)
		t.act("keep_order")
		return nil
	}
	if o.Status != crm.OrderPlaced && o.Status != crm.OrderPaid {
		t.respond(it, "not_open", v)
		t.act("keep_order")
		return nil
	}
	o.Status = crm.OrderCancelled
	updated, err := t.e.store.PutOrder(ctx, *o)
	if err != nil {
		return err
	}
	v.order(&updated, t.now)
	t.respond(it, "cancelled", v)
	t.act(ActionCancelOrder)
	return nil
}
