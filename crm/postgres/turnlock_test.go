package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shoptest"
	"github.com/parleyhq/parley/nlp/nlu"
)

// twoLockers opens a second store on the data of a test store (two nodes)
// and a TurnLocker on each.
func twoLockers(t *testing.T) (a, b *DB, la, lb *TurnLocker) {
	t.Helper()
	a, url := openTestURL(t, nil)
	b, err := Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	la, lb = a.TurnLocker(), b.TurnLocker()
	t.Cleanup(la.Close)
	t.Cleanup(lb.Close)
	return a, b, la, lb
}

// lockAsync runs l.Lock in a goroutine; the channel gets its result.
func lockAsync(ctx context.Context, l *TurnLocker, key string) <-chan lockResult {
	ch := make(chan lockResult, 1)
	go func() {
		unlock, err := l.Lock(ctx, key)
		ch <- lockResult{unlock, err}
	}()
	return ch
}

type lockResult struct {
	unlock func()
	err    error
}

// advisoryLocks counts the advisory locks on l's key for key that the
// server holds or waits for, granted or not, across all sessions.
func advisoryLocks(t *testing.T, db *DB, l *TurnLocker, key string) (granted, waiting int) {
	t.Helper()
	k := uint64(l.key(key))
	err := db.pool.QueryRow(context.Background(), `select count(*) filter (where granted), count(*) filter (where not granted)
		from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())
		and classid = $1 and objid = $2 and objsubid = 1`, int64(k>>32), int64(k&0xffffffff)).Scan(&granted, &waiting)
	if err != nil {
		t.Fatal(err)
	}
	return granted, waiting
}

// TestTurnLockNodes checks that a key locked on node A blocks node B's Lock
// of it until A unlocks, and that other keys do not wait.
func TestTurnLockNodes(t *testing.T) {
	a, _, la, lb := twoLockers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	unlockA, err := la.Lock(ctx, "conv_1")
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := advisoryLocks(t, a, la, "conv_1"); g != 1 {
		t.Fatalf("%d advisory locks granted on conv_1 after Lock, want 1", g)
	}
	waiting := lockAsync(ctx, lb, "conv_1")
	select {
	case r := <-waiting:
		t.Fatalf("node B locked a key node A holds (err %v)", r.err)
	case <-time.After(300 * time.Millisecond):
	}
	// Another key is free on both nodes, also the same node as the waiter.
	for _, l := range []*TurnLocker{la, lb} {
		select {
		case r := <-lockAsync(ctx, l, "conv_2"):
			if r.err != nil {
				t.Fatal(r.err)
			}
			r.unlock()
			r.unlock() // a second call changes nothing
		case <-time.After(5 * time.Second):
			t.Fatal("a free key waited")
		}
	}
	unlockA()
	select {
	case r := <-waiting:
		if r.err != nil {
			t.Fatal(r.err)
		}
		if g, w := advisoryLocks(t, a, la, "conv_1"); g != 1 || w != 0 {
			t.Errorf("conv_1 after the handover: %d granted, %d waiting; want 1, 0", g, w)
		}
		r.unlock()
	case <-time.After(5 * time.Second):
		t.Fatal("node B still waits after node A unlocked")
	}
	if g, w := advisoryLocks(t, a, la, "conv_1"); g != 0 || w != 0 {
		t.Errorf("conv_1 after both unlocked: %d granted, %d waiting; want none", g, w)
	}
	// Unlocked connections go back to the pool, not away.
	if st := lb.pool.Stat(); st.AcquiredConns() != 0 || st.IdleConns() == 0 {
		t.Errorf("node B's lock pool: %d acquired, %d idle; want 0 and some", st.AcquiredConns(), st.IdleConns())
	}
}

// TestTurnLockCancel checks that a Lock whose ctx ends while it waits
// returns ctx's error and leaves no lock, granted or waiting, behind.
func TestTurnLockCancel(t *testing.T) {
	a, _, la, lb := twoLockers(t)
	ctx := context.Background()
	unlockA, err := la.Lock(ctx, "conv_1")
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithCancel(ctx)
	waiting := lockAsync(waitCtx, lb, "conv_1")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, w := advisoryLocks(t, a, la, "conv_1"); w == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node B's Lock never waited on the server")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case r := <-waiting:
		if !errors.Is(r.err, context.Canceled) {
			t.Fatalf("cancelled Lock: err = %v, want context.Canceled", r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a cancelled Lock still waits")
	}
	if _, w := advisoryLocks(t, a, la, "conv_1"); w != 0 {
		t.Errorf("%d waiters left on the server after the cancel", w)
	}
	if n := lb.pool.Stat().AcquiredConns(); n != 0 {
		t.Errorf("%d connections of node B still acquired after the cancel", n)
	}
	unlockA()
	if g, w := advisoryLocks(t, a, la, "conv_1"); g != 0 || w != 0 {
		t.Errorf("conv_1 after the cancel and A's unlock: %d granted, %d waiting; want none", g, w)
	}
	// Node B locks it at once now.
	short, cancel2 := context.WithTimeout(ctx, 5*time.Second)
	defer cancel2()
	unlock, err := lb.Lock(short, "conv_1")
	if err != nil {
		t.Fatalf("lock after the cancel: %v", err)
	}
	unlock()
}

// TestTurnLockCounter increments a counter in a table with a read and a
// separate write, from many goroutines on two nodes, under the lock: no
// increment is lost.
func TestTurnLockCounter(t *testing.T) {
	a, b, la, lb := twoLockers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := a.pool.Exec(ctx, "create table turn_counter (n integer not null); insert into turn_counter values (0)"); err != nil {
		t.Fatal(err)
	}
	const goroutines, rounds = 6, 10
	var wg sync.WaitGroup
	for _, node := range []struct {
		db *DB
		l  *TurnLocker
	}{{a, la}, {b, lb}} {
		for range goroutines {
			wg.Go(func() {
				for range rounds {
					if err := increment(ctx, node.db, node.l); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	var n int
	if err := a.pool.QueryRow(ctx, "select n from turn_counter").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if want := 2 * goroutines * rounds; n != want {
		t.Errorf("counter = %d, want %d: increments were lost", n, want)
	}
}

func increment(ctx context.Context, db *DB, l *TurnLocker) error {
	unlock, err := l.Lock(ctx, "counter")
	if err != nil {
		return err
	}
	defer unlock()
	var n int
	if err := db.pool.QueryRow(ctx, "select n from turn_counter").Scan(&n); err != nil {
		return err
	}
	time.Sleep(time.Millisecond) // a window for a lost update without the lock
	_, err = db.pool.Exec(ctx, "update turn_counter set n = $1", n+1)
	return err
}

// countingParser is a scripted parser (every text is a greeting) shared by
// two engines, which counts the parses of each text and the most that ran
// at once.
type countingParser struct {
	mu      sync.Mutex
	parses  map[string]int // guarded by mu
	running atomic.Int32
	most    atomic.Int32
}

func (p *countingParser) Parse(_ context.Context, text string) (*nlu.Result, error) {
	n := p.running.Add(1)
	defer p.running.Add(-1)
	for {
		m := p.most.Load()
		if n <= m || p.most.CompareAndSwap(m, n) {
			break
		}
	}
	p.mu.Lock()
	p.parses[text]++
	p.mu.Unlock()
	time.Sleep(2 * time.Millisecond) // a model takes a while
	return &nlu.Result{Text: text, Intent: "greet", Confidence: 0.95, InScope: true,
		Ranking: []nlu.IntentScore{{Intent: "greet", Confidence: 0.95}}}, nil
}

// TestTwoEnginesTurnLock runs two engines (two nodes) on one database, each
// with its store's TurnLocker, and sends the messages of one conversation
// to both at once: each message is parsed once, one at a time, and
// answered exactly once, in order.
func TestTwoEnginesTurnLock(t *testing.T) {
	a, b, la, lb := twoLockers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	parser := &countingParser{parses: make(map[string]int)}
	domain := shoptest.Domain(t)
	var engines []*dialog.Engine
	for _, node := range []struct {
		db *DB
		l  *TurnLocker
	}{{a, la}, {b, lb}} {
		e, err := dialog.New(dialog.Config{Domain: domain, Parser: parser, Store: node.db, Locker: node.l})
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, e)
	}
	conv, err := engines[0].Start(ctx, dialog.StartRequest{Channel: crm.ChannelWeb})
	if err != nil {
		t.Fatal(err)
	}

	const messages = 24
	var wg sync.WaitGroup
	for i := range messages {
		e := engines[i%2]
		wg.Go(func() {
			text := fmt.Sprintf("hello %d", i)
			if _, err := e.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: text, ClientID: text}); err != nil {
				t.Errorf("node %d, %q: %v", i%2, text, err)
			}
		})
	}
	wg.Wait()

	if n := parser.most.Load(); n != 1 {
		t.Errorf("%d parses of the conversation ran at once, want 1", n)
	}
	for text, n := range parser.parses {
		if n != 1 {
			t.Errorf("%q parsed %d times, want once", text, n)
		}
	}
	msgs, err := a.MessagesAfter(ctx, conv.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// Each customer message has one first reply, after it, and the first
	// replies come in the order of the customer messages.
	var customer []crm.Message
	var order []string // customer message ids in the order of their first replies
	seqOf := make(map[string]uint64)
	for _, m := range msgs {
		switch m.Sender {
		case crm.SenderCustomer:
			customer = append(customer, m)
			seqOf[m.ID] = m.Seq
		case crm.SenderBot:
			id, k, ok := strings.Cut(strings.TrimPrefix(m.ClientID, "reply:"), ":")
			if s, known := seqOf[id]; !ok || !known || s > m.Seq {
				t.Errorf("bot reply seq %d (client id %q) answers no earlier customer message", m.Seq, m.ClientID)
				continue
			}
			if k == "0" {
				order = append(order, id)
			}
		}
	}
	defer func() {
		if t.Failed() {
			for _, m := range msgs {
				t.Logf("%d %s %q %q", m.Seq, m.Sender, m.ClientID, m.Text)
			}
		}
	}()
	if len(customer) != messages {
		t.Fatalf("%d customer messages stored, want %d", len(customer), messages)
	}
	if len(order) != len(customer) {
		t.Errorf("%d first replies for %d customer messages, want one each", len(order), len(customer))
	}
	for i := range min(len(order), len(customer)) {
		if order[i] != customer[i].ID {
			t.Errorf("answer %d is to seq %d, want seq %d: answered out of order", i, seqOf[order[i]], customer[i].Seq)
			break
		}
	}
	c, err := b.Conversation(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if last := customer[len(customer)-1].Seq; c.AnsweredSeq != last {
		t.Errorf("answered up to seq %d, want %d", c.AnsweredSeq, last)
	}
	for i, l := range []*TurnLocker{la, lb} {
		if n := l.pool.Stat().AcquiredConns(); n != 0 {
			t.Errorf("node %d holds %d lock connections after all turns", i, n)
		}
	}
}
