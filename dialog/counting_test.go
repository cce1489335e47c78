package dialog_test

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// countingStore counts every call the engine makes to its store.
type countingStore struct {
	dialog.Store
	mu    sync.Mutex
	calls map[string]int // guarded by mu
}

func (s *countingStore) note(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	s.calls[name]++
}

// take returns the calls counted since the last take.
func (s *countingStore) take() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls
	s.calls = nil
	return c
}

func (s *countingStore) CreateCustomer(ctx context.Context, c crm.Customer) (crm.Customer, error) {
	s.note("CreateCustomer")
	return s.Store.CreateCustomer(ctx, c)
}

func (s *countingStore) UpdateCustomer(ctx context.Context, id string, fn func(*crm.Customer) error) (crm.Customer, error) {
	s.note("UpdateCustomer")
	return s.Store.UpdateCustomer(ctx, id, fn)
}

func (s *countingStore) Customer(ctx context.Context, id string) (crm.Customer, error) {
	s.note("Customer")
	return s.Store.Customer(ctx, id)
}

func (s *countingStore) CustomerByEmail(ctx context.Context, email string) (crm.Customer, error) {
	s.note("CustomerByEmail")
	return s.Store.CustomerByEmail(ctx, email)
}

func (s *countingStore) CustomerByPhone(ctx context.Context, phone string) (crm.Customer, error) {
	s.note("CustomerByPhone")
	return s.Store.CustomerByPhone(ctx, phone)
}

func (s *countingStore) CustomerByIdentity(ctx context.Context, id crm.Identity) (crm.Customer, error) {
	s.note("CustomerByIdentity")
	return s.Store.CustomerByIdentity(ctx, id)
}

func (s *countingStore) CustomerIDs(ctx context.Context) ([]string, error) {
	s.note("CustomerIDs")
	return s.Store.CustomerIDs(ctx)
}

func (s *countingStore) PutOrder(ctx context.Context, o crm.Order) (crm.Order, error) {
	s.note("PutOrder")
	return s.Store.PutOrder(ctx, o)
}

func (s *countingStore) Order(ctx context.Context, id string) (crm.Order, error) {
	s.note("Order")
	return s.Store.Order(ctx, id)
}

func (s *countingStore) OrdersByCustomer(ctx context.Context, customerID string, limit int) ([]crm.Order, error) {
	s.note("OrdersByCustomer")
	return s.Store.OrdersByCustomer(ctx, customerID, limit)
}

func (s *countingStore) CreateConversation(ctx context.Context, c crm.Conversation) (crm.Conversation, error) {
	s.note("CreateConversation")
	return s.Store.CreateConversation(ctx, c)
}

func (s *countingStore) Conversation(ctx context.Context, id string) (crm.Conversation, error) {
	s.note("Conversation")
	return s.Store.Conversation(ctx, id)
}

func (s *countingStore) UpdateConversation(ctx context.Context, id string, fn func(*crm.Conversation) error) (crm.Conversation, error) {
	s.note("UpdateConversation")
	return s.Store.UpdateConversation(ctx, id, fn)
}

func (s *countingStore) OpenConversations(ctx context.Context, f crm.ConversationFilter) ([]crm.Conversation, error) {
	s.note("OpenConversations")
	return s.Store.OpenConversations(ctx, f)
}

func (s *countingStore) Conversations(ctx context.Context, afterID string, limit int) ([]crm.Conversation, error) {
	s.note("Conversations")
	return s.Store.Conversations(ctx, afterID, limit)
}

func (s *countingStore) ConversationsByCustomer(ctx context.Context, customerID string, limit int) ([]crm.Conversation, error) {
	s.note("ConversationsByCustomer")
	return s.Store.ConversationsByCustomer(ctx, customerID, limit)
}

func (s *countingStore) AppendMessage(ctx context.Context, m crm.Message) (crm.Message, bool, error) {
	s.note("AppendMessage")
	return s.Store.AppendMessage(ctx, m)
}

func (s *countingStore) CommitTurn(ctx context.Context, t crm.Turn) (crm.Conversation, []crm.Message, []crm.Event, error) {
	s.note("CommitTurn")
	return s.Store.CommitTurn(ctx, t)
}

func (s *countingStore) SetMessageParse(ctx context.Context, conversationID string, seq uint64, parse json.RawMessage) error {
	s.note("SetMessageParse")
	return s.Store.SetMessageParse(ctx, conversationID, seq, parse)
}

func (s *countingStore) MessagesAfter(ctx context.Context, conversationID string, afterSeq uint64, limit int) ([]crm.Message, error) {
	s.note("MessagesAfter")
	return s.Store.MessagesAfter(ctx, conversationID, afterSeq, limit)
}

func (s *countingStore) RecentMessages(ctx context.Context, conversationID string, n int) ([]crm.Message, error) {
	s.note("RecentMessages")
	return s.Store.RecentMessages(ctx, conversationID, n)
}

func (s *countingStore) CreateTicket(ctx context.Context, t crm.Ticket) (crm.Ticket, error) {
	s.note("CreateTicket")
	return s.Store.CreateTicket(ctx, t)
}

func (s *countingStore) UpdateTicket(ctx context.Context, id string, fn func(*crm.Ticket) error) (crm.Ticket, error) {
	s.note("UpdateTicket")
	return s.Store.UpdateTicket(ctx, id, fn)
}

func (s *countingStore) Ticket(ctx context.Context, id string) (crm.Ticket, error) {
	s.note("Ticket")
	return s.Store.Ticket(ctx, id)
}

func (s *countingStore) OpenTickets(ctx context.Context, customerID string) ([]crm.Ticket, error) {
	s.note("OpenTickets")
	return s.Store.OpenTickets(ctx, customerID)
}

func (s *countingStore) OpenTicketByTopic(ctx context.Context, customerID, topic string) (crm.Ticket, error) {
	s.note("OpenTicketByTopic")
	return s.Store.OpenTicketByTopic(ctx, customerID, topic)
}

func (s *countingStore) AddFeedback(ctx context.Context, f crm.Feedback) (crm.Feedback, error) {
	s.note("AddFeedback")
	return s.Store.AddFeedback(ctx, f)
}

func (s *countingStore) LatestFeedback(ctx context.Context, customerID string) (crm.Feedback, error) {
	s.note("LatestFeedback")
	return s.Store.LatestFeedback(ctx, customerID)
}

func (s *countingStore) ConversationFeedback(ctx context.Context, conversationID string) (crm.Feedback, error) {
	s.note("ConversationFeedback")
	return s.Store.ConversationFeedback(ctx, conversationID)
}

func (s *countingStore) History(ctx context.Context, conversationID string, q crm.HistoryQuery) (crm.History, error) {
	s.note("History")
	return s.Store.History(ctx, conversationID, q)
}
