package dialog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"unicode/utf8"

	"github.com/parleyhq/parley/crm"
)

// Errors of the lifecycle operations (Claim, Assign, Release, Transfer,
// Return, Resolve, Note), wrapped with the operation that failed.
var (
	// ErrClaimed means another agent holds the conversation; it comes
	// wrapped in a *ClaimedError that names them.
	ErrClaimed = errors.New("conversation held by another agent")
	// ErrNotHolder means an agent asked for a change that only the agent
	// who holds the conversation, an admin or the system may make.
	ErrNotHolder = errors.New("only the agent who holds the conversation, or an admin, may do that")
	// ErrState means the change is not possible in the conversation's
	// state: releasing a conversation nobody holds, returning one the bot
	// holds, anything but Resolve and Note on a resolved one.
	ErrState = errors.New("not possible in the conversation's state")
	// ErrNoAgent means the system actor (or an empty login) asked for
	// something only an agent can do (Claim, Note), or an assignment named
	// no agent.
	ErrNoAgent = errors.New("an agent is required")
)

// ClaimedError says who holds a conversation another agent tried to take.
// errors.Is(err, ErrClaimed) holds for it.
type ClaimedError struct{ Agent string }

func (e *ClaimedError) Error() string { return fmt.Sprintf("conversation held by agent %s", e.Agent) }

// Unwrap makes a *ClaimedError match ErrClaimed.
func (e *ClaimedError) Unwrap() error { return ErrClaimed }

// Actor is who asks for a change: an agent (Login, with Admin set for the
// admin role) or, as the zero value, the system (the sweeper,
// auto-assignment, an API call that names no agent).
type Actor struct {
	Login string
	Admin bool
}

// name is how events record the actor.
func (a Actor) name() string {
	if a.Login == "" {
		return crm.ActorSystem
	}
	return a.Login
}

// holds reports whether a may change a conversation an agent holds: the
// holder, an admin or the system.
func (a Actor) holds(c crm.Conversation) bool {
	return a.Login == "" || a.Admin || c.AssignedAgent == a.Login
}

// Target is where Transfer moves a conversation: exactly one of Queue (it
// waits there, nobody assigned) or Agent (that agent holds it).
type Target struct {
	Queue string
	Agent string
}

// keyQueueTimeout is set (to the time, RFC 3339) when the customer was told
// nobody is free (Sweep): the timeout is said once per handoff, and from
// then on an e-mail address in a message is taken as the contact for a
// reply.
const keyQueueTimeout = "_queue_timeout"

// lifecycleMessages are what the engine says around agents when the domain
// does not say it (messages queue_timeout, contact_saved, left_queue,
// returned).
var lifecycleMessages = map[string][]string{
	"queue_timeout": {"I'm sorry, nobody from the team is free right now. You can keep waiting here, or leave your e-mail address and we'll write to you as soon as someone can look at it."},
	"contact_saved": {"Thanks, we'll write to you at {value}. If someone becomes free while you're still here, they'll reply in this chat too."},
	"left_queue":    {"Okay, I've taken you out of the queue. Goodbye, and thanks for your patience!"},
	"returned":      {"You're chatting with the assistant again."},
}

// message returns the domain's variants for key, or the engine's own.
func (e *Engine) message(key string) []string {
	if v := e.domain.Messages[key]; len(v) > 0 {
		return v
	}
	return lifecycleMessages[key]
}

// Claim gives the conversation to the agent by, who becomes its holder
// (state agent): from then on the bot says nothing in it, and a turn the
// bot is running elsewhere drops its replies. Exactly one of many
// simultaneous claims wins, also across processes sharing the store. A
// claim by the agent who holds it already changes nothing and succeeds.
// Errors: ErrNoAgent for the system actor; a *ClaimedError (ErrClaimed)
// when another agent holds it; ErrState for a resolved conversation; the
// store's (crm.ErrNotFound).
func (e *Engine) Claim(ctx context.Context, id string, by Actor) (crm.Conversation, error) {
	if by.Login == "" {
		return crm.Conversation{}, fmt.Errorf("claim conversation: %w", ErrNoAgent)
	}
	c, _, err := e.change(ctx, id, e.take(by.Login, by, crm.EventClaim))
	if err != nil {
		return c, fmt.Errorf("claim conversation: %w", err)
	}
	return c, nil
}

// Assign gives the conversation to agent on behalf of by: the system
// (auto-assignment) or an admin. Only an admin takes a conversation from
// the agent who holds it. Errors: ErrNoAgent for an empty agent;
// ErrNotHolder when by is an agent who is not an admin; a *ClaimedError
// when another agent holds it and by is the system; ErrState for a
// resolved conversation; the store's.
func (e *Engine) Assign(ctx context.Context, id, agent string, by Actor) (crm.Conversation, error) {
	switch {
	case agent == "":
		return crm.Conversation{}, fmt.Errorf("assign conversation: %w", ErrNoAgent)
	case by.Login != "" && !by.Admin:
		return crm.Conversation{}, fmt.Errorf("assign conversation: %w", ErrNotHolder)
	}
	c, _, err := e.change(ctx, id, e.take(agent, by, crm.EventAssign))
	if err != nil {
		return c, fmt.Errorf("assign conversation: %w", err)
	}
	return c, nil
}

// take decides a claim (typ EventClaim) or an assignment of the
// conversation to agent.
func (e *Engine) take(agent string, by Actor, typ crm.EventType) decider {
	return func(c crm.Conversation) (crm.Event, func(*crm.Conversation), error) {
		switch {
		case c.State == crm.StateResolved:
			return crm.Event{}, nil, ErrState
		case c.State == crm.StateAgent && c.AssignedAgent == agent:
			return crm.Event{}, nil, errUnchanged
		case c.State == crm.StateAgent && c.AssignedAgent != "" && !(typ == crm.EventAssign && by.Admin):
			return crm.Event{}, nil, &ClaimedError{Agent: c.AssignedAgent}
		}
		ev := crm.Event{Type: typ, Actor: by.name(), Agent: agent, Queue: c.Queue}
		return ev, func(c *crm.Conversation) {
			c.State, c.AssignedAgent = crm.StateAgent, agent
		}, nil
	}
}

// Release puts a conversation an agent holds back in its queue (the
// domain's default queue when it has none), with nobody assigned. Errors:
// ErrState when no agent holds it; ErrNotHolder when by is another agent
// and not an admin; the store's.
func (e *Engine) Release(ctx context.Context, id string, by Actor) (crm.Conversation, error) {
	c, _, err := e.change(ctx, id, func(c crm.Conversation) (crm.Event, func(*crm.Conversation), error) {
		switch {
		case c.State != crm.StateAgent:
			return crm.Event{}, nil, ErrState
		case !by.holds(c):
			return crm.Event{}, nil, ErrNotHolder
		}
		q := e.queueOr(c.Queue)
		return crm.Event{Type: crm.EventRelease, Actor: by.name(), Queue: q}, func(c *crm.Conversation) {
			c.State, c.Queue, c.AssignedAgent = crm.StateWaiting, q, ""
		}, nil
	})
	if err != nil {
		return c, fmt.Errorf("release conversation: %w", err)
	}
	return c, nil
}

// Transfer moves the conversation to another queue (it waits there, nobody
// assigned) or to another agent (who holds it). A conversation an agent
// holds is transferred only by that agent, an admin or the system; one that
// waits or that the bot holds, by anyone. Moving it where it is changes
// nothing. Errors: crm.ErrInvalid unless exactly one of to.Queue and
// to.Agent is set (or for a malformed name); ErrState for a resolved
// conversation; ErrNotHolder; the store's.
func (e *Engine) Transfer(ctx context.Context, id string, to Target, by Actor) (crm.Conversation, error) {
	if (to.Queue == "") == (to.Agent == "") {
		return crm.Conversation{}, fmt.Errorf("transfer conversation: want a queue or an agent: %w", crm.ErrInvalid)
	}
	c, _, err := e.change(ctx, id, func(c crm.Conversation) (crm.Event, func(*crm.Conversation), error) {
		switch {
		case c.State == crm.StateResolved:
			return crm.Event{}, nil, ErrState
		case c.State == crm.StateAgent && !by.holds(c):
			return crm.Event{}, nil, ErrNotHolder
		}
		if to.Queue != "" {
			if c.State == crm.StateWaiting && c.Queue == to.Queue && c.AssignedAgent == "" {
				return crm.Event{}, nil, errUnchanged
			}
			return crm.Event{Type: crm.EventTransfer, Actor: by.name(), Queue: to.Queue}, func(c *crm.Conversation) {
				c.State, c.Queue, c.AssignedAgent = crm.StateWaiting, to.Queue, ""
			}, nil
		}
		if c.State == crm.StateAgent && c.AssignedAgent == to.Agent {
			return crm.Event{}, nil, errUnchanged
		}
		return crm.Event{Type: crm.EventTransfer, Actor: by.name(), Agent: to.Agent, Queue: c.Queue}, func(c *crm.Conversation) {
			c.State, c.AssignedAgent = crm.StateAgent, to.Agent
		}, nil
	})
	if err != nil {
		return c, fmt.Errorf("transfer conversation: %w", err)
	}
	return c, nil
}

// Return gives a waiting or agent-held conversation back to the bot: the
// customer sees a system message saying so, and every customer message so
// far counts as answered (the bot answers only what comes next, with no
// form or question pending). Errors: ErrState when the bot holds it or it
// is resolved; ErrNotHolder when another agent holds it and by is not an
// admin; the store's.
func (e *Engine) Return(ctx context.Context, id string, by Actor) (crm.Conversation, error) {
	unlock, err := e.lock(ctx, id)
	if err != nil {
		return crm.Conversation{}, fmt.Errorf("return conversation: %w", err)
	}
	defer unlock()
	c, ev, err := e.changeLocked(ctx, id, func(c crm.Conversation) (crm.Event, func(*crm.Conversation), error) {
		switch {
		case c.State != crm.StateWaiting && c.State != crm.StateAgent:
			return crm.Event{}, nil, ErrState
		case c.State == crm.StateAgent && !by.holds(c):
			return crm.Event{}, nil, ErrNotHolder
		}
		return crm.Event{Type: crm.EventReturn, Actor: by.name()}, func(c *crm.Conversation) {
			c.State, c.Queue, c.AssignedAgent, c.ActiveForm = crm.StateBot, "", "", ""
			c.Slots = maps.Clone(c.Slots)
			for _, k := range []string{keyQueueTimeout, keyFormIntent, keyClarify, keyAwait, keyFailures} {
				delete(c.Slots, k)
			}
			c.AnsweredSeq = c.LastCustomerSeq
		}, nil
	})
	if err != nil {
		return c, fmt.Errorf("return conversation: %w", err)
	}
	if ev == nil {
		return c, nil // another process returned it meanwhile, and said so
	}
	m, fresh, err := e.store.AppendMessage(ctx, crm.Message{ConversationID: id, Sender: crm.SenderSystem,
		Text: render(pick(e.message("returned"), c.LastSeq), nil), ClientID: "return:" + ev.ID})
	if err != nil {
		// The conversation is the bot's again; only the notice is missing.
		return c, fmt.Errorf("return conversation: notify customer: %w", err)
	}
	if fresh {
		e.publishMessage(m)
	}
	return c, nil
}

// Resolve closes the conversation: every customer message so far counts as
// answered, and the customer's channel asks for a rating when it sees the
// state change. Resolving a resolved conversation changes nothing. A later
// customer message reopens it, held by the bot. Errors: ErrNotHolder when
// another agent holds it and by is not an admin; the store's
// (crm.ErrNotFound).
func (e *Engine) Resolve(ctx context.Context, id string, by Actor) (crm.Conversation, error) {
	c, _, err := e.change(ctx, id, func(c crm.Conversation) (crm.Event, func(*crm.Conversation), error) {
		switch {
		case c.State == crm.StateResolved:
			return crm.Event{}, nil, errUnchanged
		case c.State == crm.StateAgent && !by.holds(c):
			return crm.Event{}, nil, ErrNotHolder
		}
		return crm.Event{Type: crm.EventResolve, Actor: by.name(), Agent: c.AssignedAgent, Queue: c.Queue}, func(c *crm.Conversation) {
			c.State, c.ActiveForm = crm.StateResolved, ""
			c.AnsweredSeq = c.LastCustomerSeq
		}, nil
	})
	if err != nil {
		return c, fmt.Errorf("resolve conversation: %w", err)
	}
	return c, nil
}

// Note stores an agent's private note on the conversation, in any state,
// and publishes it as EventLifecycle only: customer channels ignore those,
// so a note never reaches the customer. It changes nothing a turn reads, so
// it does not wait for a running turn. Errors: ErrNoAgent for the system
// actor; the store's (crm.ErrNotFound, crm.ErrInvalid for an empty text,
// crm.ErrTooLarge over crm.MaxEventText).
func (e *Engine) Note(ctx context.Context, id string, by Actor, text string) (crm.Event, error) {
	if by.Login == "" {
		return crm.Event{}, fmt.Errorf("add note: %w", ErrNoAgent)
	}
	_, ev, err := e.store.Transition(ctx, id, crm.Event{Type: crm.EventNote, Actor: by.Login, Text: text}, nil)
	if err != nil {
		return crm.Event{}, fmt.Errorf("add note: %w", err)
	}
	e.publishLifecycle(ev)
	return ev, nil
}

// Typing publishes that someone started or stopped typing in the
// conversation: the customer (from their channel, to the agents' console)
// or an agent (agent names them; to the customer's channel and the other
// agents). Nothing is stored.
func (e *Engine) Typing(id string, sender crm.Sender, agent string, typing bool) {
	if id == "" {
		return
	}
	e.events.Publish(Event{Type: EventTyping, ConversationID: id, Sender: sender, Agent: agent, Typing: typing})
}

// A decider says, from the conversation as stored, what a lifecycle step
// changes and which event records it; it fails with errUnchanged when there
// is nothing to do, or with the reason the step is refused.
type decider func(c crm.Conversation) (crm.Event, func(*crm.Conversation), error)

var (
	// errUnchanged: the conversation is already as the step would leave it.
	errUnchanged = errors.New("nothing to change")
	// errMoved: the conversation changed between the read and the store's
	// transaction (another process changed it); the step is decided again.
	errMoved = errors.New("conversation changed meanwhile")
)

// moveTries bounds how often a step is decided again after another process
// changed the conversation under it.
const moveTries = 3

// change runs one lifecycle step under the conversation's lock.
func (e *Engine) change(ctx context.Context, id string, decide decider) (crm.Conversation, *crm.Event, error) {
	unlock, err := e.lock(ctx, id)
	if err != nil {
		return crm.Conversation{}, nil, err
	}
	defer unlock()
	return e.changeLocked(ctx, id, decide)
}

// changeLocked runs one lifecycle step; the caller holds the
// conversation's lock, so it is serialised with the turns and steps of
// this process. The store's transaction decides again on the conversation
// as it is then, so that a change by another process is never
// overwritten: that is what makes one of many simultaneous claims win
// everywhere. It publishes EventState and EventLifecycle after a change;
// the event is nil when nothing changed.
func (e *Engine) changeLocked(ctx context.Context, id string, decide decider) (crm.Conversation, *crm.Event, error) {
	for try := 1; ; try++ {
		c, err := e.store.Conversation(ctx, id)
		if err != nil {
			return c, nil, err
		}
		ev, _, err := decide(c)
		if errors.Is(err, errUnchanged) {
			return c, nil, nil
		}
		if err != nil {
			return c, nil, err
		}
		updated, stored, err := e.store.Transition(ctx, id, ev, func(cur *crm.Conversation) error {
			again, apply, err := decide(*cur)
			switch {
			case err != nil:
				return err
			case again != ev:
				return errMoved
			}
			apply(cur)
			return nil
		})
		switch {
		case (errors.Is(err, errMoved) || errors.Is(err, errUnchanged)) && try < moveTries:
			continue
		case errors.Is(err, errMoved):
			return c, nil, fmt.Errorf("%w: it kept changing", ErrState)
		case errors.Is(err, errUnchanged):
			return c, nil, nil
		case err != nil:
			return c, nil, err
		}
		e.publishState(updated)
		e.publishLifecycle(stored)
		return updated, &stored, nil
	}
}

func (e *Engine) publishState(c crm.Conversation) {
	e.events.Publish(Event{Type: EventState, ConversationID: c.ID, Conversation: &c})
}

func (e *Engine) publishLifecycle(ev crm.Event) {
	e.events.Publish(Event{Type: EventLifecycle, ConversationID: ev.ConversationID, Lifecycle: &ev})
}

// queueOr returns q, or the domain's default queue when q is empty.
func (e *Engine) queueOr(q string) string {
	if q == "" {
		return e.domain.Policy.DefaultQueue
	}
	return q
}

// clip cuts s to at most n bytes at a rune boundary, for event texts.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
