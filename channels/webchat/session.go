package webchat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// errOtherCustomer stops linking a conversation that belongs to someone else.
var errOtherCustomer = errors.New("conversation belongs to another customer")

// hello opens or resumes the conversation, says welcome, replays the
// messages the client lacks, and starts the pump; the worker starts later,
// in queue, with the first frame for it.
//
// A new conversation is not stored here: hello picks its id and issues a
// new conversation's token (token.go), and the first message stores it
// (Receive with Inbound.Start), so that a visitor who never writes costs
// the store nothing. A resume with such a token, of a conversation still
// not stored, gets the empty conversation while the token is recent
// (Limits.NewTokenTTL) and the client has seen no message (last_seq 0);
// otherwise, and with a stored conversation's token whose conversation is
// gone, it gets invalid_token. So a conversation that was stored and then
// erased is not revived by a stored conversation's token (which every
// welcome after its first message gives), nor by its first token from a
// client that saw any of its messages (the ack of its first message
// included). What is left is a client that sent a first message, never got
// its ack, and comes back within NewTokenTTL of its hello after an erasure:
// it gets an empty conversation, and nothing erased comes back.
func (c *conn) hello(f clientFrame) {
	ctx := c.h.work
	if ok, wait := c.h.hellos.take(c.ip, c.h.now()); !ok {
		c.h.stats.hellos.Add(1)
		c.sendError(&frameError{Code: codeRateLimited, Message: "too many new chats from this address; reconnect later"}, wait)
		c.closeWith(websocket.CloseTryAgainLater, "hello rate limited")
		return
	}
	var (
		conv   crm.Conversation
		stored bool
		issued time.Time // of a new conversation's token
	)
	if f.Token != "" {
		id, at, ok := verifyToken(c.h.key, f.Token)
		if !ok {
			c.refuse(&frameError{Code: codeInvalidToken, Message: "token not issued by this server"}, websocket.ClosePolicyViolation)
			return
		}
		var err error
		conv, err = c.h.store.Conversation(ctx, id)
		switch {
		case err == nil:
			stored = true
		case errors.Is(err, crm.ErrNotFound) && f.LastSeq == 0 && c.h.recent(at):
			// Issued by a recent hello, and the client has seen no
			// message: nothing was written yet.
			conv, issued = unstored(id), at
		case errors.Is(err, crm.ErrNotFound):
			// Issued here, but the conversation is gone (erased: the
			// client has seen its messages, or holds a stored
			// conversation's token), or a new conversation's token is
			// too old: start over.
			c.refuse(&frameError{Code: codeInvalidToken, Message: "conversation no longer exists"}, websocket.ClosePolicyViolation)
			return
		default:
			c.fail("resume conversation", err)
			return
		}
	}

	var customer *crm.Customer
	if f.Identity != nil {
		if !verifyIdentity(c.h.idSecret, f.Identity) {
			c.refuse(&frameError{Code: codeInvalidIdentity, Message: "identity signature is wrong, missing or not configured"}, websocket.ClosePolicyViolation)
			return
		}
		cu, err := c.linkCustomer(ctx, f.Identity)
		if errors.Is(err, crm.ErrInvalid) {
			c.refuse(&frameError{Code: codeInvalidIdentity, Message: "identity is malformed"}, websocket.ClosePolicyViolation)
			return
		}
		if err != nil {
			c.fail("link identity", err)
			return
		}
		customer = &cu
	}

	var err error
	switch {
	case conv.ID == "":
		conv = unstored(crm.NewID("conv"))
		issued = c.h.now()
	case stored && customer != nil && conv.CustomerID != customer.ID:
		conv, err = c.h.store.UpdateConversation(ctx, conv.ID, func(cv *crm.Conversation) error {
			if cv.CustomerID != "" && cv.CustomerID != customer.ID {
				return errOtherCustomer
			}
			cv.CustomerID = customer.ID
			return nil
		})
		if errors.Is(err, errOtherCustomer) {
			c.refuse(&frameError{Code: codeInvalidIdentity, Message: "the conversation belongs to another customer"}, websocket.ClosePolicyViolation)
			return
		}
		if err != nil {
			c.fail("link conversation", err)
			return
		}
	}
	c.convID = conv.ID
	if customer != nil {
		c.customerID = customer.ID
	}

	// Subscribe before reading the backlog: a message stored in between
	// comes as an event, and the pump skips what the backlog had.
	sub, unsubscribe := c.h.engine.Subscribe(conv.ID, subBuffer)
	// Also when welcome panics (recoverPanic ends the socket): only a
	// started pump keeps the subscription.
	unsubscribe = sync.OnceFunc(unsubscribe)
	defer func() {
		if !c.started {
			unsubscribe()
		}
	}()
	sent, ok := c.welcome(ctx, conv.ID, stored, issued, customer, f.LastSeq)
	if !ok {
		unsubscribe()
		return
	}
	c.helloDone = true
	_ = c.ws.SetReadDeadline(time.Now().Add(c.h.limits.PongTimeout))

	c.drainMu.Lock()
	defer c.drainMu.Unlock()
	if c.draining {
		unsubscribe() // the supervisor is closing the socket
		return
	}
	c.started = true
	c.group.Add(1)
	go func() { defer c.group.Done(); defer c.recoverPanic("pump"); c.pump(sub, unsubscribe, sent) }()
}

// unstored is the web chat conversation id before its first message stores
// it: empty, held by the bot.
func unstored(id string) crm.Conversation {
	return crm.Conversation{ID: id, Channel: crm.ChannelWeb, State: crm.StateBot}
}

// recent reports whether a new conversation's token issued at issued may
// still resume a conversation that is not stored.
func (h *Handler) recent(issued time.Time) bool {
	if issued.IsZero() {
		return false // a stored conversation's token
	}
	age := h.now().Sub(issued)
	return age < h.limits.NewTokenTTL && age > -time.Minute // a minute of clock skew between nodes
}

// welcome sends welcome, the messages after lastSeq and, for a resolved
// conversation not yet rated, csat_request, and sets c.stored. It returns
// the highest seq the client now has. A conversation that hello found
// unstored (stored false) is welcomed as new and empty with the token
// issued at issued, unless a message of another socket stored it since.
func (c *conn) welcome(ctx context.Context, convID string, stored bool, issued time.Time, customer *crm.Customer, lastSeq uint64) (uint64, bool) {
	conv, err := c.h.store.Conversation(ctx, convID)
	switch {
	case err == nil:
		stored = true
	case errors.Is(err, crm.ErrNotFound) && !stored:
		conv = unstored(convID)
	default:
		c.fail("welcome", err)
		return 0, false
	}
	c.stored = stored
	w := welcomeFrame{
		V: version, Type: typeWelcome, Token: signToken(c.h.key, conv.ID), ConversationID: conv.ID,
		LastSeq: conv.LastSeq, State: string(conv.State),
	}
	if !stored {
		w.Token = signNewToken(c.h.key, conv.ID, issued)
	}
	switch {
	case customer != nil:
		w.CustomerName = customer.Name
	case conv.CustomerID != "":
		if cu, err := c.h.store.Customer(ctx, conv.CustomerID); err == nil {
			w.CustomerName = cu.Name
		}
	}
	if !c.sendFrame(encode(w)) {
		return 0, false
	}
	if !stored {
		return 0, true
	}
	// A client that claims more than is stored (a store restored from an
	// older backup) gets the messages stored from here on again.
	sent := min(lastSeq, conv.LastSeq)
	for {
		msgs, err := c.h.store.MessagesAfter(ctx, conv.ID, sent, c.h.limits.Backlog)
		if err != nil {
			c.fail("replay messages", err)
			return 0, false
		}
		for _, m := range msgs {
			if !c.sendFrame(encodeMessage(m)) {
				return 0, false
			}
			sent = m.Seq
		}
		if len(msgs) < c.h.limits.Backlog {
			break
		}
	}
	if conv.State == crm.StateResolved && c.shouldAskRating(ctx) {
		if !c.sendFrame(encodeCSATRequest()) {
			return 0, false
		}
	}
	return sent, true
}

// shouldAskRating reports whether the conversation still lacks a rating;
// when the store cannot say, it asks (a second rating gets bad_score).
func (c *conn) shouldAskRating(ctx context.Context) bool {
	rated, err := c.h.engine.Rated(ctx, c.convID)
	if err != nil {
		c.h.log.Error("webchat rated", "conversation", c.convID, "err", err)
		return true
	}
	return !rated
}

// fail reports a server-side failure during hello and closes the socket
// (1011): the client reconnects with backoff.
func (c *conn) fail(op string, err error) {
	c.h.log.Error("webchat "+op, "remote", c.ip, "conversation", c.convID, "err", err)
	c.refuse(&frameError{Code: codeInternal, Message: "the server could not open the conversation; reconnect later"}, websocket.CloseInternalServerErr)
}

// linkCustomer finds the CRM customer of a verified identity: by its web
// identity, else by e-mail (and then records the identity), else it creates
// one. A race with another socket of the same user ends in ErrConflict,
// after which it looks again.
func (c *conn) linkCustomer(ctx context.Context, id *identity) (crm.Customer, error) {
	ident := crm.Identity{Channel: crm.ChannelWeb, ExternalID: id.UserID}
	st := c.h.store
	for range 3 {
		cu, err := st.CustomerByIdentity(ctx, ident)
		if err == nil || !errors.Is(err, crm.ErrNotFound) {
			return cu, err
		}
		if id.Email != "" {
			cu, err = st.CustomerByEmail(ctx, id.Email)
			switch {
			case err == nil:
				cu, err = st.UpdateCustomer(ctx, cu.ID, func(x *crm.Customer) error {
					if !slices.Contains(x.Identities, ident) {
						x.Identities = append(x.Identities, ident)
					}
					return nil
				})
				if !errors.Is(err, crm.ErrConflict) {
					return cu, err
				}
				continue
			case !errors.Is(err, crm.ErrNotFound):
				return cu, err
			}
		}
		cu, err = st.CreateCustomer(ctx, crm.Customer{Name: id.Name, Email: id.Email, Identities: []crm.Identity{ident}})
		if !errors.Is(err, crm.ErrConflict) {
			return cu, err
		}
	}
	return crm.Customer{}, fmt.Errorf("link identity %q: %w", id.UserID, crm.ErrConflict)
}

// work hands the client's messages and CSAT answers to the engine, one at a
// time. On Shutdown it finishes what the reader queued, lets the pump
// forward the resulting events, and returns.
func (c *conn) work() {
	defer close(c.workDone)
	for {
		select {
		case f := <-c.inbox:
			c.do(*f)
		case <-c.done:
			return
		case <-c.drainCh:
			c.finish()
			close(c.flushCh)
			select {
			case <-c.pumpDone:
			case <-c.done:
			}
			return
		}
	}
}

// finish handles the frames still queued; once the inbox is empty under
// drainMu, the reader queues no more.
func (c *conn) finish() {
	for {
		select {
		case f := <-c.inbox:
			c.do(*f)
			continue
		case <-c.done:
			return
		default:
		}
		c.drainMu.Lock()
		if len(c.inbox) == 0 {
			c.gone = true
			c.drainMu.Unlock()
			return
		}
		c.drainMu.Unlock()
	}
}

func (c *conn) do(f clientFrame) {
	switch f.Type {
	case typeMessage:
		c.message(f)
	case typeCSAT:
		c.rate(f)
	}
}

// message hands one customer message to the engine: Receive stores it, the
// pump acks it, and only then does Answer publish it and the replies, so
// that the ack comes before them (the pump skips the message's own event).
// A resend of a stored message is acked again and not answered twice.
func (c *conn) message(f clientFrame) {
	in := dialog.Inbound{ConversationID: c.convID, Text: f.Text, ClientID: f.ClientID, Source: "ip:" + c.ip}
	if !c.stored {
		// The first message stores the conversation (hello did not).
		in.Start = &dialog.StartRequest{Channel: crm.ChannelWeb, CustomerID: c.customerID}
	}
	r, err := c.h.engine.Receive(c.h.work, in)
	if err == nil {
		c.stored = true
	}
	if err != nil {
		fe := &frameError{Code: codeInternal, Message: "the server could not take the message; resend it later", ClientID: f.ClientID}
		switch {
		case errors.Is(err, crm.ErrTooLarge):
			fe.Code, fe.Message = codeTooLarge, "message too large"
		case errors.Is(err, crm.ErrInvalid) && !utf8.ValidString(f.Text):
			fe.Code, fe.Message = codeInvalidUTF8, "message is not valid UTF-8"
		case errors.Is(err, crm.ErrInvalid):
			fe.Code, fe.Message = codeBadFrame, "message refused by the store"
		default:
			c.h.log.Error("webchat receive message", "conversation", c.convID, "err", err)
		}
		c.sendError(fe, 0)
		return
	}
	// When the socket is ending the ack is lost (the client resends after
	// it reconnects), but the stored message is answered all the same.
	acked := c.handAck(r.Message)
	if _, err := c.h.engine.Answer(c.h.work, r); err != nil {
		c.h.log.Error("webchat answer message", "conversation", c.convID, "seq", r.Message.Seq, "err", err)
		if acked {
			c.sendError(&frameError{Code: codeInternal, Message: "your message was received but could not be answered"}, 0)
		}
	}
}

// ackRequest asks the pump to ack a stored message; it answers on done
// once the ack is queued (false: the socket ended).
type ackRequest struct {
	m    crm.Message
	done chan bool // buffered (1): the pump never waits on it
}

// handAck passes a stored message to the pump and waits until the pump has
// queued its ack, so that what the worker sends next (an error, say)
// follows it; false when the socket or the pump ended first.
func (c *conn) handAck(m crm.Message) bool {
	req := ackRequest{m: m, done: make(chan bool, 1)}
	select {
	case c.acks <- req:
	case <-c.pumpDone:
		return false
	case <-c.done:
		return false
	}
	select {
	case ok := <-req.done:
		return ok
	case <-c.done:
		return false
	}
}

func (c *conn) rate(f clientFrame) {
	badScore := &frameError{Code: codeBadScore, Message: "no rating was asked for, or it was given already"}
	if !c.stored { // a conversation not stored was never resolved
		c.sendError(badScore, 0)
		return
	}
	_, err := c.h.engine.Rate(c.h.work, c.convID, f.Score, f.Comment)
	switch {
	case err == nil:
		c.sendFrame(encode(csatAckFrame{V: version, Type: typeCSATAck, Score: f.Score}))
	case errors.Is(err, dialog.ErrNotResolved), errors.Is(err, dialog.ErrAlreadyRated), errors.Is(err, crm.ErrInvalid),
		errors.Is(err, crm.ErrNotFound):
		c.sendError(badScore, 0)
	default:
		c.h.log.Error("webchat rate", "conversation", c.convID, "err", err)
		c.sendError(&frameError{Code: codeInternal, Message: "the rating could not be stored; send it again later"}, 0)
	}
}

// pump turns the conversation's events into frames. It never blocks the
// engine: the subscription drops it if it falls behind, and then the socket
// is closed so that the client resumes from its last seq.
func (c *conn) pump(sub <-chan dialog.Event, unsubscribe func(), sent uint64) {
	defer close(c.pumpDone)
	defer unsubscribe()
	c.sent = sent
	for {
		select {
		case ev, ok := <-sub:
			if !ok {
				c.lost()
				return
			}
			if !c.event(ev) {
				return
			}
		case req := <-c.acks:
			ok := c.ack(req.m)
			req.done <- ok
			if !ok {
				return
			}
		case <-c.flushCh:
			for {
				select {
				case ev, ok := <-sub:
					if !ok || !c.event(ev) {
						return
					}
				default:
					return
				}
			}
		case <-c.done:
			return
		}
	}
}

// lost handles the end of the subscription: the engine dropped this socket
// or closed its stream.
func (c *conn) lost() {
	c.h.stats.dropped.Add(1)
	c.closeWith(websocket.CloseTryAgainLater, "events lost; resume")
}

// event forwards one event; false when the socket ended.
func (c *conn) event(ev dialog.Event) bool {
	switch ev.Type {
	case dialog.EventMessage:
		if ev.Message == nil {
			return true
		}
		return c.deliver(*ev.Message)
	case dialog.EventTyping:
		switch ev.Sender {
		case crm.SenderCustomer: // the customer's own, for the agents
			return true
		case crm.SenderAgent: // who is typing stays with the agents
			return c.push(encode(typingFrame{V: version, Type: typeTyping, Sender: string(crm.SenderAgent), Typing: ev.Typing}))
		}
		return c.push(encode(typingFrame{V: version, Type: typeTyping, Sender: string(crm.SenderBot), Typing: ev.Typing}))
	case dialog.EventLifecycle:
		// Claims, transfers and agents' private notes are for the
		// agents: a note must never reach the customer.
		return true
	case dialog.EventErased: // the customer's data was erased: the conversation is gone
		c.closeWith(closeErased, "conversation erased")
		return false
	case dialog.EventState:
		if ev.Conversation == nil {
			return true
		}
		cv := ev.Conversation
		if !c.push(encode(stateFrame{V: version, Type: typeState, State: string(cv.State), Queue: cv.Queue})) {
			return false
		}
		if cv.State == crm.StateResolved && c.shouldAskRating(c.h.work) {
			return c.push(encodeCSATRequest())
		}
	}
	return true
}

// ack sends the ack of a customer message the worker stored, after any
// stored message the client lacks before it. A resend of a message the
// client has (its seq is not above sent) is acked again.
func (c *conn) ack(m crm.Message) bool {
	if !c.fill(m.Seq) {
		return false
	}
	c.sent = max(c.sent, m.Seq)
	return c.push(encodeAck(m))
}

// deliver sends a message the client lacks, after any stored message
// between the last one it has and this one, so that it sees every seq once
// and in order.
func (c *conn) deliver(m crm.Message) bool {
	if m.Seq <= c.sent {
		return true
	}
	if !c.fill(m.Seq) {
		return false
	}
	c.sent = m.Seq
	return c.push(encodeMessage(m))
}

// fill sends the stored messages after sent and before seq; false when the
// socket ended.
func (c *conn) fill(seq uint64) bool {
	if seq <= c.sent+1 {
		return true
	}
	gap, err := c.h.store.MessagesAfter(c.h.work, c.convID, c.sent, int(seq-c.sent-1))
	if err != nil {
		c.h.log.Error("webchat fill gap", "conversation", c.convID, "after", c.sent, "err", err)
	}
	for _, g := range gap {
		if g.Seq <= c.sent || g.Seq >= seq {
			continue
		}
		c.sent = g.Seq
		if !c.push(encodeMessage(g)) {
			return false
		}
	}
	return true
}
