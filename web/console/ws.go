package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/httpjson"
)

// Close codes besides the standard ones (PROTOCOL.md).
const (
	// closeSessionEnded: the agent logged out, or the session expired.
	closeSessionEnded = 4001
	// closeGrace is how long the writer waits, after it sent a close frame,
	// for the client's answering close before it drops the connection.
	closeGrace = 2 * time.Second
	// outQueue is how many answers to the client's own frames (acks,
	// errors) may wait for the writer.
	outQueue = 64
	// flushBatch is how many frames the writer takes from the ring at once.
	flushBatch = 256
)

// outItem is one frame for the writer: a text frame, or the close frame
// that ends the socket.
type outItem struct {
	data  []byte
	close bool
	code  int
	text  string
}

// startReq starts a socket's stream of event frames: after the frames
// after `after` (resume), or after its hello.
type startReq struct {
	resume bool
	after  uint64
}

// client is one agent's socket. The reader reads the agent's frames and
// acts on them (the engine's calls included, one at a time, in order); the
// writer is the only one that writes: the hello, the event frames it takes
// from the hub's ring (so the hub never waits for it), the answers the
// reader queues, and pings.
type client struct {
	h  *hub
	ws *websocket.Conn
	s  session

	hello uint64 // the seq the hello carried; set before the goroutines start

	out    chan outItem  // reader to writer
	notify chan struct{} // the hub's wake-up: new frames in the ring (1 buffered)
	start  chan startReq // reader to writer, once (1 buffered)

	ctx    context.Context // ends with the socket: the engine's and store's calls
	cancel context.CancelFunc

	done     chan struct{} // closed by kill
	killOnce sync.Once
	readDone chan struct{} // closed when the reader returns

	closeMu sync.Mutex
	closing bool   // guarded by closeMu: a close frame is queued
	why     string // guarded by closeMu: why the socket ended, for the log

	started bool // owned by the reader: the stream was started

	view viewing // guarded by hub.mu
}

// serveWS upgrades a request whose origin and session Console.serveWS
// checked, and runs the socket until it ends. When the hub is closed it
// answers 503 unavailable instead.
func (h *hub) serveWS(w http.ResponseWriter, r *http.Request, s session) {
	if !h.admit() {
		httpjson.WriteError(w, http.StatusServiceUnavailable, httpjson.CodeUnavailable, "the server is shutting down")
		return
	}
	defer h.sockets.Done()
	up := websocket.Upgrader{
		HandshakeTimeout: h.writeTimeout,
		// Console.serveWS checked it; checked again so that no other
		// path to this upgrade forgets it.
		CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") != "" && checkOrigin(r) == nil },
	}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered the error
	}
	cl := &client{
		h: h, ws: ws, s: s,
		out: make(chan outItem, outQueue), notify: make(chan struct{}, 1), start: make(chan startReq, 1),
		done: make(chan struct{}), readDone: make(chan struct{}),
	}
	cl.ctx, cl.cancel = context.WithCancel(context.Background())
	defer cl.cancel()
	hello, ok := h.register(cl)
	if !ok {
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"),
			time.Now().Add(h.writeTimeout))
		_ = ws.Close()
		return
	}
	cl.hello = hello
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); defer cl.recoverPanic("writer"); cl.writeLoop() }()
	go func() { defer wg.Done(); defer cl.recoverPanic("reader"); cl.readLoop() }()
	wg.Wait()
	h.unregister(cl)
	h.log.Debug("console socket closed", "agent", s.agent.Login, "why", cl.reason())
}

// recoverPanic, deferred in the socket's goroutines, turns a panic there
// into the end of this socket (1011), logged with its stack.
func (cl *client) recoverPanic(goroutine string) {
	v := recover()
	if v == nil {
		return
	}
	cl.h.log.Error("console socket panic", "goroutine", goroutine, "agent", cl.s.agent.Login,
		"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	if goroutine == "writer" {
		cl.kill("panic") // nobody else can write the close frame
		return
	}
	cl.closeWith(websocket.CloseInternalServerErr, "internal error")
}

// kill ends the socket at once, without a close frame.
func (cl *client) kill(why string) {
	cl.killOnce.Do(func() {
		cl.closeMu.Lock()
		if cl.why == "" {
			cl.why = why
		}
		cl.closeMu.Unlock()
		close(cl.done)
		cl.cancel()
		_ = cl.ws.Close()
	})
}

func (cl *client) reason() string {
	cl.closeMu.Lock()
	defer cl.closeMu.Unlock()
	return cl.why
}

func (cl *client) isClosing() bool {
	cl.closeMu.Lock()
	defer cl.closeMu.Unlock()
	return cl.closing
}

// closeWith queues a close frame after the frames already queued; the
// writer sends it and ends the socket. Later calls do nothing.
func (cl *client) closeWith(code int, text string) {
	cl.closeMu.Lock()
	if cl.closing {
		cl.closeMu.Unlock()
		return
	}
	cl.closing = true
	if cl.why == "" {
		cl.why = text
	}
	cl.closeMu.Unlock()
	select {
	case cl.out <- outItem{close: true, code: code, text: text}:
	case <-cl.done:
	}
}

// goingAway closes the socket for the server's shutdown.
func (cl *client) goingAway() { cl.closeWith(websocket.CloseGoingAway, "server shutting down") }

// sendFrame queues an answer for the writer, waiting for room; the
// writer's deadline bounds the wait. False when the socket ended.
func (cl *client) sendFrame(b []byte) bool {
	select {
	case cl.out <- outItem{data: b}:
		return true
	case <-cl.done:
		return false
	}
}

// writeLoop writes the hello, then the answers and, once the stream is
// started (by the client's first frame, or resumeGrace after the hello),
// the event frames from the ring after the cursor, and pings; it checks
// the session at each ping.
func (cl *client) writeLoop() {
	h := cl.h
	hello := helloFrame{Type: "hello", Seq: cl.hello, Agent: viewOf(cl.s.agent)}
	if !cl.write(encodeFrame(hello)) {
		return
	}
	ping := time.NewTicker(h.pingInterval)
	defer ping.Stop()
	grace := time.NewTimer(h.resumeGrace)
	defer grace.Stop()
	st := stream{cursor: cl.hello}
	for {
		select {
		case <-cl.done:
			return
		case it := <-cl.out:
			if it.close {
				cl.writeClose(it)
				return
			}
			if !cl.write(it.data) {
				return
			}
		case req := <-cl.start:
			grace.Stop()
			if !cl.begin(&st, req) || !cl.flush(&st) {
				return
			}
		case <-grace.C:
			st.live = true
			if !cl.flush(&st) {
				return
			}
		case <-cl.notify:
			if st.live && !cl.flush(&st) {
				return
			}
		case <-ping.C:
			if !cl.sessionLive() {
				cl.closeMu.Lock()
				cl.closing = true
				cl.why = "session ended"
				cl.closeMu.Unlock()
				cl.writeClose(outItem{close: true, code: closeSessionEnded, text: "session ended"})
				return
			}
			if err := cl.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(h.writeTimeout)); err != nil {
				cl.writeFailed(err)
				return
			}
		}
	}
}

// stream is where the writer is in the ring; owned by the writer.
type stream struct {
	cursor    uint64 // seq of the last frame looked at
	live      bool   // event frames are being sent
	pastHello bool   // a frame with a seq above the hello's went out
}

var resetFrame = []byte(`{"type":"reset"}`)

// begin starts the stream for the client's first frame: after its resume
// point when every frame after it is still in the ring (and no frame after
// the hello went out yet, or the order would break), else with a reset.
func (cl *client) begin(st *stream, req startReq) bool {
	defer func() { st.live = true }()
	switch {
	case !req.resume || req.after == cl.hello:
		return true
	case st.pastHello || req.after > cl.hello || !cl.h.resumable(req.after):
		return cl.write(resetFrame)
	}
	st.cursor = req.after
	return true
}

// flush writes the frames of the ring the agent may get after the cursor.
// A client that fell out of the ring gets a reset and continues from the
// newest frame (it reloads by REST).
func (cl *client) flush(st *stream) bool {
	for {
		frames, upto, lost := cl.h.framesAfter(cl, st.cursor, flushBatch)
		if lost {
			st.cursor = cl.h.latest()
			st.pastHello = true
			return cl.write(resetFrame)
		}
		if upto == st.cursor {
			return true
		}
		for _, f := range frames {
			if !cl.write(f) {
				return false
			}
		}
		st.cursor = upto
		if len(frames) > 0 && upto > cl.hello {
			st.pastHello = true
		}
	}
}

// write writes one text frame within the write timeout; a client that does
// not read is dropped.
func (cl *client) write(b []byte) bool {
	_ = cl.ws.SetWriteDeadline(time.Now().Add(cl.h.writeTimeout))
	if err := cl.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		cl.writeFailed(err)
		return false
	}
	return true
}

// writeClose sends a close frame and waits a little for the client's
// answer before it ends the socket.
func (cl *client) writeClose(it outItem) {
	_ = cl.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(it.code, it.text), time.Now().Add(cl.h.writeTimeout))
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-cl.readDone:
	case <-cl.done:
	case <-t.C:
	}
	cl.kill(it.text)
}

func (cl *client) writeFailed(err error) {
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		cl.kill("write timed out") // a slow client
		return
	}
	cl.kill("write failed")
}

// sessionLive reports whether the socket's session still holds, as a
// request's would (an open console counts as use: its expiry moves on): it
// ends when the agent was removed or their password changed. When the
// store cannot say, the session holds.
func (cl *client) sessionLive() bool {
	c := cl.h.c
	now := c.cfg.Now()
	if _, ok := c.auth.lookup(cl.s.id, now, now.Add(c.cfg.SessionTTL)); !ok {
		return false
	}
	a, err := c.cfg.Store.Agent(cl.ctx, cl.s.agent.Login)
	if errors.Is(err, crm.ErrNotFound) || err == nil && a.PasswordHash != cl.s.hash {
		c.auth.end(cl.s.id)
		return false
	}
	return true
}

func (cl *client) readLoop() {
	defer close(cl.readDone)
	h := cl.h
	cl.ws.SetReadLimit(h.readLimit)
	_ = cl.ws.SetReadDeadline(time.Now().Add(h.pongTimeout))
	cl.ws.SetPongHandler(func(string) error { return cl.ws.SetReadDeadline(time.Now().Add(h.pongTimeout)) })
	for {
		typ, data, err := cl.ws.ReadMessage()
		if err != nil {
			cl.readFailed(err)
			return
		}
		if cl.isClosing() {
			continue // read on until the client answers the close frame
		}
		_ = cl.ws.SetReadDeadline(time.Now().Add(h.pongTimeout))
		if typ != websocket.TextMessage {
			cl.sendError(&frameError{Code: codeBadFrame, Message: "send each frame as a text message"})
			cl.closeWith(websocket.CloseUnsupportedData, "binary message")
			continue
		}
		cl.frame(data)
	}
}

func (cl *client) readFailed(err error) {
	switch {
	case cl.isClosing():
		// The writer ends the socket after its close frame.
	case errors.Is(err, websocket.ErrReadLimit):
		// gorilla has sent close 1009; closing now, with the rest of
		// the frame unread, could lose it on the client's side: read on
		// (and discard) until the client closes or closeGrace passes.
		cl.closeMu.Lock()
		cl.closing = true
		cl.closeMu.Unlock()
		nc := cl.ws.NetConn()
		_ = nc.SetReadDeadline(time.Now().Add(closeGrace))
		_, _ = io.Copy(io.Discard, nc)
		cl.kill("frame over the read limit")
	default:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			cl.kill("pong timeout")
			return
		}
		cl.kill("client closed")
	}
}

// frame acts on one frame from the client, in the reader.
func (cl *client) frame(data []byte) {
	f, fe := decodeClientFrame(data)
	if fe != nil {
		cl.sendError(fe)
		return
	}
	if !cl.started {
		cl.started = true
		cl.start <- startReq{resume: f.Type == typeResume, after: f.After} // buffered: sent once
		if f.Type == typeResume {
			return
		}
	}
	switch f.Type {
	case typeResume:
		cl.sendError(&frameError{Code: codeBadFrame, Message: "resume only as the first frame of a socket"})
	case typePresence:
		cl.h.setPresence(cl, f.Presence)
	case typeView:
		if f.ConversationID == "" {
			cl.h.setView(cl, crm.Conversation{})
			return
		}
		if conv, ok := cl.visibleConversation(f); ok {
			cl.h.setView(cl, conv)
		}
	case typeTyping:
		conv, ok := cl.visibleConversation(f)
		if ok && cl.h.setTyping(cl, conv, f.Typing, cl.h.c.cfg.Now()) {
			cl.h.c.cfg.Engine.Typing(conv.ID, crm.SenderAgent, cl.s.agent.Login, f.Typing)
		}
	case typeSend:
		cl.send(f)
	}
}

// visibleConversation returns the frame's conversation (trimmed) when the
// agent may see it; otherwise it answers not_found or forbidden.
func (cl *client) visibleConversation(f clientFrame) (crm.Conversation, bool) {
	conv, err := cl.h.conversation(cl.ctx, f.ConversationID)
	if err != nil {
		cl.failed(f, err)
		return conv, false
	}
	if !cl.h.c.visible(cl.s.agent, conv) {
		cl.sendError(&frameError{Code: httpjson.CodeForbidden, Message: "this conversation is in a queue you do not serve",
			ConversationID: f.ConversationID, ClientID: f.ClientID})
		return conv, false
	}
	return conv, true
}

// send posts the agent's message and acks it once stored: a conversation
// nobody holds is claimed for the agent first (by the engine); one another
// agent holds is already_claimed. A resend of a client_id already stored is
// acked again with the stored message.
func (cl *client) send(f clientFrame) {
	h := cl.h
	conv, err := h.c.cfg.Store.Conversation(cl.ctx, f.ConversationID)
	if err != nil {
		cl.failed(f, err)
		return
	}
	if !h.c.visible(cl.s.agent, conv) {
		cl.sendError(&frameError{Code: httpjson.CodeForbidden, Message: "this conversation is in a queue you do not serve",
			ConversationID: f.ConversationID, ClientID: f.ClientID})
		return
	}
	login := cl.s.agent.Login
	m, _, err := h.c.cfg.Engine.Post(cl.ctx, dialog.Outbound{
		ConversationID: conv.ID, Sender: crm.SenderAgent, AgentID: login, Text: f.Text, ClientID: f.ClientID,
	})
	if err != nil {
		cl.failed(f, err)
		return
	}
	if m.Sender != crm.SenderAgent || m.AgentID != login {
		// The store keeps one message per (conversation, client_id):
		// this one is somebody else's.
		cl.sendError(&frameError{Code: httpjson.CodeConflict, Message: "client_id is taken by another message of the conversation: choose another",
			ConversationID: f.ConversationID, ClientID: f.ClientID})
		return
	}
	m.Parse = nil
	cl.sendFrame(encodeFrame(ackFrame{Type: "ack", ClientID: f.ClientID, Message: m}))
	if h.setTyping(cl, trim(conv), false, h.c.cfg.Now()) {
		h.c.cfg.Engine.Typing(conv.ID, crm.SenderAgent, login, false) // the message ends the typing
	}
}

// failed answers an error of the store or the engine about f's
// conversation with its code; anything unexpected is logged and answered
// internal.
func (cl *client) failed(f clientFrame, err error) {
	fe := &frameError{ConversationID: f.ConversationID, ClientID: f.ClientID}
	var ce *dialog.ClaimedError
	switch {
	case errors.As(err, &ce):
		name := cl.h.c.agentName(cl.ctx, ce.Agent)
		fe.Code, fe.Message, fe.Agent, fe.AgentName = httpjson.CodeAlreadyClaimed, name+" has it", ce.Agent, name
	case errors.Is(err, crm.ErrNotFound), errors.Is(err, dialog.ErrNoConversation):
		fe.Code, fe.Message = httpjson.CodeNotFound, "conversation not found"
	case errors.Is(err, dialog.ErrState):
		fe.Code, fe.Message = httpjson.CodeConflict, "not possible in the conversation's state: reload it"
	case errors.Is(err, dialog.ErrNotHolder):
		fe.Code, fe.Message = httpjson.CodeForbidden, "only the agent who holds the conversation, or an admin, may do that"
	case errors.Is(err, crm.ErrTooLarge):
		fe.Code, fe.Message = httpjson.CodeTooLarge, "text too large"
	case errors.Is(err, crm.ErrInvalid), errors.Is(err, dialog.ErrSender):
		fe.Code, fe.Message = codeBadFrame, "refused by the store: "+truncate(err.Error(), 120)
	case cl.ctx.Err() != nil:
		return // the socket ended: nobody reads the answer
	default:
		cl.h.log.Error("console socket "+f.Type, "agent", cl.s.agent.Login, "conversation", f.ConversationID, "err", err)
		fe.Code, fe.Message = httpjson.CodeInternal, "the server could not do it; try again later"
	}
	cl.sendError(fe)
}

func (cl *client) sendError(fe *frameError) bool {
	return cl.sendFrame(encodeFrame(errorFrame{
		Type: "error", Code: fe.Code, Message: fe.Message, ClientID: fe.ClientID, ConversationID: fe.ConversationID,
		Agent: fe.Agent, AgentName: fe.AgentName,
	}))
}

// Frame types of PROTOCOL.md, from the client.
const (
	typeResume   = "resume"
	typePresence = "presence"
	typeView     = "view"
	typeTyping   = "typing"
	typeSend     = "send"
)

// Error codes of the socket besides the API's (PROTOCOL.md).
const (
	codeBadFrame    = "bad_frame"
	codeInvalidUTF8 = "invalid_utf8"
	codeUnknownType = "unknown_type"
)

// clientFrame is a decoded frame from the client; which fields are set
// depends on Type.
type clientFrame struct {
	Type           string
	After          uint64 // resume
	Presence       string // presence
	ConversationID string // view ("" for none), typing, send
	Typing         bool   // typing
	Text           string // send
	ClientID       string // send
}

// wireFrame is the JSON of every client frame; pointers tell a missing
// field from a zero one. Unknown fields are ignored (a newer client's).
type wireFrame struct {
	Type           *string `json:"type"`
	After          *uint64 `json:"after"`
	Presence       *string `json:"presence"`
	ConversationID *string `json:"conversation_id"`
	Typing         *bool   `json:"typing"`
	Text           *string `json:"text"`
	ClientID       *string `json:"client_id"`
}

// frameError is a protocol error for the client, in an error frame.
type frameError struct {
	Code, Message  string
	ConversationID string // the frame's, when it named one
	ClientID       string // a send's
	Agent          string // already_claimed: who holds the conversation
	AgentName      string
}

func (e *frameError) Error() string { return e.Code + ": " + e.Message }

// decodeClientFrame parses and checks one frame from the client. Bad input
// gives a *frameError with code bad_frame, invalid_utf8, unknown_type or
// too_large (PROTOCOL.md); it never panics.
func decodeClientFrame(data []byte) (clientFrame, *frameError) {
	if !utf8.Valid(data) {
		return clientFrame{}, &frameError{Code: codeInvalidUTF8, Message: "frame is not valid UTF-8"}
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return clientFrame{}, badFrame("frame is not a JSON object")
	}
	var w wireFrame
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&w); err != nil {
		return clientFrame{}, badFrame("frame is not a valid frame: " + jsonProblem(err))
	}
	if dec.More() {
		return clientFrame{}, badFrame("data after the JSON object")
	}
	if w.Type == nil || *w.Type == "" {
		return clientFrame{}, badFrame("frame has no type")
	}
	f := clientFrame{Type: *w.Type}
	if w.ConversationID != nil {
		f.ConversationID = *w.ConversationID
		if len(f.ConversationID) > crm.MaxKeyPart {
			return clientFrame{}, badFrame(fmt.Sprintf("conversation_id is at most %d bytes", crm.MaxKeyPart))
		}
	}
	switch f.Type {
	case typeResume:
		if w.After == nil {
			return clientFrame{}, badFrame("resume without after")
		}
		f.After = *w.After
	case typePresence:
		if w.Presence == nil || (*w.Presence != presenceOnline && *w.Presence != presenceAway) {
			return clientFrame{}, badFrame(`presence must be "online" or "away"`)
		}
		f.Presence = *w.Presence
	case typeView:
		if w.ConversationID == nil {
			return clientFrame{}, badFrame(`view without conversation_id ("" for none)`)
		}
	case typeTyping:
		if f.ConversationID == "" || w.Typing == nil {
			return clientFrame{}, badFrame("typing needs conversation_id and typing")
		}
		f.Typing = *w.Typing
	case typeSend:
		if w.ClientID != nil {
			f.ClientID = *w.ClientID
		}
		if f.ClientID == "" || len(f.ClientID) > maxIDBytes {
			return clientFrame{}, badFrame(fmt.Sprintf("client_id must have 1 to %d bytes", maxIDBytes))
		}
		if f.ConversationID == "" {
			return clientFrame{}, &frameError{Code: codeBadFrame, Message: "send without conversation_id", ClientID: f.ClientID}
		}
		if w.Text == nil || strings.TrimSpace(*w.Text) == "" {
			return clientFrame{}, &frameError{Code: codeBadFrame, Message: "text is missing or blank",
				ConversationID: f.ConversationID, ClientID: f.ClientID}
		}
		f.Text = *w.Text
		if len(f.Text) > maxTextBytes {
			return clientFrame{}, &frameError{Code: httpjson.CodeTooLarge,
				Message:        fmt.Sprintf("text of %d bytes, at most %d", len(f.Text), maxTextBytes),
				ConversationID: f.ConversationID, ClientID: f.ClientID}
		}
	default:
		return clientFrame{}, &frameError{Code: codeUnknownType, Message: fmt.Sprintf("unknown frame type %q", truncate(f.Type, 40))}
	}
	return f, nil
}

func badFrame(msg string) *frameError { return &frameError{Code: codeBadFrame, Message: msg} }

// jsonProblem shortens a decoding error for the client: it names the field
// or position, never echoes the input at length.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	}
	return truncate(err.Error(), 120)
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Frames from the server besides the event frames (hub.go).
type (
	helloFrame struct {
		Type  string    `json:"type"`
		Seq   uint64    `json:"seq"`
		Agent agentView `json:"agent"`
	}
	ackFrame struct {
		Type     string      `json:"type"`
		ClientID string      `json:"client_id"`
		Message  crm.Message `json:"message"`
	}
	errorFrame struct {
		Type           string `json:"type"`
		Code           string `json:"code"`
		Message        string `json:"message"`
		ConversationID string `json:"conversation_id,omitempty"`
		ClientID       string `json:"client_id,omitempty"`
		Agent          string `json:"agent,omitempty"`
		AgentName      string `json:"agent_name,omitempty"`
	}
)

// encodeFrame marshals one of the frames above, made of plain fields that
// always encode; an error frame stands in if one ever does not.
func encodeFrame(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"type":"error","code":"internal","message":"could not encode a frame"}`)
	}
	return b
}
