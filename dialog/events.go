package dialog

import (
	"sync"

	"github.com/parleyhq/parley/crm"
)

// EventType says what happened in a conversation.
type EventType string

// Event types.
const (
	EventMessage EventType = "message" // a message was stored (Message is set)
	EventState   EventType = "state"   // the conversation changed state, queue or priority (Conversation is set)
	EventTyping  EventType = "typing"  // the bot started (Typing true) or stopped working on a reply
	EventErased  EventType = "erased"  // the conversation was erased with its customer (Engine.Erase): it no longer exists
	// EventLifecycle is a stored lifecycle event (Lifecycle is set): a
	// claim, a transfer, a private note... Customer channels ignore it: a
	// note must never reach the customer.
	EventLifecycle EventType = "lifecycle"
)

// Event is one thing subscribers of a conversation are told about. Message
// and Conversation are copies the subscriber may keep.
type Event struct {
	Type           EventType
	ConversationID string
	Message        *crm.Message      // EventMessage
	Conversation   *crm.Conversation // EventState
	Lifecycle      *crm.Event        // EventLifecycle
	Typing         bool              // EventTyping
	// Sender is who is typing (EventTyping): empty or crm.SenderBot for the
	// bot, crm.SenderCustomer, or crm.SenderAgent with Agent set.
	Sender crm.Sender
	Agent  string
}

// Events is the stream between the engine and its subscribers. Bus is the
// in-process implementation; a message broker can implement it for several
// replicas.
type Events interface {
	// Publish hands ev to every subscriber of its conversation (and of all
	// conversations) without blocking.
	Publish(ev Event)
	// Subscribe returns a channel of the events of conversationID ("" for
	// all conversations) and a function that ends the subscription. The
	// channel is closed when the subscription ends, when the stream closes, or
	// when the subscriber falls more than buffer events behind.
	Subscribe(conversationID string, buffer int) (<-chan Event, func())
}

// Bus is the in-process event stream. Subscribers are kept by
// conversation, so publishing an event costs the number of its
// conversation's subscribers (and of those to all conversations), not the
// number of open sockets. The zero value is not usable: call NewBus.
type Bus struct {
	mu sync.Mutex
	// subs holds the subscribers of each conversation id; "" holds those
	// to all conversations.
	subs   map[string]map[*subscriber]struct{} // guarded by mu
	n      int                                 // subscribers in subs; guarded by mu
	closed bool                                // guarded by mu
}

type subscriber struct {
	conv string
	ch   chan Event
}

// NewBus returns an empty in-process event stream.
func NewBus() *Bus { return &Bus{subs: make(map[string]map[*subscriber]struct{})} }

// DefaultBuffer is the subscription buffer when Subscribe gets 0 or less.
const DefaultBuffer = 64

// Subscribe implements Events.
func (b *Bus) Subscribe(conversationID string, buffer int) (<-chan Event, func()) {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	s := &subscriber{conv: conversationID, ch: make(chan Event, buffer)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(s.ch)
		return s.ch, func() {}
	}
	set := b.subs[conversationID]
	if set == nil {
		set = make(map[*subscriber]struct{})
		b.subs[conversationID] = set
	}
	set[s] = struct{}{}
	b.n++
	return s.ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.drop(s)
	}
}

// drop ends s's subscription if it is still on; b.mu is held.
func (b *Bus) drop(s *subscriber) {
	set := b.subs[s.conv]
	if _, ok := set[s]; !ok {
		return
	}
	delete(set, s)
	if len(set) == 0 {
		delete(b.subs, s.conv)
	}
	b.n--
	close(s.ch)
}

// Publish implements Events: a subscriber whose buffer is full is dropped
// (its channel closed) rather than allowed to hold up the engine.
func (b *Bus) Publish(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.send(b.subs[ev.ConversationID], ev)
	if ev.ConversationID != "" {
		b.send(b.subs[""], ev)
	}
}

// send hands ev to each subscriber of set; b.mu is held.
func (b *Bus) send(set map[*subscriber]struct{}, ev Event) {
	for s := range set {
		select {
		case s.ch <- ev:
		default:
			b.drop(s)
		}
	}
}

// Subscribers counts the live subscriptions.
func (b *Bus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

// Close ends every subscription; later subscriptions get a closed channel.
func (b *Bus) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for _, set := range b.subs {
		for s := range set {
			b.drop(s)
		}
	}
}
