package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/httpjson"
)

// hangGuard bounds every read of a test socket, so that a missing frame
// fails the test instead of hanging it; no test depends on it being short.
const hangGuard = time.Minute

// live runs the console's hub and serves its handler over HTTP, for
// sockets. Settings of the hub are changed before it, by the caller.
func (f *fixture) live(t *testing.T) *httptest.Server {
	t.Helper()
	return f.liveOn(t, httptest.NewServer(f.handler))
}

// liveOn is live with a started server of f.handler.
func (f *fixture) liveOn(t *testing.T, srv *httptest.Server) *httptest.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.console.Run(ctx) }()
	t.Cleanup(func() {
		f.console.Close()
		srv.Close()
		cancel()
		<-done
	})
	return srv
}

// sock is a test console socket.
type sock struct {
	t     *testing.T
	ws    *websocket.Conn
	hello gotFrame
}

// gotFrame is any frame from the server.
type gotFrame struct {
	Type           string          `json:"type"`
	Seq            uint64          `json:"seq"`
	Kind           string          `json:"kind"`
	ConversationID string          `json:"conversation_id"`
	Message        *crm.Message    `json:"-"`       // message and ack: the "message" object
	Text           string          `json:"-"`       // error: the "message" string
	RawMessage     json.RawMessage `json:"message"` // either
	Conversation   *Row            `json:"conversation"`
	Event          *crm.Event      `json:"event"`
	Sender         string          `json:"sender"`
	Agent          json.RawMessage `json:"agent"` // a login, or hello's agent
	Typing         bool            `json:"typing"`
	Viewers        []Viewer        `json:"viewers"`
	Presence       string          `json:"presence"`
	Queue          string          `json:"queue"`
	Reason         string          `json:"reason"`
	Code           string          `json:"code"`
	ClientID       string          `json:"client_id"`
	AgentName      string          `json:"agent_name"`
	raw            string
}

// login is the frame's agent as a login ("" when it is hello's object).
func (g gotFrame) login() string {
	var s string
	_ = json.Unmarshal(g.Agent, &s)
	return s
}

// wsURL is the socket's URL on srv.
func wsURL(srv *httptest.Server) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/console/ws"
}

// dialHeader is what a browser on the console's page sends.
func dialHeader(srv *httptest.Server, a *agent) http.Header {
	h := http.Header{}
	h.Set("Origin", srv.URL)
	if a != nil {
		h.Set("Cookie", a.cookie.Name+"="+a.cookie.Value)
	}
	return h
}

// dial opens a socket as a and reads its hello; the stream is not started.
func dial(t *testing.T, srv *httptest.Server, a *agent) *sock {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(wsURL(srv), dialHeader(srv, a))
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (HTTP %d)", err, status)
	}
	t.Cleanup(func() { ws.Close() })
	s := &sock{t: t, ws: ws}
	s.hello = s.next()
	if s.hello.Type != "hello" || s.hello.Seq == 0 {
		t.Fatalf("first frame %s, want hello with a seq", s.hello.raw)
	}
	return s
}

// online dials as a and starts the stream by saying online.
func online(t *testing.T, srv *httptest.Server, a *agent) *sock {
	t.Helper()
	s := dial(t, srv, a)
	s.send(map[string]any{"type": "presence", "presence": "online"})
	return s
}

func (s *sock) send(v any) {
	s.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		s.t.Fatalf("write %s: %v", b, err)
	}
}

// next reads one frame.
func (s *sock) next() gotFrame {
	s.t.Helper()
	_ = s.ws.SetReadDeadline(time.Now().Add(hangGuard))
	_, data, err := s.ws.ReadMessage()
	if err != nil {
		s.t.Fatalf("read: %v", err)
	}
	var g gotFrame
	if err := json.Unmarshal(data, &g); err != nil {
		s.t.Fatalf("frame %s: %v", data, err)
	}
	g.raw = string(data)
	if len(g.RawMessage) > 0 && g.RawMessage[0] == '"' {
		_ = json.Unmarshal(g.RawMessage, &g.Text)
	} else if len(g.RawMessage) > 0 {
		if err := json.Unmarshal(g.RawMessage, &g.Message); err != nil {
			s.t.Fatalf("frame %s: %v", data, err)
		}
	}
	return g
}

// until reads frames until one matches and returns it with the frames
// read before it.
func (s *sock) until(what string, match func(gotFrame) bool) (gotFrame, []gotFrame) {
	s.t.Helper()
	var before []gotFrame
	for {
		g := s.next()
		if match(g) {
			return g, before
		}
		before = append(before, g)
		if len(before) > 10000 {
			s.t.Fatalf("no %s in 10000 frames", what)
		}
	}
}

// closed reads until the server closes the socket and returns the close
// code.
func (s *sock) closed() int {
	s.t.Helper()
	for {
		_ = s.ws.SetReadDeadline(time.Now().Add(hangGuard))
		_, _, err := s.ws.ReadMessage()
		if err == nil {
			continue
		}
		if ce, ok := errors.AsType[*websocket.CloseError](err); ok {
			return ce.Code
		}
		s.t.Fatalf("socket ended without a close frame: %v", err)
	}
}

func isKind(kind, conv string) func(gotFrame) bool {
	return func(g gotFrame) bool { return g.Type == "event" && g.Kind == kind && g.ConversationID == conv }
}

func isMessage(text string) func(gotFrame) bool {
	return func(g gotFrame) bool { return g.Kind == "message" && g.Message != nil && g.Message.Text == text }
}

func isPresence(login, p string) func(gotFrame) bool {
	return func(g gotFrame) bool { return g.Kind == "presence" && g.login() == login && g.Presence == p }
}

func isType(typ string) func(gotFrame) bool { return func(g gotFrame) bool { return g.Type == typ } }

// about lists the frames that name conversation id.
func about(frames []gotFrame, id string) []string {
	var out []string
	for _, g := range frames {
		if g.ConversationID == id || g.Conversation != nil && g.Conversation.ID == id || g.Event != nil && g.Event.ConversationID == id {
			out = append(out, g.raw)
		}
	}
	return out
}

// TestSocketDelivers checks that a customer's message reaches the agent
// who serves the conversation's queue, live and in seq order, and that an
// agent who does not serve it gets nothing of it.
func TestSocketDelivers(t *testing.T) {
	f := newFixture(t)
	srv := f.live(t)
	b := online(t, srv, f.login(t, bob))
	c := online(t, srv, f.login(t, carol))
	f.say(t, "conv-1", "c-1", "hello")
	b.until("the greeting", isMessage("hello")) // the hub knows conv-1 in no queue
	if conv := f.say(t, "conv-1", "c-1", "I want a person"); conv.Queue != queueGe {
		t.Fatalf("queue %q after asking for a person, want %s", conv.Queue, queueGe)
	}
	f.say(t, "conv-1", "c-1", "are you there?")

	got, before := b.until("the customer's message", isMessage("are you there?"))
	if got.ConversationID != "conv-1" || got.Message.Sender != crm.SenderCustomer || got.Message.Parse != nil {
		t.Fatalf("message frame %s", got.raw)
	}
	last := b.hello.Seq
	for _, g := range append(before, got) {
		if g.Type == "event" {
			if g.Seq <= last {
				t.Fatalf("seq %d after %d: %s", g.Seq, last, g.raw)
			}
			last = g.Seq
		}
	}
	waiting := false
	for _, g := range before {
		if g.Kind == "state" && g.Conversation.ID == "conv-1" && g.Conversation.State == crm.StateWaiting {
			waiting = true
		}
	}
	if !waiting {
		t.Errorf("no state frame of the handoff before the message; frames: %v", about(before, "conv-1"))
	}

	// Carol (returns) saw the conversation while the bot had it in no
	// queue, and its move to general; nothing after. Dave's arrival is
	// a frame for everyone that comes after all of it.
	online(t, srv, f.login(t, dave))
	_, seen := c.until("dave's presence", isPresence(dave, presenceOnline))
	for _, g := range seen {
		if g.Kind == "message" && g.Message.Text == "are you there?" || g.Kind == "alert" {
			t.Errorf("carol got %s", g.raw)
		}
	}
	moved := false
	for _, g := range seen {
		if g.Kind == "state" && g.Conversation.ID == "conv-1" && g.Conversation.Queue == queueGe {
			moved = true
		}
	}
	if !moved {
		t.Errorf("carol did not see conv-1 leave her view; frames: %v", about(seen, "conv-1"))
	}
}

// TestSocketResume checks that a socket that resumes gets the frames after
// its seq that it missed, in order and before anything newer; and a reset
// when they are no longer kept.
func TestSocketResume(t *testing.T) {
	f := newFixture(t)
	f.console.hub.ringSize = 64
	srv := f.live(t)
	a := f.login(t, bob)
	b := online(t, srv, a)
	f.handedOff(t, "conv-1", "c-1")
	g, _ := b.until("the handoff alert", isKind("alert", "conv-1"))
	seen := g.Seq
	b.ws.Close()

	f.say(t, "conv-1", "c-1", "one")
	f.say(t, "conv-1", "c-1", "two")
	b = dial(t, srv, a)
	b.send(map[string]any{"type": "resume", "after": seen})
	f.say(t, "conv-1", "c-1", "three")
	var texts []string
	last := seen
	for len(texts) < 3 {
		g := b.next()
		if g.Type != "event" {
			t.Fatalf("frame %s during the replay", g.raw)
		}
		if g.Seq <= last {
			t.Fatalf("seq %d after %d", g.Seq, last)
		}
		last = g.Seq
		if g.Kind == "message" && g.ConversationID == "conv-1" {
			texts = append(texts, g.Message.Text)
		}
	}
	if strings.Join(texts, ",") != "one,two,three" {
		t.Fatalf("messages after the resume: %q, want one, two, three", texts)
	}

	b.ws.Close()

	t.Run("too old", func(t *testing.T) {
		// More frames than the ring keeps; once the hub has put them in
		// the ring, the resume below is surely too old. (A live socket
		// that waits for the last of them may itself fall out of the ring
		// on a busy machine and get a reset instead.)
		for i := range 70 {
			f.say(t, "conv-1", "c-1", "again "+strconv.Itoa(i))
		}
		for deadline := time.Now().Add(hangGuard); f.console.hub.resumable(seen); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the hub still keeps the frame the resume is from")
			}
		}
		b := dial(t, srv, a)
		b.send(map[string]any{"type": "resume", "after": seen})
		if g := b.next(); g.Type != "reset" {
			t.Fatalf("frame %s, want reset", g.raw)
		}
		f.say(t, "conv-1", "c-1", "after the reset")
		g, before := b.until("the next message", isMessage("after the reset"))
		for _, x := range append(before, g) {
			if x.Type == "event" && x.Seq <= b.hello.Seq {
				t.Fatalf("frame %s from before the hello after a reset", x.raw)
			}
		}
	})
	t.Run("another server's seq", func(t *testing.T) {
		b := dial(t, srv, a)
		b.send(map[string]any{"type": "resume", "after": b.hello.Seq + 1000})
		if g := b.next(); g.Type != "reset" {
			t.Fatalf("frame %s, want reset", g.raw)
		}
	})
	t.Run("second resume", func(t *testing.T) {
		b := dial(t, srv, a)
		b.send(map[string]any{"type": "resume", "after": b.hello.Seq})
		b.send(map[string]any{"type": "resume", "after": b.hello.Seq})
		if g, _ := b.until("an error", isType("error")); g.Code != codeBadFrame {
			t.Fatalf("error %s, want bad_frame", g.raw)
		}
	})
}

// TestSocketSend checks that an agent's message is acked once stored,
// claims the conversation for the agent, and that a resend with the same
// client_id is acked with the same message, stored once; and the errors of
// agents who may not send.
func TestSocketSend(t *testing.T) {
	f := newFixture(t)
	srv := f.live(t)
	b := online(t, srv, f.login(t, bob))
	f.handedOff(t, "conv-1", "c-1")
	send := map[string]any{"type": "send", "conversation_id": "conv-1", "text": "Hi, Bob here.", "client_id": "b-1"}
	b.send(send)
	ack, _ := b.until("the ack", isType("ack"))
	m := ack.Message
	if ack.ClientID != "b-1" || m == nil || m.ID == "" || m.Seq == 0 || m.Sender != crm.SenderAgent || m.AgentID != bob {
		t.Fatalf("ack %s", ack.raw)
	}
	stored, err := f.store.MessagesAfter(context.Background(), "conv-1", m.Seq-1, 1)
	if err != nil || len(stored) != 1 || stored[0].ID != m.ID {
		t.Fatalf("store after the ack: %v %v, want message %s", stored, err, m.ID)
	}
	conv, err := f.store.Conversation(context.Background(), "conv-1")
	if err != nil || conv.State != crm.StateAgent || conv.AssignedAgent != bob {
		t.Fatalf("conversation after the send: %s by %q (%v), want agent by bob", conv.State, conv.AssignedAgent, err)
	}

	b.send(send)
	again, _ := b.until("the second ack", isType("ack"))
	if again.Message == nil || again.Message.ID != m.ID || again.Message.Seq != m.Seq {
		t.Fatalf("ack of the resend %s, want message %s seq %d", again.raw, m.ID, m.Seq)
	}
	all, _ := f.store.MessagesAfter(context.Background(), "conv-1", 0, 0)
	n := 0
	for _, x := range all {
		if x.ClientID == "b-1" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d messages with client_id b-1, want 1", n)
	}

	tests := []struct {
		name  string
		login string
		frame map[string]any
		code  string
	}{
		{"queue not served", carol, map[string]any{"type": "send", "conversation_id": "conv-1", "text": "hi", "client_id": "c-1"}, httpjson.CodeForbidden},
		{"held by another", dave, map[string]any{"type": "send", "conversation_id": "conv-1", "text": "hi", "client_id": "d-1"}, httpjson.CodeAlreadyClaimed},
		{"no conversation", dave, map[string]any{"type": "send", "conversation_id": "nope", "text": "hi", "client_id": "d-2"}, httpjson.CodeNotFound},
		{"blank", dave, map[string]any{"type": "send", "conversation_id": "conv-1", "text": " ", "client_id": "d-3"}, codeBadFrame},
		{"too large", dave, map[string]any{"type": "send", "conversation_id": "conv-1", "text": strings.Repeat("x", maxTextBytes+1), "client_id": "d-4"}, "too_large"},
		{"taken client_id", bob, map[string]any{"type": "send", "conversation_id": "conv-1", "text": "hi", "client_id": takenClientID(t, f, "conv-1")}, httpjson.CodeConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := online(t, srv, f.login(t, tt.login))
			s.send(tt.frame)
			g, _ := s.until("the error", isType("error"))
			if g.Code != tt.code || g.ClientID != tt.frame["client_id"] || g.Text == "" {
				t.Fatalf("error %s, want code %s for client_id %v", g.raw, tt.code, tt.frame["client_id"])
			}
			if tt.code == httpjson.CodeAlreadyClaimed && (g.login() != bob || g.AgentName != "Bob") {
				t.Fatalf("already_claimed %s, want agent bob named Bob", g.raw)
			}
		})
	}
}

// takenClientID is the client_id of a message of the conversation that is
// not an agent's (the engine gives the bot's replies one).
func takenClientID(t *testing.T, f *fixture, id string) string {
	t.Helper()
	ms, err := f.store.MessagesAfter(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ClientID != "" && m.Sender != crm.SenderAgent {
			return m.ClientID
		}
	}
	t.Fatal("no message of the conversation has a client_id: the bot's replies should have one")
	return ""
}

// TestSocketViewersTypingPresence checks the "who is viewing / typing"
// frames, that an agent's typing reaches the customer's channel, that
// typing ends when not said again, and the presence frames.
func TestSocketViewersTypingPresence(t *testing.T) {
	f := newFixture(t)
	srv := f.live(t)
	f.handedOff(t, "conv-1", "c-1")
	b := online(t, srv, f.login(t, bob))
	d := online(t, srv, f.login(t, dave))
	customer, unsubscribe := f.engine.Subscribe("conv-1", 16)
	defer unsubscribe()

	b.send(map[string]any{"type": "view", "conversation_id": "conv-1"})
	g, _ := d.until("bob viewing", isKind("viewers", "conv-1"))
	if len(g.Viewers) != 1 || g.Viewers[0] != (Viewer{Login: bob, Name: "Bob"}) {
		t.Fatalf("viewers %s, want bob", g.raw)
	}

	b.send(map[string]any{"type": "typing", "conversation_id": "conv-1", "typing": true})
	g, _ = d.until("bob typing", isKind("viewers", "conv-1"))
	if len(g.Viewers) != 1 || !g.Viewers[0].Typing {
		t.Fatalf("viewers %s, want bob typing", g.raw)
	}
	g, _ = d.until("the typing frame", isKind("typing", "conv-1"))
	if g.Sender != "agent" || g.login() != bob || !g.Typing {
		t.Fatalf("typing %s, want agent bob typing", g.raw)
	}
	if ev := nextTyping(t, customer); ev.Sender != crm.SenderAgent || ev.Agent != bob || !ev.Typing {
		t.Fatalf("the customer's channel got %+v, want bob typing", ev)
	}
	if v := f.console.hub.viewers("conv-1"); len(v) != 1 || !v[0].Typing {
		t.Fatalf("viewers() = %+v", v)
	}

	// Not said again: it ends.
	f.console.hub.expireTyping(f.clock.Now().Add(typingTTL))
	g, _ = d.until("bob's typing ended", isKind("viewers", "conv-1"))
	if len(g.Viewers) != 1 || g.Viewers[0].Typing {
		t.Fatalf("viewers %s, want bob not typing", g.raw)
	}
	if ev := nextTyping(t, customer); ev.Agent != bob || ev.Typing {
		t.Fatalf("the customer's channel got %+v, want bob stopped", ev)
	}

	b.send(map[string]any{"type": "presence", "presence": "away"})
	d.until("bob away", isPresence(bob, presenceAway))
	if p := f.console.hub.presence(bob); p != presenceAway {
		t.Fatalf("presence(bob) = %s, want away", p)
	}
	b.ws.Close()
	d.until("bob offline", isPresence(bob, presenceOffline))
	if v := f.console.hub.viewers("conv-1"); len(v) != 0 {
		t.Fatalf("viewers after bob left: %+v", v)
	}

	t.Run("view refused", func(t *testing.T) {
		c := online(t, srv, f.login(t, carol))
		c.send(map[string]any{"type": "view", "conversation_id": "conv-1"})
		if g, _ := c.until("the error", isType("error")); g.Code != httpjson.CodeForbidden || g.ConversationID != "conv-1" {
			t.Fatalf("error %s, want forbidden", g.raw)
		}
		if v := f.console.hub.viewers("conv-1"); len(v) != 0 {
			t.Fatalf("viewers %+v, want none", v)
		}
	})
}

// nextTyping returns the next typing event of the customer's subscription.
func nextTyping(t *testing.T, ch <-chan dialog.Event) dialog.Event {
	t.Helper()
	timer := time.NewTimer(hangGuard)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("the customer's subscription ended")
			}
			if ev.Type == dialog.EventTyping && ev.Sender == crm.SenderAgent {
				return ev
			}
		case <-timer.C:
			t.Fatal("no typing event")
		}
	}
}

// TestSocketRefused checks the answers before the upgrade: another
// origin, no origin, no session, a closed hub.
func TestSocketRefused(t *testing.T) {
	f := newFixture(t)
	srv := f.live(t)
	a := f.login(t, bob)
	tests := []struct {
		name   string
		header http.Header
		status int
	}{
		{"another origin", http.Header{"Origin": {"http://evil.example"}, "Cookie": {a.cookie.Name + "=" + a.cookie.Value}}, http.StatusForbidden},
		{"cross-site fetch", func() http.Header {
			h := dialHeader(srv, a)
			h.Set("Sec-Fetch-Site", "cross-site")
			return h
		}(), http.StatusForbidden},
		{"no origin", http.Header{"Cookie": {a.cookie.Name + "=" + a.cookie.Value}}, http.StatusForbidden},
		{"no session", dialHeader(srv, nil), http.StatusUnauthorized},
		{"unknown session", func() http.Header {
			h := dialHeader(srv, nil)
			h.Set("Cookie", cookieName+"=nope")
			return h
		}(), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, resp, err := websocket.DefaultDialer.Dial(wsURL(srv), tt.header)
			if err == nil {
				ws.Close()
				t.Fatal("upgraded")
			}
			if resp == nil || resp.StatusCode != tt.status {
				t.Fatalf("dial: %v, response %v, want HTTP %d", err, resp, tt.status)
			}
		})
	}
	t.Run("closed", func(t *testing.T) {
		s := online(t, srv, a)
		f.console.Close()
		if code := s.closed(); code != websocket.CloseGoingAway {
			t.Fatalf("close code %d, want 1001", code)
		}
		_, resp, err := websocket.DefaultDialer.Dial(wsURL(srv), dialHeader(srv, a))
		if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("dial after close: %v %v, want 503", err, resp)
		}
	})
}

// TestSocketBadFrames checks the errors for frames the server cannot use,
// and that the socket stays usable after them (except after a binary one).
func TestSocketBadFrames(t *testing.T) {
	f := newFixture(t)
	srv := f.live(t)
	a := f.login(t, bob)
	s := online(t, srv, a)
	for _, tt := range []struct{ frame, code string }{
		{`not json`, codeBadFrame},
		{`{"type":"dance"}`, codeUnknownType},
		{`{"type":"presence","presence":"busy"}`, codeBadFrame},
		{"{\"type\":\"view\",\"conversation_id\":\"\xff\"}", codeInvalidUTF8},
		{`{"type":"typing","conversation_id":"x"}`, codeBadFrame},
		{`{"type":"view","conversation_id":"nope"}`, httpjson.CodeNotFound},
	} {
		if err := s.ws.WriteMessage(websocket.TextMessage, []byte(tt.frame)); err != nil {
			t.Fatal(err)
		}
		if g, _ := s.until("the error", isType("error")); g.Code != tt.code {
			t.Errorf("frame %q: error %s, want %s", tt.frame, g.raw, tt.code)
		}
	}
	if err := s.ws.WriteMessage(websocket.BinaryMessage, []byte(`{"type":"presence","presence":"away"}`)); err != nil {
		t.Fatal(err)
	}
	if g, _ := s.until("the error", isType("error")); g.Code != codeBadFrame {
		t.Fatalf("binary message: %s, want bad_frame", g.raw)
	}
	if code := s.closed(); code != websocket.CloseUnsupportedData {
		t.Fatalf("close code %d, want 1003", code)
	}
}

// TestSocketSessionEnds checks that logging out closes the agent's open
// socket (at the next ping).
func TestSocketSessionEnds(t *testing.T) {
	f := newFixture(t)
	f.console.hub.pingInterval = 20 * time.Millisecond
	srv := f.live(t)
	a := f.login(t, bob)
	s := online(t, srv, a)
	if rec := a.do(t, http.MethodPost, "/console/api/logout", ""); rec.Code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", rec.Code, rec.Body)
	}
	if code := s.closed(); code != closeSessionEnded {
		t.Fatalf("close code %d, want %d", code, closeSessionEnded)
	}
}
