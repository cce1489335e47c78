package dialog

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/nlp/nlu"
)

// Situation is what the engine knows of a conversation when it answers a
// message, and what a Router or a Scorer sees: the conversation, its latest
// messages with their parses, the customer and their history with the shop.
// The engine and training (dialog/triage) build it the same way, with
// ReadSituation, so a model sees at serving time what it saw in training.
type Situation struct {
	Conversation crm.Conversation
	Customer     *crm.Customer // nil while the customer is unknown
	// Messages are the conversation's latest messages (at most
	// SituationMessages), oldest first, ending with the customer message
	// being handled.
	Messages []Line
	History  History // zero while the customer is unknown
	// Orders are the customer's latest orders, newest first (at most
	// crm.HistoryOrders); OpenTickets their open and pending tickets.
	Orders      []crm.Order
	OpenTickets []crm.Ticket
	Now         time.Time
}

// Line is one message of a Situation. Parse is the NLU result of a customer
// message, decoded once when the situation is read (nil when none was
// stored).
type Line struct {
	crm.Message
	Parse *nlu.Result
}

// SituationMessages is how many of a conversation's latest messages a
// Situation holds.
const SituationMessages = crm.HistoryMessages

// History is what the CRM says about a customer at the time of a
// conversation.
type History struct {
	OpenTickets    int // open or pending cases
	PastHandoffs   int // the customer's other conversations that went to a queue (of the latest crm.HistoryConversations)
	LastRating     int // newest satisfaction rating, 1..5; 0 when never rated
	LifetimeOrders int // orders placed
}

// ReadSituation reads a conversation's situation from the store in one read:
// q says how many messages, up to which one, and as of when the customer's
// history is taken (see crm.HistoryQuery); now is the situation's Now.
// Errors are the store's (crm.ErrNotFound for an unknown conversation) and
// a stored parse that does not decode.
func ReadSituation(ctx context.Context, st crm.HistoryStore, conversationID string, q crm.HistoryQuery, now time.Time) (Situation, error) {
	h, err := st.History(ctx, conversationID, q)
	if err != nil {
		return Situation{}, fmt.Errorf("read situation: %w", err)
	}
	s, err := situationOf(h, now)
	if err != nil {
		return Situation{}, fmt.Errorf("read situation of %s: %w", conversationID, err)
	}
	return s, nil
}

// situationOf turns a store read into a Situation.
func situationOf(h crm.History, now time.Time) (Situation, error) {
	s := Situation{Conversation: h.Conversation, Now: now, Messages: make([]Line, len(h.Messages))}
	for i, m := range h.Messages {
		s.Messages[i].Message = m
		if m.Sender != crm.SenderCustomer || len(m.Parse) == 0 {
			continue
		}
		var r nlu.Result
		if err := json.Unmarshal(m.Parse, &r); err != nil {
			return s, fmt.Errorf("parse of message %d: %w", m.Seq, err)
		}
		s.Messages[i].Parse = &r
	}
	s.setCustomer(h)
	return s, nil
}

// setCustomer sets the customer part of s from h: the customer, their
// orders and open tickets, and the History counts (zero when h has no
// customer). The engine calls it again with the history of a customer it
// identified during a turn.
func (s *Situation) setCustomer(h crm.History) {
	s.Customer, s.Orders, s.OpenTickets, s.History = h.Customer, h.Orders, h.OpenTickets, History{}
	if h.Customer == nil {
		return
	}
	s.History = History{OpenTickets: len(h.OpenTickets), PastHandoffs: h.PastHandoffs, LifetimeOrders: h.LifetimeOrders}
	if h.LastFeedback != nil {
		s.History.LastRating = h.LastFeedback.Score
	}
}

// storedParse is a parse as the store keeps it: without the embedding, which
// is most of its size, which no reader of the history needs, and which the
// model gives again from the text when it is wanted (insight does so).
func storedParse(res *nlu.Result) (json.RawMessage, error) {
	slim := *res
	slim.Embedding = nil
	return json.Marshal(&slim)
}
