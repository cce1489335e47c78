package webchat

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shoptest"
)

// panicStore is a store that panics on the next call of the method it is
// armed for, as a damaged file made the store panic in the hello path.
type panicStore struct {
	dialog.Store
	armed atomic.Pointer[string]
}

func (s *panicStore) arm(method string) { s.armed.Store(&method) }

func (s *panicStore) trip(method string) {
	if m := s.armed.Load(); m != nil && *m == method && s.armed.CompareAndSwap(m, nil) {
		panic("store exploded in " + method)
	}
}

func (s *panicStore) MessagesAfter(ctx context.Context, id string, after uint64, limit int) ([]crm.Message, error) {
	s.trip("MessagesAfter")
	return s.Store.MessagesAfter(ctx, id, after, limit)
}

func (s *panicStore) Conversation(ctx context.Context, id string) (crm.Conversation, error) {
	s.trip("Conversation")
	return s.Store.Conversation(ctx, id)
}

func (s *panicStore) History(ctx context.Context, id string, q crm.HistoryQuery) (crm.History, error) {
	s.trip("History")
	return s.Store.History(ctx, id, q)
}

// logBuffer collects the handler's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer // guarded by mu
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// panicStack is a stack whose engine and handler use a panicStore (the
// web chat's own reads in hello, and the engine's in Answer).
func panicStack(t *testing.T) (*stack, *panicStore, *logBuffer, *dialog.Bus) {
	t.Helper()
	ps := &panicStore{}
	logs := &logBuffer{}
	bus := dialog.NewBus()
	t.Cleanup(bus.Close)
	s := newStack(t, withConfig(func(c *Config) {
		ps.Store = c.Store.(dialog.Store)
		engine, err := dialog.New(dialog.Config{Domain: shoptest.Domain(t), Parser: newKeywordParser(), Store: ps, Events: bus, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		c.Engine, c.Store = engine, ps
		c.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	}))
	return s, ps, logs, bus
}

// checkPanicLogged checks that the log holds n panics, each once, and one
// in the goroutine and store method named, with its stack.
func checkPanicLogged(t *testing.T, logs *logBuffer, goroutine, method string, n int) {
	t.Helper()
	out := logs.String()
	if got := strings.Count(out, `"msg":"webchat panic"`); got != n {
		t.Fatalf("%d panic log lines, want %d:\n%s", got, n, out)
	}
	for _, want := range []string{`"goroutine":"` + goroutine + `"`, "store exploded in " + method, `"stack":"goroutine `} {
		if !strings.Contains(out, want) {
			t.Errorf("panic log lacks %s:\n%s", want, out)
		}
	}
}

// TestPanicInHelloEndsOneSocket: a store that panics while hello resumes a
// conversation used to end the process. Now that socket is closed with 1011,
// its subscription is dropped, and the next socket resumes the conversation.
func TestPanicInHelloEndsOneSocket(t *testing.T) {
	s, ps, logs, bus := panicStack(t)
	c := s.dial(t)
	w := c.hello("", 0)
	c.exchange("c1", "hello there")
	c.ws.Close()
	waitFor(t, "no subscription left", func() bool { return bus.Subscribers() == 0 })

	// In the conversation's lookup, and in the replay of its messages
	// (after hello subscribed to its events).
	for i, method := range []string{"Conversation", "MessagesAfter"} {
		ps.arm(method)
		c = s.dial(t)
		c.sendJSON(helloMsg{V: 1, Type: typeHello, Token: w.Token})
		c.wantClose(websocket.CloseInternalServerErr)
		waitFor(t, "the panic's log line", func() bool { return strings.Count(logs.String(), "webchat panic") > i })
		checkPanicLogged(t, logs, "reader", method, i+1)
		waitFor(t, "no subscription left", func() bool { return bus.Subscribers() == 0 })
	}

	c = s.dial(t)
	if again := c.hello(w.Token, 0); again.ConversationID != w.ConversationID {
		t.Fatalf("resumed %s, want %s", again.ConversationID, w.ConversationID)
	}
}

// TestPanicInAnswerEndsOneSocket: a panic in the engine's Answer, in the
// socket's worker, closes that socket with 1011; the message stays stored
// and acknowledged, and the server goes on answering.
func TestPanicInAnswerEndsOneSocket(t *testing.T) {
	s, ps, logs, _ := panicStack(t)
	c := s.dial(t)
	w := c.hello("", 0)
	c.exchange("c1", "hello there")

	ps.arm("History")
	c.message("c2", "thanks")
	c.want(typeAck)
	c.wantClose(websocket.CloseInternalServerErr)
	checkPanicLogged(t, logs, "worker", "History", 1)

	// The same visitor comes back; the server still answers.
	// The same visitor comes back (the history is replayed first); the
	// server still answers.
	c = s.dial(t)
	c.hello(w.Token, 0)
	c.message("c3", "bye")
	for f := c.readSkip(); f.Type != typeAck || f.ClientID != "c3"; f = c.readSkip() {
	}
	if f := c.want(typeMessage); f.Sender != string(crm.SenderBot) {
		t.Fatalf("after the ack, %+v; want the bot's reply", f)
	}
}
