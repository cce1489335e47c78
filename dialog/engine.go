package dialog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/nlp/nlu"
)

// Store is the part of the CRM the engine uses; every crm.Store implements
// it.
type Store interface {
	crm.CustomerStore
	crm.OrderStore
	crm.ConversationStore
	crm.TicketStore
	crm.FeedbackStore
	crm.HistoryStore
	crm.PrivacyStore   // Erase
	crm.LifecycleStore // Claim, Release, ... (lifecycle.go)
}

// Errors of the engine, wrapped with the operation that failed.
var (
	// ErrNoConversation means an Inbound named no conversation.
	ErrNoConversation = errors.New("no conversation id")
	// ErrConfig means Config lacks a domain, a parser or a store, or a
	// caller for a domain with webhook actions.
	ErrConfig = errors.New("incomplete engine config")
	// ErrNoParser means a SwapParser has no model (yet).
	ErrNoParser = errors.New("no NLU model loaded")
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
	// QueueTimeout is how long a handed-off conversation waits for an
	// agent before the customer is told nobody is free and offered a reply
	// by e-mail (Sweep); 0 or less: DefaultQueueTimeout.
	QueueTimeout time.Duration
	// AgentTimeout is how long an agent may hold a conversation without
	// writing in it before it goes back to its queue (Sweep); 0 or less:
	// DefaultAgentTimeout.
	AgentTimeout time.Duration
	// Hours are the team's business hours: outside them the queue timeout
	// is said at once. nil: always open.
	Hours *BusinessHours
	// Locker is the turn lock that several processes on one store share
	// (see Locker). nil: the lock is this process's alone, which is enough
	// for one process. The engine always takes its in-process lock first,
	// so at most one goroutine per key and process waits on the Locker.
	Locker Locker
	// StallTimeout is how long a customer message the bot holds may wait
	// unanswered before Sweep runs its turn (its node stopped between the
	// acknowledgement and the answer); 0 or less: DefaultStallTimeout.
	StallTimeout time.Duration
	// KB answers from the help centre's articles where the bot would say
	// a message is out of scope or fall back (see Answerer); nil: off.
	KB Answerer
}

// Locker is a lock per key shared by every process (node) that serves the
// same conversations, such as a PostgreSQL advisory lock. The engine takes
// it around each turn, Post, Rate, lifecycle change and timeout of a
// conversation (key: the conversation id) and around an erasure (a key
// with a NUL byte, which no conversation id has), after its in-process
// lock of the same key. An erasure holds the erasure key and then the keys
// of all the customer's conversations at once, in sorted order.
//
// Lock blocks until no other holder of key remains, in this process or any
// other, and returns the function that releases it; the engine calls
// unlock exactly once. Lock returns ctx's error (errors.Is) when ctx ends
// while it waits, and then holds nothing. Two keys may share a lock (a
// hash collision): that only serialises their work. A lock lost without
// unlock (a dropped database connection) weakens the order of turns but
// not the store's rules: every message is still answered once.
type Locker interface {
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Engine answers customers in two phases: Receive stores each message
// durably (the channel acknowledges it then), Answer parses it, decides what
// to do from the conversation's situation, the domain and the CRM, and
// stores and publishes the replies. Messages of one conversation are handled one at
// a time, in order; different conversations run in parallel. An Engine is
// safe for concurrent use.
type Engine struct {
	domain *Domain
	store  Store
	events Events
	now    func() time.Time
	log    *slog.Logger
	caller Caller
	router Router // nil: the rules route
	scorer Scorer // nil: no scoring
	parser Parser
	locks  keyedMutex   // the turn lock within this process
	locker Locker       // Config.Locker, taken after locks; nil: none
	proofs proofCounter // failed proofs of identity per source (verify.go)

	queueTimeout, agentTimeout time.Duration // Config's, defaults filled in
	stallTimeout               time.Duration
	stalled                    stalledFailures // recover.go
	hours                      *BusinessHours
	kb                         Answerer // Config.KB; nil: off
}

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
		router: cfg.Router, scorer: cfg.Scorer, parser: cfg.Parser, locker: cfg.Locker,
		queueTimeout: cfg.QueueTimeout, agentTimeout: cfg.AgentTimeout, stallTimeout: cfg.StallTimeout, hours: cfg.Hours,
		kb: cfg.KB}
	if e.queueTimeout <= 0 {
		e.queueTimeout = DefaultQueueTimeout
	}
	if e.agentTimeout <= 0 {
		e.agentTimeout = DefaultAgentTimeout
	}
	if e.stallTimeout <= 0 {
		e.stallTimeout = DefaultStallTimeout
	}
	if e.events == nil {
		e.events = NewBus()
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	return e, nil
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
	// Source says where the message came from, such as "ip:203.0.113.7"
	// (empty: unknown); the policy counts failed proofs of identity per
	// source as well as per conversation.
	Source string
	// Start, when not nil, opens the conversation if it does not exist yet
	// (with ConversationID as its id): a channel stores a conversation with
	// its first message, not before.
	Start *StartRequest
}

// Received is a customer message as Receive stored it.
type Received struct {
	Message crm.Message // the stored message, with its ID and Seq
	// New is false for a resend of a message stored before: nothing was
	// written, and Answer does not publish it again.
	New    bool
	Source string // Inbound.Source
}

// Outcome is what the engine did with a conversation's unanswered messages.
type Outcome struct {
	Inbound   crm.Message // the stored customer message
	Duplicate bool        // the message had been received before
	Parse     *nlu.Result // the last message parsed; nil when none was (answered before, agent holds it)
	// Actions names what the policy did, in order, such as "respond greet",
	// "lookup_order", "ask order_id", "clarify", "handoff" or "silent".
	Actions      []string
	Replies      []crm.Message // stored bot replies, in order
	Conversation crm.Conversation
}

// Receive stores a customer's message durably and returns it: the caller
// acknowledges it to the sender from that, then calls Answer. A message sent
// again with the same ClientID is not stored again (Received.New is false).
//
// Errors: ErrNoConversation; the store's (crm.ErrNotFound for an unknown
// conversation without in.Start, crm.ErrTooLarge, crm.ErrInvalid for
// invalid UTF-8 or an empty text), in which case nothing was stored.
func (e *Engine) Receive(ctx context.Context, in Inbound) (Received, error) {
	if in.ConversationID == "" {
		return Received{}, fmt.Errorf("receive message: %w", ErrNoConversation)
	}
	msg := crm.Message{ConversationID: in.ConversationID, Sender: crm.SenderCustomer, Text: in.Text, ClientID: in.ClientID}
	m, created, err := e.store.AppendMessage(ctx, msg)
	if errors.Is(err, crm.ErrNotFound) && in.Start != nil {
		// The first message of a new conversation: create it, then store
		// the message (a conflict is a concurrent first message: fine).
		req := *in.Start
		req.ConversationID = in.ConversationID
		if _, err = e.Start(ctx, req); err == nil || errors.Is(err, crm.ErrConflict) {
			m, created, err = e.store.AppendMessage(ctx, msg)
		}
	}
	if err != nil {
		return Received{}, fmt.Errorf("receive message: %w", err)
	}
	return Received{Message: m, New: created, Source: in.Source}, nil
}

// Answer publishes a message Receive stored (when it was new) to the
// conversation's subscribers and, when the bot holds the conversation,
// answers every customer message it has not answered yet, in order: for
// each it parses the stored (redacted) text, reads the situation once,
// decides, and commits the replies and the change of state together with
// the mark that the message is answered (crm.ConversationStore.CommitTurn),
// then publishes them. A message is answered once, also when Answer runs
// again for it (a resend, another node, recovery at start). In the agent
// state nothing is answered; in the waiting state only a goodbye (the
// customer leaves the queue) and, after the queue timeout, an e-mail address
// for a reply are (see Sweep). A conversation that the customer's
// message reopened is held by the bot again. When an agent takes the
// conversation while the policy runs, the bot's replies and state change
// are dropped (Actions ends with "taken_over"; in this process, and in any
// process sharing a Config.Locker, Claim waits for the running turn
// instead, but another process may claim it at any time); what the turn
// already did
// in the CRM (a ticket, a cancelled order) stands and is visible to the
// agent there.
//
// Errors: the store's; the parser's (the message stays unanswered, and is
// answered first when Answer runs again for the conversation); ctx's error
// while waiting for an earlier turn of the same conversation; the
// Config.Locker's.
func (e *Engine) Answer(ctx context.Context, r Received) (Outcome, error) {
	out := Outcome{Inbound: r.Message, Duplicate: !r.New}
	if err := e.answer(ctx, r.Message.ConversationID, r.Source, &out, func() {
		if r.New {
			e.publishMessage(r.Message)
		}
	}); err != nil {
		return out, fmt.Errorf("answer message: %w", err)
	}
	return out, nil
}

// Handle is Receive followed by Answer, for callers that acknowledge
// nothing before the answer (the terminal chat, tests).
func (e *Engine) Handle(ctx context.Context, in Inbound) (Outcome, error) {
	r, err := e.Receive(ctx, in)
	if err != nil {
		return Outcome{}, err
	}
	return e.Answer(ctx, r)
}

// AnswerPending answers the messages that were acknowledged but not answered
// (the process stopped between Receive and Answer), and returns how many
// conversations it answered. A server calls it when it starts. A failure in
// one conversation is logged and the others go on; the error is ctx's or
// the store's listing.
func (e *Engine) AnswerPending(ctx context.Context) (int, error) {
	convs, err := e.store.OpenConversations(ctx, crm.ConversationFilter{State: crm.StateBot, Unanswered: true})
	if err != nil {
		return 0, fmt.Errorf("answer pending: %w", err)
	}
	n := 0
	for _, c := range convs {
		var out Outcome
		if err := e.answerPending(ctx, c.ID, 0, &out); err != nil {
			if ctx.Err() != nil {
				return n, fmt.Errorf("answer pending: %w", ctx.Err())
			}
			e.log.Error("answer pending message", "conversation", c.ID, "err", err)
			continue
		}
		n++
	}
	return n, nil
}

// answer runs the conversation's turns under its lock; first runs once the
// lock is held. source is where the messages came from ("" unknown).
func (e *Engine) answer(ctx context.Context, id, source string, out *Outcome, first func()) error {
	if id == "" {
		return ErrNoConversation
	}
	unlock, err := e.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	first()
	return e.turns(ctx, id, source, out)
}

// turns runs the conversation's turns until none is left; the caller holds
// its lock.
func (e *Engine) turns(ctx context.Context, id, source string, out *Outcome) error {
	for {
		done, err := e.step(ctx, id, source, out)
		if err != nil || done {
			return err
		}
	}
}

// step answers the conversation's oldest unanswered customer message; done
// is true when there was none left.
func (e *Engine) step(ctx context.Context, id, source string, out *Outcome) (done bool, err error) {
	now := e.now()
	sit, err := ReadSituation(ctx, e.store, id, crm.HistoryQuery{}, now)
	if err != nil {
		return true, err
	}
	conv := sit.Conversation
	out.Conversation = conv
	if conv.State == crm.StateWaiting {
		return e.waiting(ctx, sit, out) // timeouts.go
	}
	if !conv.Unanswered() {
		if conv.State == crm.StateAgent {
			out.Actions = append(out.Actions, "silent")
		}
		return true, nil
	}
	i := slices.IndexFunc(sit.Messages, func(l Line) bool {
		return l.Sender == crm.SenderCustomer && l.Seq > conv.AnsweredSeq
	})
	if i < 0 || sit.Messages[0].Seq > conv.AnsweredSeq+1 {
		// More unanswered messages than a situation holds (rare): read
		// the situation as it stood after the oldest of them. (The window
		// may begin with bot replies to later messages, so the first
		// customer line in it is not always the oldest unanswered one.)
		next, err := e.store.MessagesAfter(ctx, id, conv.AnsweredSeq, 0)
		if err != nil {
			return true, err
		}
		k := slices.IndexFunc(next, func(m crm.Message) bool { return m.Sender == crm.SenderCustomer })
		if k < 0 {
			return true, fmt.Errorf("conversation %s: no customer message after %d: %w", id, conv.AnsweredSeq, crm.ErrInvalid)
		}
		if sit, err = ReadSituation(ctx, e.store, id, crm.HistoryQuery{UpToSeq: next[k].Seq}, now); err != nil {
			return true, err
		}
		i = len(sit.Messages) - 1
	}
	sit.Messages = sit.Messages[:i+1]
	msg := sit.Messages[i].Message

	e.events.Publish(Event{Type: EventTyping, ConversationID: id, Typing: true})
	defer e.events.Publish(Event{Type: EventTyping, ConversationID: id, Typing: false})
	res, err := e.parser.Parse(ctx, msg.Text)
	if err != nil {
		// The message stays unanswered: the next Answer of the
		// conversation (its next message, a resend, the next start) tries
		// again. The store refuses what no parser could read (empty text,
		// invalid UTF-8), so a failure here is the model's, not the text's.
		return true, fmt.Errorf("parse: %w", err)
	}
	out.Parse = res
	parse, err := storedParse(res)
	if err != nil {
		return true, fmt.Errorf("parse: %w", err)
	}
	sit.Messages[i].Parse = res

	t := &turn{e: e, conv: conv, sit: sit, customer: sit.Customer, res: res, text: msg.Text, source: source, now: now, seq: msg.Seq}
	t.conv.Slots = maps.Clone(conv.Slots)
	if t.conv.Slots == nil {
		t.conv.Slots = make(map[string]string)
	}
	reopened := conv.State == crm.StateBot && !conv.ClosedAt.IsZero()
	if err := t.decide(ctx); err != nil {
		return true, err
	}
	out.Actions = append(out.Actions, t.actions...)

	// An agent may have taken the conversation (from the console, outside
	// this lock) while the policy ran: then the bot keeps quiet and leaves
	// the conversation as the agent set it.
	before, next := conv.State, t.conv
	commit := crm.Turn{ConversationID: id, Seq: msg.Seq, Parse: parse,
		Update: func(c *crm.Conversation) error {
			if c.State != before {
				return errTakenOver
			}
			c.CustomerID, c.State, c.Queue, c.Priority = next.CustomerID, next.State, next.Queue, next.Priority
			c.Slots, c.ActiveForm, c.RoutingReason = next.Slots, next.ActiveForm, next.RoutingReason
			c.SatisfactionRisk = next.SatisfactionRisk
			return nil
		}}
	for k, r := range t.replies {
		commit.Replies = append(commit.Replies, crm.Message{
			Sender: crm.SenderBot, Text: r.text, QuickReplies: r.quick, ClientID: fmt.Sprintf("reply:%s:%d", msg.ID, k),
		})
	}
	// The bot's own changes of hands are stored with the turn: a handoff
	// (with the routing reason) and a goodbye that closes the conversation.
	switch {
	case next.State == crm.StateWaiting && before != crm.StateWaiting:
		commit.Events = append(commit.Events, crm.Event{Type: crm.EventHandoff, Actor: crm.ActorBot, Queue: next.Queue,
			Text: clip(next.RoutingReason, crm.MaxEventText)})
	case next.State == crm.StateResolved && before != crm.StateResolved:
		commit.Events = append(commit.Events, crm.Event{Type: crm.EventResolve, Actor: crm.ActorBot, Queue: next.Queue})
	}
	updated, replies, events, err := e.store.CommitTurn(ctx, commit)
	switch {
	case errors.Is(err, errTakenOver):
		out.Actions = append(out.Actions, "taken_over")
		// The parse is still worth keeping for the agent and for training.
		if err := e.store.SetMessageParse(ctx, id, msg.Seq, parse); err != nil {
			e.log.Error("store message parse", "conversation", id, "seq", msg.Seq, "err", err)
		}
		c, err := e.store.Conversation(ctx, id)
		if err != nil {
			return true, err
		}
		out.Conversation = c
		return true, nil
	case errors.Is(err, crm.ErrAnswered):
		return false, nil // answered meanwhile elsewhere: look again
	case err != nil:
		return true, fmt.Errorf("store turn: %w", err)
	}
	for _, m := range replies {
		e.publishMessage(m)
	}
	out.Replies = append(out.Replies, replies...)
	// The state change goes out after the replies that announce it ("I'm
	// passing you to a person", "Goodbye"), so a channel shows them first.
	if reopened || stateChanged(conv, updated) {
		e.publishState(updated)
	}
	for _, ev := range events {
		e.publishLifecycle(ev)
	}
	out.Conversation = updated
	return !updated.Unanswered(), nil
}

// errTakenOver aborts the engine's update when the state changed under it.
var errTakenOver = errors.New("conversation taken over")

func (e *Engine) publishMessage(m crm.Message) {
	e.events.Publish(Event{Type: EventMessage, ConversationID: m.ConversationID, Message: &m})
}

func stateChanged(a, b crm.Conversation) bool {
	return a.State != b.State || a.Queue != b.Queue || a.Priority != b.Priority
}

// lock takes the turn lock of key: this process's, then the Locker's, so
// that goroutines of one process queue in memory and only one of them per
// key waits on (and holds) the shared lock. unlock releases both, in the
// opposite order. Errors: ctx's while waiting, the Locker's.
func (e *Engine) lock(ctx context.Context, key string) (unlock func(), err error) {
	local, err := e.locks.lock(ctx, key)
	if err != nil || e.locker == nil {
		return local, err
	}
	shared, err := e.locker.Lock(ctx, key)
	if err != nil {
		local()
		return nil, fmt.Errorf("shared turn lock: %w", err)
	}
	return func() { shared(); local() }, nil
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
