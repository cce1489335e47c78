package console

import (
	"cmp"
	"encoding/json"
	"net/http"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/internal/httpjson"
)

// detailAnswer is the answer of GET /console/api/conversations/{id}: the
// conversation, its transcript and events, and the context sidebar.
type detailAnswer struct {
	Conversation      Row                `json:"conversation"`
	Messages          []crm.Message      `json:"messages"` // the latest maxTranscript, oldest first, without their parses
	Events            []crm.Event        `json:"events"`
	Customer          *customerCard      `json:"customer"` // null while the customer is unknown
	Orders            []crm.Order        `json:"orders"`   // the latest crm.HistoryOrders
	OpenTickets       []crm.Ticket       `json:"open_tickets"`
	PastConversations []pastConversation `json:"past_conversations"`
	Handoff           *handoffCard       `json:"handoff"` // null when it was never handed off
	Viewers           []Viewer           `json:"viewers"`
}

// customerCard is the customer in the sidebar.
type customerCard struct {
	crm.Customer
	LifetimeOrders int  `json:"lifetime_orders"`
	LastRating     *int `json:"last_rating"` // null when never rated
}

// pastConversation is one of the customer's other conversations.
type pastConversation struct {
	ID        string                `json:"id"`
	State     crm.ConversationState `json:"state"`
	Queue     string                `json:"queue"`
	CreatedAt time.Time             `json:"created_at"`
}

// handoffCard says why the conversation was handed to people: the latest
// handoff's reason and queue, the routing explanation, and what the NLU
// understood of the customer's last message before it.
type handoffCard struct {
	Reason           string        `json:"reason"`
	RoutingReason    string        `json:"routing_reason"`
	Queue            string        `json:"queue"`
	Priority         crm.Priority  `json:"priority"`
	At               time.Time     `json:"at"`
	Intent           string        `json:"intent"`
	Confidence       float64       `json:"confidence"`
	Top              []intentScore `json:"top"` // at most 3, best first
	Entities         []entity      `json:"entities"`
	SatisfactionRisk float64       `json:"satisfaction_risk"`
}

type intentScore struct {
	Intent     string  `json:"intent"`
	Confidence float64 `json:"confidence"`
}

type entity struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Value string `json:"value"`
}

// storedParse is the part of a stored NLU result (nlu.Result's JSON) the
// handoff card shows.
type storedParse struct {
	Intent     string        `json:"intent"`
	Confidence float64       `json:"confidence"`
	Ranking    []intentScore `json:"ranking"`
	Entities   []entity      `json:"entities"`
}

// conversation answers the conversation with everything the agent's view
// shows; 404 not_found, 403 forbidden outside the agent's queues.
func (c *Console) conversation(w http.ResponseWriter, r *http.Request, s session) {
	ctx := r.Context()
	h, err := c.cfg.Store.History(ctx, r.PathValue("id"), crm.HistoryQuery{Messages: maxTranscript})
	if err != nil {
		c.fail(w, r, "conversation", err)
		return
	}
	conv := h.Conversation
	if !c.visible(s.agent, conv) {
		httpjson.WriteError(w, http.StatusForbidden, httpjson.CodeForbidden, "this conversation is in a queue you do not serve")
		return
	}
	events, err := c.cfg.Store.Events(ctx, conv.ID, 0, 0)
	if err != nil {
		c.fail(w, r, "conversation", err)
		return
	}
	out := detailAnswer{
		Conversation: c.row(ctx, conv), Events: nonNil(events), Orders: nonNil(h.Orders),
		OpenTickets: nonNil(h.OpenTickets), PastConversations: []pastConversation{},
		Handoff: handoffOf(conv, events, h.Messages), Viewers: nonNil(c.hub.viewers(conv.ID)),
	}
	out.Messages = make([]crm.Message, len(h.Messages))
	for i, m := range h.Messages {
		m.Parse = nil // the handoff card has what an agent reads of it
		out.Messages[i] = m
	}
	if cu := h.Customer; cu != nil {
		card := &customerCard{Customer: *cu, LifetimeOrders: h.LifetimeOrders}
		if f := h.LastFeedback; f != nil {
			card.LastRating = &f.Score
		}
		out.Customer = card
		past, err := c.cfg.Store.ConversationsByCustomer(ctx, cu.ID, maxPast+1)
		if err != nil {
			c.fail(w, r, "conversation", err)
			return
		}
		for _, p := range past {
			if p.ID != conv.ID && len(out.PastConversations) < maxPast {
				out.PastConversations = append(out.PastConversations,
					pastConversation{ID: p.ID, State: p.State, Queue: p.Queue, CreatedAt: p.CreatedAt})
			}
		}
	}
	httpjson.Write(w, http.StatusOK, out)
}

// handoffOf builds the handoff card from the latest handoff event and the
// parse of the last customer message stored before it (among msgs); nil
// when there was no handoff.
func handoffOf(conv crm.Conversation, events []crm.Event, msgs []crm.Message) *handoffCard {
	var ev *crm.Event
	for j := len(events) - 1; j >= 0; j-- {
		if events[j].Type == crm.EventHandoff {
			ev = &events[j]
			break
		}
	}
	if ev == nil {
		return nil
	}
	card := &handoffCard{
		Reason: ev.Text, RoutingReason: conv.RoutingReason, Queue: cmp.Or(ev.Queue, conv.Queue),
		Priority: conv.Priority, At: ev.At, SatisfactionRisk: conv.SatisfactionRisk,
		Top: []intentScore{}, Entities: []entity{},
	}
	for j := len(msgs) - 1; j >= 0; j-- {
		m := msgs[j]
		if m.Sender != crm.SenderCustomer || len(m.Parse) == 0 || m.CreatedAt.After(ev.At) {
			continue
		}
		var p storedParse
		if json.Unmarshal(m.Parse, &p) != nil {
			continue
		}
		card.Intent, card.Confidence = p.Intent, p.Confidence
		card.Top = nonNil(p.Ranking[:min(3, len(p.Ranking))])
		card.Entities = nonNil(p.Entities)
		break
	}
	return card
}

// nonNil returns s, or an empty slice for nil, so that JSON has [] rather
// than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
