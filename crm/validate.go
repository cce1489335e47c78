package crm

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// The rules every Store implementation applies before it writes a record:
// validation, the normal forms records are indexed in, defaults, and the
// redaction of customer text. They are here, not in an implementation, so
// that every store accepts and rejects the same records with the same
// errors.

// Limits of the records.
const (
	// DefaultMaxMessageBytes is the message text size limit a store uses
	// unless configured otherwise.
	DefaultMaxMessageBytes = 4096
	// MaxParseBytes is the largest NLU result (Message.Parse) a store accepts.
	MaxParseBytes = 64 << 10
	// MaxKeyPart limits ids, client ids, queues, topics and the other strings
	// a store may use in its keys.
	MaxKeyPart = 256
	// DefaultBcryptCost is the cost of agent password hashes unless a store
	// is configured otherwise.
	DefaultBcryptCost = bcrypt.DefaultCost
)

const (
	// maxField limits names, subjects, comments and other short free-text fields.
	maxField         = 4096
	maxSlots         = 256
	maxQuickReplies  = 32
	maxTicketHistory = 1000
)

var (
	orderStatuses = map[OrderStatus]bool{
		OrderPlaced: true, OrderPaid: true, OrderShipped: true, OrderDelivered: true,
		OrderCancelled: true, OrderReturned: true, OrderRefunded: true,
	}
	conversationStates = map[ConversationState]bool{StateBot: true, StateWaiting: true, StateAgent: true, StateResolved: true}
	priorities         = map[Priority]bool{PriorityLow: true, PriorityNormal: true, PriorityHigh: true, PriorityUrgent: true}
	senders            = map[Sender]bool{SenderCustomer: true, SenderBot: true, SenderAgent: true, SenderSystem: true}
	ticketStatuses     = map[TicketStatus]bool{TicketOpen: true, TicketPending: true, TicketSolved: true, TicketClosed: true}
	roles              = map[Role]bool{RoleAgent: true, RoleAdmin: true}
)

// CheckKeyPart validates a string a store may use inside a key: not empty,
// at most MaxKeyPart bytes, valid UTF-8 and free of NUL bytes (which stores
// may use as a separator). Errors wrap ErrInvalid and start with what.
func CheckKeyPart(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%s missing: %w", what, ErrInvalid)
	case len(s) > MaxKeyPart:
		return fmt.Errorf("%s longer than %d bytes: %w", what, MaxKeyPart, ErrInvalid)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s not valid UTF-8: %w", what, ErrInvalid)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("%s contains a NUL byte: %w", what, ErrInvalid)
	}
	return nil
}

// checkText validates a free-text field.
func checkText(what, s string, max int) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s not valid UTF-8: %w", what, ErrInvalid)
	}
	if len(s) > max {
		return fmt.Errorf("%s longer than %d bytes: %w", what, max, ErrInvalid)
	}
	return nil
}

var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// NewID returns prefix, "_" and 16 random base32 characters (80 bits), such
// as "msg_0f3k...". Stores use the prefixes "cus", "conv", "msg", "tkt" and
// "fb".
func NewID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

// NormalizeEmail is the form e-mail addresses are indexed and compared in:
// trimmed and lower-case.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// NormalizePhone keeps the digits of a phone number and a leading "+", so
// "+41 79 123-45-67" and "+41791234567" are the same number.
func NormalizePhone(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	if strings.HasPrefix(s, "+") {
		b.WriteByte('+')
	}
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ValidateCustomer checks c (its ID must be set) and drops repeated
// identities from c.Identities. Email and Phone are checked in their
// normal forms (NormalizeEmail, NormalizePhone) but kept as given; stores
// index and compare the normal forms. Errors wrap ErrInvalid.
func ValidateCustomer(c *Customer) error {
	if err := CheckKeyPart("customer id", c.ID); err != nil {
		return err
	}
	for _, f := range []struct{ what, s string }{
		{"name", c.Name}, {"email", c.Email}, {"phone", c.Phone}, {"tier", string(c.Tier)}, {"language", c.Language},
	} {
		if err := checkText(f.what, f.s, maxField); err != nil {
			return err
		}
	}
	if c.Email != "" {
		e := NormalizeEmail(c.Email)
		if len(e) > MaxKeyPart || strings.Count(e, "@") != 1 || strings.IndexFunc(e, unicode.IsSpace) >= 0 ||
			strings.HasPrefix(e, "@") || strings.HasSuffix(e, "@") {
			return fmt.Errorf("email %q: %w", c.Email, ErrInvalid)
		}
	}
	if c.Phone != "" {
		p := strings.TrimPrefix(NormalizePhone(c.Phone), "+")
		if len(p) < 5 || len(p) > 20 {
			return fmt.Errorf("phone %q: %w", c.Phone, ErrInvalid)
		}
	}
	seen := make(map[Identity]bool, len(c.Identities))
	ids := c.Identities[:0:0]
	for _, id := range c.Identities {
		if err := CheckKeyPart("identity channel", string(id.Channel)); err != nil {
			return err
		}
		if err := CheckKeyPart("identity external id", id.ExternalID); err != nil {
			return err
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	c.Identities = ids
	for k, v := range c.Attributes {
		if err := checkText("attribute name", k, MaxKeyPart); err != nil {
			return err
		}
		if err := checkText("attribute "+k, v, maxField); err != nil {
			return err
		}
	}
	return nil
}

// ValidateOrder checks o; errors wrap ErrInvalid. It does not check that
// the customer exists.
func ValidateOrder(o *Order) error {
	if err := CheckKeyPart("order id", o.ID); err != nil {
		return err
	}
	if err := CheckKeyPart("order customer id", o.CustomerID); err != nil {
		return err
	}
	if !orderStatuses[o.Status] {
		return fmt.Errorf("order status %q: %w", o.Status, ErrInvalid)
	}
	for _, f := range []struct{ what, s string }{
		{"currency", o.Currency}, {"carrier", o.Carrier}, {"tracking", o.Tracking},
	} {
		if err := checkText(f.what, f.s, maxField); err != nil {
			return err
		}
	}
	for i, it := range o.Items {
		if it.Qty <= 0 || it.PriceCents < 0 {
			return fmt.Errorf("order item %d: quantity %d, price %d: %w", i, it.Qty, it.PriceCents, ErrInvalid)
		}
		if err := checkText("item sku", it.SKU, maxField); err != nil {
			return err
		}
		if err := checkText("item name", it.Name, maxField); err != nil {
			return err
		}
	}
	if o.TotalCents < 0 {
		return fmt.Errorf("order total %d: %w", o.TotalCents, ErrInvalid)
	}
	return nil
}

// ConversationDefaults fills in what a new conversation may leave empty: ID
// (a NewID("conv")), State (bot), Priority (normal), CreatedAt (now),
// UpdatedAt (CreatedAt), StateSince (CreatedAt), and ClosedAt (UpdatedAt)
// for a resolved one.
func ConversationDefaults(c *Conversation, now time.Time) {
	if c.ID == "" {
		c.ID = NewID("conv")
	}
	if c.State == "" {
		c.State = StateBot
	}
	if c.Priority == "" {
		c.Priority = PriorityNormal
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	if c.StateSince.IsZero() {
		c.StateSince = c.CreatedAt
	}
	if c.State == StateResolved && c.ClosedAt.IsZero() {
		c.ClosedAt = c.UpdatedAt
	}
}

// ValidateConversation redacts the slots of c (a slot filled from the
// customer's free text may hold a card number or a code; see Redact), then
// checks c; errors wrap ErrInvalid. A slot that needs redacting gives c a
// new Slots map: the caller's map is not changed. It does not check that
// the customer exists.
func ValidateConversation(c *Conversation) error {
	c.Slots = redactSlots(c.Slots)
	if err := CheckKeyPart("conversation id", c.ID); err != nil {
		return err
	}
	if err := CheckKeyPart("channel", string(c.Channel)); err != nil {
		return err
	}
	if !conversationStates[c.State] {
		return fmt.Errorf("conversation state %q: %w", c.State, ErrInvalid)
	}
	if !priorities[c.Priority] {
		return fmt.Errorf("priority %q: %w", c.Priority, ErrInvalid)
	}
	if c.Queue != "" {
		if err := CheckKeyPart("queue", c.Queue); err != nil {
			return err
		}
	}
	if c.CustomerID != "" {
		if err := CheckKeyPart("conversation customer id", c.CustomerID); err != nil {
			return err
		}
	}
	for _, f := range []struct{ what, s string }{
		{"assigned agent", c.AssignedAgent}, {"active form", c.ActiveForm}, {"routing reason", c.RoutingReason},
	} {
		if err := checkText(f.what, f.s, maxField); err != nil {
			return err
		}
	}
	if len(c.Slots) > maxSlots {
		return fmt.Errorf("%d slots, at most %d: %w", len(c.Slots), maxSlots, ErrInvalid)
	}
	for k, v := range c.Slots {
		if err := checkText("slot name", k, MaxKeyPart); err != nil {
			return err
		}
		if err := checkText("slot "+k, v, maxField); err != nil {
			return err
		}
	}
	if math.IsNaN(c.SatisfactionRisk) || c.SatisfactionRisk < 0 || c.SatisfactionRisk > 1 {
		return fmt.Errorf("satisfaction risk %v: %w", c.SatisfactionRisk, ErrInvalid)
	}
	return nil
}

// redactSlots returns slots with Redact applied to every name and value: a
// new map when anything changed, else slots itself. Of two names that
// redact to the same one, the value of the first in sorted order is kept.
func redactSlots(slots map[string]string) map[string]string {
	changed := false
	for k, v := range slots {
		if Redact(k) != k || Redact(v) != v {
			changed = true
			break
		}
	}
	if !changed {
		return slots
	}
	out := make(map[string]string, len(slots))
	for _, k := range slices.Sorted(maps.Keys(slots)) {
		rk := Redact(k)
		if _, dup := out[rk]; !dup {
			out[rk] = Redact(slots[k])
		}
	}
	return out
}

// PrepareMessage validates m and returns it as a store keeps it: Text
// redacted (Redact), Parse redacted (RedactParse), QuickReplies copied, ID
// and Seq cleared for the store to set. maxBytes is the text size limit
// (<= 0: DefaultMaxMessageBytes). Errors wrap ErrTooLarge for a text over
// maxBytes or a parse over MaxParseBytes, and ErrInvalid otherwise (invalid
// UTF-8, empty text, unknown sender, a parse that is not JSON).
func PrepareMessage(m Message, maxBytes int) (Message, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxMessageBytes
	}
	if err := CheckKeyPart("conversation id", m.ConversationID); err != nil {
		return m, err
	}
	if !senders[m.Sender] {
		return m, fmt.Errorf("sender %q: %w", m.Sender, ErrInvalid)
	}
	if m.ClientID != "" {
		if err := CheckKeyPart("client id", m.ClientID); err != nil {
			return m, err
		}
	}
	if err := checkText("agent id", m.AgentID, MaxKeyPart); err != nil {
		return m, err
	}
	if !utf8.ValidString(m.Text) {
		return m, fmt.Errorf("text not valid UTF-8: %w", ErrInvalid)
	}
	if len(m.Text) > maxBytes {
		return m, fmt.Errorf("text of %d bytes, limit %d: %w", len(m.Text), maxBytes, ErrTooLarge)
	}
	if strings.TrimSpace(m.Text) == "" {
		return m, fmt.Errorf("empty text: %w", ErrInvalid)
	}
	if len(m.QuickReplies) > maxQuickReplies {
		return m, fmt.Errorf("%d quick replies, at most %d: %w", len(m.QuickReplies), maxQuickReplies, ErrInvalid)
	}
	for _, q := range m.QuickReplies {
		if err := checkText("quick reply", q, maxField); err != nil {
			return m, err
		}
	}
	if len(m.Parse) > 0 {
		p, err := PrepareParse(m.Parse)
		if err != nil {
			return m, err
		}
		m.Parse = p
	}
	m.Text = Redact(m.Text)
	m.QuickReplies = slices.Clone(m.QuickReplies)
	m.ID, m.Seq = "", 0
	return m, nil
}

// redactTicket applies Redact to the free text of t, which often quotes the
// customer.
func redactTicket(t *Ticket) {
	t.Subject = Redact(t.Subject)
	for i := range t.History {
		t.History[i].Note = Redact(t.History[i].Note)
	}
}

// TicketDefaults fills in what a new ticket may leave empty: ID (a
// NewID("tkt")), Status (open), Priority (normal), CreatedAt (now) and
// UpdatedAt (CreatedAt).
func TicketDefaults(t *Ticket, now time.Time) {
	if t.ID == "" {
		t.ID = NewID("tkt")
	}
	if t.Status == "" {
		t.Status = TicketOpen
	}
	if t.Priority == "" {
		t.Priority = PriorityNormal
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now
	}
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = t.CreatedAt
	}
}

// ValidateTicket redacts the subject and history notes of t (they often
// quote the customer), then checks t; errors wrap ErrInvalid. It does not
// check that the customer exists.
func ValidateTicket(t *Ticket) error {
	redactTicket(t)
	if err := CheckKeyPart("ticket id", t.ID); err != nil {
		return err
	}
	if err := CheckKeyPart("ticket customer id", t.CustomerID); err != nil {
		return err
	}
	if t.Topic != "" {
		if err := CheckKeyPart("topic", t.Topic); err != nil {
			return err
		}
	}
	if !ticketStatuses[t.Status] {
		return fmt.Errorf("ticket status %q: %w", t.Status, ErrInvalid)
	}
	if !priorities[t.Priority] {
		return fmt.Errorf("priority %q: %w", t.Priority, ErrInvalid)
	}
	if err := checkText("subject", t.Subject, maxField); err != nil {
		return err
	}
	if err := checkText("queue", t.Queue, MaxKeyPart); err != nil {
		return err
	}
	for _, c := range t.Conversations {
		if err := CheckKeyPart("ticket conversation id", c); err != nil {
			return err
		}
	}
	if len(t.History) > maxTicketHistory {
		return fmt.Errorf("%d history entries, at most %d: %w", len(t.History), maxTicketHistory, ErrInvalid)
	}
	for _, h := range t.History {
		if err := checkText("history actor", h.Actor, MaxKeyPart); err != nil {
			return err
		}
		if err := checkText("history note", h.Note, maxField); err != nil {
			return err
		}
	}
	return nil
}

// ValidateFeedback redacts the comment of f, then checks f (its ID must be
// set); errors wrap ErrInvalid. A rating needs a conversation or a
// customer; a store takes CustomerID from the conversation when it is empty,
// and checks that both exist.
func ValidateFeedback(f *Feedback) error {
	f.Comment = Redact(f.Comment)
	if err := CheckKeyPart("feedback id", f.ID); err != nil {
		return err
	}
	if f.Score < 1 || f.Score > 5 {
		return fmt.Errorf("score %d not in 1..5: %w", f.Score, ErrInvalid)
	}
	if err := checkText("comment", f.Comment, maxField); err != nil {
		return err
	}
	if f.CustomerID != "" || f.ConversationID == "" {
		if err := CheckKeyPart("feedback customer id", f.CustomerID); err != nil {
			return err
		}
	}
	return nil
}

// ValidateAgent checks a, including that PasswordHash is a bcrypt hash;
// errors wrap ErrInvalid.
func ValidateAgent(a *Agent) error {
	if err := CheckKeyPart("agent login", a.Login); err != nil {
		return err
	}
	if !roles[a.Role] {
		return fmt.Errorf("role %q: %w", a.Role, ErrInvalid)
	}
	if err := checkText("agent name", a.Name, maxField); err != nil {
		return err
	}
	for _, t := range a.Teams {
		if err := CheckKeyPart("team", t); err != nil {
			return err
		}
	}
	if _, err := bcrypt.Cost([]byte(a.PasswordHash)); err != nil {
		return fmt.Errorf("password hash: %w", ErrInvalid)
	}
	return nil
}

// HashPassword hashes an agent password with bcrypt at cost (0:
// DefaultBcryptCost). It fails with ErrInvalid for a password over 72
// bytes or a cost bcrypt does not accept. It is slow on purpose: call it
// outside any transaction.
func HashPassword(password string, cost int) (string, error) {
	if cost == 0 {
		cost = DefaultBcryptCost
	}
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return "", fmt.Errorf("bcrypt cost %d: %w", cost, ErrInvalid)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		if errors.Is(err, bcrypt.ErrPasswordTooLong) {
			return "", fmt.Errorf("password longer than 72 bytes: %w", ErrInvalid)
		}
		return "", err
	}
	return string(h), nil
}

// CheckPassword reports whether password matches the bcrypt hash. It takes
// as long for a wrong password as for a right one.
func CheckPassword(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}
