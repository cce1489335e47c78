package webchat

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/clientip"
)

// conversations counts the stored conversations.
func (s *stack) conversations(t testing.TB) int {
	t.Helper()
	st, err := s.db.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Conversations
}

// A hello stores nothing: the first message stores the conversation.
func TestHelloStoresNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	before := s.conversations(t)
	var first frame
	for i := range 50 {
		c := s.dial(t)
		w := c.hello("", 0)
		if i == 0 {
			first = w
		}
		c.ws.Close()
	}
	if n := s.conversations(t); n != before {
		t.Fatalf("50 hellos stored %d conversations, want none", n-before)
	}
	id, issued, ok := verifyToken(testKey, first.Token)
	if !ok || id != first.ConversationID || !issued.Equal(now) {
		t.Errorf("token names %q issued %v (%v); want a new conversation's token for %q issued at %v", id, issued, ok, first.ConversationID, now)
	}

	c := s.dial(t)
	w := c.hello("", 0)
	c.exchange("c-1", "hi")
	if n := s.conversations(t); n != before+1 {
		t.Fatalf("a first message stored %d conversations, want 1", n-before)
	}
	conv, err := s.db.Conversation(context.Background(), w.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	if conv.Channel != crm.ChannelWeb || conv.CustomerID != "" || conv.State != crm.StateBot || conv.LastSeq != 2 {
		t.Errorf("conversation = %+v, want an anonymous web conversation of 2 messages", conv)
	}
}

// A client that said hello and reconnects before writing resumes its
// conversation, empty; several tabs with that token write to one
// conversation.
func TestResumeOfAConversationNotStored(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	w := c.hello("", 0)
	c.ws.Close()

	tab1, tab2 := s.dial(t), s.dial(t)
	for _, tab := range []*client{tab1, tab2} {
		again := tab.hello(w.Token, 0)
		if again.ConversationID != w.ConversationID || again.Token != w.Token || again.LastSeq != 0 || again.State != string(crm.StateBot) {
			t.Fatalf("welcome = %+v, want the same empty conversation and token", again)
		}
	}
	tab1.exchange("t1-1", "hi from one")
	tab2.message("t2-1", "hi from two")
	ack := tab2.readSkip()
	for ack.Type == typeMessage { // the first tab's turn, seen by the second
		ack = tab2.readSkip()
	}
	if ack.Type != typeAck || ack.Seq < 2 {
		t.Errorf("second tab's message: %+v, want its ack after the first tab's messages", ack)
	}
	if n := len(s.messages(t, w.ConversationID)); n < 3 {
		t.Errorf("%d messages stored, want both tabs' in one conversation", n)
	}
	// Stored now: a resume gets the stored conversation's token.
	last := s.dial(t).hello(w.Token, 0)
	if last.Token != signToken(testKey, w.ConversationID) || last.LastSeq < 3 {
		t.Errorf("welcome = %+v, want the stored conversation's token and its messages", last)
	}
}

// movingClock is a handler clock the test moves.
type movingClock struct {
	mu sync.Mutex
	t  time.Time // guarded by mu
}

func (c *movingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *movingClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// A new conversation's token resumes a conversation not stored only while
// it is recent and the client has seen no message; a stored conversation
// that is gone refuses its token.
func TestTokenOfAConversationNotStoredOrErased(t *testing.T) {
	t.Parallel()
	clk := &movingClock{t: now}
	s := newStack(t, withConfig(func(c *Config) { c.Now = clk.Now; c.Limits.NewTokenTTL = 10 * time.Minute }))
	refused := func(t *testing.T, token string, lastSeq uint64) {
		t.Helper()
		c := s.dial(t)
		c.sendJSON(helloMsg{V: 1, Type: typeHello, Token: token, LastSeq: lastSeq})
		c.wantError(codeInvalidToken)
		c.wantClose(websocket.ClosePolicyViolation)
	}
	w := s.dial(t).hello("", 0)

	clk.add(9 * time.Minute)
	if again := s.dial(t).hello(w.Token, 0); again.ConversationID != w.ConversationID {
		t.Fatalf("resumed %q after 9 minutes, want %q", again.ConversationID, w.ConversationID)
	}
	t.Run("client that saw messages", func(t *testing.T) { refused(t, w.Token, 2) })
	clk.add(2 * time.Minute)
	t.Run("too old", func(t *testing.T) { refused(t, w.Token, 0) })

	t.Run("erased", func(t *testing.T) {
		ctx := context.Background()
		ana, err := s.db.CustomerByEmail(ctx, "ana@example.com")
		if err != nil {
			t.Fatal(err)
		}
		c := s.dial(t)
		first := c.hello("", 0)
		c.exchange("c-1", "hi")
		c.ws.Close()
		stored := s.dial(t).hello(first.Token, 2)
		if _, err := s.db.UpdateConversation(ctx, first.ConversationID, func(cv *crm.Conversation) error {
			cv.CustomerID = ana.ID
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.EraseCustomer(ctx, ana.ID); err != nil {
			t.Fatal(err)
		}
		refused(t, stored.Token, 0)
		refused(t, stored.Token, 2)
		refused(t, first.Token, 2)
	})
}

// recordingEngine keeps what Receive was given.
type recordingEngine struct {
	Engine
	mu  sync.Mutex
	ins []dialog.Inbound // guarded by mu
}

func (e *recordingEngine) Receive(ctx context.Context, in dialog.Inbound) (dialog.Received, error) {
	e.mu.Lock()
	e.ins = append(e.ins, in)
	e.mu.Unlock()
	return e.Engine.Receive(ctx, in)
}

func (e *recordingEngine) inbound() []dialog.Inbound {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]dialog.Inbound(nil), e.ins...)
}

// Every message names its source; the first of a conversation not stored
// carries the request that stores it, with the verified customer.
func TestMessagesCarrySourceAndStart(t *testing.T) {
	t.Parallel()
	secret := []byte("host-page-secret")
	var rec *recordingEngine
	s := newStack(t, withConfig(func(c *Config) {
		rec = &recordingEngine{Engine: c.Engine}
		c.Engine, c.IdentitySecret = rec, secret
	}))
	c := s.dial(t)
	c.sendJSON(helloMsg{V: 1, Type: typeHello, Identity: &identity{UserID: "u-ana", Email: "ana@example.com", Name: "Ana",
		Signature: IdentitySignature(secret, "u-ana", "ana@example.com")}})
	w := c.want(typeWelcome)
	c.exchange("c-1", "hi")
	c.exchange("c-2", "thanks")
	c.ws.Close()
	c2 := s.dial(t)
	c2.hello(w.Token, 4)
	c2.exchange("c-3", "hi again")

	ana, err := s.db.CustomerByEmail(context.Background(), "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	ins := rec.inbound()
	if len(ins) != 3 {
		t.Fatalf("Receive got %d messages, want 3", len(ins))
	}
	for i, in := range ins {
		if in.Source != "ip:127.0.0.1" {
			t.Errorf("message %d: source %q, want ip:127.0.0.1", i, in.Source)
		}
		switch {
		case i == 0 && (in.Start == nil || in.Start.Channel != crm.ChannelWeb || in.Start.CustomerID != ana.ID):
			t.Errorf("first message: start %+v, want a web conversation of %s", in.Start, ana.ID)
		case i > 0 && in.Start != nil:
			t.Errorf("message %d of a stored conversation: start %+v", i, in.Start)
		}
	}
}

func TestHelloRateLimitPerAddress(t *testing.T) {
	t.Parallel()
	s := newStack(t, withLimits(Limits{ConnRate: -1, IPRate: -1, HelloRate: 1, HelloBurst: 2}))
	for range 2 {
		s.dial(t).hello("", 0)
	}
	c := s.dial(t)
	c.sendJSON(helloMsg{V: 1, Type: typeHello})
	if f := c.wantError(codeRateLimited); f.RetryAfterMS != 1000 {
		t.Errorf("rate_limited = %+v, want retry after 1000 ms", f)
	}
	c.wantClose(websocket.CloseTryAgainLater)
	st := s.handler.Stats()
	if st.HellosLimited != 1 || st.Errors[codeRateLimited] != 1 {
		t.Errorf("stats: %d hellos limited, errors %v; want 1 and 1 rate_limited", st.HellosLimited, st.Errors)
	}
}

// dialStatus opens a socket and returns the HTTP status of the upgrade.
func (s *stack) dialStatus(t *testing.T) (*websocket.Conn, *http.Response) {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(s.url(), http.Header{"Origin": {s.origin()}})
	if resp == nil {
		t.Fatalf("dial: %v", err)
	}
	if ws != nil {
		t.Cleanup(func() { ws.Close() })
	}
	return ws, resp
}

func TestSocketLimitsPerAddress(t *testing.T) {
	t.Parallel()
	t.Run("new sockets a second", func(t *testing.T) {
		s := newStack(t, withLimits(Limits{ConnRate: -1, IPRate: -1, SocketRate: 1, SocketBurst: 3}))
		for range 3 {
			s.dial(t).ws.Close()
		}
		_, resp := s.dialStatus(t)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
			t.Errorf("fourth socket: HTTP %d, Retry-After %q; want 429, 1", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		// A socket is counted once its handshake is done on the server's
		// side too, which the client may not wait for.
		waitFor(t, "the third socket to be counted", func() bool { return s.handler.Stats().Accepted == 3 })
		if st := s.handler.Stats(); st.SocketsLimited != 1 || st.Rejected != 1 || st.Accepted != 3 {
			t.Errorf("stats %+v, want 1 limited of 1 rejected, 3 accepted", st)
		}
	})
	t.Run("open at once", func(t *testing.T) {
		s := newStack(t, withLimits(Limits{ConnRate: -1, IPRate: -1, MaxIPSockets: 2}))
		a := s.dial(t)
		s.dial(t)
		_, resp := s.dialStatus(t)
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("third open socket: HTTP %d, want 429", resp.StatusCode)
		}
		// Both sockets counted open first (the server counts one after its
		// handshake, which the client need not wait for), then one closed.
		waitFor(t, "two open sockets", func() bool { return s.handler.Stats().Open == 2 })
		a.ws.Close()
		waitFor(t, "the closed socket to be forgotten", func() bool { return s.handler.Stats().Open == 1 })
		if ws, resp := s.dialStatus(t); ws == nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Errorf("after one closed: HTTP %d, want 101", resp.StatusCode)
		}
		if st := s.handler.Stats(); st.SocketsCapped != 1 || st.Rejected != 1 {
			t.Errorf("stats %+v, want 1 capped of 1 rejected", st)
		}
	})
}

func TestBinaryFrameIsRefused(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	for _, helloFirst := range []bool{false, true} {
		c := s.dial(t)
		if helloFirst {
			c.hello("", 0)
		}
		c.sendRaw(websocket.BinaryMessage, []byte(`{"v":1,"type":"hello"}`))
		if f := c.wantError(codeBadFrame); !strings.Contains(f.Message, "text") {
			t.Errorf("error %q does not say to send text", f.Message)
		}
		c.wantClose(websocket.CloseUnsupportedData)
	}
}

// The site's pages are allowed by the configured origins, the server's own
// by its public origins; the Host header allows nothing.
func TestOriginEqualToHostIsNotEnough(t *testing.T) {
	t.Parallel()
	s := newStack(t, withConfig(func(c *Config) { c.PublicOrigins = []string{"https://chat.example.com"} }))
	for _, tc := range []struct {
		name, host, origin string
		want               int
	}{
		{"any name pointed at the server", "chat.attacker.example", "http://chat.attacker.example", http.StatusForbidden},
		{"with its port", "chat.attacker.example:8080", "http://chat.attacker.example:8080", http.StatusForbidden},
		{"the public origin", "chat.example.com", "https://chat.example.com", http.StatusSwitchingProtocols},
		{"the public origin over a proxy", "10.0.0.5:8080", "https://chat.example.com", http.StatusSwitchingProtocols},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, resp, err := websocket.DefaultDialer.Dial(s.url(), http.Header{"Origin": {tc.origin}, "Host": {tc.host}})
			if ws != nil {
				ws.Close()
			}
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != tc.want {
				t.Errorf("HTTP %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// 1,100 emoji are under the character limit and over the store's byte
// limit: the protocol refuses them with too_large, naming the bytes, for a
// message and for a CSAT comment.
func TestEmojiOverTheByteLimit(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	w := c.hello("", 0)
	emoji := strings.Repeat("😀", 1100)
	c.message("big", emoji)
	if f := c.wantError(codeTooLarge); f.ClientID != "big" || !strings.Contains(f.Message, "4096 bytes") {
		t.Errorf("error = %+v, want too_large for big naming the 4096-byte limit", f)
	}
	c.exchange("c-1", "hi")
	if _, err := s.engine.Resolve(context.Background(), w.ConversationID, dialog.Actor{}); err != nil {
		t.Fatal(err)
	}
	c.want(typeCSATRequest)
	c.sendJSON(map[string]any{"v": 1, "type": "csat", "score": 2, "comment": emoji})
	if f := c.wantError(codeTooLarge); !strings.Contains(f.Message, "comment") {
		t.Errorf("error = %+v, want too_large for the comment", f)
	}
	if rated, err := s.engine.Rated(context.Background(), w.ConversationID); err != nil || rated {
		t.Errorf("rated = %v, %v; want not rated", rated, err)
	}
}

// Behind a trusted load balancer each visitor has sockets of their own to
// open (X-Forwarded-For); without the trust, every visitor is the
// balancer's address and they share its cap, and a visitor's own
// X-Forwarded-For never moves them out of it.
func TestSocketCapBehindProxy(t *testing.T) {
	t.Parallel()
	dialFrom := func(s *stack, xff string) int {
		t.Helper()
		h := http.Header{"Origin": {s.origin()}, "X-Forwarded-For": {xff}}
		ws, resp, err := websocket.DefaultDialer.Dial(s.url(), h)
		if err == nil {
			t.Cleanup(func() { ws.Close() })
		}
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name    string
		trusted string
		want    []int // for visitors a, a, b, b
	}{
		{"trusted proxy: a cap per visitor", "127.0.0.1", []int{101, 429, 101, 429}},
		{"untrusted: one cap for all", "", []int{101, 429, 429, 429}},
		{"another proxy trusted: one cap for all", "10.0.0.0/8", []int{101, 429, 429, 429}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxies, err := clientip.Parse(tc.trusted)
			if err != nil {
				t.Fatal(err)
			}
			s := newStack(t, withLimits(Limits{ConnRate: -1, IPRate: -1, MaxIPSockets: 1}),
				withConfig(func(c *Config) { c.Proxies = proxies }))
			var got []int
			for _, xff := range []string{"198.51.100.1", "198.51.100.1", "198.51.100.2", "203.0.113.9, 198.51.100.2"} {
				got = append(got, dialFrom(s, xff))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("statuses %v, want %v", got, tc.want)
			}
		})
	}
}
