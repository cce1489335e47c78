package slack

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// The agent side: handed-off conversations are posted to the agent channel
// as cards, each card's thread mirrors its conversation, and agents answer
// (or write private notes) in the thread and press the card's buttons.
// Nothing here runs unless Config.AgentChannel is set.

// Link keys of the agent side (crm.ChannelStateStore).
const (
	// agentCardKey + conversation id → the ts of its card.
	agentCardKey = "slack:a:card:"
	// agentThreadKey + card ts → the conversation id.
	agentThreadKey = "slack:a:thread:"
	// agentSentKey + conversation id → "<message seq> <event seq>": how far
	// the conversation's messages and lifecycle events are mirrored in the
	// card's thread (the durable mirror cursor).
	agentSentKey = "slack:a:sent:"
)

// The card's buttons; each carries the conversation id as its value.
const (
	actionTake    = "parley_take"
	actionReturn  = "parley_return"
	actionResolve = "parley_resolve"
)

// slackActor is the actor of the notes the adapter writes itself (a
// message it could not deliver); they are not mirrored back to Slack.
const slackActor = "slack"

// storeTimeout bounds the store writes made after a post, which must be
// made even while the adapter shuts down.
const storeTimeout = 10 * time.Second

// isAgentAction reports whether a button belongs to the agent side's cards.
func isAgentAction(actionID string) bool {
	switch actionID {
	case actionTake, actionReturn, actionResolve:
		return true
	}
	return false
}

// agentState is what the agent side remembers about conversations with a
// card (or one on its way). The zero value is ready to use. Entries go
// when their conversation is resolved and nothing is in flight; the
// durable links are the truth, the entries only what is queued.
type agentState struct {
	mu    sync.Mutex
	convs map[string]*agentConv // by conversation id; guarded by mu
	// posting counts the cards sent to Slack whose links are not stored
	// yet (cardOf waits for them).
	posting atomic.Int32
}

// carding reports whether some card is on its way to Slack.
func (s *agentState) carding() bool { return s.posting.Load() > 0 }

// agentConv is one conversation's mirror. Lock order: agentConv.mu, then
// agentState.mu; never the other way.
type agentConv struct {
	id string

	// mu guards the fields below. It is held while a conversation's
	// mirror reads the store and queues posts, so posts are queued in
	// order, and while a note from Slack is stored, so its echo is known
	// before the mirror can see it.
	mu         sync.Mutex
	dead       bool   // evicted from agentState: look the conversation up again
	cardTS     string // the card's ts; "" until it is posted
	carding    bool   // the card is on its way
	cardFailed bool   // the card could not be posted: the next event tries again
	resolved   bool   // the conversation was resolved (last state seen)
	inflight   int    // posts queued whose Done has not come yet
	// msgQueued and evQueued: messages and lifecycle events up to these
	// seqs are posted or queued (or skipped). msgSent and evSent: the
	// durable cursor as last stored.
	msgQueued, evQueued uint64
	msgSent, evSent     uint64
	// echo holds the seqs of notes agents wrote in the thread: they are
	// not posted back.
	echo map[uint64]bool
}

// lockConv returns the conversation's mirror, locked, or nil when it has
// no card (none posted and none on its way) and create is false. With
// create it makes an entry without a card.
func (a *Adapter) lockConv(ctx context.Context, id string, create bool) (*agentConv, error) {
	for {
		a.agents.mu.Lock()
		c := a.agents.convs[id]
		a.agents.mu.Unlock()
		if c == nil {
			var err error
			if c, err = a.loadConv(ctx, id, create); c == nil || err != nil {
				return nil, err
			}
		}
		c.mu.Lock()
		if !c.dead {
			return c, nil
		}
		c.mu.Unlock()
	}
}

// loadConv reads a conversation's card and cursor from the store and adds
// its entry (or returns the one another goroutine added meanwhile).
func (a *Adapter) loadConv(ctx context.Context, id string, create bool) (*agentConv, error) {
	ts, err := a.store.Link(ctx, agentCardKey+id)
	switch {
	case errors.Is(err, crm.ErrNotFound) && !create:
		return nil, nil
	case err != nil && !errors.Is(err, crm.ErrNotFound):
		return nil, fmt.Errorf("read the card of %s: %w", id, err)
	}
	c := &agentConv{id: id, cardTS: ts}
	if ts != "" {
		v, err := a.store.Link(ctx, agentSentKey+id)
		if err != nil && !errors.Is(err, crm.ErrNotFound) {
			return nil, fmt.Errorf("read the mirror cursor of %s: %w", id, err)
		}
		c.msgSent, c.evSent = parseCursor(v)
		c.msgQueued, c.evQueued = c.msgSent, c.evSent
	}
	a.agents.mu.Lock()
	defer a.agents.mu.Unlock()
	if a.agents.convs == nil {
		a.agents.convs = make(map[string]*agentConv)
	}
	if old := a.agents.convs[id]; old != nil {
		return old, nil
	}
	a.agents.convs[id] = c
	return c, nil
}

// parseCursor reads an agentSentKey value; a missing or malformed one is
// the start.
func parseCursor(v string) (msg, ev uint64) {
	m, e, _ := strings.Cut(v, " ")
	msg, _ = strconv.ParseUint(m, 10, 64)
	ev, _ = strconv.ParseUint(e, 10, 64)
	return msg, ev
}

// evictLocked forgets a resolved conversation with nothing in flight;
// c.mu is held. Its links stay: a later message finds the card again.
func (a *Adapter) evictLocked(c *agentConv) {
	if !c.resolved || c.inflight > 0 || c.carding || c.dead {
		return
	}
	a.forgetLocked(c)
}

// forgetLocked removes c from agentState; c.mu is held.
func (a *Adapter) forgetLocked(c *agentConv) {
	c.dead = true
	a.agents.mu.Lock()
	if a.agents.convs[c.id] == c {
		delete(a.agents.convs, c.id)
	}
	a.agents.mu.Unlock()
}

// agentEvent follows the engine's events: a conversation that waits for an
// agent (or that an agent holds) gets a card, and what happens in a carded
// conversation is mirrored into the card's thread. It reads the store but
// only queues posts, so a Slack outage never holds up the engine.
func (a *Adapter) agentEvent(ctx context.Context, ev dialog.Event) {
	if a.cfg.AgentChannel == "" {
		return
	}
	var err error
	switch ev.Type {
	case dialog.EventState:
		if ev.Conversation != nil {
			err = a.agentConversation(ctx, *ev.Conversation)
		}
	case dialog.EventMessage, dialog.EventLifecycle:
		err = a.agentMirror(ctx, ev.ConversationID)
	case dialog.EventErased:
		err = a.agentErased(ctx, ev.ConversationID)
	}
	if err != nil && ctx.Err() == nil {
		a.log.Error("slack agent side", "conversation", ev.ConversationID, "event", ev.Type, "err", err)
	}
}

// agentConversation brings the agent channel up to date with conv as it is
// now: a card when it waits for an agent or an agent holds it and it has
// none; the mirror caught up when it has one.
func (a *Adapter) agentConversation(ctx context.Context, conv crm.Conversation) error {
	wantCard := conv.State == crm.StateWaiting || conv.State == crm.StateAgent
	c, err := a.lockConv(ctx, conv.ID, wantCard)
	if c == nil {
		return err
	}
	defer c.mu.Unlock()
	c.resolved = conv.State == crm.StateResolved
	switch {
	case c.carding:
		return nil // the card's Done mirrors what came meanwhile
	case c.cardTS == "" && wantCard:
		return a.postCardLocked(ctx, c)
	case c.cardTS == "":
		a.forgetLocked(c) // no card, and none wanted (a failed one included)
		return nil
	}
	err = a.mirrorLocked(ctx, c)
	a.evictLocked(c)
	return err
}

// agentMirror catches up the thread of a carded conversation (nothing
// when it has no card), or posts the card that failed before.
func (a *Adapter) agentMirror(ctx context.Context, id string) error {
	c, err := a.lockConv(ctx, id, false)
	if c == nil {
		return err
	}
	if c.cardTS == "" && c.cardFailed && !c.carding {
		c.mu.Unlock()
		conv, err := a.store.Conversation(ctx, id)
		if err != nil {
			return fmt.Errorf("read conversation %s: %w", id, err)
		}
		return a.agentConversation(ctx, conv)
	}
	defer c.mu.Unlock()
	err = a.mirrorLocked(ctx, c)
	a.evictLocked(c)
	return err
}

// agentErased says in the thread that the conversation is gone, and
// forgets it.
func (a *Adapter) agentErased(ctx context.Context, id string) error {
	c, err := a.lockConv(ctx, id, false)
	if c == nil {
		return err
	}
	defer c.mu.Unlock()
	if c.cardTS != "" {
		a.out.send(outMsg{Channel: a.cfg.AgentChannel, ThreadTS: c.cardTS,
			Text: "_The conversation and its customer's data were erased in Parley._", Done: a.logFailure(id, "the erasure notice")})
	}
	a.forgetLocked(c)
	return nil
}

// agentCatchUp posts the cards missing for conversations that wait for an
// agent or that an agent holds (handed off while the adapter was not
// running), and catches up the threads of those with a card.
func (a *Adapter) agentCatchUp(ctx context.Context) error {
	if a.cfg.AgentChannel == "" {
		return nil
	}
	var errs []error
	for _, st := range []crm.ConversationState{crm.StateWaiting, crm.StateAgent} {
		convs, err := a.store.OpenConversations(ctx, crm.ConversationFilter{State: st})
		if err != nil {
			return fmt.Errorf("list %s conversations: %w", st, err)
		}
		for _, conv := range convs {
			if err := a.agentConversation(ctx, conv); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// postCardLocked queues the conversation's card; c.mu is held. The card
// shows the last turns, so the mirror starts after them (and after the
// lifecycle events so far: the card says why it was handed off).
func (a *Adapter) postCardLocked(ctx context.Context, c *agentConv) error {
	// The event may be old news (the stream lags): the card shows the
	// conversation as it is now, and none is posted when it no longer
	// waits for an agent and no agent holds it.
	conv, err := a.store.Conversation(ctx, c.id)
	if err != nil {
		return fmt.Errorf("card for %s: %w", c.id, err)
	}
	if conv.State != crm.StateWaiting && conv.State != crm.StateAgent {
		a.forgetLocked(c)
		return nil
	}
	recent, err := a.store.RecentMessages(ctx, conv.ID, cardTurns)
	if err != nil {
		return fmt.Errorf("card for %s: %w", conv.ID, err)
	}
	events, err := a.store.Events(ctx, conv.ID, 0, 0)
	if err != nil {
		return fmt.Errorf("card for %s: %w", conv.ID, err)
	}
	text, blocks := a.agentCard(ctx, conv, recent, events)
	c.msgQueued, c.evQueued = 0, 0
	if len(recent) > 0 {
		c.msgQueued = recent[len(recent)-1].Seq
	}
	if len(events) > 0 {
		c.evQueued = events[len(events)-1].Seq
	}
	c.carding, c.cardFailed = true, false
	a.agents.posting.Add(1)
	a.out.send(outMsg{Channel: a.cfg.AgentChannel, Text: text, Blocks: blocks, Done: func(ts string, err error) {
		a.cardPosted(ctx, c, ts, err)
	}})
	return nil
}

// cardPosted records a posted card (its links, then the mirror from where
// the card ends) or its failure.
func (a *Adapter) cardPosted(ctx context.Context, c *agentConv, ts string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer a.agents.posting.Add(-1) // once the links are stored
	c.carding = false
	if err == nil && ts == "" {
		err = errors.New("chat.postMessage returned no ts")
	}
	if err != nil {
		c.cardFailed = true
		a.deliveryFailed(ctx, c.id, "the handoff card for the agent channel", err)
		a.evictLocked(c)
		return
	}
	c.cardTS = ts
	// The cursor first and the card link last: a crash in between posts
	// a second card at the next start rather than the whole history.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	a.saveCursorLocked(wctx, c, c.msgQueued, c.evQueued)
	for _, l := range [][2]string{{agentThreadKey + ts, c.id}, {agentCardKey + c.id, ts}} {
		if err := a.store.PutLink(wctx, l[0], l[1]); err != nil {
			a.log.Error("slack: store the card link", "conversation", c.id, "key", l[0], "err", err)
		}
	}
	if err := a.mirrorLocked(ctx, c); err != nil && ctx.Err() == nil {
		a.log.Error("slack: mirror into the card's thread", "conversation", c.id, "err", err)
	}
	a.evictLocked(c)
}

// mirrorLocked queues, in the card's thread, the conversation's messages
// and lifecycle events after those queued before; c.mu is held and the
// card is posted. Skipped ones (the echo guard) advance the cursor too.
func (a *Adapter) mirrorLocked(ctx context.Context, c *agentConv) error {
	if c.cardTS == "" {
		return nil
	}
	msgs, err := a.store.MessagesAfter(ctx, c.id, c.msgQueued, 0)
	if err != nil {
		return fmt.Errorf("mirror %s: %w", c.id, err)
	}
	events, err := a.store.Events(ctx, c.id, c.evQueued, 0)
	if err != nil {
		return fmt.Errorf("mirror %s: %w", c.id, err)
	}
	msgTo, evTo := c.msgQueued, c.evQueued
	var posts []outMsg
	for len(msgs) > 0 || len(events) > 0 {
		var line string
		// Merge by time; a message and an event of one instant: the
		// message first (a turn stores its replies before its events).
		if len(events) == 0 || len(msgs) > 0 && !msgs[0].CreatedAt.After(events[0].At) {
			m := msgs[0]
			msgs = msgs[1:]
			msgTo = m.Seq
			if !a.echoMessage(m) {
				line = a.messageLine(ctx, m)
			}
		} else {
			ev := events[0]
			events = events[1:]
			evTo = ev.Seq
			if ev.Type == crm.EventNote && c.echo[ev.Seq] {
				delete(c.echo, ev.Seq)
			} else {
				line = a.eventLine(ctx, ev)
			}
		}
		if line != "" {
			posts = append(posts, outMsg{Channel: a.cfg.AgentChannel, ThreadTS: c.cardTS, Text: line,
				Done: a.mirrorDone(ctx, c, msgTo, evTo)})
		}
	}
	c.msgQueued, c.evQueued = msgTo, evTo
	if len(posts) == 0 && c.inflight == 0 {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer cancel()
		a.saveCursorLocked(wctx, c, msgTo, evTo)
	}
	c.inflight += len(posts)
	for _, p := range posts {
		a.out.send(p)
	}
	return nil
}

// echoMessage reports whether m came from the agent channel (an agent's
// reply in a card's thread): it is in the thread already.
func (a *Adapter) echoMessage(m crm.Message) bool {
	return strings.HasPrefix(m.ClientID, "slack:"+a.cfg.AgentChannel+":")
}

// mirrorDone is the Done of a mirrored line: it stores the cursor (up to
// everything queued once nothing is in flight). A line that could not be
// posted is passed over: the console gets a note saying so.
func (a *Adapter) mirrorDone(ctx context.Context, c *agentConv, msgTo, evTo uint64) func(string, error) {
	return func(_ string, err error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.inflight--
		if err != nil {
			a.deliveryFailed(ctx, c.id, "a line in the agent channel's thread", err)
		}
		if c.inflight == 0 {
			msgTo, evTo = c.msgQueued, c.evQueued
		}
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer cancel()
		a.saveCursorLocked(wctx, c, msgTo, evTo)
		a.evictLocked(c)
	}
}

// saveCursorLocked stores the mirror cursor when it moved forward; c.mu
// is held.
func (a *Adapter) saveCursorLocked(ctx context.Context, c *agentConv, msg, ev uint64) {
	msg, ev = max(msg, c.msgSent), max(ev, c.evSent)
	if msg == c.msgSent && ev == c.evSent {
		return
	}
	v := strconv.FormatUint(msg, 10) + " " + strconv.FormatUint(ev, 10)
	if err := a.store.PutLink(ctx, agentSentKey+c.id, v); err != nil {
		a.log.Error("slack: store the mirror cursor", "conversation", c.id, "err", err)
		return
	}
	c.msgSent, c.evSent = msg, ev
}

// deliveryFailed logs a post that failed for good and notes it on the
// conversation, so that the console shows it. The note's actor is
// slackActor: it is not mirrored (it would fail the same way).
func (a *Adapter) deliveryFailed(ctx context.Context, id, what string, err error) {
	if errors.Is(err, context.Canceled) {
		return // shutting down: the catch-up at the next start sends it
	}
	a.log.Error("slack: delivery failed", "conversation", id, "what", what, "err", err)
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	text := clip("Slack delivery failed: "+what+": "+err.Error(), 1000)
	if _, nerr := a.engine.Note(nctx, id, dialog.Actor{Login: slackActor}, text); nerr != nil {
		a.log.Error("slack: note a delivery failure", "conversation", id, "err", nerr)
	}
}

// logFailure is a Done that only logs a failure.
func (a *Adapter) logFailure(id, what string) func(string, error) {
	return func(_ string, err error) {
		if err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("slack: delivery failed", "conversation", id, "what", what, "err", err)
		}
	}
}
