package dialog_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/inmem"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/internal/shoptest"
)

// clock is a test clock shared by a store and its engines.
type clock struct {
	mu sync.Mutex
	t  time.Time // guarded by mu
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newClockHarness is newHarness over a store whose clock moves only when
// the test advances it; cfg (nil: none) changes the engine's config.
func newClockHarness(t testing.TB, start time.Time, cfg func(*dialog.Config)) (*harness, *clock) {
	t.Helper()
	clk := &clock{t: start}
	db := inmem.New(&inmem.Options{Now: clk.Now})
	t.Cleanup(func() { db.Close() })
	seed, err := shop.Seed(start)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Import(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	h := &harness{db: db, nlu: &fakeNLU{}, bus: dialog.NewBus(), caller: &fakeCaller{}}
	h.parser = dialog.NewSwapParser(h.nlu)
	t.Cleanup(h.bus.Close)
	c := dialog.Config{Domain: shoptest.Domain(t), Parser: h.parser, Store: db, Events: h.bus, Now: clk.Now,
		Logger: slog.New(slog.DiscardHandler)}
	if cfg != nil {
		cfg(&c)
	}
	if h.engine, err = dialog.New(c); err != nil {
		t.Fatal(err)
	}
	return h, clk
}

// replica is a second engine over h's store, as another process serving
// the same store would be: it shares no lock with h.engine.
func (h *harness) replica(t testing.TB, p dialog.Parser) *dialog.Engine {
	t.Helper()
	if p == nil {
		p = h.parser
	}
	e, err := dialog.New(dialog.Config{Domain: shoptest.Domain(t), Parser: p, Store: h.db, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// waitingConv returns a conversation the bot handed off to the general
// queue.
func (h *harness) waitingConv(t testing.TB, email string) crm.Conversation {
	t.Helper()
	conv := h.start(t, email)
	out := h.say(t, conv.ID, "a person please", "human_agent:0.95")
	if out.Conversation.State != crm.StateWaiting {
		t.Fatalf("handoff: state %s, actions %v", out.Conversation.State, out.Actions)
	}
	return out.Conversation
}

// events returns the stored lifecycle events of a conversation.
func (h *harness) events(t testing.TB, id string) []crm.Event {
	t.Helper()
	evs, err := h.db.Events(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// botMessages counts the bot's stored messages in a conversation.
func (h *harness) botMessages(t testing.TB, id string) int {
	t.Helper()
	ms, err := h.db.MessagesAfter(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		if m.Sender == crm.SenderBot {
			n++
		}
	}
	return n
}

func eventTypes(evs []crm.Event) []crm.EventType {
	var out []crm.EventType
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	return out
}

// published returns what a subscription holds now, as "state agent",
// "lifecycle claim", "message agent"...
func published(ch <-chan dialog.Event) []string {
	var got []string
	for len(ch) > 0 {
		ev := <-ch
		s := string(ev.Type)
		switch ev.Type {
		case dialog.EventState:
			s += " " + string(ev.Conversation.State)
		case dialog.EventLifecycle:
			s += " " + string(ev.Lifecycle.Type)
		case dialog.EventMessage:
			s += " " + string(ev.Message.Sender)
		case dialog.EventTyping:
			s += fmt.Sprintf(" %s %v", ev.Sender, ev.Typing)
		}
		got = append(got, s)
	}
	return got
}

// TestClaimRace fires 100 simultaneous claims at one conversation, half
// through a second engine over the same store (another process): exactly
// one wins, and every other claim is told who has it.
func TestClaimRace(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.waitingConv(t, "ana@example.com")
	// Each engine's first claim reads the conversation, still waiting,
	// before either writes: the store's transaction alone must then pick
	// the winner.
	bs := &barrierStore{Store: h.db, n: 2, all: make(chan struct{})}
	engines := make([]*dialog.Engine, 2)
	for i := range engines {
		var err error
		engines[i], err = dialog.New(dialog.Config{Domain: shoptest.Domain(t), Parser: h.parser, Store: bs, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
	}
	const n = 100
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := engines[i%2]
			<-start
			_, errs[i] = e.Claim(ctx, conv.ID, dialog.Actor{Login: fmt.Sprintf("agent%d", i)})
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatalf("agent%d and agent%d both won", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("nobody won: %v", errs[0])
	}
	want := fmt.Sprintf("agent%d", winner)
	for i, err := range errs {
		if i == winner {
			continue
		}
		var ce *dialog.ClaimedError
		if !errors.As(err, &ce) || !errors.Is(err, dialog.ErrClaimed) || ce.Agent != want {
			t.Fatalf("agent%d: %v, want a ClaimedError naming %s", i, err, want)
		}
	}
	c, err := h.db.Conversation(ctx, conv.ID)
	if err != nil || c.State != crm.StateAgent || c.AssignedAgent != want {
		t.Fatalf("conversation %s held by %q (%v), want %s", c.State, c.AssignedAgent, err, want)
	}
	evs := h.events(t, conv.ID)
	if got := eventTypes(evs); !slices.Equal(got, []crm.EventType{crm.EventHandoff, crm.EventClaim}) {
		t.Fatalf("events %v, want the handoff and one claim", got)
	}
	if evs[1].Actor != want || evs[1].Agent != want || evs[1].Queue != "general" {
		t.Errorf("claim event %+v", evs[1])
	}
}

// barrierStore holds its first n reads of a conversation, once read, until
// all n have been read.
type barrierStore struct {
	dialog.Store
	mu  sync.Mutex
	n   int           // reads still to hold; guarded by mu
	all chan struct{} // closed when the n-th read is made
}

func (s *barrierStore) Conversation(ctx context.Context, id string) (crm.Conversation, error) {
	s.mu.Lock()
	hold := s.n > 0
	if hold {
		s.n--
		if s.n == 0 {
			close(s.all)
		}
	}
	s.mu.Unlock()
	c, err := s.Store.Conversation(ctx, id)
	if hold {
		<-s.all
	}
	return c, err
}

// After a claim the bot says nothing in the conversation, even one it held.
func TestClaimSilencesBot(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.start(t, "ana@example.com")
	h.say(t, conv.ID, "hi", "greet:0.9")
	events, stop := h.engine.Subscribe(conv.ID, 16)
	defer stop()
	grace := dialog.Actor{Login: "grace"}
	c, err := h.engine.Claim(ctx, conv.ID, grace)
	if err != nil || c.State != crm.StateAgent || c.AssignedAgent != "grace" {
		t.Fatalf("claim: %+v, %v", c, err)
	}
	if got, want := published(events), []string{"state agent", "lifecycle claim"}; !slices.Equal(got, want) {
		t.Errorf("published %q, want %q", got, want)
	}
	before := h.botMessages(t, conv.ID)
	out := h.say(t, conv.ID, "where is my order", "order_status:0.9")
	if len(out.Replies) != 0 || !slices.Contains(out.Actions, "silent") || h.botMessages(t, conv.ID) != before {
		t.Fatalf("the bot answered after the claim: actions %v, replies %v", out.Actions, out.Replies)
	}
	// Claiming again changes nothing; the system and a resolved
	// conversation cannot be claimed.
	if _, err := h.engine.Claim(ctx, conv.ID, grace); err != nil {
		t.Fatalf("claim again: %v", err)
	}
	if n := len(h.events(t, conv.ID)); n != 1 {
		t.Errorf("%d events after a second claim by the holder, want 1", n)
	}
	if _, err := h.engine.Claim(ctx, conv.ID, dialog.Actor{}); !errors.Is(err, dialog.ErrNoAgent) {
		t.Errorf("claim by the system: %v, want ErrNoAgent", err)
	}
	if _, err := h.engine.Resolve(ctx, conv.ID, grace); err != nil {
		t.Fatal(err)
	}
	if _, err := h.engine.Claim(ctx, conv.ID, grace); !errors.Is(err, dialog.ErrState) {
		t.Errorf("claim of a resolved conversation: %v, want ErrState", err)
	}
	if _, err := h.engine.Claim(ctx, "nope", grace); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("claim of an unknown conversation: %v, want crm.ErrNotFound", err)
	}
}

// A claim made while the bot works on a reply: by another process, the
// bot's commit aborts (nothing it would have said is stored); in this
// process the claim waits for the turn, and the bot is silent after it.
func TestClaimDuringTurn(t *testing.T) {
	ctx := context.Background()
	t.Run("another process", func(t *testing.T) {
		h := newHarness(t)
		g := &gateParser{p: h.parser, entered: make(chan struct{}), release: make(chan struct{})}
		bot := h.replica(t, g)
		conv := h.start(t, "ana@example.com")
		r, _ := scripted("where is my order", "order_status:0.9")
		h.nlu.set("where is my order", r)
		done := make(chan dialog.Outcome)
		go func() {
			out, err := bot.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "where is my order"})
			if err != nil {
				t.Error(err)
			}
			done <- out
		}()
		<-g.entered
		if _, err := h.engine.Claim(ctx, conv.ID, dialog.Actor{Login: "grace"}); err != nil {
			t.Fatal(err)
		}
		close(g.release)
		out := <-done
		if len(out.Replies) != 0 || out.Actions[len(out.Actions)-1] != "taken_over" {
			t.Fatalf("actions %v, replies %d; want taken_over and no reply", out.Actions, len(out.Replies))
		}
		if n := h.botMessages(t, conv.ID); n != 0 {
			t.Errorf("%d bot messages stored", n)
		}
		c, _ := h.db.Conversation(ctx, conv.ID)
		if c.State != crm.StateAgent || c.AssignedAgent != "grace" {
			t.Errorf("conversation %s held by %q", c.State, c.AssignedAgent)
		}
		ms, _ := h.db.MessagesAfter(ctx, conv.ID, 0, 0)
		if len(ms) != 1 || len(ms[0].Parse) == 0 {
			t.Errorf("messages %+v: want the customer's, with its parse kept", ms)
		}
	})
	t.Run("same process", func(t *testing.T) {
		h := newHarness(t)
		g := &gateParser{p: h.parser, entered: make(chan struct{}), release: make(chan struct{})}
		bot, err := dialog.New(dialog.Config{Domain: shoptest.Domain(t), Parser: g, Store: h.db, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		conv := h.start(t, "ana@example.com")
		r, _ := scripted("where is my order", "order_status:0.9")
		h.nlu.set("where is my order", r)
		done := make(chan dialog.Outcome)
		go func() {
			out, err := bot.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "where is my order"})
			if err != nil {
				t.Error(err)
			}
			done <- out
		}()
		<-g.entered
		claimed := make(chan error)
		go func() {
			_, err := bot.Claim(ctx, conv.ID, dialog.Actor{Login: "grace"})
			claimed <- err
		}()
		close(g.release)
		out := <-done
		if err := <-claimed; err != nil {
			t.Fatal(err)
		}
		// The turn held the lock when the claim came: it finished first.
		if len(out.Replies) != 1 || slices.Contains(out.Actions, "taken_over") {
			t.Fatalf("actions %v, replies %d; want the turn's reply", out.Actions, len(out.Replies))
		}
		h.nlu.set("hello?", r)
		out, err = bot.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "hello?"})
		if err != nil || len(out.Replies) != 0 {
			t.Fatalf("after the claim: %d replies, %v", len(out.Replies), err)
		}
	})
}

func TestLifecycleTransitions(t *testing.T) {
	grace, sam := dialog.Actor{Login: "grace"}, dialog.Actor{Login: "sam"}
	admin, system := dialog.Actor{Login: "root", Admin: true}, dialog.Actor{}
	type op func(ctx context.Context, e *dialog.Engine, id string) (crm.Conversation, error)
	release := func(by dialog.Actor) op {
		return func(ctx context.Context, e *dialog.Engine, id string) (crm.Conversation, error) {
			return e.Release(ctx, id, by)
		}
	}
	transfer := func(to dialog.Target, by dialog.Actor) op {
		return func(ctx context.Context, e *dialog.Engine, id string) (crm.Conversation, error) {
			return e.Transfer(ctx, id, to, by)
		}
	}
	ret := func(by dialog.Actor) op {
		return func(ctx context.Context, e *dialog.Engine, id string) (crm.Conversation, error) {
			return e.Return(ctx, id, by)
		}
	}
	resolve := func(by dialog.Actor) op {
		return func(ctx context.Context, e *dialog.Engine, id string) (crm.Conversation, error) {
			return e.Resolve(ctx, id, by)
		}
	}
	assign := func(agent string, by dialog.Actor) op {
		return func(ctx context.Context, e *dialog.Engine, id string) (crm.Conversation, error) {
			return e.Assign(ctx, id, agent, by)
		}
	}
	tests := []struct {
		name      string
		from      crm.ConversationState // bot, waiting, agent (held by grace) or resolved
		op        op
		err       error
		state     crm.ConversationState
		queue     string
		assignee  string
		event     crm.EventType // "": none stored
		actor     string
		published bool
	}{
		{name: "release by the holder", from: crm.StateAgent, op: release(grace), state: crm.StateWaiting, queue: "general", event: crm.EventRelease, actor: "grace"},
		{name: "release by an admin", from: crm.StateAgent, op: release(admin), state: crm.StateWaiting, queue: "general", event: crm.EventRelease, actor: "root"},
		{name: "release by another agent", from: crm.StateAgent, op: release(sam), err: dialog.ErrNotHolder},
		{name: "release of a waiting one", from: crm.StateWaiting, op: release(grace), err: dialog.ErrState},
		{name: "release of the bot's", from: crm.StateBot, op: release(system), err: dialog.ErrState},
		{name: "transfer to a queue", from: crm.StateAgent, op: transfer(dialog.Target{Queue: "billing"}, grace), state: crm.StateWaiting, queue: "billing", event: crm.EventTransfer, actor: "grace"},
		{name: "transfer to an agent", from: crm.StateAgent, op: transfer(dialog.Target{Agent: "sam"}, grace), state: crm.StateAgent, queue: "general", assignee: "sam", event: crm.EventTransfer, actor: "grace"},
		{name: "transfer by another agent", from: crm.StateAgent, op: transfer(dialog.Target{Agent: "sam"}, sam), err: dialog.ErrNotHolder},
		{name: "transfer of a waiting one by anyone", from: crm.StateWaiting, op: transfer(dialog.Target{Queue: "billing"}, sam), state: crm.StateWaiting, queue: "billing", event: crm.EventTransfer, actor: "sam"},
		{name: "transfer where it is", from: crm.StateWaiting, op: transfer(dialog.Target{Queue: "general"}, sam), state: crm.StateWaiting, queue: "general"},
		{name: "transfer to both", from: crm.StateAgent, op: transfer(dialog.Target{Queue: "billing", Agent: "sam"}, grace), err: crm.ErrInvalid},
		{name: "transfer to nowhere", from: crm.StateAgent, op: transfer(dialog.Target{}, grace), err: crm.ErrInvalid},
		{name: "transfer of a resolved one", from: crm.StateResolved, op: transfer(dialog.Target{Queue: "billing"}, grace), err: dialog.ErrState},
		{name: "return by the holder", from: crm.StateAgent, op: ret(grace), state: crm.StateBot, event: crm.EventReturn, actor: "grace"},
		{name: "return of a waiting one", from: crm.StateWaiting, op: ret(system), state: crm.StateBot, event: crm.EventReturn, actor: crm.ActorSystem},
		{name: "return by another agent", from: crm.StateAgent, op: ret(sam), err: dialog.ErrNotHolder},
		{name: "return of the bot's", from: crm.StateBot, op: ret(grace), err: dialog.ErrState},
		{name: "return of a resolved one", from: crm.StateResolved, op: ret(grace), err: dialog.ErrState},
		{name: "resolve by the holder", from: crm.StateAgent, op: resolve(grace), state: crm.StateResolved, queue: "general", assignee: "grace", event: crm.EventResolve, actor: "grace"},
		{name: "resolve by the system", from: crm.StateAgent, op: resolve(system), state: crm.StateResolved, queue: "general", assignee: "grace", event: crm.EventResolve, actor: crm.ActorSystem},
		{name: "resolve by another agent", from: crm.StateAgent, op: resolve(sam), err: dialog.ErrNotHolder},
		{name: "resolve a waiting one", from: crm.StateWaiting, op: resolve(sam), state: crm.StateResolved, queue: "general", event: crm.EventResolve, actor: "sam"},
		{name: "resolve a resolved one", from: crm.StateResolved, op: resolve(sam), state: crm.StateResolved, queue: "general", assignee: "grace"},
		{name: "assign by the system", from: crm.StateWaiting, op: assign("sam", system), state: crm.StateAgent, queue: "general", assignee: "sam", event: crm.EventAssign, actor: crm.ActorSystem},
		{name: "assign by the system, held", from: crm.StateAgent, op: assign("sam", system), err: dialog.ErrClaimed},
		{name: "assign by an admin, held", from: crm.StateAgent, op: assign("sam", admin), state: crm.StateAgent, queue: "general", assignee: "sam", event: crm.EventAssign, actor: "root"},
		{name: "assign by an agent", from: crm.StateWaiting, op: assign("sam", grace), err: dialog.ErrNotHolder},
		{name: "assign to nobody", from: crm.StateWaiting, op: assign("", system), err: dialog.ErrNoAgent},
		{name: "assign a resolved one", from: crm.StateResolved, op: assign("sam", system), err: dialog.ErrState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t)
			var conv crm.Conversation
			if tt.from == crm.StateBot {
				conv = h.start(t, "ana@example.com")
				h.say(t, conv.ID, "hi", "greet:0.9")
			} else {
				conv = h.waitingConv(t, "ana@example.com")
			}
			if tt.from == crm.StateAgent || tt.from == crm.StateResolved {
				if _, err := h.engine.Claim(ctx, conv.ID, grace); err != nil {
					t.Fatal(err)
				}
			}
			if tt.from == crm.StateResolved {
				if _, err := h.engine.Resolve(ctx, conv.ID, grace); err != nil {
					t.Fatal(err)
				}
			}
			before := h.events(t, conv.ID)
			events, stop := h.engine.Subscribe(conv.ID, 16)
			defer stop()
			c, err := tt.op(ctx, h.engine, conv.ID)
			after := h.events(t, conv.ID)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				if len(after) != len(before) || len(events) != 0 {
					t.Errorf("a refused change stored %d events and published %q", len(after)-len(before), published(events))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := h.db.Conversation(ctx, conv.ID)
			for _, got := range []crm.Conversation{c, stored} {
				if got.State != tt.state || got.Queue != tt.queue || got.AssignedAgent != tt.assignee {
					t.Errorf("conversation %s, queue %q, agent %q; want %s, %q, %q", got.State, got.Queue, got.AssignedAgent, tt.state, tt.queue, tt.assignee)
				}
			}
			gotEvents := published(events)
			if tt.event == "" {
				if len(after) != len(before) || len(gotEvents) != 0 {
					t.Errorf("no change, but %d events stored and %q published", len(after)-len(before), gotEvents)
				}
				return
			}
			if len(after) != len(before)+1 {
				t.Fatalf("%d events stored, want 1", len(after)-len(before))
			}
			ev := after[len(after)-1]
			if ev.Type != tt.event || ev.Actor != tt.actor || ev.Agent != tt.assignee || ev.Queue != tt.queue || ev.At.IsZero() {
				t.Errorf("event %+v; want %s by %s, agent %q, queue %q", ev, tt.event, tt.actor, tt.assignee, tt.queue)
			}
			want := []string{"state " + string(tt.state), "lifecycle " + string(tt.event)}
			if tt.event == crm.EventReturn {
				want = append(want, "message system")
			}
			if !slices.Equal(gotEvents, want) {
				t.Errorf("published %q, want %q", gotEvents, want)
			}
		})
	}
}

// Return tells the customer and leaves nothing for the bot to answer but
// what comes next.
func TestReturnToBot(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.waitingConv(t, "ana@example.com")
	for _, text := range []string{"hello?", "anyone there?"} {
		if out := h.say(t, conv.ID, text, "greet:0.9"); len(out.Replies) != 0 {
			t.Fatalf("the bot answered %q while waiting", text)
		}
	}
	c, err := h.engine.Return(ctx, conv.ID, dialog.Actor{Login: "grace"})
	if err != nil || c.State != crm.StateBot || c.AnsweredSeq != c.LastCustomerSeq || c.Queue != "" {
		t.Fatalf("return: %+v, %v", c, err)
	}
	ms, _ := h.db.MessagesAfter(ctx, conv.ID, 0, 0)
	last := ms[len(ms)-1]
	if last.Sender != crm.SenderSystem || last.Text != "You're chatting with the assistant again." {
		t.Fatalf("last message %+v, want the system's notice", last)
	}
	out := h.say(t, conv.ID, "where is my order", "order_status:0.9")
	if len(out.Replies) != 1 {
		t.Fatalf("after return: %d replies (%v), want one answer to the new message only", len(out.Replies), out.Actions)
	}
}

// An agent's message claims a conversation nobody holds; one held by
// another agent refuses it.
func TestPostByAgentClaims(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.waitingConv(t, "ana@example.com")
	if _, _, err := h.engine.Post(ctx, dialog.Outbound{ConversationID: conv.ID, Sender: crm.SenderSystem, Text: "note for all"}); err != nil {
		t.Fatal(err)
	}
	if c, _ := h.db.Conversation(ctx, conv.ID); c.State != crm.StateWaiting {
		t.Fatalf("a system message changed the state to %s", c.State)
	}
	m, _, err := h.engine.Post(ctx, dialog.Outbound{ConversationID: conv.ID, Sender: crm.SenderAgent, AgentID: "grace", Text: "Hi, Grace here."})
	if err != nil || m.AgentID != "grace" {
		t.Fatalf("post: %+v, %v", m, err)
	}
	c, _ := h.db.Conversation(ctx, conv.ID)
	if c.State != crm.StateAgent || c.AssignedAgent != "grace" || c.LastAgentAt.IsZero() {
		t.Fatalf("after the agent's message: %s held by %q, last agent message at %v", c.State, c.AssignedAgent, c.LastAgentAt)
	}
	_, _, err = h.engine.Post(ctx, dialog.Outbound{ConversationID: conv.ID, Sender: crm.SenderAgent, AgentID: "sam", Text: "Sam here."})
	var ce *dialog.ClaimedError
	if !errors.As(err, &ce) || ce.Agent != "grace" {
		t.Fatalf("post by another agent: %v, want a ClaimedError naming grace", err)
	}
	ms, _ := h.db.MessagesAfter(ctx, conv.ID, 0, 0)
	if last := ms[len(ms)-1]; last.Text != "Hi, Grace here." {
		t.Errorf("the refused message was stored: %+v", last)
	}
	if _, _, err := h.engine.Post(ctx, dialog.Outbound{ConversationID: conv.ID, Sender: crm.SenderAgent, AgentID: "grace", Text: "Still here."}); err != nil {
		t.Fatalf("post by the holder: %v", err)
	}
	if got := eventTypes(h.events(t, conv.ID)); !slices.Equal(got, []crm.EventType{crm.EventHandoff, crm.EventClaim}) {
		t.Errorf("events %v, want the handoff and one claim", got)
	}
}

// A private note is stored and published as a lifecycle event only: never
// as a message.
func TestNoteIsNeverAMessage(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.waitingConv(t, "ana@example.com")
	events, stop := h.engine.Subscribe(conv.ID, 16)
	defer stop()
	msgs, _ := h.db.MessagesAfter(ctx, conv.ID, 0, 0)
	ev, err := h.engine.Note(ctx, conv.ID, dialog.Actor{Login: "grace"}, "Customer sounds upset; check order 1042 first.")
	if err != nil || ev.Type != crm.EventNote || ev.Actor != "grace" || ev.Seq == 0 || ev.ID == "" {
		t.Fatalf("note: %+v, %v", ev, err)
	}
	if got := published(events); !slices.Equal(got, []string{"lifecycle note"}) {
		t.Errorf("published %q, want only the lifecycle event", got)
	}
	after, _ := h.db.MessagesAfter(ctx, conv.ID, 0, 0)
	if len(after) != len(msgs) {
		t.Errorf("a note stored %d messages", len(after)-len(msgs))
	}
	if c, _ := h.db.Conversation(ctx, conv.ID); c.State != crm.StateWaiting {
		t.Errorf("a note changed the state to %s", c.State)
	}
	if _, err := h.engine.Note(ctx, conv.ID, dialog.Actor{}, "x"); !errors.Is(err, dialog.ErrNoAgent) {
		t.Errorf("note by the system: %v, want ErrNoAgent", err)
	}
	if _, err := h.engine.Note(ctx, conv.ID, dialog.Actor{Login: "grace"}, "  "); !errors.Is(err, crm.ErrInvalid) {
		t.Errorf("empty note: %v, want crm.ErrInvalid", err)
	}
	if _, err := h.engine.Note(ctx, conv.ID, dialog.Actor{Login: "grace"}, strings.Repeat("x", crm.MaxEventText+1)); !errors.Is(err, crm.ErrTooLarge) {
		t.Errorf("long note: %v, want crm.ErrTooLarge", err)
	}
}

func TestTypingIsPublished(t *testing.T) {
	h := newHarness(t)
	conv := h.start(t, "")
	events, stop := h.engine.Subscribe(conv.ID, 16)
	defer stop()
	h.engine.Typing(conv.ID, crm.SenderCustomer, "", true)
	h.engine.Typing(conv.ID, crm.SenderAgent, "grace", false)
	h.engine.Typing("", crm.SenderAgent, "grace", true) // no conversation: nothing
	got := published(events)
	if want := []string{"typing customer true", "typing agent false"}; !slices.Equal(got, want) {
		t.Errorf("published %q, want %q", got, want)
	}
}
