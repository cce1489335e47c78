package dialog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/nlp"
)

// Parser turns a customer's text into meaning. *nlp.Model implements it.
type Parser interface {
	Parse(ctx context.Context, text string) (*nlp.Result, error)
}

// Store is the part of the CRM the engine uses. *crm.DB implements it.
type Store interface {
	crm.CustomerStore
	crm.OrderStore
	crm.ConversationStore
	crm.TicketStore
	crm.FeedbackStore
}

// Errors of the engine, wrapped with the operation that failed.
var (
	// ErrNoConversation means an Inbound named no conversation.
	ErrNoConversation = errors.New("no conversation id")
	// ErrConfig means Config lacks a domain, a parser or a store, or a
	// caller for a domain with webhook actions.
	ErrConfig = errors.New("incomplete engine config")
)

// Config is what an Engine needs. Domain, Parser and Store are required.
type Config struct {
	Domain *Domain
	Parser Parser
	Store  Store
	Events Events           // nil: a new in-process Bus
	Now    func() time.Time // nil: time.Now
	Logger *slog.Logger     // nil: discard
	// Caller calls the domain's webhooks; required when an intent or a
	// form of the domain has a "webhook:NAME" action.
	Caller Caller
	// Router chooses the queue and priority of handoffs and says why; nil
	// routes by the domain's rules alone (see handoff).
	Router Router
	// Scorer estimates the risk of a low rating after every customer
	// message the bot handles (stored in the conversation's
	// SatisfactionRisk) and may hand off early; nil scores nothing.
	Scorer Scorer
}

// Engine answers customers: it stores each message, parses it, decides what
// to do from the conversation's state, the domain and the CRM, and stores
// and publishes the replies. Messages of one conversation are handled one at
// a time, in order; different conversations run in parallel. An Engine is
// safe for concurrent use.
type Engine struct {
	domain *Domain
	store  Store
	events Events
	now    func() time.Time
	log    *slog.Logger
	caller Caller
	router Router                    // nil: the rules route
	scorer Scorer                    // nil: no scoring
	parser atomic.Pointer[parserBox] // swapped by SetParser while serving
	locks  keyedMutex
}

type parserBox struct{ p Parser }

// New returns an engine, or an error wrapping ErrConfig when cfg lacks a
// domain, a parser or a store, or a caller for a domain that uses webhooks.
func New(cfg Config) (*Engine, error) {
	if cfg.Domain == nil || cfg.Parser == nil || cfg.Store == nil {
		return nil, fmt.Errorf("new engine: %w", ErrConfig)
	}
	if cfg.Caller == nil && cfg.Domain.usesWebhooks() {
		return nil, fmt.Errorf("new engine: domain uses webhooks but no caller: %w", ErrConfig)
	}
	e := &Engine{domain: cfg.Domain, store: cfg.Store, events: cfg.Events, now: cfg.Now, log: cfg.Logger, caller: cfg.Caller,
		router: cfg.Router, scorer: cfg.Scorer}
	if e.events == nil {
		e.events = NewBus()
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.parser.Store(&parserBox{cfg.Parser})
	return e, nil
}

// SetParser swaps the NLU model; messages already being handled finish with
// the old one. A nil p is ignored.
func (e *Engine) SetParser(p Parser) {
	if p != nil {
		e.parser.Store(&parserBox{p})
	}
}

// Domain returns the engine's domain (read-only).
func (e *Engine) Domain() *Domain { return e.domain }

// Subscribe returns the events of a conversation ("" for all); see Events.
func (e *Engine) Subscribe(conversationID string, buffer int) (<-chan Event, func()) {
	return e.events.Subscribe(conversationID, buffer)
}

// StartRequest opens a conversation.
type StartRequest struct {
	ConversationID string // empty: a new random id
	Channel        crm.Channel
	CustomerID     string // empty while the customer is unknown
}

// Start creates a conversation held by the bot. Errors come from the store's
// CreateConversation (crm.ErrConflict, crm.ErrNotFound, crm.ErrInvalid).
func (e *Engine) Start(ctx context.Context, req StartRequest) (crm.Conversation, error) {
	c, err := e.store.CreateConversation(ctx, crm.Conversation{
		ID: req.ConversationID, Channel: req.Channel, CustomerID: req.CustomerID, State: crm.StateBot,
	})
	if err != nil {
		return c, fmt.Errorf("start conversation: %w", err)
	}
	return c, nil
}

// Inbound is a customer's message.
type Inbound struct {
	ConversationID string
	Text           string
	// ClientID is the sender's id for the message: a resend with the same
	// ClientID is stored once and answered once.
	ClientID string
}

// Outcome is what the engine did with one inbound message.
type Outcome struct {
	Inbound   crm.Message // the stored customer message
	Duplicate bool        // the message had been received before: nothing else was done
	Parse     *nlp.Result // nil when the message was not parsed (duplicate, agent holds it)
	// Actions names what the policy did, in order, such as "respond greet",
	// "lookup_order", "ask order_id", "clarify", "handoff" or "silent".
	Actions      []string
	Replies      []crm.Message // stored bot replies, in order
	Conversation crm.Conversation
}

// Handle takes one customer message: it stores it (durably, before anything
// else), and, when the bot holds the conversation, parses it, decides, and
// stores and publishes the replies and any change of state. In the waiting
// and agent states it only stores and publishes the message. A resolved
// conversation is reopened. When an agent takes the conversation while the
// policy runs, the bot's replies and state change are dropped (Actions ends
// with "taken_over"); what the turn already did in the CRM (a ticket, a
// cancelled order) stands and is visible to the agent there.
//
// Errors: ErrNoConversation; the store's errors for the message
// (crm.ErrNotFound for an unknown conversation, crm.ErrTooLarge,
// crm.ErrInvalid for invalid UTF-8), in which case nothing was stored; the
// parser's errors (the message is stored, not answered); ctx's error while
// waiting for an earlier message of the same conversation.
func (e *Engine) Handle(ctx context.Context, in Inbound) (Outcome, error) {
	if in.ConversationID == "" {
		return Outcome{}, fmt.Errorf("handle message: %w", ErrNoConversation)
	}
	unlock, err := e.locks.lock(ctx, in.ConversationID)
	if err != nil {
		return Outcome{}, fmt.Errorf("handle message: %w", err)
	}
	defer unlock()

	conv, err := e.store.Conversation(ctx, in.ConversationID)
	if err != nil {
		return Outcome{}, fmt.Errorf("handle message: %w", err)
	}
	msg, err := e.store.AppendMessage(ctx, crm.Message{
		ConversationID: in.ConversationID, Sender: crm.SenderCustomer, Text: in.Text, ClientID: in.ClientID,
	})
	if err != nil {
		return Outcome{}, fmt.Errorf("handle message: %w", err)
	}
	out := Outcome{Inbound: msg, Conversation: conv}
	if msg.Seq <= conv.LastSeq {
		out.Duplicate = true
		return out, nil
	}
	conv.LastSeq = msg.Seq
	out.Conversation = conv
	e.publishMessage(msg)
	if conv.State == crm.StateWaiting || conv.State == crm.StateAgent {
		out.Actions = []string{"silent"}
		return out, nil
	}

	e.events.Publish(Event{Type: EventTyping, ConversationID: conv.ID, Typing: true})
	defer e.events.Publish(Event{Type: EventTyping, ConversationID: conv.ID, Typing: false})
	res, err := e.parser.Load().p.Parse(ctx, in.Text)
	if err != nil {
		return out, fmt.Errorf("handle message: parse: %w", err)
	}
	out.Parse = res
	// The parse is kept for agents and training, not needed for the reply:
	// it is stored after the replies, off the customer's wait.
	defer e.storeParse(ctx, msg, res)

	t := &turn{e: e, conv: conv, res: res, text: in.Text, now: e.now(), seq: msg.Seq}
	t.conv.Slots = maps.Clone(conv.Slots)
	if t.conv.Slots == nil {
		t.conv.Slots = make(map[string]string)
	}
	if t.conv.State == crm.StateResolved {
		t.conv.State = crm.StateBot
	}
	if conv.CustomerID != "" {
		c, err := e.store.Customer(ctx, conv.CustomerID)
		if err != nil && !errors.Is(err, crm.ErrNotFound) {
			return out, fmt.Errorf("handle message: %w", err)
		}
		if err == nil {
			t.customer = &c
		}
	}
	if err := t.decide(ctx); err != nil {
		return out, fmt.Errorf("handle message: %w", err)
	}
	out.Actions = t.actions

	// An agent may have taken the conversation (from the console, outside
	// this lock) while the policy ran: then the bot keeps quiet and leaves
	// the conversation as the agent set it.
	before := out.Conversation.State
	if changed(conv, t.conv) {
		next := t.conv
		updated, err := e.store.UpdateConversation(ctx, conv.ID, func(c *crm.Conversation) error {
			if c.State != before {
				return errTakenOver
			}
			c.CustomerID, c.State, c.Queue, c.Priority = next.CustomerID, next.State, next.Queue, next.Priority
			c.Slots, c.ActiveForm, c.RoutingReason = next.Slots, next.ActiveForm, next.RoutingReason
			c.SatisfactionRisk = next.SatisfactionRisk
			return nil
		})
		if errors.Is(err, errTakenOver) {
			return e.takenOver(ctx, out)
		}
		if err != nil {
			return out, fmt.Errorf("handle message: %w", err)
		}
		conv = updated
	} else if len(t.replies) > 0 {
		now, err := e.store.Conversation(ctx, conv.ID)
		if err != nil {
			return out, fmt.Errorf("handle message: %w", err)
		}
		if now.State != before {
			return e.takenOver(ctx, out)
		}
	}
	for i, r := range t.replies {
		m, err := e.store.AppendMessage(ctx, crm.Message{
			ConversationID: conv.ID, Sender: crm.SenderBot, Text: r.text, QuickReplies: r.quick,
			ClientID: fmt.Sprintf("reply:%s:%d", msg.ID, i),
		})
		if err != nil {
			return out, fmt.Errorf("handle message: store reply: %w", err)
		}
		conv.LastSeq = m.Seq
		out.Replies = append(out.Replies, m)
		e.publishMessage(m)
	}
	// The state change goes out after the replies that announce it ("I'm
	// passing you to a person", "Goodbye"), so a channel shows them first.
	if stateChanged(out.Conversation, conv) {
		c := conv
		e.events.Publish(Event{Type: EventState, ConversationID: c.ID, Conversation: &c})
	}
	out.Conversation = conv
	return out, nil
}

// errTakenOver aborts the engine's update when the state changed under it.
var errTakenOver = errors.New("conversation taken over")

// takenOver ends a turn whose conversation changed state while the policy
// ran: nothing of the bot's is stored.
func (e *Engine) takenOver(ctx context.Context, out Outcome) (Outcome, error) {
	out.Actions = append(out.Actions, "taken_over")
	c, err := e.store.Conversation(ctx, out.Conversation.ID)
	if err != nil {
		return out, fmt.Errorf("handle message: %w", err)
	}
	out.Conversation = c
	return out, nil
}

func (e *Engine) publishMessage(m crm.Message) {
	e.events.Publish(Event{Type: EventMessage, ConversationID: m.ConversationID, Message: &m})
}

func changed(a, b crm.Conversation) bool {
	return stateChanged(a, b) || a.CustomerID != b.CustomerID || a.ActiveForm != b.ActiveForm ||
		a.RoutingReason != b.RoutingReason || a.SatisfactionRisk != b.SatisfactionRisk || !maps.Equal(a.Slots, b.Slots)
}

func stateChanged(a, b crm.Conversation) bool {
	return a.State != b.State || a.Queue != b.Queue || a.Priority != b.Priority
}

// keyedMutex serialises work per key; entries exist only while in use.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyLock // guarded by mu
}

type keyLock struct {
	sem chan struct{} // holds one token while locked
	n   int           // holders and waiters; guarded by keyedMutex.mu
}

func (k *keyedMutex) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = make(map[string]*keyLock)
	}
	l := k.m[key]
	if l == nil {
		l = &keyLock{sem: make(chan struct{}, 1)}
		k.m[key] = l
	}
	l.n++
	k.mu.Unlock()
	release := func() {
		k.mu.Lock()
		l.n--
		if l.n == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case l.sem <- struct{}{}:
		return func() { <-l.sem; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// storeParse attaches the parse to the stored customer message, for agents
// and for training later. The reply does not depend on it, so a failure is
// logged and the turn goes on. The embedding is left out: it is most of the
// parse's size, every read of the conversation would decode it, and the
// model gives it again from the text when it is wanted (insight does so).
func (e *Engine) storeParse(ctx context.Context, msg crm.Message, res *nlp.Result) {
	slim := *res
	slim.Embedding = nil
	data, err := json.Marshal(&slim)
	if err == nil {
		err = e.store.SetMessageParse(ctx, msg.ConversationID, msg.Seq, data)
	}
	if err != nil {
		e.log.Error("store message parse", "conversation", msg.ConversationID, "seq", msg.Seq, "err", err)
	}
}
