package console

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// TestSocketAlerts checks who is alerted: the online agents who serve the
// queue when a conversation enters waiting (handoff, release, timeout),
// and only the assignee when it is given to an agent.
func TestSocketAlerts(t *testing.T) {
	f := newFixture(t)
	srv := f.live(t)
	ctx := context.Background()
	b := online(t, srv, f.login(t, bob))    // general
	c := online(t, srv, f.login(t, carol))  // returns
	ad := online(t, srv, f.login(t, admin)) // admin, no teams: every queue
	d := online(t, srv, f.login(t, dave))   // no teams: every queue, but away
	d.send(map[string]any{"type": "presence", "presence": "away"})
	b.until("dave away", isPresence(dave, presenceAway))

	f.handedOff(t, "conv-1", "c-1")
	for name, s := range map[string]*sock{"bob": b, "admin": ad} {
		g, _ := s.until("the handoff alert", isKind("alert", "conv-1"))
		if g.Reason != reasonHandoff || g.Queue != queueGe {
			t.Fatalf("%s: alert %s, want handoff in %s", name, g.raw, queueGe)
		}
	}
	// Dave coming back online is a frame for everyone after the alert.
	d.send(map[string]any{"type": "presence", "presence": "online"})
	for name, s := range map[string]*sock{"carol": c, "dave": d} {
		// Past "dave away" first: these sockets have not read the frame
		// from when dave's socket opened, online, which is not the one
		// wanted here.
		s.until("dave away", isPresence(dave, presenceAway))
		_, before := s.until("dave online", isPresence(dave, presenceOnline))
		for _, g := range before {
			if g.Kind == "alert" {
				t.Errorf("%s got %s", name, g.raw)
			}
		}
	}

	// Given to Carol: she alone is alerted, though she serves returns.
	if _, err := f.engine.Transfer(ctx, "conv-1", dialog.Target{Agent: carol}, dialog.Actor{}); err != nil {
		t.Fatal(err)
	}
	g, _ := c.until("the assignment alert", isKind("alert", "conv-1"))
	if g.Reason != reasonAssigned {
		t.Fatalf("carol: alert %s, want assigned", g.raw)
	}
	// Back in the queue: Bob and Dave (online now) are alerted.
	if _, err := f.engine.Release(ctx, "conv-1", dialog.Actor{Login: carol}); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*sock{"bob": b, "dave": d} {
		_, before := s.until("the requeue alert", func(g gotFrame) bool { return isKind("alert", "conv-1")(g) && g.Reason == reasonRequeue })
		for _, x := range before {
			if x.Kind == "alert" {
				t.Errorf("%s got %s before the requeue alert", name, x.raw)
			}
		}
	}
	// Nobody claims it in time.
	f.clock.advance(time.Hour)
	if _, err := f.engine.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if g, _ := b.until("the timeout alert", isKind("alert", "conv-1")); g.Reason != reasonTimeout {
		t.Fatalf("bob: alert %s, want timeout", g.raw)
	}
}

// droppingEngine ends the hub's first subscription when the test says,
// as the engine does to a subscriber that fell behind (after the events in
// its buffer).
type droppingEngine struct {
	*dialog.Engine
	mu    sync.Mutex
	calls int               // guarded by mu
	first chan dialog.Event // the first subscription's channel
}

func (e *droppingEngine) Subscribe(id string, buffer int) (<-chan dialog.Event, func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	if e.calls == 1 {
		return e.first, func() {}
	}
	return e.Engine.Subscribe(id, buffer)
}

// TestHubResubscribes checks that when the engine drops the hub, every
// socket is told to reset, and events flow again.
func TestHubResubscribes(t *testing.T) {
	f := newFixture(t)
	eng := &droppingEngine{Engine: f.engine, first: make(chan dialog.Event)}
	f.console.cfg.Engine = eng
	srv := f.live(t)
	b := online(t, srv, f.login(t, bob))
	eng.first <- dialog.Event{Type: dialog.EventTyping, ConversationID: "x"} // the bot's: no frame
	close(eng.first)
	g, _ := b.until("the reset", isType("reset"))
	if g.Seq <= b.hello.Seq {
		t.Fatalf("reset %s, want a seq after the hello's %d", g.raw, b.hello.Seq)
	}
	f.say(t, "conv-1", "c-1", "hello")
	b.until("a message after the reset", isMessage("hello"))
}

// smallBuffer makes the server's first socket buffer little, so that a
// client that does not read blocks the server's writes soon.
type smallBuffer struct {
	net.Listener
	once sync.Once
}

func (l *smallBuffer) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		l.once.Do(func() { _ = tc.SetWriteBuffer(4096) })
	}
	return c, err
}

// TestHubDropsSlowSocket checks that a console that does not read is
// dropped, while the hub goes on and another console gets every frame.
func TestHubDropsSlowSocket(t *testing.T) {
	f := newFixture(t)
	h := f.console.hub
	h.writeTimeout = 100 * time.Millisecond
	srv := httptest.NewUnstartedServer(f.handler)
	srv.Listener = &smallBuffer{Listener: srv.Listener} // the slow console's
	srv.Start()
	f.liveOn(t, srv)

	dialer := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(1024)
		}
		return c, err
	}}
	slow, _, err := dialer.Dial(wsURL(srv), dialHeader(srv, f.login(t, carol)))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if err := slow.WriteMessage(websocket.TextMessage, []byte(`{"type":"presence","presence":"online"}`)); err != nil {
		t.Fatal(err)
	}
	fast := online(t, srv, f.login(t, dave))

	// Published while the fast console reads, as the engine's events come.
	go func() {
		text := strings.Repeat("x", 4000)
		for i := range 500 {
			m := crm.Message{ConversationID: "conv-x", Seq: uint64(i + 1), Sender: crm.SenderCustomer, Text: text}
			if i == 499 {
				m.Text = "last"
			}
			h.publish(messageBody{Kind: "message", ConversationID: "conv-x", Message: m}, audience{})
		}
	}()
	last, dropped := uint64(0), false
	for {
		g := fast.next()
		if isPresence(carol, presenceOffline)(g) {
			dropped = true
		}
		if g.Kind != "message" {
			continue
		}
		if g.Message.Seq != last+1 {
			t.Fatalf("message %d after %d", g.Message.Seq, last)
		}
		last = g.Message.Seq
		if g.Message.Text == "last" {
			break
		}
	}
	if !dropped {
		fast.until("carol offline", isPresence(carol, presenceOffline))
	}
	if p := h.presence(carol); p != presenceOffline {
		t.Fatalf("presence(carol) = %s after her socket was dropped", p)
	}
}

// TestFramesAfter checks what a socket's writer gets from the ring: the
// frames its agent may see, and lost once the frames after its cursor are
// gone.
func TestFramesAfter(t *testing.T) {
	f := newFixture(t)
	h := f.console.hub
	h.ringSize = 4
	carolSock := &client{s: session{agent: crm.Agent{Login: carol, Teams: []string{"returns"}}}}
	from := h.latest()
	general := crm.Conversation{ID: "g", Queue: queueGe}
	returns := crm.Conversation{ID: "r", Queue: "returns"}
	h.publish(erasedBody{Kind: "erased", ConversationID: "g"}, audience{conv: &general})
	h.publish(erasedBody{Kind: "erased", ConversationID: "r"}, audience{conv: &returns})
	h.publish(alertBody{Kind: "alert", ConversationID: "r", Queue: "returns", Reason: reasonHandoff}, audience{queue: "returns", alert: true})
	h.publish(alertBody{Kind: "alert", ConversationID: "r", Queue: "returns", Reason: reasonAssigned}, audience{to: bob})

	got, upto, lost := h.framesAfter(carolSock, from, 10)
	if lost || upto != from+4 || len(got) != 1 || !strings.Contains(string(got[0]), `"conversation_id":"r"`) {
		t.Fatalf("framesAfter = %q, %d, %v; want only the erasure of r (the alert is for online agents)", got, upto, lost)
	}
	h.publish(erasedBody{Kind: "erased", ConversationID: "r"}, audience{})
	if _, _, lost := h.framesAfter(carolSock, from, 10); !lost {
		t.Fatal("not lost after the ring moved past the cursor")
	}
	if got, _, lost := h.framesAfter(carolSock, from+1, 10); lost || len(got) != 2 {
		t.Fatalf("framesAfter(from+1) = %q, %v; want 2 frames", got, lost)
	}
}

// FuzzDecodeClientFrame checks that no input makes the decoder panic, and
// that what it accepts keeps the protocol's bounds.
func FuzzDecodeClientFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"resume","after":1773133200000118}`,
		`{"type":"presence","presence":"online"}`,
		`{"type":"presence","presence":"away"}`,
		`{"type":"view","conversation_id":"conv-1"}`,
		`{"type":"view","conversation_id":""}`,
		`{"type":"typing","conversation_id":"conv-1","typing":true}`,
		`{"type":"send","conversation_id":"conv-1","text":"Hi, I'm Sam. Let me look.","client_id":"m-7f3a-1"}`,
		`{"type":"send","conversation_id":"conv-1","text":"  ","client_id":"m-1"}`,
		`{"type":"resume","after":-1}`,
		`{"type":"send"} {}`,
		`[1,2]`,
		"{\"type\":\"view\",\"conversation_id\":\"\xff\"}",
		`{"type":"typing","typing":"yes"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, fe := decodeClientFrame(data)
		if fe != nil {
			if fe.Code == "" || fe.Message == "" {
				t.Fatalf("error without code or message: %+v", fe)
			}
			return
		}
		if len(fr.ConversationID) > crm.MaxKeyPart {
			t.Fatalf("conversation_id of %d bytes accepted", len(fr.ConversationID))
		}
		switch fr.Type {
		case typeResume, typeView:
		case typePresence:
			if fr.Presence != presenceOnline && fr.Presence != presenceAway {
				t.Fatalf("presence %q accepted", fr.Presence)
			}
		case typeTyping:
			if fr.ConversationID == "" {
				t.Fatal("typing without a conversation accepted")
			}
		case typeSend:
			if fr.ConversationID == "" || fr.ClientID == "" || len(fr.ClientID) > maxIDBytes ||
				strings.TrimSpace(fr.Text) == "" || len(fr.Text) > maxTextBytes {
				t.Fatalf("send %+v accepted", fr)
			}
		default:
			t.Fatalf("type %q accepted", fr.Type)
		}
	})
}

// TestAlertAudienceAtRaise: an alert goes to the agents online when it is
// raised; one who comes back before reading it does not get it.
func TestAlertAudienceAtRaise(t *testing.T) {
	f := newFixture(t)
	h := f.console.hub
	daveSock := &client{s: session{agent: crm.Agent{Login: dave}}}
	if _, ok := h.register(daveSock); !ok {
		t.Fatal("hub closed")
	}
	defer h.unregister(daveSock)
	h.setPresence(daveSock, presenceAway)
	from := h.latest()
	h.publish(alertBody{Kind: "alert", ConversationID: "g", Queue: queueGe, Reason: reasonHandoff}, audience{queue: queueGe, alert: true})
	h.setPresence(daveSock, presenceOnline)
	h.publish(alertBody{Kind: "alert", ConversationID: "h", Queue: queueGe, Reason: reasonHandoff}, audience{queue: queueGe, alert: true})
	got, _, lost := h.framesAfter(daveSock, from, 10)
	var alerts []string
	for _, g := range got {
		if strings.Contains(string(g), `"kind":"alert"`) {
			alerts = append(alerts, string(g))
		}
	}
	if lost || len(alerts) != 1 || !strings.Contains(alerts[0], `"conversation_id":"h"`) {
		t.Errorf("dave's alerts %q (lost %v); want only h's, raised once he was back", alerts, lost)
	}
}
