package webchat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shoptest"
	"github.com/parleyhq/parley/nlp/nlu"
)

// The package's contracts are met by the real engine and store.
var (
	_ Engine = (*dialog.Engine)(nil)
	_ Store  = (*boltdb.DB)(nil)
	_ Store  = dialog.Store(nil)
)

// now is the seed's clock; the rate limiters get a frozen clock so their
// buckets never refill during a test.
var now = time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// keywordParser is the tests' NLU: it picks an intent by keyword. Text with
// "slow" blocks until release is closed (or ctx ends), and text with
// "explode" fails until defused is set, so tests can hold a message in
// flight or break a turn.
type keywordParser struct {
	entered chan string   // gets the text of every "slow" message when its parse begins
	release chan struct{} // closing it lets "slow" parses finish
	defused atomic.Bool   // set: "explode" parses like any text
}

func newKeywordParser() *keywordParser {
	return &keywordParser{entered: make(chan string, 16), release: make(chan struct{})}
}

func (p *keywordParser) Parse(ctx context.Context, text string) (*nlu.Result, error) {
	low := strings.ToLower(text)
	if strings.Contains(low, "slow") {
		p.entered <- text
		select {
		case <-p.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if strings.Contains(low, "explode") && !p.defused.Load() {
		return nil, errors.New("keyword parser: exploded")
	}
	intent := "greet"
	switch {
	case strings.Contains(low, "bye"):
		intent = "goodbye"
	case strings.Contains(low, "thank"):
		intent = "thanks"
	case strings.Contains(low, "bot"):
		intent = "bot_challenge"
	}
	return &nlu.Result{
		Text: text, Intent: intent, Confidence: 0.97, InScope: true,
		Ranking: []nlu.IntentScore{{Intent: intent, Confidence: 0.97}},
	}, nil
}

// stack is a web chat server over a real engine and a seeded store.
type stack struct {
	db      *boltdb.DB
	bus     *dialog.Bus
	engine  *dialog.Engine
	parser  *keywordParser
	handler *Handler
	srv     *httptest.Server
}

type stackOption func(*Config, *httptest.Server)

// newStack starts a server; opts change the config (and may swap the test
// server's listener before it starts).
func newStack(t testing.TB, opts ...stackOption) *stack {
	t.Helper()
	db := shoptest.Store(t, now)
	s := &stack{db: db, bus: dialog.NewBus(), parser: newKeywordParser()}
	var err error
	s.engine, err = dialog.New(dialog.Config{Domain: shoptest.Domain(t), Parser: s.parser, Store: db, Events: s.bus, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Engine: s.engine, Store: db, TokenKey: testKey, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Limits: Limits{ConnRate: -1, IPRate: -1, SocketRate: -1, HelloRate: -1, MaxIPSockets: -1},
	}
	s.srv = httptest.NewUnstartedServer(nil)
	for _, o := range opts {
		o(&cfg, s.srv)
	}
	s.handler, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.srv.Config.Handler = s.handler
	s.srv.Start()
	t.Cleanup(func() {
		if err := s.handler.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		s.srv.Close()
		s.bus.Close()
	})
	return s
}

// withLimits sets the limits; the per-IP limits on sockets and hellos it
// leaves at zero stay off, as in every stack.
func withLimits(l Limits) stackOption {
	return func(c *Config, _ *httptest.Server) {
		for _, f := range []*float64{&l.SocketRate, &l.HelloRate} {
			if *f == 0 {
				*f = -1
			}
		}
		if l.MaxIPSockets == 0 {
			l.MaxIPSockets = -1
		}
		c.Limits = l
	}
}

func withConfig(fn func(*Config)) stackOption {
	return func(c *Config, _ *httptest.Server) { fn(c) }
}

// testWriter sends the handler's log to the test's log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (s *stack) url() string { return "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws" }

func (s *stack) origin() string { return s.srv.URL }

// frame is any server frame.
type frame struct {
	V              int      `json:"v"`
	Type           string   `json:"type"`
	Token          string   `json:"token"`
	ConversationID string   `json:"conversation_id"`
	LastSeq        uint64   `json:"last_seq"`
	State          string   `json:"state"`
	Queue          string   `json:"queue"`
	CustomerName   string   `json:"customer_name"`
	ClientID       string   `json:"client_id"`
	ID             string   `json:"id"`
	Seq            uint64   `json:"seq"`
	Sender         string   `json:"sender"`
	Agent          string   `json:"agent"`
	Text           string   `json:"text"`
	QuickReplies   []string `json:"quick_replies"`
	At             string   `json:"at"`
	Typing         bool     `json:"typing"`
	Code           string   `json:"code"`
	Message        string   `json:"message"`
	RetryAfterMS   int64    `json:"retry_after_ms"`
	Score          int      `json:"score"`
	Question       string   `json:"question"`
	Min            int      `json:"min"`
	Max            int      `json:"max"`
}

// client is a test's websocket client.
type client struct {
	t  testing.TB
	ws *websocket.Conn
}

func (s *stack) dial(t testing.TB) *client {
	t.Helper()
	return s.dialWith(t, websocket.DefaultDialer)
}

func (s *stack) dialWith(t testing.TB, d *websocket.Dialer) *client {
	t.Helper()
	ws, resp, err := d.Dial(s.url(), http.Header{"Origin": {s.origin()}})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (HTTP %d)", err, status)
	}
	t.Cleanup(func() { ws.Close() })
	return &client{t: t, ws: ws}
}

func (c *client) sendJSON(v any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *client) sendRaw(typ int, b []byte) {
	c.t.Helper()
	if err := c.ws.WriteMessage(typ, b); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// read returns the next frame, failing the test on a read error.
func (c *client) read() frame {
	c.t.Helper()
	f, err := c.next()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return f
}

func (c *client) next() (frame, error) {
	var f frame
	err := c.ws.ReadJSON(&f)
	return f, err
}

// readSkip returns the next frame that is not a typing or state frame.
func (c *client) readSkip() frame {
	c.t.Helper()
	for {
		f := c.read()
		if f.Type != typeTyping && f.Type != typeState {
			return f
		}
	}
}

// want reads the next frame (skipping typing and state) and checks its type.
func (c *client) want(typ string) frame {
	c.t.Helper()
	f := c.readSkip()
	if f.Type != typ {
		c.t.Fatalf("got %s frame %+v, want %s", f.Type, f, typ)
	}
	return f
}

// wantError reads the next frame and checks that it is an error with the code.
func (c *client) wantError(code string) frame {
	c.t.Helper()
	f := c.readSkip()
	if f.Type != typeError || f.Code != code {
		c.t.Fatalf("got %+v, want error %s", f, code)
	}
	return f
}

// wantClose reads until the socket closes and checks the close code.
func (c *client) wantClose(code int) {
	c.t.Helper()
	for {
		_, _, err := c.ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("socket ended with %v, want close %d", err, code)
		}
		if ce.Code != code {
			c.t.Fatalf("close code %d (%q), want %d", ce.Code, ce.Text, code)
		}
		return
	}
}

type helloMsg struct {
	V        int       `json:"v"`
	Type     string    `json:"type"`
	Token    string    `json:"token,omitempty"`
	LastSeq  uint64    `json:"last_seq"`
	Identity *identity `json:"identity,omitempty"`
}

// hello says hello and returns the welcome.
func (c *client) hello(token string, lastSeq uint64) frame {
	c.t.Helper()
	c.sendJSON(helloMsg{V: 1, Type: typeHello, Token: token, LastSeq: lastSeq})
	return c.want(typeWelcome)
}

func (c *client) message(clientID, text string) {
	c.t.Helper()
	c.sendJSON(map[string]any{"v": 1, "type": typeMessage, "client_id": clientID, "text": text})
}

// exchange sends a message and returns its ack and the bot's reply.
func (c *client) exchange(clientID, text string) (ack, reply frame) {
	c.t.Helper()
	c.message(clientID, text)
	ack = c.want(typeAck)
	if ack.ClientID != clientID {
		c.t.Fatalf("ack for %q, want %q", ack.ClientID, clientID)
	}
	reply = c.want(typeMessage)
	if reply.Sender != string(crm.SenderBot) {
		c.t.Fatalf("reply from %s: %+v", reply.Sender, reply)
	}
	return ack, reply
}

// messages returns the stored messages of a conversation.
func (s *stack) messages(t testing.TB, convID string) []crm.Message {
	t.Helper()
	ms, err := s.db.MessagesAfter(context.Background(), convID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// waitFor polls cond: for effects that happen on the server after the
// client saw what it can see. The test binary's -timeout bounds it.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i > 0 && i%2000 == 0 {
			t.Logf("still waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// smallBufferListener shrinks the kernel's socket buffers of accepted
// connections, so that a client that does not read blocks the server's
// writes soon.
type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
		_ = tc.SetReadBuffer(4096)
	}
	return c, err
}

func withSmallBuffers() stackOption {
	return func(_ *Config, srv *httptest.Server) { srv.Listener = smallBufferListener{srv.Listener} }
}

// smallBufferDialer dials with small kernel buffers on the client side too.
func smallBufferDialer() *websocket.Dialer {
	return &websocket.Dialer{
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetReadBuffer(4096)
				_ = tc.SetWriteBuffer(4096)
			}
			return c, err
		},
		ReadBufferSize:  1024,
		WriteBufferSize: 1024,
	}
}

func fmtSeqs(fs []frame) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s:%d ", f.Type, f.Seq)
	}
	return b.String()
}
