package dialog_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shoptest"
	"github.com/parleyhq/parley/nlp"
)

// fakeLocker is a dialog.Locker that records, in one log with what the
// store and the parser did, when each key was locked and unlocked. It
// fails a Lock of a key that is held already (the engine's in-process lock
// should have queued it) and an unlock of a key that is not held.
type fakeLocker struct {
	mu   sync.Mutex
	log  []string        // guarded by mu
	held map[string]bool // guarded by mu
	errs []error         // misuse seen; guarded by mu
	fail error           // Lock's error when not nil; guarded by mu
}

func (l *fakeLocker) Lock(_ context.Context, key string) (func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		l.log = append(l.log, "fail "+key)
		return nil, l.fail
	}
	if l.held[key] {
		l.errs = append(l.errs, fmt.Errorf("%q locked while held", key))
	}
	if l.held == nil {
		l.held = make(map[string]bool)
	}
	l.held[key] = true
	l.log = append(l.log, "lock "+key)
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if !l.held[key] {
			l.errs = append(l.errs, fmt.Errorf("%q unlocked while not held", key))
		}
		delete(l.held, key)
		l.log = append(l.log, "unlock "+key)
	}, nil
}

// note logs what the engine did on key, saying whether key was locked.
func (l *fakeLocker) note(what, key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	state := "free"
	if l.held[key] {
		state = "held"
	}
	l.log = append(l.log, what+" "+key+" "+state)
}

// take returns the log so far and empties it.
func (l *fakeLocker) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.log
	l.log = nil
	return out
}

// check fails t for any misuse and for a key still held.
func (l *fakeLocker) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, err := range l.errs {
		t.Error(err)
	}
	for k := range l.held {
		t.Errorf("%q still locked", k)
	}
}

// lockedStore notes the engine's writes in the locker's log.
type lockedStore struct {
	crm.Store
	l *fakeLocker
}

func (s lockedStore) AppendMessage(ctx context.Context, m crm.Message) (crm.Message, bool, error) {
	s.l.note("append", m.ConversationID)
	return s.Store.AppendMessage(ctx, m)
}

func (s lockedStore) CommitTurn(ctx context.Context, t crm.Turn) (crm.Conversation, []crm.Message, []crm.Event, error) {
	s.l.note("commit", t.ConversationID)
	return s.Store.CommitTurn(ctx, t)
}

func (s lockedStore) Transition(ctx context.Context, id string, ev crm.Event, fn func(*crm.Conversation) error) (crm.Conversation, crm.Event, error) {
	s.l.note("transition", id)
	return s.Store.Transition(ctx, id, ev, fn)
}

// loggedNLU notes each parse in the locker's log; a text in block waits
// until block is closed first.
type loggedNLU struct {
	fakeNLU
	l       *fakeLocker
	blockOn string
	block   chan struct{}
}

func (n *loggedNLU) Parse(ctx context.Context, text string) (*nlp.Result, error) {
	n.l.mu.Lock()
	n.l.log = append(n.l.log, "parse "+text)
	n.l.mu.Unlock()
	if text == n.blockOn {
		<-n.block
	}
	return n.fakeNLU.Parse(ctx, text)
}

// TestLocker checks that the engine holds its Config.Locker around a turn,
// a Post and a lifecycle change, takes it once per key at a time in a
// process, and releases it on every path, errors included.
func TestLocker(t *testing.T) {
	ctx := context.Background()
	l := &fakeLocker{}
	nlu := &loggedNLU{l: l, blockOn: "wait", block: make(chan struct{})}
	for text, spec := range map[string]string{"hello": "greet:0.95", "wait": "greet:0.95", "thanks": "greet:0.95"} {
		r, err := scripted(text, spec)
		if err != nil {
			t.Fatal(err)
		}
		nlu.set(text, r)
	}
	bus := dialog.NewBus()
	t.Cleanup(bus.Close)
	e, err := dialog.New(dialog.Config{Domain: shoptest.Domain(t), Parser: nlu, Store: lockedStore{Store: seededDB(t), l: l},
		Events: bus, Now: func() time.Time { return now }, Locker: l})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := e.Start(ctx, dialog.StartRequest{Channel: crm.ChannelWeb})
	if err != nil {
		t.Fatal(err)
	}
	id := conv.ID
	agent := dialog.Actor{Login: "ana@shop.example"}
	sys := dialog.Outbound{ConversationID: id, Sender: crm.SenderSystem, Text: "Hello from the team"}

	expect := func(name string, want ...string) {
		t.Helper()
		if got := l.take(); !slices.Equal(got, want) {
			t.Errorf("%s:\n got  %q\n want %q", name, got, want)
		}
	}

	// A turn: Receive stores the message before any lock; the parse and
	// the commit run under it.
	if _, err := e.Handle(ctx, dialog.Inbound{ConversationID: id, Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	expect("turn", "append "+id+" free", "lock "+id, "parse hello", "commit "+id+" held", "unlock "+id)

	// A turn whose parse fails: the message stays unanswered and the lock
	// is released.
	if _, err := e.Handle(ctx, dialog.Inbound{ConversationID: id, Text: "unscripted"}); err == nil {
		t.Fatal("a turn with a failing parse succeeded")
	}
	expect("failed turn", "append "+id+" free", "lock "+id, "parse unscripted", "unlock "+id)

	// Post and a claim (a lifecycle change).
	if _, _, err := e.Post(ctx, sys); err != nil {
		t.Fatal(err)
	}
	expect("post", "lock "+id, "append "+id+" held", "unlock "+id)
	if _, err := e.Claim(ctx, id, agent); err != nil {
		t.Fatal(err)
	}
	expect("claim", "lock "+id, "transition "+id+" held", "unlock "+id)

	// A lifecycle change the engine refuses (another agent holds it) and
	// a Post of an agent who does not hold it: released all the same.
	other := dialog.Actor{Login: "bo@shop.example"}
	if _, err := e.Claim(ctx, id, other); !errors.Is(err, dialog.ErrClaimed) {
		t.Fatalf("claim of a held conversation: err = %v, want ErrClaimed", err)
	}
	if got := l.take(); len(got) == 0 || got[0] != "lock "+id || got[len(got)-1] != "unlock "+id {
		t.Errorf("refused claim: log %q, want it between lock and unlock", got)
	}
	if _, _, err := e.Post(ctx, dialog.Outbound{ConversationID: id, Sender: crm.SenderAgent, AgentID: other.Login, Text: "hi"}); !errors.Is(err, dialog.ErrClaimed) {
		t.Fatalf("post by another agent: err = %v, want ErrClaimed", err)
	}
	if got := l.take(); len(got) == 0 || got[0] != "lock "+id || got[len(got)-1] != "unlock "+id {
		t.Errorf("refused post: log %q, want it between lock and unlock", got)
	}
	if _, err := e.Return(ctx, id, agent); err != nil {
		t.Fatal(err)
	}
	l.take()

	// A Locker that fails: the error comes back, nothing is done, and the
	// in-process lock is free again (the next call does not wait for it).
	boom := errors.New("database gone")
	l.mu.Lock()
	l.fail = boom
	l.mu.Unlock()
	if _, err := e.Claim(ctx, id, agent); !errors.Is(err, boom) {
		t.Errorf("claim with a failing locker: err = %v, want %v", err, boom)
	}
	if _, _, err := e.Post(ctx, sys); !errors.Is(err, boom) {
		t.Errorf("post with a failing locker: err = %v, want %v", err, boom)
	}
	if _, err := e.Handle(ctx, dialog.Inbound{ConversationID: id, Text: "thanks"}); !errors.Is(err, boom) {
		t.Errorf("turn with a failing locker: err = %v, want %v", err, boom)
	}
	expect("failing locker", "fail "+id, "fail "+id, "append "+id+" free", "fail "+id)
	l.mu.Lock()
	l.fail = nil
	l.mu.Unlock()
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := e.Answer(short, dialog.Received{Message: crm.Message{ConversationID: id}}); err != nil {
		t.Fatalf("turn after the locker recovered: %v", err)
	}
	expect("recovered", "lock "+id, "parse thanks", "commit "+id+" held", "unlock "+id)

	// While a turn holds the lock, other work on the conversation queues
	// in the process and does not reach the Locker; a wait that is
	// cancelled gives up with ctx's error without taking it.
	turn := make(chan error, 1)
	go func() {
		_, err := e.Handle(ctx, dialog.Inbound{ConversationID: id, Text: "wait"})
		turn <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(l.take(), "parse wait") {
		if time.Now().After(deadline) {
			t.Fatal("the turn never parsed")
		}
		time.Sleep(time.Millisecond)
	}
	cancelled, cancel2 := context.WithCancel(ctx)
	cancel2()
	if _, err := e.Claim(cancelled, id, agent); !errors.Is(err, context.Canceled) {
		t.Errorf("claim cancelled while a turn runs: err = %v, want context.Canceled", err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, _, err := e.Post(ctx, sys); err != nil {
				t.Error(err)
			}
		})
	}
	time.Sleep(20 * time.Millisecond) // the posts queue behind the turn
	close(nlu.block)
	if err := <-turn; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	got := l.take()
	if n := countOf(got, "lock "+id); n != 4 {
		t.Errorf("%d locks for 4 posts after the turn, want 4 (none for the cancelled claim): %q", n, got)
	}
	l.check(t)
}

func countOf(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// TestAnswerBacklog answers a backlog longer than a situation holds whose
// window of recent lines begins with a bot reply: every message is answered
// once, in order, none skipped. (This is what two nodes taking turns on one
// conversation produce.)
func TestAnswerBacklog(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	id := h.start(t, "").ID
	text := func(i int) string { return fmt.Sprintf("hello %d", i) }
	script := func(i int) {
		r, err := scripted(text(i), "greet:0.95")
		if err != nil {
			t.Fatal(err)
		}
		h.nlu.set(text(i), r)
	}
	const backlog = crm.HistoryMessages + 2
	var first dialog.Received
	for i := 1; i <= backlog; i++ {
		if i != 2 {
			script(i) // the parse of message 2 fails at first
		}
		r, err := h.engine.Receive(ctx, dialog.Inbound{ConversationID: id, Text: text(i)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			first = r
		}
	}
	if _, err := h.engine.Answer(ctx, first); err == nil {
		t.Fatal("the parse of message 2 did not fail")
	}
	// A message after the reply to message 1, then the rest.
	script(2)
	script(backlog + 1)
	if _, err := h.engine.Handle(ctx, dialog.Inbound{ConversationID: id, Text: text(backlog + 1)}); err != nil {
		t.Fatal(err)
	}
	msgs, err := h.db.MessagesAfter(ctx, id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var customer, answered []string // message ids: in seq order, in the order of their first replies
	for _, m := range msgs {
		switch {
		case m.Sender == crm.SenderCustomer:
			customer = append(customer, m.ID)
		case m.Sender == crm.SenderBot && strings.HasSuffix(m.ClientID, ":0"):
			answered = append(answered, strings.TrimSuffix(strings.TrimPrefix(m.ClientID, "reply:"), ":0"))
		}
	}
	if !slices.Equal(answered, customer) {
		t.Errorf("%d customer messages, answered %d: in order and once each is\n %q\n got %q", len(customer), len(answered), customer, answered)
	}
}
