package dialog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/nlp/nlu"
)

// Slots the engine keeps for itself in crm.Conversation.Slots; form slot
// names may not start with "_".
const (
	keyFailures   = "_failures"    // failures in a row
	keyClarify    = "_clarify"     // "a,b": the intents offered by a clarifying question
	keyAwait      = "_await"       // intent waiting for the customer to say who they are
	keyLast       = "_last_intent" // intent answered last
	keyFormIntent = "_form_intent" // intent that started the active form
)

// smallTalk are intents whose repetition is normal and never offers a person.
var smallTalk = []string{"greet", "goodbye", "thanks", "affirm", "deny", "how_are_you", "bot_challenge", intentGiveName}

// Intent names the policy treats specially when the domain has them.
const (
	intentHuman     = "human_agent"
	intentComplaint = "complaint"
	intentAffirm    = "affirm"
	intentDeny      = "deny"
)

type reply struct {
	text  string
	quick []string
}

// turn is the work on one inbound message: the policy reads the parse and
// the CRM and changes conv, replies and actions; the engine stores them.
type turn struct {
	e        *Engine
	conv     crm.Conversation // working copy; Slots is owned by the turn
	customer *crm.Customer    // nil until the visitor is verified (verify.go)
	res      *nlu.Result
	text     string
	source   string // Inbound.Source of the message ("" unknown)
	now      time.Time
	seq      uint64
	replies  []reply
	actions  []string
	failed   bool
	handed   bool
	// proved is the order number this turn verified the visitor with: the
	// question that waited for the proof is about it.
	proved string
	// repeated: the message gave again the order number claimed before.
	repeated bool
	// sit is the situation read when the turn began; when the turn
	// identifies the customer, their part is read again (see situation).
	sit Situation
}

func (t *turn) act(a string) { t.actions = append(t.actions, a) }

func (t *turn) vars() vars {
	v := vars{}
	v.customer(t.customer)
	for k, s := range t.conv.Slots {
		if !strings.HasPrefix(k, "_") {
			v["slot."+k] = s
		}
	}
	return v
}

// say adds a reply chosen from variants, filled from extra and the turn's
// own values.
func (t *turn) say(variants []string, extra vars, quick ...string) {
	v := t.vars()
	for k, s := range extra {
		v[k] = s
	}
	t.replies = append(t.replies, reply{text: render(pick(variants, t.seq+uint64(len(t.replies))), v), quick: quick})
}

func (t *turn) msg(key string) []string { return t.e.domain.Messages[key] }

// respond says the intent's response under key, or its default.
func (t *turn) respond(it *Intent, key string, extra vars) {
	variants, ok := it.Responses[key]
	if !ok {
		variants = it.Responses["default"]
	}
	if len(variants) == 0 {
		variants = t.msg("fallback")
	}
	t.say(variants, extra)
}

// entity returns the value of the message's first entity of type typ; for
// an order number, in the turn that verified the visitor, the order they
// proved it with when the message has none.
func (t *turn) entity(typ string) string {
	for _, e := range t.res.Entities {
		if e.Type == typ {
			if e.Value != "" {
				return e.Value
			}
			return e.Text
		}
	}
	if typ == "order_id" {
		return t.proved
	}
	return ""
}

func (t *turn) decide(ctx context.Context) error {
	err := t.policy(ctx)
	if err == nil {
		err = t.score(ctx)
	}
	if err == nil && !t.failed && !t.handed {
		delete(t.conv.Slots, keyFailures)
	}
	return err
}

func (t *turn) policy(ctx context.Context) error {
	d := t.e.domain
	top := t.res.Intent

	p, err := t.verify(ctx)
	if err != nil || p == proofAnswered {
		return err
	}

	if t.res.InScope && top == intentHuman {
		return t.handoff(ctx, "customer asked for a person", false, "handoff")
	}
	if t.frustrated() {
		return t.handoff(ctx, "customer is frustrated", true, "handoff_frustrated")
	}
	if t.conv.ActiveForm != "" {
		return t.continueForm(ctx)
	}
	if opts := t.conv.Slots[keyClarify]; opts != "" {
		delete(t.conv.Slots, keyClarify)
		if name := t.chosen(strings.Split(opts, ",")); name != "" {
			t.act("clarified " + name)
			return t.runIntent(ctx, name)
		}
	}
	if await := t.conv.Slots[keyAwait]; await != "" {
		delete(t.conv.Slots, keyAwait)
		switch p {
		case proofVerified:
			return t.runIntent(ctx, await)
		case proofPending:
			return t.askProof(ctx, await)
		}
		// Nothing towards the proof: the visitor moved on (a question
		// that needs it asks again).
	}
	chat := !t.res.InScope || d.Intents[top] == nil || slices.Contains(smallTalk, top)
	switch {
	case p == proofVerified && (chat || !d.needsProof(d.Intents[top])):
		// Verified with no question about the account pending or asked.
		t.say(t.msg("identified"), nil)
		return nil
	case p == proofPending && chat:
		// A fact given on its own ("1042"): the visitor wants to be known.
		return t.askProof(ctx, "")
	}
	if done, err := t.introduce(ctx); done || err != nil { // name.go
		return err
	}
	if !t.res.InScope {
		if answered, err := t.answerFromKB(ctx); answered || err != nil { // kb.go
			return err
		}
		t.say(t.msg("out_of_scope"), nil)
		t.act("out_of_scope")
		return t.fail(ctx)
	}
	if r := t.res.Ranking; len(r) >= 2 && r[0].Confidence-r[1].Confidence < d.Policy.ClarifyMargin {
		a, b := d.Intents[r[0].Intent], d.Intents[r[1].Intent]
		if a != nil && b != nil && !slices.Contains(smallTalk, a.Name) && !slices.Contains(smallTalk, b.Name) {
			t.conv.Slots[keyClarify] = a.Name + "," + b.Name
			t.say(t.msg("clarify"), vars{"options": a.Title + " or " + b.Title}, a.Title, b.Title)
			t.act("clarify")
			return nil
		}
	}
	if name := t.closing(); name != "" {
		t.act("closing")
		return t.runIntent(ctx, name)
	}
	return t.runIntent(ctx, top)
}

// closing returns the domain's resolve intent when the message is small
// talk whose words say goodbye as well (Policy.ClosingCues): "thanks, bye"
// reads as thanks, but the customer is leaving. "" otherwise.
func (t *turn) closing() string {
	d := t.e.domain
	it := d.Intents[t.res.Intent]
	if !t.res.InScope || it == nil || it.Action == ActionResolve || !slices.Contains(smallTalk, it.Name) {
		return ""
	}
	resolve := ""
	for _, name := range slices.Sorted(maps.Keys(d.Intents)) {
		if d.Intents[name].Action == ActionResolve {
			resolve = name
			break
		}
	}
	if resolve == "" {
		return ""
	}
	text := " " + strings.Join(words(t.text), " ") + " "
	for _, c := range d.Policy.ClosingCues {
		if strings.Contains(text, " "+c+" ") {
			return resolve
		}
	}
	return ""
}

// words splits text into lower-case words of letters, digits and
// apostrophes.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
}

// chosen returns the offered intent the customer picked: by its title (a
// quick reply) or by what the NLU understood.
func (t *turn) chosen(offered []string) string {
	text := strings.TrimSpace(t.text)
	for _, name := range offered {
		if it := t.e.domain.Intents[name]; it != nil && strings.EqualFold(it.Title, text) {
			return name
		}
	}
	if t.res.InScope && slices.Contains(offered, t.res.Intent) {
		return t.res.Intent
	}
	return ""
}

// fail counts a failure and hands off after Policy.MaxFailures in a row.
func (t *turn) fail(ctx context.Context) error {
	t.failed = true
	n, _ := strconv.Atoi(t.conv.Slots[keyFailures])
	n++
	if n >= t.e.domain.Policy.MaxFailures {
		return t.handoff(ctx, fmt.Sprintf("bot failed %d times in a row", n), false, "handoff_failures")
	}
	t.conv.Slots[keyFailures] = strconv.Itoa(n)
	return nil
}

// frustrated: a complaint with a cue from the domain, or shouting.
func (t *turn) frustrated() bool {
	if !t.res.InScope || t.res.Intent != intentComplaint {
		return false
	}
	lower := strings.ToLower(t.text)
	for _, c := range t.e.domain.Policy.FrustrationCues {
		if c != "" && strings.Contains(lower, c) {
			return true
		}
	}
	return strings.Contains(t.text, "!!") || Shouts(t.text)
}

// Shouts reports whether text has two or more words of three or more
// letters, all capitals: one of the frustration cues.
func Shouts(text string) bool {
	n := 0
	for _, w := range strings.Fields(text) {
		letters, upper := 0, 0
		for _, r := range w {
			if unicode.IsLetter(r) {
				letters++
				if unicode.IsUpper(r) {
					upper++
				}
			}
		}
		if letters >= 3 && upper == letters {
			n++
		}
	}
	return n >= 2
}

func (t *turn) runIntent(ctx context.Context, name string) error {
	it := t.e.domain.Intents[name]
	if it == nil {
		if answered, err := t.answerFromKB(ctx); answered || err != nil { // kb.go
			return err
		}
		t.say(t.msg("fallback"), nil)
		t.act("fallback")
		return t.fail(ctx)
	}
	if asked, err := t.gate(ctx, it); asked || err != nil {
		return err
	}
	repeat := t.conv.Slots[keyLast] == name && !slices.Contains(smallTalk, name)
	t.conv.Slots[keyLast] = name
	if it.Form != "" {
		return t.startForm(ctx, it)
	}
	var err error
	switch it.Action {
	case ActionLookupOrder:
		err = t.lookupOrder(ctx, it, t.entity("order_id"))
	case ActionListOrders:
		err = t.listOrders(ctx, it)
	case ActionTicket:
		err = t.ticket(ctx, it)
	case ActionHandoff:
		return t.handoff(ctx, "customer asked for a person", false, "handoff")
	case ActionResolve:
		t.answer(it)
		t.conv.State = crm.StateResolved
		t.act("resolve")
	default:
		if _, ok := webhookName(it.Action); ok {
			err = t.webhook(ctx, it, it.Action)
			break
		}
		t.answer(it)
	}
	if err == nil && repeat && !t.failed && !t.handed && t.conv.State != crm.StateResolved {
		t.say(t.msg("repeat_offer"), nil, t.humanTitle())
		t.act("repeat_offer")
	}
	return err
}

// answer replies with the intent's responses, greeting a known customer by
// name where the intent has "returning" responses.
func (t *turn) answer(it *Intent) {
	key := "default"
	if _, ok := it.Responses["returning"]; ok && t.customer != nil {
		key = "returning"
	}
	t.respond(it, key, nil)
	t.act("respond " + it.Name)
}

// findOrder returns the order when it exists and belongs to the verified
// customer; nil for anyone else's, and for every order while the visitor
// is not verified.
func (t *turn) findOrder(ctx context.Context, id string) (*crm.Order, error) {
	if t.customer == nil {
		return nil, nil
	}
	o, err := t.e.store.Order(ctx, id)
	if unknown(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if o.CustomerID != t.customer.ID {
		return nil, nil
	}
	return &o, nil
}

func (t *turn) lookupOrder(ctx context.Context, it *Intent, orderID string) error {
	t.act(ActionLookupOrder)
	var o *crm.Order
	if orderID == "" {
		s, err := t.situation(ctx)
		if err != nil {
			return err
		}
		if len(s.Orders) == 0 {
			t.respond(it, "no_orders", nil)
			return nil
		}
		o = &s.Orders[0]
	} else {
		var err error
		if o, err = t.findOrder(ctx, orderID); err != nil {
			return err
		}
		if o == nil {
			t.respond(it, "not_found", vars{"value": orderID})
			return t.fail(ctx)
		}
	}
	v := vars{}
	v.order(o, t.now)
	t.respond(it, string(o.Status), v)
	return nil
}

// listOrders names the customer's latest orders (crm.HistoryOrders at
// most), newest first, each with its status and day: "what other orders do
// I have?".
func (t *turn) listOrders(ctx context.Context, it *Intent) error {
	t.act(ActionListOrders)
	s, err := t.situation(ctx)
	if err != nil {
		return err
	}
	if len(s.Orders) == 0 {
		t.respond(it, "no_orders", nil)
		return nil
	}
	v := vars{}
	v.orders(s.Orders, t.now)
	t.respond(it, "default", v)
	return nil
}

func (t *turn) queueOf(it *Intent) string {
	if it != nil && it.Queue != "" {
		return it.Queue
	}
	return t.e.domain.Policy.DefaultQueue
}

// ticket refers to the customer's open ticket on the intent's topic, or
// opens one.
func (t *turn) ticket(ctx context.Context, it *Intent) error {
	var details []string
	for _, k := range slices.Sorted(maps.Keys(t.conv.Slots)) {
		if !strings.HasPrefix(k, "_") {
			details = append(details, k+": "+t.conv.Slots[k])
		}
	}
	if _, ok := t.conv.Slots["order_id"]; !ok && t.entity("order_id") != "" {
		// "my order 1042 hasn't arrived": the case names the order, when
		// it is the customer's.
		o, err := t.findOrder(ctx, t.entity("order_id"))
		if err != nil {
			return err
		}
		if o != nil {
			details = append(details, "order_id: "+o.ID)
		}
	}
	note := "from conversation " + t.conv.ID
	if len(details) > 0 {
		note += " (" + strings.Join(details, ", ") + ")"
	}
	existing, err := t.e.store.OpenTicketByTopic(ctx, t.customer.ID, it.Topic)
	switch {
	case err == nil:
		updated, err := t.e.store.UpdateTicket(ctx, existing.ID, func(tk *crm.Ticket) error {
			if !slices.Contains(tk.Conversations, t.conv.ID) {
				tk.Conversations = append(tk.Conversations, t.conv.ID)
			}
			tk.History = append(tk.History, crm.TicketEvent{At: t.now, Actor: "bot", Note: "customer asked again " + note})
			return nil
		})
		if err != nil {
			return err
		}
		v := vars{}
		v.ticket(&updated)
		t.respond(it, "existing_ticket", v)
		t.act("update_ticket")
		return nil
	case !errors.Is(err, crm.ErrNotFound):
		return err
	}
	subject := it.Title
	if len(details) > 0 {
		subject += " (" + strings.Join(details, ", ") + ")"
	}
	tk, err := t.e.store.CreateTicket(ctx, crm.Ticket{
		CustomerID: t.customer.ID, Subject: subject, Topic: it.Topic, Queue: t.queueOf(it),
		Conversations: []string{t.conv.ID},
		History:       []crm.TicketEvent{{At: t.now, Actor: "bot", Note: "opened " + note}},
	})
	if err != nil {
		return err
	}
	v := vars{}
	v.ticket(&tk)
	t.respond(it, "created", v)
	t.act(ActionTicket)
	return nil
}

// handoff puts the conversation in the waiting state, in its topic's queue:
// high priority for gold and platinum customers, for those whose last rating
// was 2 or less, and for frustrated customers; urgent for the first two when
// they are also frustrated. A Router, when the engine has one, decides the
// queue and priority instead, and its reason follows the trigger's; the
// rules stand when it fails.
func (t *turn) handoff(ctx context.Context, reason string, frustrated bool, message string) error {
	t.handed = true
	// The queue of what the customer is talking about: this message's
	// intent unless it is the request for a person itself, else the form's,
	// else the one waiting for proof of identity, else the last answered
	// one.
	topic := t.e.domain.Intents[t.conv.Slots[keyLast]]
	if aw := t.e.domain.Intents[t.conv.Slots[keyAwait]]; aw != nil {
		topic = aw
	}
	if fi := t.e.domain.Intents[t.conv.Slots[keyFormIntent]]; t.conv.ActiveForm != "" && fi != nil {
		topic = fi
	}
	if cur := t.e.domain.Intents[t.res.Intent]; t.res.InScope && cur != nil && cur.Action != ActionHandoff && cur.Queue != "" {
		topic = cur
	}
	queue := t.queueOf(topic)
	why := []string{reason}
	vip, unhappy := false, false
	if c := t.customer; c != nil {
		if c.Tier == crm.TierGold || c.Tier == crm.TierPlatinum {
			vip = true
			why = append(why, string(c.Tier)+" tier")
		}
		s, err := t.situation(ctx)
		if err != nil {
			return err
		}
		if r := s.History.LastRating; r > 0 && r <= 2 {
			unhappy = true
			why = append(why, fmt.Sprintf("last rating %d/5", r))
		}
	}
	prio := crm.PriorityNormal
	switch {
	case (vip || unhappy) && frustrated:
		prio = crm.PriorityUrgent
	case vip || unhappy || frustrated:
		prio = crm.PriorityHigh
	}
	t.clearForm()
	delete(t.conv.Slots, keyFailures)
	delete(t.conv.Slots, keyClarify)
	delete(t.conv.Slots, keyAwait)
	delete(t.conv.Slots, keyQueueTimeout) // a new wait: its timeout is said again
	t.conv.State = crm.StateWaiting
	routing := strings.Join(why, "; ")
	if r, ok := t.route(ctx); ok {
		if r.Queue != "" {
			queue = r.Queue
		}
		if r.Priority != "" {
			prio = r.Priority
		}
		routing = joinReason([]string{reason}, r)
	}
	t.conv.Queue = queue
	t.conv.Priority = prio
	t.conv.RoutingReason = routing
	t.say(t.msg(message), vars{"queue": queue})
	t.act("handoff")
	return nil
}
