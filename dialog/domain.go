package dialog

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Built-in actions an intent or a form may name.
const (
	ActionNone        = ""             // reply with the intent's responses
	ActionLookupOrder = "lookup_order" // answer from the customer's orders
	ActionListOrders  = "list_orders"  // list the customer's latest orders
	ActionTicket      = "create_ticket"
	ActionCancelOrder = "cancel_order" // cancels only after an explicit yes
	ActionHandoff     = "handoff"
	ActionResolve     = "resolve" // reply, then close the conversation (the customer is asked for a rating)
)

// Slot sources and validators.
const (
	FromEntity  = "entity"  // the first entity of the slot's type
	FromText    = "text"    // the whole message
	FromConfirm = "confirm" // yes (affirm) or no (deny)

	ValidateOrder     = "order"      // an order of this customer
	ValidateOpenOrder = "open_order" // an order of this customer not yet shipped
	ValidateText      = "text"       // at least a few letters
)

// Domain is what the bot knows to say and do: responses per intent, forms
// that collect slots, the built-in actions, the engine's own messages and the
// policy's knobs. Load it with ParseDomain; it is read-only afterwards.
type Domain struct {
	Version  int
	Policy   Policy
	Messages map[string][]string // the engine's own messages by key; each a list of variants
	Intents  map[string]*Intent
	Forms    map[string]*Form
	Webhooks map[string]*Webhook // by name; actions "webhook:NAME" call them
	Welcome  Welcome             // the greeting and starters a chat shows first (welcome.go)
}

// Policy holds the thresholds of the dialog policy.
type Policy struct {
	// ClarifyMargin: when the two best intents are closer than this, the bot
	// asks which one was meant. Default 0.15.
	ClarifyMargin float64
	// MaxFailures is the number of failures in a row (not understood, out of
	// scope, invalid answers) after which the bot hands off. Default 2.
	MaxFailures int
	// DefaultQueue receives handoffs whose intent names no queue. Default "general".
	DefaultQueue string
	// FrustrationCues are lower-case words or phrases that, with a complaint,
	// mean the customer is fed up.
	FrustrationCues []string
	// ClosingCues are lower-case words or phrases that say goodbye ("bye",
	// "see you"): a message the NLU reads as small talk (thanks, yes, no)
	// that has one as whole words runs the domain's resolve intent, so
	// "thanks, bye" closes the conversation like "bye" does. Empty: no such
	// rule.
	ClosingCues []string
	// MaxProofFailures is the number of failed proofs of identity (an
	// e-mail address that is not the order's, an unknown order number)
	// after which the bot stops asking and hands off: counted per
	// conversation and per source (see Inbound.Source). Default 3.
	MaxProofFailures int
}

// Intent is what the bot does for one NLU intent.
type Intent struct {
	Name      string
	Title     string // short label for quick replies ("Check an order")
	Action    string // one of the Action constants
	Form      string // form to fill before the action; empty for none
	Queue     string // team queue for a handoff or a ticket on this topic
	Topic     string // ticket topic; intents sharing one share tickets. Default: Name
	Responses map[string][]string
}

// Form is a set of slots filled one by one before its action runs.
type Form struct {
	Name   string
	Action string
	Slots  []Slot
}

// Slot is one value a form needs.
type Slot struct {
	Name     string
	From     string // FromEntity, FromText or FromConfirm
	Entity   string // entity type when From is FromEntity
	Validate string // a Validate constant or empty
	Ask      []string
	Invalid  map[string][]string // by reason: not_found, not_open, too_short, not_yes_no, default
}

// Messages the engine needs in every domain.
var requiredMessages = []string{
	"ask_identity", "identified", "clarify", "out_of_scope",
	"handoff", "handoff_failures", "handoff_frustrated", "form_cancelled", "repeat_offer", "fallback",
}

// defaultMessages are the engine's lines for proving who one is (see
// verify.go), used where a domain written before them does not say them.
var defaultMessages = map[string][]string{
	"verify_ask_email":     {"I found order {value}. To confirm it's yours, what's the e-mail address on that order?"},
	"verify_ask_order":     {"Thanks. And what's the order number? It's in your order confirmation e-mail."},
	"verify_unknown_order": {"I couldn't find an order with the number {value}. Could you check it? It's in your order confirmation e-mail."},
	"verify_failed":        {"I couldn't confirm that: the order number and the e-mail address don't match our records. Could you check both?"},
	"handoff_unverified":   {"I can't confirm that here, so I'm passing you to a person on our {queue} team who can check it with you. They'll reply right here."},
}

// Response keys each action needs in its intent.
var actionKeys = map[string][]string{
	ActionNone:        {"default"},
	ActionLookupOrder: {"default", "not_found", "no_orders"},
	ActionListOrders:  {"default", "no_orders"},
	ActionTicket:      {"created", "existing_ticket"},
	ActionCancelOrder: {"cancelled", "kept"},
	ActionHandoff:     nil,
	ActionResolve:     {"default"},
	ActionWebhook:     {"default"}, // said when the reply has no text
}

// templateVars are the placeholders a response may use; {slot.NAME} is also
// allowed for any slot.
var templateVars = map[string]bool{
	"first_name": true, "name": true, "value": true, "queue": true, "options": true,
	"order.id": true, "order.status": true, "order.carrier": true, "order.tracking": true,
	"order.placed": true, "order.shipped": true, "order.delivered": true, "order.total": true,
	"order.items": true, "orders": true, "ticket.id": true, "ticket.subject": true, "ticket.status": true,
	"kb.title": true, "kb.passage": true, "kb.url": true, // kb_answer (kb.go)
}

var placeholder = regexp.MustCompile(`\{([^{}]*)\}`)

// ErrInvalidDomain is wrapped by every *DomainError.
var ErrInvalidDomain = errors.New("invalid domain")

// DomainError says where a domain file is wrong.
type DomainError struct {
	File   string
	Line   int // 1-based; 0 when unknown
	Reason string
}

func (e *DomainError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Reason)
}

// Unwrap returns ErrInvalidDomain.
func (e *DomainError) Unwrap() error { return ErrInvalidDomain }

// maxDomainBytes bounds a domain file.
const maxDomainBytes = 4 << 20

var yamlLine = regexp.MustCompile(`^line (\d+)`)

// ParseDomain reads a domain file (YAML, version 1; see the shop's
// domain.yml for the format). labels are the intents the NLU model knows:
// an intent of the domain that is not among them is an error, and so is an
// unknown action, form, validator or template placeholder. file names the
// source in errors. Every error is a *DomainError (errors.Is
// ErrInvalidDomain) with the line of the offending node where known.
func ParseDomain(file string, data []byte, labels []string) (*Domain, error) {
	p := &domainParser{file: file}
	if len(data) > maxDomainBytes {
		return nil, p.errf(nil, "file is %d bytes, at most %d", len(data), maxDomainBytes)
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		reason := strings.TrimPrefix(yamlLine.ReplaceAllString(msg, ""), ": ")
		if err.Error() == "EOF" {
			reason = "empty file"
		}
		return nil, &DomainError{File: file, Line: line, Reason: reason}
	}
	if len(root.Content) != 1 {
		return nil, p.errf(&root, "empty file")
	}
	d, err := p.domain(root.Content[0])
	if err != nil {
		return nil, err
	}
	if err := p.check(d, labels); err != nil {
		return nil, err
	}
	return d, nil
}

type domainParser struct {
	file        string
	lines       map[any]int // where each intent, form and slot was defined
	actionLines map[any]int // where each intent's and form's action was given
}

func (p *domainParser) errf(n *yaml.Node, format string, args ...any) error {
	e := &DomainError{File: p.file, Reason: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	return e
}

// fields returns a mapping's values by key, rejecting keys not in allowed
// and duplicates.
func (p *domainParser) fields(n *yaml.Node, what string, allowed ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, "%s: want a mapping", what)
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(allowed, k.Value) {
			return nil, p.errf(k, "%s: unknown field %q (want one of %s)", what, k.Value, strings.Join(allowed, ", "))
		}
		if _, dup := out[k.Value]; dup {
			return nil, p.errf(k, "%s: field %q twice", what, k.Value)
		}
		out[k.Value] = v
	}
	return out, nil
}

// pairs returns a mapping's entries in file order, rejecting duplicates.
func (p *domainParser) pairs(n *yaml.Node, what string) ([][2]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, "%s: want a mapping", what)
	}
	seen := make(map[string]bool)
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			return nil, p.errf(k, "%s: want a non-empty name", what)
		}
		if seen[k.Value] {
			return nil, p.errf(k, "%s: %q twice", what, k.Value)
		}
		seen[k.Value] = true
		out = append(out, [2]*yaml.Node{k, n.Content[i+1]})
	}
	return out, nil
}

func (p *domainParser) str(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", p.errf(n, "%s: want a string", what)
	}
	return n.Value, nil
}

// texts reads one string or a list of strings, each a valid template.
func (p *domainParser) texts(n *yaml.Node, what string) ([]string, error) {
	var nodes []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		nodes = []*yaml.Node{n}
	case yaml.SequenceNode:
		nodes = n.Content
	default:
		return nil, p.errf(n, "%s: want a string or a list of strings", what)
	}
	if len(nodes) == 0 {
		return nil, p.errf(n, "%s: no text", what)
	}
	out := make([]string, 0, len(nodes))
	for _, t := range nodes {
		if t.Kind != yaml.ScalarNode || strings.TrimSpace(t.Value) == "" {
			return nil, p.errf(t, "%s: want a non-empty string", what)
		}
		for _, m := range placeholder.FindAllStringSubmatch(t.Value, -1) {
			if !templateVars[m[1]] && !(strings.HasPrefix(m[1], "slot.") && len(m[1]) > 5) {
				return nil, p.errf(t, "%s: unknown placeholder {%s}", what, m[1])
			}
		}
		out = append(out, t.Value)
	}
	return out, nil
}

func (p *domainParser) textMap(n *yaml.Node, what string) (map[string][]string, error) {
	ps, err := p.pairs(n, what)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(ps))
	for _, kv := range ps {
		if out[kv[0].Value], err = p.texts(kv[1], what+" "+kv[0].Value); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (p *domainParser) domain(n *yaml.Node) (*Domain, error) {
	f, err := p.fields(n, "domain", "version", "policy", "messages", "intents", "forms", "webhooks", "welcome")
	if err != nil {
		return nil, err
	}
	d := &Domain{
		Policy:  Policy{ClarifyMargin: 0.15, MaxFailures: 2, DefaultQueue: "general", MaxProofFailures: 3},
		Intents: make(map[string]*Intent),
		Forms:   make(map[string]*Form),
	}
	p.lines = make(map[any]int)
	p.actionLines = make(map[any]int)
	v, ok := f["version"]
	if !ok {
		return nil, p.errf(n, "missing version")
	}
	if v.Value != "1" {
		return nil, p.errf(v, "version %q not supported (want 1)", v.Value)
	}
	d.Version = 1
	if pn, ok := f["policy"]; ok {
		if err := p.policy(pn, &d.Policy); err != nil {
			return nil, err
		}
	}
	mn, ok := f["messages"]
	if !ok {
		return nil, p.errf(n, "missing messages")
	}
	if d.Messages, err = p.textMap(mn, "messages"); err != nil {
		return nil, err
	}
	for _, k := range requiredMessages {
		if _, ok := d.Messages[k]; !ok {
			return nil, p.errf(keyNode(n, "messages"), "messages: missing %q", k)
		}
	}
	for k, v := range defaultMessages {
		if _, ok := d.Messages[k]; !ok {
			d.Messages[k] = slices.Clone(v)
		}
	}
	in, ok := f["intents"]
	if !ok {
		return nil, p.errf(n, "missing intents")
	}
	ips, err := p.pairs(in, "intents")
	if err != nil {
		return nil, err
	}
	for _, kv := range ips {
		it, err := p.intent(kv[0], kv[1])
		if err != nil {
			return nil, err
		}
		d.Intents[it.Name] = it
		p.lines[it] = kv[0].Line
	}
	if fn, ok := f["forms"]; ok {
		fps, err := p.pairs(fn, "forms")
		if err != nil {
			return nil, err
		}
		for _, kv := range fps {
			fo, err := p.form(kv[0].Value, kv[1])
			if err != nil {
				return nil, err
			}
			d.Forms[fo.Name] = fo
			p.lines[fo] = kv[0].Line
		}
	}
	if wn, ok := f["welcome"]; ok {
		if d.Welcome, err = p.welcome(wn); err != nil {
			return nil, err
		}
	}
	if wn, ok := f["webhooks"]; ok {
		if d.Webhooks, err = p.webhooks(wn); err != nil {
			return nil, err
		}
	}
	if d.usesWebhooks() {
		if _, ok := d.Messages["webhook_failed"]; !ok {
			return nil, p.errf(keyNode(n, "messages"), "messages: missing %q (a webhook action needs it)", "webhook_failed")
		}
	}
	return d, nil
}

func (p *domainParser) policy(n *yaml.Node, pol *Policy) error {
	f, err := p.fields(n, "policy", "clarify_margin", "max_failures", "default_queue", "frustration_cues", "closing_cues", "max_proof_failures")
	if err != nil {
		return err
	}
	if v, ok := f["clarify_margin"]; ok {
		x, err := strconv.ParseFloat(v.Value, 64)
		if err != nil || x < 0 || x > 1 {
			return p.errf(v, "policy clarify_margin: want a number in 0..1, got %q", v.Value)
		}
		pol.ClarifyMargin = x
	}
	if v, ok := f["max_failures"]; ok {
		x, err := strconv.Atoi(v.Value)
		if err != nil || x < 1 || x > 10 {
			return p.errf(v, "policy max_failures: want a whole number in 1..10, got %q", v.Value)
		}
		pol.MaxFailures = x
	}
	if v, ok := f["max_proof_failures"]; ok {
		x, err := strconv.Atoi(v.Value)
		if err != nil || x < 1 || x > 10 {
			return p.errf(v, "policy max_proof_failures: want a whole number in 1..10, got %q", v.Value)
		}
		pol.MaxProofFailures = x
	}
	if v, ok := f["default_queue"]; ok {
		if pol.DefaultQueue, err = p.str(v, "policy default_queue"); err != nil {
			return err
		}
	}
	if v, ok := f["frustration_cues"]; ok {
		cues, err := p.texts(v, "policy frustration_cues")
		if err != nil {
			return err
		}
		for _, c := range cues {
			pol.FrustrationCues = append(pol.FrustrationCues, strings.ToLower(strings.TrimSpace(c)))
		}
	}
	if v, ok := f["closing_cues"]; ok {
		cues, err := p.texts(v, "policy closing_cues")
		if err != nil {
			return err
		}
		for _, c := range cues {
			w := words(c)
			if len(w) == 0 {
				return p.errf(v, "policy closing_cues: %q has no word", c)
			}
			pol.ClosingCues = append(pol.ClosingCues, strings.Join(w, " "))
		}
	}
	return nil
}

func (p *domainParser) intent(key, n *yaml.Node) (*Intent, error) {
	name := key.Value
	what := "intent " + name
	f, err := p.fields(n, what, "title", "action", "form", "queue", "topic", "responses")
	if err != nil {
		return nil, err
	}
	it := &Intent{Name: name, Title: name}
	for key, dst := range map[string]*string{"title": &it.Title, "action": &it.Action, "form": &it.Form, "queue": &it.Queue, "topic": &it.Topic} {
		if v, ok := f[key]; ok {
			if *dst, err = p.str(v, what+" "+key); err != nil {
				return nil, err
			}
		}
	}
	if it.Topic == "" {
		it.Topic = name
	}
	if _, ok := actionKeys[actionKind(it.Action)]; !ok {
		return nil, p.errf(f["action"], "%s: unknown action %q", what, it.Action)
	}
	if a, ok := f["action"]; ok {
		p.actionLines[it] = a.Line
	}
	if r, ok := f["responses"]; ok {
		if it.Responses, err = p.textMap(r, what+" responses"); err != nil {
			return nil, err
		}
	}
	if it.Action == ActionCancelOrder && it.Form == "" {
		return nil, p.errf(f["action"], "%s: action cancel_order needs a form with a confirm slot", what)
	}
	if it.Form == "" {
		for _, k := range actionKeys[actionKind(it.Action)] {
			if _, ok := it.Responses[k]; !ok {
				return nil, p.errf(key, "%s: action %q needs responses %q", what, actionName(it.Action), k)
			}
		}
	}
	return it, nil
}

// keyNode returns the key node of name in mapping n, or n itself.
func keyNode(n *yaml.Node, name string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == name {
			return n.Content[i]
		}
	}
	return n
}

func actionName(a string) string {
	if a == "" {
		return "none"
	}
	return a
}

func (p *domainParser) form(name string, n *yaml.Node) (*Form, error) {
	what := "form " + name
	f, err := p.fields(n, what, "action", "slots")
	if err != nil {
		return nil, err
	}
	fo := &Form{Name: name}
	if v, ok := f["action"]; ok {
		if fo.Action, err = p.str(v, what+" action"); err != nil {
			return nil, err
		}
	}
	if _, ok := actionKeys[actionKind(fo.Action)]; !ok || fo.Action == ActionHandoff || fo.Action == ActionResolve {
		return nil, p.errf(f["action"], "%s: unknown action %q", what, fo.Action)
	}
	if a, ok := f["action"]; ok {
		p.actionLines[fo] = a.Line
	}
	sn, ok := f["slots"]
	if !ok || sn.Kind != yaml.SequenceNode || len(sn.Content) == 0 {
		return nil, p.errf(n, "%s: want a list of slots", what)
	}
	for _, s := range sn.Content {
		sl, err := p.slot(what, s)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(fo.Slots, func(o Slot) bool { return o.Name == sl.Name }) {
			return nil, p.errf(s, "%s: slot %q twice", what, sl.Name)
		}
		fo.Slots = append(fo.Slots, sl)
	}
	if fo.Action == ActionCancelOrder && !slices.ContainsFunc(fo.Slots, func(s Slot) bool { return s.From == FromConfirm }) {
		return nil, p.errf(n, "%s: action cancel_order needs a slot with from: confirm", what)
	}
	return fo, nil
}

func (p *domainParser) slot(form string, n *yaml.Node) (Slot, error) {
	f, err := p.fields(n, form+" slot", "name", "from", "entity", "validate", "ask", "invalid")
	if err != nil {
		return Slot{}, err
	}
	var s Slot
	nn, ok := f["name"]
	if !ok {
		return s, p.errf(n, "%s slot: missing name", form)
	}
	if s.Name, err = p.str(nn, form+" slot name"); err != nil {
		return s, err
	}
	if s.Name == "" || strings.HasPrefix(s.Name, "_") {
		return s, p.errf(nn, "%s slot: name %q must be non-empty and not start with _", form, s.Name)
	}
	what := form + " slot " + s.Name
	s.From = FromEntity
	for key, dst := range map[string]*string{"from": &s.From, "entity": &s.Entity, "validate": &s.Validate} {
		if v, ok := f[key]; ok {
			if *dst, err = p.str(v, what+" "+key); err != nil {
				return s, err
			}
		}
	}
	switch s.From {
	case FromEntity:
		if s.Entity == "" {
			s.Entity = s.Name
		}
	case FromText, FromConfirm:
	default:
		return s, p.errf(f["from"], "%s: unknown source %q (want entity, text or confirm)", what, s.From)
	}
	switch s.Validate {
	case "", ValidateText:
	case ValidateOrder, ValidateOpenOrder:
		if s.From != FromEntity {
			return s, p.errf(f["validate"], "%s: validator %q needs an entity slot", what, s.Validate)
		}
	default:
		return s, p.errf(f["validate"], "%s: unknown validator %q", what, s.Validate)
	}
	an, ok := f["ask"]
	if !ok {
		return s, p.errf(n, "%s: missing ask", what)
	}
	if s.Ask, err = p.texts(an, what+" ask"); err != nil {
		return s, err
	}
	if v, ok := f["invalid"]; ok {
		if s.Invalid, err = p.textMap(v, what+" invalid"); err != nil {
			return s, err
		}
	}
	if s.Validate != "" || s.From == FromConfirm {
		if _, ok := s.Invalid["default"]; !ok {
			return s, p.errf(n, "%s: a validated slot needs an invalid: default message", what)
		}
	}
	return s, nil
}

// check ties intents to the NLU labels and to forms.
func (p *domainParser) check(d *Domain, labels []string) error {
	forms := make([]string, 0, len(d.Forms))
	for name := range d.Forms {
		forms = append(forms, name)
	}
	slices.SortFunc(forms, func(a, b string) int { return p.lines[d.Forms[a]] - p.lines[d.Forms[b]] })
	for _, name := range forms {
		if err := p.checkWebhook(d, d.Forms[name], "form "+name, d.Forms[name].Action); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(d.Intents))
	for name := range d.Intents {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return p.lines[d.Intents[a]] - p.lines[d.Intents[b]] })
	for _, name := range names {
		it := d.Intents[name]
		line := p.lines[it]
		if !slices.Contains(labels, name) {
			return &DomainError{File: p.file, Line: line, Reason: fmt.Sprintf("intent %q is not among the NLU model's %d intents", name, len(labels))}
		}
		if err := p.checkWebhook(d, it, "intent "+name, it.Action); err != nil {
			return err
		}
		if it.Form != "" {
			fo, ok := d.Forms[it.Form]
			if !ok {
				return &DomainError{File: p.file, Line: line, Reason: fmt.Sprintf("intent %s: unknown form %q", name, it.Form)}
			}
			for _, k := range actionKeys[actionKind(fo.Action)] {
				if _, ok := it.Responses[k]; !ok {
					return &DomainError{File: p.file, Line: line, Reason: fmt.Sprintf("intent %s: form action %q needs responses %q", name, actionName(fo.Action), k)}
				}
			}
		}
	}
	return nil
}
