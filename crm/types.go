package crm

import (
	"encoding/json"
	"time"
)

// The records below are plain values: the store copies them in and out, so a
// caller may keep and change what it gets back. Zero times mean "not set" and
// are left out of JSON.

// Channel is where a conversation happens or a customer was seen.
type Channel string

// Channels known to Parley.
const (
	ChannelWeb   Channel = "web"
	ChannelSlack Channel = "slack"
	ChannelCLI   Channel = "cli"
	ChannelAPI   Channel = "api"
)

// Tier is a customer's service level. The store accepts any value; these are the
// ones the default domain uses.
type Tier string

// Customer tiers.
const (
	TierStandard Tier = "standard"
	TierSilver   Tier = "silver"
	TierGold     Tier = "gold"
	TierPlatinum Tier = "platinum"
)

// Identity is one way a customer is known on a channel: a web visitor id, a
// Slack user id, an API caller's id. (Channel, ExternalID) belongs to at most one
// customer.
type Identity struct {
	Channel    Channel `json:"channel"`
	ExternalID string  `json:"external_id"`
}

// Consent is the customer's marketing consent and when it was last given or
// withdrawn.
type Consent struct {
	Marketing bool      `json:"marketing"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Customer is a person the shop sells to. Email, Phone and each Identity are
// unique across customers (compared case-insensitively for e-mail and by digits
// for phone numbers).
type Customer struct {
	ID         string            `json:"id"`
	Name       string            `json:"name,omitempty"`
	Email      string            `json:"email,omitempty"`
	Phone      string            `json:"phone,omitempty"`
	Tier       Tier              `json:"tier,omitempty"`
	Language   string            `json:"language,omitempty"` // BCP 47 tag such as "en" or "de-CH"
	Identities []Identity        `json:"identities,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Consent    Consent           `json:"consent"`
	CreatedAt  time.Time         `json:"created_at,omitzero"`
	UpdatedAt  time.Time         `json:"updated_at,omitzero"`
}

// OrderStatus is where an order is in its life.
type OrderStatus string

// Order statuses.
const (
	OrderPlaced    OrderStatus = "placed"
	OrderPaid      OrderStatus = "paid"
	OrderShipped   OrderStatus = "shipped"
	OrderDelivered OrderStatus = "delivered"
	OrderCancelled OrderStatus = "cancelled"
	OrderReturned  OrderStatus = "returned"
	OrderRefunded  OrderStatus = "refunded"
)

// OrderItem is one line of an order.
type OrderItem struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	Qty        int    `json:"qty"`
	PriceCents int64  `json:"price_cents"` // price of one unit
}

// Order is a shop order. Its ID is the shop's order number (such as "1042"), so
// orders are written with PutOrder, which creates or replaces.
type Order struct {
	ID          string      `json:"id"`
	CustomerID  string      `json:"customer_id"`
	Items       []OrderItem `json:"items,omitempty"`
	TotalCents  int64       `json:"total_cents"`
	Currency    string      `json:"currency,omitempty"` // ISO 4217 such as "EUR"
	Status      OrderStatus `json:"status"`
	Carrier     string      `json:"carrier,omitempty"`
	Tracking    string      `json:"tracking,omitempty"`
	PlacedAt    time.Time   `json:"placed_at,omitzero"`
	ShippedAt   time.Time   `json:"shipped_at,omitzero"`
	DeliveredAt time.Time   `json:"delivered_at,omitzero"`
	UpdatedAt   time.Time   `json:"updated_at,omitzero"`
}

// ConversationState says who holds a conversation.
type ConversationState string

// Conversation states. Every state but StateResolved counts as open.
const (
	StateBot      ConversationState = "bot"      // the bot answers
	StateWaiting  ConversationState = "waiting"  // handed off, waiting in a queue for an agent
	StateAgent    ConversationState = "agent"    // an agent holds it; the bot stays silent
	StateResolved ConversationState = "resolved" // closed
)

// Priority orders conversations and tickets in a queue.
type Priority string

// Priorities, lowest first.
const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Rank returns 0 for low up to 3 for urgent, and 1 (normal) for anything else.
func (p Priority) Rank() int {
	switch p {
	case PriorityLow:
		return 0
	case PriorityHigh:
		return 2
	case PriorityUrgent:
		return 3
	default:
		return 1
	}
}

// Conversation is one chat between a customer and Parley (and maybe an agent).
// Its messages are stored separately and numbered 1..LastSeq.
type Conversation struct {
	ID            string            `json:"id"`
	Channel       Channel           `json:"channel"`
	CustomerID    string            `json:"customer_id,omitempty"` // empty while the customer is unknown
	State         ConversationState `json:"state"`
	Queue         string            `json:"queue,omitempty"` // team queue such as "billing" once routed
	Priority      Priority          `json:"priority"`
	AssignedAgent string            `json:"assigned_agent,omitempty"` // agent login
	Slots         map[string]string `json:"slots,omitempty"`          // filled form slots
	ActiveForm    string            `json:"active_form,omitempty"`    // form being filled, if any
	LastSeq       uint64            `json:"last_seq"`                 // Seq of the newest message; kept by the store

	// LastCustomerSeq is the Seq of the newest customer message, kept by the
	// store; AnsweredSeq is the Seq of the newest customer message the
	// dialog engine has finished a turn for, set by CommitTurn (and by an
	// update that hands the conversation back to the bot). A conversation
	// the bot holds with LastCustomerSeq > AnsweredSeq has a message that was
	// acknowledged but not yet answered (see Unanswered).
	LastCustomerSeq uint64 `json:"last_customer_seq,omitempty"`
	AnsweredSeq     uint64 `json:"answered_seq,omitempty"`

	// SatisfactionRisk is the latest predicted chance (0..1) that the customer
	// ends up dissatisfied; RoutingReason says why the conversation went to its
	// queue. Both are written by the dialog engine.
	SatisfactionRisk float64 `json:"satisfaction_risk,omitempty"`
	RoutingReason    string  `json:"routing_reason,omitempty"`

	// StateSince is when State, Queue or AssignedAgent last changed, kept
	// by the store (CreatedAt at first): how long a conversation has waited
	// in its queue, or been held by its agent. LastAgentAt is when the
	// newest agent message was stored, kept by the store.
	StateSince  time.Time `json:"state_since,omitzero"`
	LastAgentAt time.Time `json:"last_agent_at,omitzero"`

	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	ClosedAt  time.Time `json:"closed_at,omitzero"` // set when the state becomes resolved; cleared by the first update after it reopens
}

// Open reports whether the conversation is not resolved.
func (c Conversation) Open() bool { return c.State != StateResolved }

// Unanswered reports whether the bot holds the conversation and owes an
// answer to a customer message it has acknowledged.
func (c Conversation) Unanswered() bool {
	return c.State == StateBot && c.LastCustomerSeq > c.AnsweredSeq
}

// Sender is who wrote a message.
type Sender string

// Senders.
const (
	SenderCustomer Sender = "customer"
	SenderBot      Sender = "bot"
	SenderAgent    Sender = "agent"
	SenderSystem   Sender = "system"
)

// Message is one message of a conversation. ID and Seq are given by the store:
// ID is a random server id (Import keeps a snapshot's own), Seq counts 1, 2, 3,
// ... within the conversation, so a client that reconnects asks for the
// messages after the last Seq it saw.
type Message struct {
	ID             string `json:"id"`
	ConversationID string `json:"conversation_id"`
	Seq            uint64 `json:"seq"`
	Sender         Sender `json:"sender"`
	AgentID        string `json:"agent_id,omitempty"` // agent login when Sender is SenderAgent
	Text           string `json:"text"`
	// ClientID is the sender's own id for the message; a resend with the same
	// (ConversationID, ClientID) returns the stored message instead of a copy.
	ClientID string `json:"client_id,omitempty"`
	// Parse is the NLU result for a customer message. The store does not
	// interpret it beyond redacting its string values.
	Parse        json.RawMessage `json:"parse,omitempty"`
	QuickReplies []string        `json:"quick_replies,omitempty"`
	CreatedAt    time.Time       `json:"created_at,omitzero"`
}

// TicketStatus is where a ticket is in its life.
type TicketStatus string

// Ticket statuses. Open and pending tickets count as open.
const (
	TicketOpen    TicketStatus = "open"
	TicketPending TicketStatus = "pending" // waiting for the customer or a third party
	TicketSolved  TicketStatus = "solved"
	TicketClosed  TicketStatus = "closed"
)

// Open reports whether the status is open or pending.
func (s TicketStatus) Open() bool { return s == TicketOpen || s == TicketPending }

// TicketEvent is one line of a ticket's history.
type TicketEvent struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"` // "bot", "system" or an agent login
	Note  string    `json:"note"`
}

// Ticket is a case that outlives a conversation. Topic (an intent name such as
// "refund_status") is how a new conversation finds the customer's open ticket
// about the same thing.
type Ticket struct {
	ID            string        `json:"id"`
	CustomerID    string        `json:"customer_id"`
	Subject       string        `json:"subject"`
	Topic         string        `json:"topic,omitempty"`
	Status        TicketStatus  `json:"status"`
	Queue         string        `json:"queue,omitempty"`
	Priority      Priority      `json:"priority"`
	Conversations []string      `json:"conversations,omitempty"` // conversation ids
	History       []TicketEvent `json:"history,omitempty"`
	CreatedAt     time.Time     `json:"created_at,omitzero"`
	UpdatedAt     time.Time     `json:"updated_at,omitzero"`
}

// Feedback is a customer's satisfaction rating of a conversation.
type Feedback struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversation_id,omitempty"`
	CustomerID     string    `json:"customer_id,omitempty"`
	Score          int       `json:"score"` // CSAT, 1 (very unhappy) to 5 (very happy)
	Comment        string    `json:"comment,omitempty"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
}

// Role is what an agent may do in the console.
type Role string

// Agent roles.
const (
	RoleAgent Role = "agent"
	RoleAdmin Role = "admin"
)

// Agent is a person who answers customers in the console or in Slack.
type Agent struct {
	Login        string   `json:"login"`
	Name         string   `json:"name,omitempty"`
	PasswordHash string   `json:"password_hash,omitempty"` // bcrypt; never the password, never sent to a client
	Role         Role     `json:"role"`
	Teams        []string `json:"teams,omitempty"` // queues the agent works
}

// SeedAgent is an agent in a Snapshot: either Password (hashed on import) or
// Agent.PasswordHash (a bcrypt hash) must be set.
type SeedAgent struct {
	Agent
	Password string `json:"password,omitempty"`
}

// Snapshot is a set of records loaded in one transaction by Import, for example
// the demo shop's data on first start. Records refer to each other by id, so
// ids must be set where something refers to them. Messages are stored in their
// order within each conversation; a zero Seq means "next".
type Snapshot struct {
	Customers     []Customer       `json:"customers,omitempty"`
	Orders        []Order          `json:"orders,omitempty"`
	Conversations []Conversation   `json:"conversations,omitempty"`
	Messages      []Message        `json:"messages,omitempty"`
	Tickets       []Ticket         `json:"tickets,omitempty"`
	Feedback      []Feedback       `json:"feedback,omitempty"`
	Agents        []SeedAgent      `json:"agents,omitempty"`
	Canned        []CannedResponse `json:"canned,omitempty"`
}

// Export is everything the store holds about one customer, as written by
// ExportCustomer. Messages are grouped by conversation, in Seq order.
type Export struct {
	ExportedAt    time.Time            `json:"exported_at"`
	Customer      Customer             `json:"customer"`
	Orders        []Order              `json:"orders"`
	Conversations []ExportConversation `json:"conversations"`
	Tickets       []Ticket             `json:"tickets"`
	Feedback      []Feedback           `json:"feedback"`
}

// ExportConversation is a conversation with its messages and its events
// (agents' notes among them).
type ExportConversation struct {
	Conversation
	Messages []Message `json:"messages"`
	Events   []Event   `json:"events"`
}

// Erasure counts what EraseCustomer removed.
type Erasure struct {
	CustomerID    string `json:"customer_id"`
	Orders        int    `json:"orders"`
	Conversations int    `json:"conversations"`
	Messages      int    `json:"messages"`
	Events        int    `json:"events"`
	Tickets       int    `json:"tickets"`
	Feedback      int    `json:"feedback"`
	IndexEntries  int    `json:"index_entries"`
}

// ConversationFilter selects open conversations. Empty fields match anything;
// State must not be StateResolved (resolved conversations are not indexed).
type ConversationFilter struct {
	State ConversationState
	Queue string
	// Unanswered keeps only conversations for which Unanswered is true
	// (the engine answers them when it starts).
	Unanswered bool
	Limit      int // at most this many; 0 means no limit
}

// Stats counts the records in the store.
type Stats struct {
	Customers     int `json:"customers"`
	Orders        int `json:"orders"`
	Conversations int `json:"conversations"`
	Messages      int `json:"messages"`
	Tickets       int `json:"tickets"`
	Feedback      int `json:"feedback"`
	Agents        int `json:"agents"`
	Events        int `json:"events"`
	Canned        int `json:"canned"`
}
