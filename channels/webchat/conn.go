package webchat

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyhq/parley/crm"
)

// Close codes besides the standard ones (PROTOCOL.md).
const (
	closeHelloTimeout = 4000
	closeErased       = 4001 // the conversation was erased with its customer
	// closeGrace is how long the writer waits, after it sent a close frame,
	// for the client's answering close before it drops the connection.
	closeGrace = 2 * time.Second
	// subBuffer is the engine subscription's buffer: events that may pile up
	// while the pump waits for room in the send queue. A turn makes about
	// five; it is allocated for every socket, idle ones too.
	subBuffer = 32
	// inboxSize is how many messages a socket may have waiting for the
	// engine; the rate limits keep it far from full.
	inboxSize = 16
)

// outItem is one thing for the writer: a text frame, or the close frame
// that ends the socket.
type outItem struct {
	data  []byte
	close bool
	code  int
	text  string
}

// conn is one socket. Its goroutines:
//   - the supervisor (serve, started by ServeHTTP) waits for the end and
//     runs the graceful close on Shutdown;
//   - the reader reads and checks frames, says welcome and replays the
//     backlog, and passes messages and CSAT answers to the worker;
//   - the writer is the only one that writes frames, and sends pings;
//   - the worker (from the first message or CSAT answer on) calls the
//     engine, one frame at a time, in order;
//   - the pump (after hello) turns the conversation's events into frames
//     and acks the messages the worker stored, so it alone orders the
//     conversation's frames (sent).
type conn struct {
	h    *Handler
	ws   *websocket.Conn
	ip   string
	send chan outItem // to the writer

	done     chan struct{} // closed by kill: every goroutine stops
	killOnce sync.Once
	readDone chan struct{} // closed when the reader returns

	closeMu sync.Mutex
	closing bool   // guarded by closeMu: a close frame is queued; the writer ends the socket after it
	why     string // guarded by closeMu: why the socket ended, for the log

	drainCh   chan struct{} // closed by drain (Shutdown)
	drainOnce sync.Once
	drainMu   sync.Mutex
	draining  bool          // guarded by drainMu: the supervisor began the graceful close
	started   bool          // guarded by drainMu: the pump runs (hello is done)
	working   bool          // guarded by drainMu: the worker runs (started by the first frame for it)
	gone      bool          // guarded by drainMu: the worker takes no more frames
	workDone  chan struct{} // closed when the worker (and, on drain, the pump) returned
	flushCh   chan struct{} // closed on drain, by the worker or else the supervisor: the pump forwards what it holds and returns
	pumpDone  chan struct{} // closed when the pump returns

	group *sync.WaitGroup // the socket's goroutines; set by serve before they start

	// Owned by the reader; convID is written before the worker and the
	// pump start and only read after.
	convID    string
	helloDone bool
	limiter   bucket
	typingOn  bool   // the customer's typing as last passed on
	typingBkt bucket // starts of typing passed on (typingRate, typingBurst)

	// Set by the reader during hello, then owned by the worker: whether
	// the conversation is in the store (a new one is stored with its first
	// message, by Receive with Inbound.Start), and the customer a verified
	// identity linked, for that start.
	stored     bool
	customerID string

	inbox chan *clientFrame // reader to worker

	// acks hands the pump each message the worker stored, unbuffered: the
	// worker calls Answer (which publishes the message) only after the pump
	// queued the ack, so the ack precedes the message's event, the replies
	// and the worker's own frames about the message.
	acks chan ackRequest

	sent uint64 // owned by the pump: the highest seq the client has
}

func newConn(h *Handler, ws *websocket.Conn, ip string) *conn {
	return &conn{
		h: h, ws: ws, ip: ip,
		send:      make(chan outItem, h.limits.SendQueue),
		done:      make(chan struct{}),
		readDone:  make(chan struct{}),
		drainCh:   make(chan struct{}),
		workDone:  make(chan struct{}),
		flushCh:   make(chan struct{}),
		pumpDone:  make(chan struct{}),
		limiter:   newBucket(h.limits.ConnRate, h.limits.ConnBurst, h.now()),
		typingBkt: newBucket(typingRate, typingBurst, h.now()),
		inbox:     make(chan *clientFrame, inboxSize),
		acks:      make(chan ackRequest),
	}
}

// serve runs the socket until it ends and all its goroutines returned.
func (c *conn) serve() {
	var wg sync.WaitGroup
	c.group = &wg
	wg.Add(2)
	go func() { defer wg.Done(); defer c.recoverPanic("writer"); c.writeLoop() }()
	go func() { defer wg.Done(); defer c.recoverPanic("reader"); c.readLoop() }()
	select {
	case <-c.drainCh:
		c.drainMu.Lock()
		c.draining = true
		started, working := c.started, c.working
		c.drainMu.Unlock()
		switch {
		case working:
			select {
			case <-c.workDone:
			case <-c.done:
			}
		case started:
			// No message was ever handled: only the pump has to
			// forward what it holds.
			close(c.flushCh)
			select {
			case <-c.pumpDone:
			case <-c.done:
			}
		}
		c.closeWith(websocket.CloseGoingAway, "server shutting down")
	case <-c.done:
	}
	wg.Wait()
}

// recoverPanic, deferred in each of the socket's goroutines, turns a panic
// there (in the engine, the store or this package; hello runs in the
// reader, Answer in the worker) into the end of this one socket: it is
// logged once with its stack, the socket is closed with 1011 (internal
// error), and the process goes on. The goroutine's own deferred calls
// (closing readDone, workDone, pumpDone; unsubscribing) have run by then,
// so the others see it gone.
func (c *conn) recoverPanic(goroutine string) {
	v := recover()
	if v == nil {
		return
	}
	attrs := []any{"goroutine", goroutine, "remote", c.ip, "panic", fmt.Sprint(v), "stack", string(debug.Stack())}
	if goroutine != "writer" {
		// convID is written by the reader before the others start.
		attrs = append(attrs, "conversation", c.convID)
	}
	c.h.log.Error("webchat panic", attrs...)
	switch goroutine {
	case "writer":
		c.kill("panic") // nobody else can write the close frame
		return
	case "worker":
		// The reader hands it nothing more.
		c.drainMu.Lock()
		c.gone = true
		c.drainMu.Unlock()
	}
	c.closeWith(websocket.CloseInternalServerErr, "internal error")
}

// drain asks for the graceful close of Shutdown.
func (c *conn) drain() { c.drainOnce.Do(func() { close(c.drainCh) }) }

// kill ends the socket at once, without a close frame.
func (c *conn) kill(why string) {
	c.killOnce.Do(func() {
		c.closeMu.Lock()
		if c.why == "" {
			c.why = why
		}
		c.closeMu.Unlock()
		close(c.done)
		_ = c.ws.Close()
	})
}

func (c *conn) reason() string {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	return c.why
}

func (c *conn) isClosing() bool {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	return c.closing
}

// closeWith queues a close frame after the frames already queued; the
// writer sends it and ends the socket. Later calls do nothing.
func (c *conn) closeWith(code int, text string) {
	c.closeMu.Lock()
	if c.closing {
		c.closeMu.Unlock()
		return
	}
	c.closing = true
	if c.why == "" {
		c.why = text
	}
	c.closeMu.Unlock()
	select {
	case c.send <- outItem{close: true, code: code, text: text}:
	case <-c.done:
	}
}

// sendFrame queues a frame, waiting for room: for answers to the client's
// own frames and the backlog, where waiting slows down only this client.
// The writer's deadline bounds the wait. It reports false when the socket
// ended.
func (c *conn) sendFrame(b []byte) bool {
	queued, _ := c.enqueue(b, nil)
	return queued
}

// push queues a frame for an event. When the queue stays full for the write
// timeout, the client is too slow: it is dropped, so that the pump keeps
// draining the engine's subscription.
func (c *conn) push(b []byte) bool {
	// Most events find room at once, and need no timer.
	select {
	case c.send <- outItem{data: b}:
		c.h.stats.framesOut.Add(1)
		return true
	default:
	}
	t := time.NewTimer(c.h.limits.WriteTimeout)
	defer t.Stop()
	queued, expired := c.enqueue(b, t.C)
	if expired {
		c.h.stats.dropped.Add(1)
		c.kill("send queue full")
	}
	return queued
}

// enqueue waits for room in the send queue until the socket ends or expire
// fires (a nil expire never does).
func (c *conn) enqueue(b []byte, expire <-chan time.Time) (queued, expired bool) {
	select {
	case c.send <- outItem{data: b}:
		c.h.stats.framesOut.Add(1)
		return true, false
	case <-c.done:
		return false, false
	case <-expire:
		return false, true
	}
}

// sendError queues an error frame; retryAfter is set for rate_limited.
func (c *conn) sendError(fe *frameError, retryAfter time.Duration) bool {
	c.h.stats.errors[codeIndex(fe.Code)].Add(1)
	f := errorFrame{V: version, Type: typeError, Code: fe.Code, Message: fe.Message, ClientID: fe.ClientID}
	if retryAfter > 0 {
		f.RetryAfterMS = (retryAfter + time.Millisecond - 1).Milliseconds()
	}
	return c.sendFrame(encode(f))
}

// refuse sends an error that ends the socket, then the close frame.
func (c *conn) refuse(fe *frameError, code int) {
	c.sendError(fe, 0)
	c.closeWith(code, fe.Code)
}

func (c *conn) writeLoop() {
	lim := c.h.limits
	ping := time.NewTicker(lim.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case it := <-c.send:
			deadline := time.Now().Add(lim.WriteTimeout)
			if it.close {
				_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(it.code, it.text), deadline)
				t := time.NewTimer(closeGrace)
				select {
				case <-c.readDone:
				case <-c.done:
				case <-t.C:
				}
				t.Stop()
				c.kill(it.text)
				return
			}
			_ = c.ws.SetWriteDeadline(deadline)
			if err := c.ws.WriteMessage(websocket.TextMessage, it.data); err != nil {
				c.writeFailed(err)
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(lim.WriteTimeout)); err != nil {
				c.writeFailed(err)
				return
			}
		}
	}
}

func (c *conn) writeFailed(err error) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.h.stats.dropped.Add(1)
		c.kill("write timed out")
		return
	}
	c.kill("write failed")
}

func (c *conn) readLoop() {
	defer close(c.readDone)
	defer func() {
		if c.typingOn {
			// A customer who leaves while typing has stopped.
			c.h.engine.Typing(c.convID, crm.SenderCustomer, "", false)
		}
	}()
	lim := c.h.limits
	c.ws.SetReadLimit(lim.ReadLimit)
	_ = c.ws.SetReadDeadline(time.Now().Add(lim.HelloTimeout))
	c.ws.SetPongHandler(func(string) error {
		if c.helloDone {
			return c.ws.SetReadDeadline(time.Now().Add(lim.PongTimeout))
		}
		return nil
	})
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			c.readFailed(err)
			return
		}
		c.h.stats.framesIn.Add(1)
		if c.isClosing() {
			continue // read on until the client answers the close frame
		}
		if c.helloDone {
			_ = c.ws.SetReadDeadline(time.Now().Add(lim.PongTimeout))
		}
		if typ != websocket.TextMessage {
			// The protocol is JSON in text messages only (PROTOCOL.md):
			// a client that sends binary ones is broken, and no later
			// frame of it can be trusted to mean what it says.
			c.refuse(badFrame("binary websocket messages are not accepted: send each frame as a text message"), websocket.CloseUnsupportedData)
			continue
		}
		c.frame(data)
	}
}

func (c *conn) readFailed(err error) {
	var ne net.Error
	switch {
	case c.isClosing():
		// The writer ends the socket after its close frame.
	case errors.As(err, &ne) && ne.Timeout() && !c.helloDone:
		c.h.log.Debug("webchat hello timeout", "remote", c.ip)
		c.closeWith(closeHelloTimeout, "hello timeout")
	case errors.As(err, &ne) && ne.Timeout():
		c.kill("pong timeout")
	case errors.Is(err, websocket.ErrReadLimit):
		// gorilla has sent close 1009. Closing now, with the rest of the
		// frame unread, would reset the connection and could lose that
		// close frame on the client's side: read on (and discard) until
		// the client closes or closeGrace passes.
		c.closeMu.Lock()
		c.closing = true
		c.why = "frame over the read limit"
		c.closeMu.Unlock()
		nc := c.ws.NetConn()
		_ = nc.SetReadDeadline(time.Now().Add(closeGrace))
		_, _ = io.Copy(io.Discard, nc)
		c.kill("frame over the read limit")
	case websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived):
		c.kill("client closed")
	default:
		c.kill("read failed")
	}
}

// frame handles one frame from the client, in the reader.
func (c *conn) frame(data []byte) {
	f, fe := decodeFrame(data, c.h.limits.MaxText, c.h.limits.MaxTextBytes)
	switch {
	case fe != nil && fe.Code == codeUnsupportedVersion:
		c.refuse(fe, websocket.CloseProtocolError)
		return
	case fe != nil:
		c.sendError(fe, 0)
		return
	case !c.helloDone && f.Type != typeHello:
		c.sendError(&frameError{Code: codeHelloRequired, Message: "say hello first"}, 0)
		return
	}
	switch f.Type {
	case typeHello:
		if c.helloDone {
			c.sendError(badFrame("second hello on one socket"), 0)
			return
		}
		c.hello(f)
	case typeMessage, typeCSAT:
		if wait, ok := c.allow(); !ok {
			c.sendError(&frameError{Code: codeRateLimited, Message: "too many messages; retry later", ClientID: f.ClientID}, wait)
			return
		}
		c.queue(f)
	case typeTyping:
		c.typing(f.Typing)
	}
}

// typingRate and typingBurst bound how often a socket's "typing" reaches
// the agents: one start a second, with a burst of a few, so that a
// customer who sends two messages in a second is still seen typing the
// next (a fixed one start per second dropped that start, and the console
// showed nothing until the customer paused), while a client flooding
// typing frames costs the engine little. A stop goes only after a start.
const (
	typingRate  = 1
	typingBurst = 3
)

// typing passes the customer's typing on to the engine (the agents'
// console sees it), in the reader: only changes, and starts within
// typingRate and typingBurst.
func (c *conn) typing(on bool) {
	if on == c.typingOn {
		return
	}
	if on {
		if ok, _ := c.typingBkt.take(c.h.now()); !ok {
			return
		}
	}
	c.typingOn = on
	c.h.engine.Typing(c.convID, crm.SenderCustomer, "", on)
}

// allow takes a token from the socket's and the address's buckets.
func (c *conn) allow() (time.Duration, bool) {
	now := c.h.now()
	if ok, wait := c.limiter.take(now); !ok {
		return wait, false
	}
	if ok, wait := c.h.ips.take(c.ip, now); !ok {
		return wait, false
	}
	return 0, true
}

// queue passes a frame to the worker. Once the worker has stopped for
// Shutdown the frame is dropped unanswered: the client resends an unacked
// message after it reconnects.
func (c *conn) queue(f clientFrame) {
	c.drainMu.Lock()
	defer c.drainMu.Unlock()
	if c.gone || !c.started {
		return
	}
	if !c.working {
		// Most sockets are idle: the worker starts with the first
		// message, not with the socket.
		if c.draining {
			return
		}
		c.working = true
		c.group.Add(1)
		go func() { defer c.group.Done(); defer c.recoverPanic("worker"); c.work() }()
	}
	select {
	case c.inbox <- &f:
	case <-c.done:
	}
}
