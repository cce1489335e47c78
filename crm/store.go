package crm

import (
	"context"
	"encoding/json"
	"io"
	"time"
)

// Store is the contract between Parley and its customer database: the dialog
// engine and the web server use it, *boltdb.DB (package crm/boltdb: bbolt,
// one file) implements it, and a shared SQL database is meant to be another
// implementation. Smaller
// interfaces below let a caller (or a test fake) depend on only the part it
// uses.
//
// Every method may also fail with ErrClosed after Close, with the context's
// error, or with an I/O error of the underlying database.
type Store interface {
	CustomerStore
	OrderStore
	ConversationStore
	LifecycleStore
	CannedStore
	TicketStore
	FeedbackStore
	AgentStore
	PrivacyStore
	HistoryStore
	ChannelStateStore

	// Import loads a snapshot in one transaction: all of it or, on any error,
	// none of it. Records that already exist fail it with ErrConflict; broken
	// records or references with ErrInvalid or ErrNotFound.
	Import(ctx context.Context, s Snapshot) error
	// Stats counts the records held.
	Stats(ctx context.Context) (Stats, error)
}

// CustomerStore holds customers and finds them by e-mail, phone or channel
// identity.
type CustomerStore interface {
	// CreateCustomer stores a new customer and returns it with ID (when empty),
	// CreatedAt and UpdatedAt set. It fails with ErrConflict when the id, e-mail,
	// phone or an identity is taken, and ErrInvalid for a malformed record.
	CreateCustomer(ctx context.Context, c Customer) (Customer, error)
	// UpdateCustomer applies fn to the stored customer and stores the result,
	// keeping ID and CreatedAt. fn runs inside the write transaction: it must be
	// quick and must not call the store. An error from fn is returned as is and
	// nothing is written. Fails with ErrNotFound, ErrConflict or ErrInvalid.
	UpdateCustomer(ctx context.Context, id string, fn func(*Customer) error) (Customer, error)
	// Customer returns the customer with the id, or ErrNotFound.
	Customer(ctx context.Context, id string) (Customer, error)
	// CustomerByEmail finds a customer by e-mail (case-insensitive), or ErrNotFound.
	CustomerByEmail(ctx context.Context, email string) (Customer, error)
	// CustomerByPhone finds a customer by phone number (compared by its digits
	// and a leading "+"), or ErrNotFound.
	CustomerByPhone(ctx context.Context, phone string) (Customer, error)
	// CustomerByIdentity finds the customer known by a channel identity, or ErrNotFound.
	CustomerByIdentity(ctx context.Context, id Identity) (Customer, error)
	// CustomerIDs lists the ids of all customers, in id order (for offline
	// work such as training on the whole history).
	CustomerIDs(ctx context.Context) ([]string, error)
}

// OrderStore holds shop orders.
type OrderStore interface {
	// PutOrder creates or replaces an order (the id is the shop's order
	// number) and returns it with UpdatedAt (and PlacedAt when zero) set. The
	// customer must exist (ErrNotFound); ErrInvalid for a malformed order.
	PutOrder(ctx context.Context, o Order) (Order, error)
	// Order returns the order with the id, or ErrNotFound.
	Order(ctx context.Context, id string) (Order, error)
	// OrdersByCustomer returns the customer's orders, most recently placed
	// first, at most limit of them (0: all). No orders is an empty slice, not
	// an error, even for an unknown customer.
	OrdersByCustomer(ctx context.Context, customerID string, limit int) ([]Order, error)
}

// ConversationStore holds conversations and their messages.
type ConversationStore interface {
	// CreateConversation stores a new conversation with ID (when empty),
	// State (default bot), Priority (default normal) and times set; LastSeq
	// starts at 0. Slot names and values are redacted (see Redact), here and
	// on every update. Fails with ErrConflict for a taken id, ErrNotFound for
	// an unknown customer, ErrInvalid for a malformed record.
	CreateConversation(ctx context.Context, c Conversation) (Conversation, error)
	// Conversation returns the conversation with the id, or ErrNotFound.
	Conversation(ctx context.Context, id string) (Conversation, error)
	// UpdateConversation applies fn to the stored conversation and stores the
	// result, keeping ID, LastSeq, LastCustomerSeq, LastAgentAt and
	// CreatedAt, setting StateSince when State, Queue or AssignedAgent
	// changed (see UpdatedConversation) (fn may
	// raise AnsweredSeq, up to LastCustomerSeq, never lower it), setting UpdatedAt, and setting
	// (or clearing) ClosedAt when the state becomes (or stops being) resolved.
	// fn runs inside the write transaction: it must be quick and must not call
	// the store. An error from fn is returned as is and nothing is written.
	// Fails with ErrNotFound or ErrInvalid.
	UpdateConversation(ctx context.Context, id string, fn func(*Conversation) error) (Conversation, error)
	// OpenConversations lists unresolved conversations matching f, most
	// urgent first and, within a priority, oldest first. ErrInvalid when
	// f.State is StateResolved.
	OpenConversations(ctx context.Context, f ConversationFilter) ([]Conversation, error)
	// Conversations lists conversations of every state and customer in id
	// order: those whose id sorts after afterID ("" for the first), at most
	// limit (0: all). For offline work that reads the whole history.
	Conversations(ctx context.Context, afterID string, limit int) ([]Conversation, error)
	// ConversationsByCustomer lists the customer's conversations, newest
	// first, at most limit (0: all).
	ConversationsByCustomer(ctx context.Context, customerID string, limit int) ([]Conversation, error)

	// AppendMessage stores a message at the end of its conversation and
	// returns it with ID, Seq and CreatedAt set, and created true; it returns
	// only after the message is durably committed. Text (and the string
	// values in Parse) are redacted first (see Redact). A message with the
	// same non-empty (ConversationID, ClientID) as a stored one is not stored
	// again: the stored one is returned with created false, and nothing is
	// written. A customer message raises the conversation's LastCustomerSeq
	// and reopens a resolved conversation: State becomes bot, and ClosedAt
	// is kept until the next update, so that the dialog engine sees the
	// conversation was reopened by a message it has not answered yet.
	// Fails with ErrNotFound for an unknown conversation, ErrTooLarge for a
	// text over the size limit and ErrInvalid for invalid UTF-8 or a
	// malformed message. An agent message sets the conversation's
	// LastAgentAt to its CreatedAt. When ctx ends while the commit is under way the
	// message may still be stored; resending it with the same ClientID is
	// safe.
	AppendMessage(ctx context.Context, m Message) (stored Message, created bool, err error)
	// CommitTurn stores the outcome of one turn of the dialog engine in one
	// transaction: t.Update (when not nil) is applied to the conversation as
	// UpdateConversation would, the parse is attached to message t.Seq as
	// SetMessageParse would, t.Replies are appended in order as
	// AppendMessage would (their ConversationID is set from t), t.Events
	// are stored after them as Transition stores its event, and the
	// conversation's AnsweredSeq becomes t.Seq. All of it is stored, or
	// none. It returns the conversation, the stored replies and the stored
	// events (with their ID, Seq and At).
	//
	// Fails with ErrAnswered when AnsweredSeq is already t.Seq or more (a
	// turn for that message was committed before: nothing is written), with
	// an error of t.Update's as is, and otherwise as UpdateConversation,
	// SetMessageParse, AppendMessage and Transition fail (nothing is
	// written).
	CommitTurn(ctx context.Context, t Turn) (Conversation, []Message, []Event, error)
	// SetMessageParse attaches the NLU result to a stored message: the dialog
	// engine stores a customer message before it parses it. String values in
	// parse are redacted as message text is. Setting it again replaces it.
	// Fails with ErrNotFound for an unknown message, ErrTooLarge over 64 KiB
	// and ErrInvalid for a parse that is not JSON.
	SetMessageParse(ctx context.Context, conversationID string, seq uint64, parse json.RawMessage) error
	// MessagesAfter returns the conversation's messages with Seq > afterSeq in
	// order, at most limit (0: all). ErrNotFound for an unknown conversation.
	MessagesAfter(ctx context.Context, conversationID string, afterSeq uint64, limit int) ([]Message, error)
	// RecentMessages returns the last n messages of the conversation (n > 0) in
	// order. ErrNotFound for an unknown conversation.
	RecentMessages(ctx context.Context, conversationID string, n int) ([]Message, error)
}

// LifecycleStore records who holds conversations: each change together with
// the event that says who made it and when, agents' private notes, and the
// listings the agent console needs.
type LifecycleStore interface {
	// Transition applies fn to the conversation as UpdateConversation does
	// (fn nil: the conversation is not changed, not even its UpdatedAt) and
	// stores ev in the same transaction, with ID, Seq, At and
	// ConversationID set (see PrepareEvent for what is checked and
	// redacted). It returns the conversation and the stored event. An error
	// from fn is returned as is and nothing is written: that is how a
	// conditional change (exactly one of many simultaneous claims) is made.
	// Fails with ErrNotFound, ErrInvalid or ErrTooLarge.
	Transition(ctx context.Context, conversationID string, ev Event, fn func(*Conversation) error) (Conversation, Event, error)
	// Events returns the conversation's events with Seq > afterSeq in
	// order, at most limit (0: all). ErrNotFound for an unknown
	// conversation.
	Events(ctx context.Context, conversationID string, afterSeq uint64, limit int) ([]Event, error)
	// CreatedBetween lists the conversations created in [from, to), oldest
	// first, at most limit (0: all), read by an index.
	CreatedBetween(ctx context.Context, from, to time.Time, limit int) ([]Conversation, error)
	// ResolvedBetween lists the resolved conversations whose ClosedAt is in
	// [from, to), most recently closed first, at most limit (0: all), read
	// by an index.
	ResolvedBetween(ctx context.Context, from, to time.Time, limit int) ([]Conversation, error)
}

// CannedStore holds the canned responses agents insert in the console.
type CannedStore interface {
	// PutCanned creates or replaces the response with c.Shortcut, with
	// UpdatedAt set (ValidateCanned: ErrInvalid, ErrTooLarge).
	PutCanned(ctx context.Context, c CannedResponse) (CannedResponse, error)
	// CannedResponses lists all canned responses by shortcut.
	CannedResponses(ctx context.Context) ([]CannedResponse, error)
	// DeleteCanned removes one; ErrNotFound when there is none.
	DeleteCanned(ctx context.Context, shortcut string) error
}

// HistoryStore reads a conversation with what is known around it: the one
// read the dialog engine makes per customer message, and the one training
// makes per past conversation.
type HistoryStore interface {
	// History returns conversation conversationID, its latest messages, and
	// its customer's history as it stood at q.AsOf (see History), read
	// consistently (one transaction). ErrNotFound for an unknown
	// conversation; a conversation whose customer is unknown or erased has a
	// nil Customer and an empty history.
	History(ctx context.Context, conversationID string, q HistoryQuery) (History, error)
}

// TicketStore holds tickets.
type TicketStore interface {
	// CreateTicket stores a new ticket with ID (when empty), Status (default
	// open), Priority (default normal) and times set. The customer must exist
	// (ErrNotFound); ErrConflict for a taken id, ErrInvalid for a malformed one.
	CreateTicket(ctx context.Context, t Ticket) (Ticket, error)
	// UpdateTicket applies fn to the stored ticket and stores the result,
	// keeping ID, CustomerID and CreatedAt and setting UpdatedAt. fn runs
	// inside the write transaction: quick, no store calls. An error from fn is
	// returned as is. Fails with ErrNotFound or ErrInvalid.
	UpdateTicket(ctx context.Context, id string, fn func(*Ticket) error) (Ticket, error)
	// Ticket returns the ticket with the id, or ErrNotFound.
	Ticket(ctx context.Context, id string) (Ticket, error)
	// OpenTickets returns the customer's open and pending tickets, most
	// recently updated first.
	OpenTickets(ctx context.Context, customerID string) ([]Ticket, error)
	// OpenTicketByTopic returns the customer's most recently updated open or
	// pending ticket on the topic, or ErrNotFound.
	OpenTicketByTopic(ctx context.Context, customerID, topic string) (Ticket, error)
}

// FeedbackStore holds satisfaction ratings.
type FeedbackStore interface {
	// AddFeedback stores a rating with ID and CreatedAt set; CustomerID is
	// taken from the conversation when empty, and may stay empty for a
	// conversation with an unknown customer. ErrInvalid for a score outside
	// 1..5 or neither a conversation nor a customer, ErrNotFound for an
	// unknown conversation or customer.
	AddFeedback(ctx context.Context, f Feedback) (Feedback, error)
	// LatestFeedback returns the customer's newest rating, or ErrNotFound.
	LatestFeedback(ctx context.Context, customerID string) (Feedback, error)
	// ConversationFeedback returns the newest rating of the conversation, or
	// ErrNotFound.
	ConversationFeedback(ctx context.Context, conversationID string) (Feedback, error)
}

// AgentStore holds agents and checks their passwords.
type AgentStore interface {
	// PutAgent creates or replaces an agent. A non-empty password is hashed
	// with bcrypt; an empty one keeps the stored hash (ErrInvalid for a new
	// agent without one, or a password over 72 bytes). a.PasswordHash is
	// ignored. The returned agent carries the hash.
	PutAgent(ctx context.Context, a Agent, password string) (Agent, error)
	// Agent returns the agent with the login, or ErrNotFound.
	Agent(ctx context.Context, login string) (Agent, error)
	// Agents lists all agents by login.
	Agents(ctx context.Context) ([]Agent, error)
	// DeleteAgent removes an agent; ErrNotFound when there is none.
	DeleteAgent(ctx context.Context, login string) error
	// Authenticate returns the agent when the password matches, and
	// ErrUnauthorized otherwise (also for an unknown login).
	Authenticate(ctx context.Context, login, password string) (Agent, error)
}

// PrivacyStore answers a customer's requests about their data.
type PrivacyStore interface {
	// EraseCustomer removes the customer and everything that belongs to them
	// (orders, conversations and their messages, tickets, feedback, index
	// entries) in one transaction, and counts what went. ErrNotFound when
	// there is no such customer.
	EraseCustomer(ctx context.Context, id string) (Erasure, error)
	// ExportCustomer writes everything held about the customer to w as one
	// JSON document (an Export). ErrNotFound when there is no such customer.
	ExportCustomer(ctx context.Context, id string, w io.Writer) error
}

// Backuper writes a consistent copy of a store while it is in use.
type Backuper interface {
	// Backup writes the copy to w and returns the number of bytes written.
	Backup(ctx context.Context, w io.Writer) (int64, error)
}
