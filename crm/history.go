package crm

import (
	"encoding/json"
	"time"
)

// Bounds of one History read: the engine reads a history for every
// customer message, so its cost must not grow with a customer's past.
const (
	// HistoryOrders is how many of the customer's latest orders a History
	// holds (LifetimeOrders counts them all).
	HistoryOrders = 5
	// HistoryConversations is how many of the customer's latest other
	// conversations a History counts PastHandoffs in.
	HistoryConversations = 100
	// HistoryMessages is the default number of a conversation's latest
	// messages a History holds.
	HistoryMessages = 20
)

// HistoryQuery says what a History read returns.
type HistoryQuery struct {
	// Messages is how many of the conversation's latest messages to return
	// (0: HistoryMessages; negative: all of them).
	Messages int
	// UpToSeq keeps only messages with Seq <= UpToSeq (0: no bound): the
	// conversation as it stood after that message.
	UpToSeq uint64
	// AsOf is the moment the customer's history is taken at (zero: now):
	// orders placed, tickets, other conversations and feedback created
	// before it.
	AsOf time.Time
	// CustomerID, when set, is the customer whose history is read instead
	// of the conversation's own (the engine identified the customer during
	// a turn, before the conversation records it). ErrNotFound when there
	// is no such customer.
	CustomerID string
}

// History is a conversation with what the store knows around it, as read by
// HistoryStore.History. Everything but Conversation and Messages is zero when
// the conversation has no (known) customer.
type History struct {
	Conversation Conversation
	// Messages are the conversation's latest messages, oldest first.
	Messages []Message
	Customer *Customer // nil while the customer is unknown
	// Orders are the customer's latest orders placed before AsOf, newest
	// first, at most HistoryOrders; LifetimeOrders counts all of those.
	Orders         []Order
	LifetimeOrders int
	// OpenTickets are the customer's tickets that were open or pending at
	// AsOf (created before it and open now or last updated after it),
	// most recently updated first.
	OpenTickets []Ticket
	// PastHandoffs counts the customer's other conversations created before
	// AsOf that went to a queue, among the latest HistoryConversations.
	PastHandoffs int
	// LastFeedback is the customer's newest rating given before AsOf, or
	// nil.
	LastFeedback *Feedback
}

// Turn is the outcome of one turn of the dialog engine, stored at once by
// ConversationStore.CommitTurn.
type Turn struct {
	ConversationID string
	// Seq is the customer message the turn answers; the conversation's
	// AnsweredSeq becomes Seq.
	Seq uint64
	// Parse is the NLU result to attach to message Seq (nil: none).
	Parse json.RawMessage
	// Update changes the conversation (nil: no change but AnsweredSeq); it
	// runs inside the write transaction, as UpdateConversation's fn does.
	Update func(*Conversation) error
	// Replies are appended after the update, in order.
	Replies []Message
	// Events are stored after the replies, in order, as Transition stores
	// its event (a handoff, a customer leaving the queue); their
	// ConversationID is set from the turn.
	Events []Event
}
