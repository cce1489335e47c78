package dialog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/crm"
)

// Verified disclosure. A visitor is verified when the conversation has a
// customer (crm.Conversation.CustomerID): either the channel set it when it
// started or linked the conversation (a signed widget identity, the REST
// API's caller), or the engine set it here when the visitor gave two facts
// that match each other: an order number and the e-mail address on that
// order, in either order, in one message or across several.
//
// Until then the bot reveals nothing about an order or a customer beyond
// whether an order number exists (order numbers are sequential: that is
// public), greets no one by name, links nothing, and acts on no account:
// an intent that reads or changes account data (needsProof) asks for the
// facts instead, and waits in _await. What the visitor claims is kept in
// the slots _claim_order and _claim_email, never as a link. A pair that does
// not match is answered in the same words whether the e-mail address, the
// order or only their pairing is unknown, so the answer tells nothing about
// which one exists. Failed proofs (a pair that does not match, an unknown
// order number) are counted per conversation (_proof_failures) and per
// source (Inbound.Source, in the engine's memory for proofWindow); at
// Policy.MaxProofFailures of either the bot stops asking and hands off.

// Slots of the proof of identity (see keyAwait for the waiting intent).
const (
	keyClaimOrder    = "_claim_order"    // order number the visitor gave, not proven yet
	keyClaimEmail    = "_claim_email"    // e-mail address the visitor gave, not proven yet
	keyProofFailures = "_proof_failures" // failed proofs of identity in this conversation
)

// Bounds of the per-source count of failed proofs.
const (
	proofWindow     = time.Hour // a source's count is forgotten this long after its first failure
	proofWindowText = "1h"      // proofWindow as the routing reason says it
	proofSources    = 10000     // sources remembered at most; the oldest goes first
)

// proof is what verify made of a message.
type proof int

const (
	proofNone     proof = iota // no fact in the message, or the visitor is verified already
	proofPending               // a fact was taken; the other one is missing
	proofVerified              // the pair matched: the conversation is linked now
	proofAnswered              // a failure or a refusal was said: the turn is done
)

// needsProof reports whether an intent reads or changes account data (an
// order lookup, a ticket, a cancellation, a form about an order): it runs
// only for a verified visitor. Other actions, webhooks among them, run for
// anyone; a webhook sees the customer only once they are verified.
func (d *Domain) needsProof(it *Intent) bool {
	switch it.Action {
	case ActionLookupOrder, ActionListOrders, ActionTicket, ActionCancelOrder:
		return true
	}
	fo := d.Forms[it.Form]
	if fo == nil {
		return false
	}
	switch fo.Action {
	case ActionLookupOrder, ActionTicket, ActionCancelOrder:
		return true
	}
	for _, s := range fo.Slots {
		if s.Validate == ValidateOrder || s.Validate == ValidateOpenOrder || s.From == FromEntity && s.Entity == "order_id" {
			return true
		}
	}
	return false
}

// gate asks an unverified visitor for proof before an intent that needs
// it; asked is true when it did (the intent then waits in _await).
func (t *turn) gate(ctx context.Context, it *Intent) (asked bool, err error) {
	if t.customer != nil || !t.e.domain.needsProof(it) {
		return false, nil
	}
	return true, t.askProof(ctx, it.Name)
}

// verify takes the order number and the e-mail address an unverified
// visitor gives in this message as claims and, once both are known, checks
// that the e-mail address is the order's: then the conversation is linked
// to its customer.
func (t *turn) verify(ctx context.Context) (proof, error) {
	if t.customer != nil {
		return proofNone, nil
	}
	order, email := claim(t.entity("order_id")), claim(t.entity("email"))
	if order == "" && email == "" {
		return proofNone, nil
	}
	if t.proofBlocked() {
		return proofAnswered, t.refuseProof(ctx)
	}
	t.repeated = email == "" && order == t.conv.Slots[keyClaimOrder]
	if order != "" {
		t.conv.Slots[keyClaimOrder] = order
	}
	if email != "" {
		t.conv.Slots[keyClaimEmail] = email
	}
	order, email = t.conv.Slots[keyClaimOrder], t.conv.Slots[keyClaimEmail]
	if order == "" || email == "" {
		return proofPending, nil
	}
	c, err := t.match(ctx, order, email)
	if err != nil {
		return proofNone, err
	}
	if c == nil {
		// The question asked with the pair waits for a better one.
		d := t.e.domain
		if it := d.Intents[t.res.Intent]; t.res.InScope && it != nil && d.needsProof(it) && t.conv.Slots[keyAwait] == "" {
			t.conv.Slots[keyAwait] = it.Name
		}
		return proofAnswered, t.proofFailed(ctx, "verify_failed", nil)
	}
	delete(t.conv.Slots, keyClaimOrder)
	delete(t.conv.Slots, keyClaimEmail)
	t.customer = c
	t.conv.CustomerID = c.ID
	t.proved = order
	t.act("verified")
	return proofVerified, nil
}

// maxClaim bounds a claimed order number or e-mail address (an e-mail
// address has at most 254 bytes).
const maxClaim = 254

// claim returns an entity's value as a claim: "" for one that no order
// number or e-mail address can be (too long, not UTF-8), which the store
// would refuse to keep.
func claim(v string) string {
	v = strings.TrimSpace(v)
	if len(v) > maxClaim || !utf8.ValidString(v) {
		return ""
	}
	return v
}

// match returns the customer of the order when email is the address on
// it, and nil when it is not, whichever part is wrong.
func (t *turn) match(ctx context.Context, orderID, email string) (*crm.Customer, error) {
	o, err := t.e.store.Order(ctx, orderID)
	if unknown(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := t.e.store.Customer(ctx, o.CustomerID)
	if unknown(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c.Email == "" || !strings.EqualFold(strings.TrimSpace(c.Email), strings.TrimSpace(email)) {
		return nil, nil
	}
	return &c, nil
}

// unknown: the store has no such record (or the id cannot be one).
func unknown(err error) bool {
	return errors.Is(err, crm.ErrNotFound) || errors.Is(err, crm.ErrInvalid)
}

// askProof asks for what is still missing to verify the visitor, for the
// intent that waits for it ("" when the visitor gave a fact unprompted).
// An order number given alone is looked up: whether it exists is public,
// and an unknown one is a failed proof.
func (t *turn) askProof(ctx context.Context, intent string) error {
	if intent != "" {
		t.conv.Slots[keyAwait] = intent
	}
	delete(t.conv.Slots, keyLast) // not answered yet: asking again is no repeat
	if t.proofBlocked() {
		return t.refuseProof(ctx)
	}
	order, email := t.conv.Slots[keyClaimOrder], t.conv.Slots[keyClaimEmail]
	switch {
	case order != "" && email == "":
		_, err := t.e.store.Order(ctx, order)
		if unknown(err) {
			delete(t.conv.Slots, keyClaimOrder)
			return t.proofFailed(ctx, "verify_unknown_order", vars{"value": order})
		}
		if err != nil {
			return err
		}
		var quick []string
		if t.repeated {
			// The number again: the e-mail address is what's missing,
			// and a person is the way out for who doesn't have it.
			quick = []string{t.humanTitle()}
		}
		t.say(t.msg("verify_ask_email"), vars{"value": order}, quick...)
		t.act("ask email")
	case email != "" && order == "":
		t.say(t.msg("verify_ask_order"), nil)
		t.act("ask order_id")
	default:
		t.say(t.msg("ask_identity"), nil)
		t.act("ask_identity")
	}
	return nil
}

// proofFailed counts a failed proof in the conversation and for its source
// and says the message under key, or hands off when either count reaches
// Policy.MaxProofFailures.
func (t *turn) proofFailed(ctx context.Context, key string, v vars) error {
	t.failed = true
	n, _ := strconv.Atoi(t.conv.Slots[keyProofFailures])
	n++
	t.conv.Slots[keyProofFailures] = strconv.Itoa(n)
	bySource := t.e.proofs.add(t.source, t.now)
	t.act("proof_failed")
	limit := t.e.domain.Policy.MaxProofFailures
	switch {
	case n >= limit:
		return t.handoff(ctx, fmt.Sprintf("identity not confirmed: %d failed proofs in this conversation", n), false, "handoff_unverified")
	case bySource >= limit:
		return t.handoff(ctx, fmt.Sprintf("identity not confirmed: %d failed proofs from this visitor's address within %s", bySource, proofWindowText), false, "handoff_unverified")
	}
	t.say(t.msg(key), v)
	return nil
}

// proofBlocked: the conversation or its source has failed too often to try
// again.
func (t *turn) proofBlocked() bool {
	n, _ := strconv.Atoi(t.conv.Slots[keyProofFailures])
	limit := t.e.domain.Policy.MaxProofFailures
	return n >= limit || t.e.proofs.count(t.source, t.now) >= limit
}

// refuseProof hands off without checking anything more.
func (t *turn) refuseProof(ctx context.Context) error {
	t.act("proof_refused")
	return t.handoff(ctx, "identity not confirmed: too many failed proofs", false, "handoff_unverified")
}

// humanTitle is the quick reply that asks for a person.
func (t *turn) humanTitle() string {
	if h := t.e.domain.Intents[intentHuman]; h != nil {
		return h.Title
	}
	return "Talk to a person"
}

// proofCounter counts failed proofs of identity per source, in memory: a
// source's count starts with its first failure and is forgotten proofWindow
// later; at most proofSources sources are kept, and a new one pushes out
// the expired ones, or else the one counting longest. Several server nodes
// count apart (the per-conversation count is in the store and holds on all
// of them). The zero value is ready to use.
type proofCounter struct {
	mu sync.Mutex
	m  map[string]proofCount // by source; guarded by mu
}

type proofCount struct {
	n     int
	since time.Time // the first failure counted
}

// count returns the source's failures within the window ("" counts none).
func (p *proofCounter) count(source string, now time.Time) int {
	if source == "" {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.m[source]
	if !ok || now.Sub(c.since) >= proofWindow {
		return 0
	}
	return c.n
}

// add counts one failure of source and returns its count ("" counts none).
func (p *proofCounter) add(source string, now time.Time) int {
	if source == "" {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = make(map[string]proofCount)
	}
	c, ok := p.m[source]
	if !ok && len(p.m) >= proofSources {
		p.evict(now)
	}
	if !ok || now.Sub(c.since) >= proofWindow {
		c = proofCount{since: now}
	}
	c.n++
	p.m[source] = c
	return c.n
}

// evict makes room for one more source. Called with mu held.
func (p *proofCounter) evict(now time.Time) {
	oldest, at := "", time.Time{}
	for k, c := range p.m {
		if now.Sub(c.since) >= proofWindow {
			delete(p.m, k)
			continue
		}
		if oldest == "" || c.since.Before(at) {
			oldest, at = k, c.since
		}
	}
	if len(p.m) >= proofSources {
		delete(p.m, oldest)
	}
}
