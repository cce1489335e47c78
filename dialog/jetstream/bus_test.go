package jetstream_test

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/inmem"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/dialog/jetstream"
	"github.com/parleyhq/parley/nlp/nlu"
)

// TestTwoNodes: an event published on node A reaches, exactly once, node
// B's subscribers of its conversation and of all conversations, and A's
// own subscriber, and no subscriber of another conversation.
func TestTwoNodes(t *testing.T) {
	c := newCluster(t)
	a, b := c.node(t), c.node(t)
	// An id with a dot, spaces and wildcards is still one subject token.
	const conv = "conv.with spaces >*"
	bConv, _ := b.Subscribe(conv, 8)
	bAll, _ := b.Subscribe("", 8)
	aConv, _ := a.Subscribe(conv, 8)
	bOther, _ := b.Subscribe("conv", 8)

	sent := message(conv, 1)
	a.Publish(sent)
	a.Publish(dialog.Event{Type: dialog.EventTyping, ConversationID: conv, Typing: true}) // a marker after it
	for name, ch := range map[string]<-chan dialog.Event{"B conversation": bConv, "B all": bAll, "A conversation": aConv} {
		got := receive(t, ch, 2)
		if !reflect.DeepEqual(got[0], sent) {
			t.Errorf("%s got %+v (message %+v), want %+v", name, got[0], got[0].Message, sent.Message)
		}
		if d := describe(got[1]); d != "typing "+conv+" on" {
			t.Errorf("%s got %q after the message, want the typing marker", name, d)
		}
		quiet(t, ch)
	}
	quiet(t, bOther)
	// The acknowledgements may trail the deliveries a little.
	eventually(t, func() bool { return a.Stats().Published == 2 })
	if s := a.Stats(); s.Published != 2 || s.Dropped != 0 || s.Delivered != 2 {
		t.Errorf("node A stats = %+v, want 2 published and delivered", s)
	}
}

// TestOrder: 200 events of each of two conversations, published
// interleaved on one node, reach another node's subscribers in order.
func TestOrder(t *testing.T) {
	c := newCluster(t)
	a, b := c.node(t), c.node(t)
	x, _ := b.Subscribe("x", 512)
	all, _ := b.Subscribe("", 512)
	const n = 200
	for i := uint64(1); i <= n; i++ {
		a.Publish(message("x", i))
		a.Publish(message("y", i))
	}
	for i, ev := range receive(t, x, n) {
		if ev.Message.Seq != uint64(i+1) {
			t.Fatalf("event %d of x has seq %d", i, ev.Message.Seq)
		}
	}
	next := map[string]uint64{"x": 1, "y": 1}
	for _, ev := range receive(t, all, 2*n) {
		if ev.Message.Seq != next[ev.ConversationID] {
			t.Fatalf("conversation %s: seq %d, want %d", ev.ConversationID, ev.Message.Seq, next[ev.ConversationID])
		}
		next[ev.ConversationID]++
	}
	quiet(t, x)
}

// TestDuplicates: a message or lifecycle event published twice (from one
// node or two) is delivered once; typing events are never merged.
func TestDuplicates(t *testing.T) {
	c := newCluster(t)
	a, b := c.node(t), c.node(t)
	sub, _ := b.Subscribe("c", 16)
	lc := dialog.Event{Type: dialog.EventLifecycle, ConversationID: "c", Lifecycle: &crm.Event{
		ID: "e1", ConversationID: "c", Seq: 7, Type: crm.EventClaim, Actor: "ann", Agent: "ann", At: at}}
	state := dialog.Event{Type: dialog.EventState, ConversationID: "c", Conversation: &crm.Conversation{
		ID: "c", Channel: crm.ChannelWeb, State: crm.StateAgent, AssignedAgent: "ann", UpdatedAt: at}}
	typing := dialog.Event{Type: dialog.EventTyping, ConversationID: "c", Typing: true}
	for _, n := range []*jetstream.Bus{a, b, a} {
		n.Publish(message("c", 1))
		n.Publish(lc)
		n.Publish(state)
	}
	a.Publish(typing)
	a.Publish(typing)
	a.Publish(message("c", 2)) // the end marker
	var got []string
	for _, ev := range receive(t, sub, 6) {
		got = append(got, describe(ev))
	}
	want := []string{"message c bot 1", "lifecycle c claim 7", "state c agent", "typing c on", "typing c on", "message c bot 2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events = %q, want %q", got, want)
	}
	quiet(t, sub)
	eventually(t, func() bool { return a.Stats().Duplicates+b.Stats().Duplicates >= 6 })
	if d := a.Stats().Duplicates + b.Stats().Duplicates; d != 6 {
		t.Errorf("stream reported %d duplicates, want 6", d)
	}
}

// TestSlowSubscriber: a subscriber that falls behind is dropped (its
// channel closed) as with dialog.Bus, and the others go on.
func TestSlowSubscriber(t *testing.T) {
	c := newCluster(t)
	b := c.node(t)
	slow, _ := b.Subscribe("c", 1)
	fast, stopFast := b.Subscribe("", 8)
	for i := range 3 {
		b.Publish(dialog.Event{Type: dialog.EventTyping, ConversationID: "c", Typing: i%2 == 0})
	}
	receive(t, fast, 3)
	n := 0
	for range slow { // closed after the one buffered event
		n++
	}
	if n != 1 {
		t.Errorf("slow subscriber got %d events before being dropped, want 1", n)
	}
	if got := b.Subscribers(); got != 1 {
		t.Errorf("%d subscribers left, want 1", got)
	}
	stopFast()
	stopFast() // twice is harmless
	if _, ok := <-fast; ok {
		t.Error("channel still open after unsubscribe")
	}
}

// TestPublishNeverBlocks: with room for one pending event, a burst is
// partly dropped, and counted, rather than holding up the caller; every
// event is either acknowledged or dropped.
func TestPublishNeverBlocks(t *testing.T) {
	c := newCluster(t)
	opts := c.opts
	opts.MaxPending = 1
	b := c.nodeWith(t, opts)
	const n = 2000
	for i := uint64(1); i <= n; i++ { // events dropped below show it did not wait for room
		b.Publish(message("c", i))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := b.Stats()
		if s.Published+s.Dropped == n {
			if s.Dropped == 0 {
				t.Errorf("stats = %+v: nothing dropped with MaxPending 1", s)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats = %+v: published + dropped != %d", s, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestClose: Close ends every subscription, leaves no goroutine behind and
// may be called twice; a Publish after it is dropped, not a panic, and a
// later Subscribe gets a closed channel.
func TestClose(t *testing.T) {
	c := newCluster(t)
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := jetstream.New(ctx, c.url, c.opts)
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := b.Subscribe("c", 8)
	b.Publish(message("c", 1))
	receive(t, sub, 1)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-sub; ok {
		t.Error("subscription open after Close")
	}
	b.Publish(message("c", 2))
	if s := b.Stats(); s.Dropped != 1 {
		t.Errorf("dropped = %d after a publish on a closed bus, want 1", s.Dropped)
	}
	if late, _ := b.Subscribe("", 1); func() bool { _, ok := <-late; return ok }() {
		t.Error("subscription after Close is open")
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// TestNewErrors: bad options and an unreachable server are errors, not a
// half-started Bus.
func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		url  string
		opts jetstream.Options
		want string
	}{
		{"stream name with a dot", "nats://127.0.0.1:4222", jetstream.Options{Stream: "a.b"}, "stream name"},
		{"wildcard prefix", "nats://127.0.0.1:4222", jetstream.Options{SubjectPrefix: "parley.*"}, "subject prefix"},
		{"empty prefix token", "nats://127.0.0.1:4222", jetstream.Options{SubjectPrefix: "parley..events"}, "subject prefix"},
		{"no server", "nats://127.0.0.1:1", jetstream.Options{}, "connect nats"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			b, err := jetstream.New(ctx, tt.url, tt.opts)
			if err == nil {
				b.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

// TestNodesStartTogether: nodes of a new cluster that start at the same
// moment all get the stream; none fails because another created it first.
func TestNodesStartTogether(t *testing.T) {
	for round := range 5 {
		c := newCluster(t)
		const nodes = 6
		errs := make(chan error, nodes)
		var start sync.WaitGroup
		start.Add(1)
		for range nodes {
			go func() {
				start.Wait()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				b, err := jetstream.New(ctx, c.url, c.opts)
				if err == nil {
					err = b.Close()
				}
				errs <- err
			}()
		}
		start.Done()
		for range nodes {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}

// TestStreamSettingsChange: a node started with new stream settings updates
// the stream; one started with the same settings leaves it alone (an update
// at every start is what crashes nats-server 2.9 when nodes start together).
func TestStreamSettingsChange(t *testing.T) {
	c := newCluster(t)
	c.node(t).Close()
	nc, err := nats.Connect(c.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	updates, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.STREAM.UPDATED." + c.opts.Stream)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	c.node(t).Close()
	if _, err := updates.NextMsg(300 * time.Millisecond); err == nil {
		t.Error("a start with the same settings updated the stream")
	}

	opts := c.opts
	opts.MaxAge = 2 * c.opts.MaxAge
	c.nodeWith(t, opts).Close()
	if _, err := updates.NextMsg(5 * time.Second); err != nil {
		t.Errorf("a start with a new max age did not update the stream: %v", err)
	}
	js, err := natsjs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(context.Background(), c.opts.Stream)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config.MaxAge; got != opts.MaxAge {
		t.Errorf("max age = %v, want %v", got, opts.MaxAge)
	}
}

// TestPing: a live bus answers its readiness check.
func TestPing(t *testing.T) {
	b := newCluster(t).node(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// greeter is a scripted parser: every text is a greeting.
type greeter struct{}

func (greeter) Parse(_ context.Context, text string) (*nlu.Result, error) {
	return &nlu.Result{Text: text, Intent: "greet", Confidence: 0.97, InScope: true, ScopeScore: 0.97,
		Ranking: []nlu.IntentScore{{Intent: "greet", Confidence: 0.97}}}, nil
}

const domain = `version: 1
messages:
  ask_identity: Who are you?
  identified: Thanks, {first_name}.
  identity_not_found: No account for {value}.
  clarify: Do you mean {options}?
  out_of_scope: I can't help with that.
  handoff: A person from {queue} will reply.
  handoff_failures: Sorry, a person from {queue} will reply.
  handoff_frustrated: Sorry! A person from {queue} will reply.
  form_cancelled: Stopped.
  repeat_offer: Want a person?
  fallback: Say again?
intents:
  greet:
    responses:
      default: Hello!
`

// TestEngine: the engine runs over the stream, and a subscriber on
// another node hears the customer's message, the reply and the typing
// around it, in order.
func TestEngine(t *testing.T) {
	c := newCluster(t)
	a, b := c.node(t), c.node(t)
	d, err := dialog.ParseDomain("domain.yml", []byte(domain), []string{"greet"})
	if err != nil {
		t.Fatal(err)
	}
	db := inmem.New(nil)
	t.Cleanup(func() { db.Close() })
	e, err := dialog.New(dialog.Config{Domain: d, Parser: greeter{}, Store: db, Events: a,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conv, err := e.Start(ctx, dialog.StartRequest{Channel: crm.ChannelWeb})
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := b.Subscribe(conv.ID, 16)
	if _, err := e.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "hi there"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	var reply string
	for _, ev := range receive(t, sub, 4) {
		got = append(got, strings.TrimSuffix(strings.Replace(describe(ev), " "+conv.ID, "", 1), " 0"))
		if ev.Type == dialog.EventMessage && ev.Message.Sender == crm.SenderBot {
			reply = ev.Message.Text
		}
	}
	want := []string{"message customer 1", "typing on", "message bot 2", "typing off"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events = %q, want %q", got, want)
	}
	if reply != "Hello!" {
		t.Errorf("reply = %q, want Hello!", reply)
	}
	quiet(t, sub)
}

// TestConcurrentPublish: many goroutines publishing at once (as the
// engine's turns do) lose nothing while the queue has room, and the race
// detector sees no race with Close.
func TestConcurrentPublish(t *testing.T) {
	c := newCluster(t)
	a := c.node(t)
	all, _ := a.Subscribe("", 1024)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := uint64(1); i <= 50; i++ {
				a.Publish(message(fmt.Sprint("g", g), i))
			}
		})
	}
	wg.Wait()
	receive(t, all, 400)
}
