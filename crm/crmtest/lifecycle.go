package crmtest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
)

// errTaken is what the claims below fail with when someone else holds the
// conversation.
var errTaken = errors.New("taken")

// claim is a Transition fn that gives the conversation to agent unless
// someone holds it already: the conditional change the console makes.
func claim(agent string) func(*crm.Conversation) error {
	return func(c *crm.Conversation) error {
		if c.AssignedAgent != "" {
			return fmt.Errorf("held by %s: %w", c.AssignedAgent, errTaken)
		}
		c.State, c.AssignedAgent = crm.StateAgent, agent
		return nil
	}
}

// allEvents returns every event of the conversation.
func allEvents(t testing.TB, st crm.Store, convID string) []crm.Event {
	t.Helper()
	return must[[]crm.Event](t)(st.Events(t.Context(), convID, 0, 0))
}

func eventSeqs(evs []crm.Event) []uint64 {
	return pluck(evs, func(e crm.Event) uint64 { return e.Seq })
}

// sameConversation fails the test when the stored conversation is not
// want: a refused change wrote something.
func sameConversation(t testing.TB, st crm.Store, want crm.Conversation) {
	t.Helper()
	if got := conversation(t, st, want.ID); !reflect.DeepEqual(got, want) {
		t.Fatalf("conversation changed:\n got %+v\nwant %+v", got, want)
	}
}

func testTransitions(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	conv := newConversation(t, st)
	appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "I need a human"})
	before := conversation(t, st, conv.ID)

	got, ev, err := st.Transition(ctx, conv.ID, crm.Event{Type: crm.EventClaim, Actor: "grace", Agent: "grace", Queue: "billing"},
		func(c *crm.Conversation) error {
			c.State, c.Queue, c.AssignedAgent = crm.StateAgent, "billing", "grace"
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != crm.StateAgent || got.AssignedAgent != "grace" || got.Queue != "billing" || got.LastSeq != before.LastSeq ||
		got.UpdatedAt.Before(before.UpdatedAt) || !got.StateSince.Equal(got.UpdatedAt) {
		t.Fatalf("conversation after the claim %+v: want it held by grace in billing, StateSince its UpdatedAt", got)
	}
	if !strings.HasPrefix(ev.ID, "evt_") || ev.Seq != 1 || ev.ConversationID != conv.ID || ev.At.IsZero() ||
		ev.Type != crm.EventClaim || ev.Actor != "grace" || ev.Agent != "grace" || ev.Queue != "billing" {
		t.Fatalf("claim event %+v: want an evt_ id, seq 1, the conversation, a time and what was passed", ev)
	}
	sameConversation(t, st, got)
	if evs := allEvents(t, st, conv.ID); len(evs) != 1 || evs[0] != ev {
		t.Fatalf("stored events %+v, want the returned %+v", evs, ev)
	}

	t.Run("a note leaves the conversation as it is", func(t *testing.T) {
		before := conversation(t, st, conv.ID)
		c, note, err := st.Transition(ctx, conv.ID, crm.Event{Type: crm.EventNote, Actor: "grace", Text: "Customer paid with " + cardText}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c, before) {
			t.Errorf("a note changed the conversation:\n got %+v\nwant %+v", c, before)
		}
		sameConversation(t, st, before)
		if note.Seq != 2 || note.ID == ev.ID || note.Text != "Customer paid with "+cardRedacted || strings.Contains(note.Text, "4111") {
			t.Errorf("note %+v: want seq 2, a new id and its text redacted", note)
		}
		if evs := allEvents(t, st, conv.ID); len(evs) != 2 || evs[1] != note {
			t.Errorf("stored events %+v, want the note second", evs)
		}
	})

	t.Run("a handoff reason is redacted", func(t *testing.T) {
		_, h, err := st.Transition(ctx, conv.ID, crm.Event{Type: crm.EventTransfer, Actor: crm.ActorSystem, Queue: "billing",
			Text: "card 4111 1111 1111 1111 declined"}, func(c *crm.Conversation) error {
			c.State, c.AssignedAgent = crm.StateWaiting, ""
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(h.Text, "4111") || !strings.Contains(h.Text, crm.CardPlaceholder) || h.Seq != 3 {
			t.Errorf("transfer %+v: want seq 3 and the card number redacted", h)
		}
		if c := conversation(t, st, conv.ID); c.State != crm.StateWaiting || c.AssignedAgent != "" {
			t.Errorf("conversation after the transfer %+v", c)
		}
	})

	t.Run("each conversation counts its own events", func(t *testing.T) {
		other := newConversation(t, st)
		equal(t, "events of a new conversation", eventSeqs(allEvents(t, st, other.ID)), []uint64{})
		_, e, err := st.Transition(ctx, other.ID, crm.Event{Type: crm.EventNote, Actor: "alan", Text: "first"}, nil)
		if err != nil || e.Seq != 1 || e.ConversationID != other.ID {
			t.Fatalf("first event of another conversation %+v, %v: want seq 1", e, err)
		}
		equal(t, "events of the first conversation", eventSeqs(allEvents(t, st, conv.ID)), []uint64{1, 2, 3})
	})

	for _, tt := range []struct {
		name  string
		after uint64
		limit int
		want  []uint64
	}{
		{"all", 0, 0, []uint64{1, 2, 3}},
		{"after 1", 1, 0, []uint64{2, 3}},
		{"first page", 0, 2, []uint64{1, 2}},
		{"next page", 2, 2, []uint64{3}},
		{"after the last", 3, 0, []uint64{}},
		{"far after", 100, 0, []uint64{}},
	} {
		t.Run("events "+tt.name, func(t *testing.T) {
			evs := must[[]crm.Event](t)(st.Events(ctx, conv.ID, tt.after, tt.limit))
			equal(t, "seqs", eventSeqs(evs), tt.want)
			for _, e := range evs {
				if e.ConversationID != conv.ID {
					t.Fatalf("event %+v of another conversation", e)
				}
			}
		})
	}

	t.Run("unknown conversation", func(t *testing.T) {
		_, _, err := st.Transition(ctx, "conv_nobody", crm.Event{Type: crm.EventNote, Actor: "grace", Text: "hi"}, nil)
		wantErr(t, "transition", err, crm.ErrNotFound)
		_, err = st.Events(ctx, "conv_nobody", 0, 0)
		wantErr(t, "events", err, crm.ErrNotFound)
	})
}

// testTransitionRefused checks that a transition that fails writes
// nothing: neither the change nor the event.
func testTransitionRefused(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	conv := newConversation(t, st)
	appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "help"})
	before := conversation(t, st, conv.ID)
	boom := errors.New("boom")
	takeIt := func(c *crm.Conversation) error { c.State, c.AssignedAgent = crm.StateAgent, "grace"; return nil }
	note := func(text string) crm.Event { return crm.Event{Type: crm.EventNote, Actor: "grace", Text: text} }
	for _, tt := range []struct {
		name string
		ev   crm.Event
		fn   func(*crm.Conversation) error
		want error
	}{
		{"fn fails after changing it", crm.Event{Type: crm.EventClaim, Actor: "grace", Agent: "grace"},
			func(c *crm.Conversation) error { takeIt(c); return boom }, boom},
		{"fn leaves it invalid", crm.Event{Type: crm.EventClaim, Actor: "grace"},
			func(c *crm.Conversation) error { c.State = "gone"; return nil }, crm.ErrInvalid},
		{"fn links an unknown customer", crm.Event{Type: crm.EventAssign, Actor: crm.ActorSystem},
			func(c *crm.Conversation) error { c.CustomerID = "cus_nobody"; return nil }, crm.ErrNotFound},
		{"unknown event type", crm.Event{Type: "teleport", Actor: "grace"}, takeIt, crm.ErrInvalid},
		{"no event type", crm.Event{Actor: "grace"}, takeIt, crm.ErrInvalid},
		{"no actor", crm.Event{Type: crm.EventClaim}, takeIt, crm.ErrInvalid},
		{"empty note", note(""), nil, crm.ErrInvalid},
		{"blank note", note(" \n\t"), nil, crm.ErrInvalid},
		{"note over the limit", note(strings.Repeat("x", crm.MaxEventText+1)), nil, crm.ErrTooLarge},
		{"note of 1 MiB", note(strings.Repeat("x", 1<<20)), nil, crm.ErrTooLarge},
		{"note not UTF-8", note("caf\xe9"), nil, crm.ErrInvalid},
		{"reason not UTF-8", crm.Event{Type: crm.EventClaim, Actor: "grace", Text: "caf\xe9"}, takeIt, crm.ErrInvalid},
		{"agent with a NUL byte", crm.Event{Type: crm.EventClaim, Actor: "grace", Agent: "gr\x00ce"}, takeIt, crm.ErrInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := st.Transition(ctx, conv.ID, tt.ev, tt.fn)
			wantErr(t, "transition", err, tt.want)
			sameConversation(t, st, before)
			if evs := allEvents(t, st, conv.ID); len(evs) != 0 {
				t.Fatalf("a refused transition stored %+v", evs)
			}
		})
	}
	t.Run("a note of exactly the limit", func(t *testing.T) {
		_, ev, err := st.Transition(ctx, conv.ID, note(strings.Repeat("x", crm.MaxEventText)), nil)
		if err != nil || ev.Seq != 1 || len(ev.Text) != crm.MaxEventText {
			t.Fatalf("note of %d bytes: seq %d, %d bytes, %v: want seq 1 after the refused ones", crm.MaxEventText, ev.Seq, len(ev.Text), err)
		}
	})
}

// testConcurrentClaims has many agents claim one conversation at once with
// a conditional Transition: exactly one gets it, and only that claim is
// recorded. Notes written at the same time get distinct, gapless seqs.
func testConcurrentClaims(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	conv := must[crm.Conversation](t)(st.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb, State: crm.StateWaiting, Queue: "billing"}))
	const n = 100
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			agent := fmt.Sprintf("agent%d", i)
			_, _, errs[i] = st.Transition(ctx, conv.ID, crm.Event{Type: crm.EventClaim, Actor: agent, Agent: agent, Queue: "billing"}, claim(agent))
		})
	}
	wg.Wait()
	winner := ""
	for i, err := range errs {
		switch {
		case err == nil && winner != "":
			t.Fatalf("agent%d and %s both claimed the conversation", i, winner)
		case err == nil:
			winner = fmt.Sprintf("agent%d", i)
		case !errors.Is(err, errTaken):
			t.Fatalf("claim of agent%d: %v, want nil or the fn's error", i, err)
		}
	}
	if winner == "" {
		t.Fatal("no claim won")
	}
	c := conversation(t, st, conv.ID)
	if c.AssignedAgent != winner || c.State != crm.StateAgent {
		t.Errorf("conversation %+v: want it held by the winner %s", c, winner)
	}
	evs := allEvents(t, st, conv.ID)
	if len(evs) != 1 || evs[0].Type != crm.EventClaim || evs[0].Actor != winner || evs[0].Seq != 1 {
		t.Fatalf("events %+v: want one claim, by %s", evs, winner)
	}

	t.Run("concurrent notes", func(t *testing.T) {
		const notes = 20
		ids := make([]string, notes)
		var wg sync.WaitGroup
		for i := range notes {
			wg.Go(func() {
				_, ev, err := st.Transition(ctx, conv.ID, crm.Event{Type: crm.EventNote, Actor: winner, Text: fmt.Sprintf("note %d", i)}, nil)
				if err != nil {
					t.Errorf("note %d: %v", i, err)
				}
				ids[i] = ev.ID
			})
		}
		wg.Wait()
		evs := allEvents(t, st, conv.ID)
		equal(t, "seqs", eventSeqs(evs), seqRange(1, notes+1))
		stored := pluck(evs[1:], func(e crm.Event) string { return e.ID })
		slices.Sort(stored)
		slices.Sort(ids)
		equal(t, "note ids", stored, ids)
	})
}

// testCommitTurnEvents checks a turn's events: stored with the turn, after
// its replies, and not at all when the turn fails.
func testCommitTurnEvents(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	conv := newConversation(t, st)
	m := appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "my card 4111 1111 1111 1111 was charged twice"})
	handoff := func(c *crm.Conversation) error {
		c.State, c.Queue, c.RoutingReason = crm.StateWaiting, "billing", "double charge"
		return nil
	}
	reply := crm.Message{Sender: crm.SenderBot, Text: "I'm passing you to billing."}
	good := crm.Event{Type: crm.EventHandoff, Actor: crm.ActorBot, Queue: "billing", Text: "double charge on 4111 1111 1111 1111"}
	before := conversation(t, st, conv.ID)
	for _, tt := range []struct {
		name string
		turn crm.Turn
		want error
	}{
		{"unknown event type", crm.Turn{ConversationID: conv.ID, Seq: m.Seq, Update: handoff, Replies: []crm.Message{reply},
			Events: []crm.Event{good, {Type: "teleport", Actor: crm.ActorBot}}}, crm.ErrInvalid},
		{"empty note", crm.Turn{ConversationID: conv.ID, Seq: m.Seq, Update: handoff, Replies: []crm.Message{reply},
			Events: []crm.Event{good, {Type: crm.EventNote, Actor: crm.ActorBot}}}, crm.ErrInvalid},
		{"event text too large", crm.Turn{ConversationID: conv.ID, Seq: m.Seq, Update: handoff, Replies: []crm.Message{reply},
			Events: []crm.Event{{Type: crm.EventHandoff, Actor: crm.ActorBot, Text: strings.Repeat("x", crm.MaxEventText+1)}}}, crm.ErrTooLarge},
		{"update fails", crm.Turn{ConversationID: conv.ID, Seq: m.Seq, Replies: []crm.Message{reply}, Events: []crm.Event{good},
			Update: func(c *crm.Conversation) error { handoff(c); return errTaken }}, errTaken},
		{"reply too large", crm.Turn{ConversationID: conv.ID, Seq: m.Seq, Update: handoff, Events: []crm.Event{good},
			Replies: []crm.Message{{Sender: crm.SenderBot, Text: strings.Repeat("x", 1<<20)}}}, crm.ErrTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := st.CommitTurn(ctx, tt.turn)
			wantErr(t, "commit", err, tt.want)
			sameConversation(t, st, before)
			equal(t, "message seqs", seqs(allMessages(t, st, conv.ID)), []uint64{1})
			equal(t, "event seqs", eventSeqs(allEvents(t, st, conv.ID)), []uint64{})
		})
	}

	c, replies, returned, err := st.CommitTurn(ctx, crm.Turn{ConversationID: conv.ID, Seq: m.Seq, Update: handoff, Replies: []crm.Message{reply},
		Events: []crm.Event{{Type: crm.EventHandoff, Actor: crm.ActorBot, Queue: "billing", Text: good.Text, ConversationID: "conv_other"},
			{Type: crm.EventNote, Actor: crm.ActorBot, Text: "customer sounds upset"}}})
	if err != nil {
		t.Fatal(err)
	}
	if c.State != crm.StateWaiting || c.AnsweredSeq != m.Seq || len(replies) != 1 {
		t.Fatalf("after the handoff turn: %+v, replies %+v", c, replies)
	}
	evs := allEvents(t, st, conv.ID)
	equal(t, "event seqs", eventSeqs(evs), []uint64{1, 2})
	h := evs[0]
	if h.Type != crm.EventHandoff || h.Actor != crm.ActorBot || h.Queue != "billing" || h.ConversationID != conv.ID ||
		h.ID == "" || h.At.IsZero() || strings.Contains(h.Text, "4111") || !strings.Contains(h.Text, crm.CardPlaceholder) {
		t.Errorf("handoff event %+v: want it stored in this conversation with its reason redacted", h)
	}
	if evs[1].Type != crm.EventNote || evs[1].Text != "customer sounds upset" {
		t.Errorf("second event %+v", evs[1])
	}
	// The turn gives back the events as stored, so the engine can publish
	// them without reading them again.
	if len(returned) != len(evs) {
		t.Fatalf("the turn returned %d events, stored %d", len(returned), len(evs))
	}
	for i, r := range returned {
		if r.ID != evs[i].ID || r.Seq != evs[i].Seq || r.Type != evs[i].Type || r.Text != evs[i].Text || !r.At.Equal(evs[i].At) {
			t.Errorf("the turn returned event %+v, stored %+v", r, evs[i])
		}
	}
	t.Run("a turn already answered stores no event", func(t *testing.T) {
		_, _, _, err := st.CommitTurn(ctx, crm.Turn{ConversationID: conv.ID, Seq: m.Seq, Events: []crm.Event{good}})
		wantErr(t, "second turn", err, crm.ErrAnswered)
		equal(t, "event seqs", eventSeqs(allEvents(t, st, conv.ID)), []uint64{1, 2})
	})
	t.Run("a transition continues the count", func(t *testing.T) {
		_, ev, err := st.Transition(ctx, conv.ID, crm.Event{Type: crm.EventClaim, Actor: "grace", Agent: "grace"}, claim("grace"))
		if err != nil || ev.Seq != 3 {
			t.Fatalf("claim after the turn: %+v, %v: want seq 3", ev, err)
		}
	})
}

// testStateSince checks when the store moves StateSince: when State,
// Queue or AssignedAgent change, by any write, and at no other time.
func testStateSince(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	imp(t, st, crm.Snapshot{Conversations: []crm.Conversation{
		{ID: "conv_s", Channel: crm.ChannelWeb, CreatedAt: day(1)},
		{ID: "conv_kept", Channel: crm.ChannelWeb, State: crm.StateWaiting, Queue: "billing", CreatedAt: day(1), StateSince: day(2)},
	}})
	if c := conversation(t, st, "conv_kept"); !c.StateSince.Equal(day(2)) {
		t.Errorf("imported StateSince %v, want the snapshot's %v", c.StateSince, day(2))
	}
	if c := conversation(t, st, "conv_s"); !c.StateSince.Equal(day(1)) {
		t.Fatalf("imported StateSince %v, want its CreatedAt %v", c.StateSince, day(1))
	}
	if c := newConversation(t, st); !c.StateSince.Equal(c.CreatedAt) || !conversation(t, st, c.ID).StateSince.Equal(c.CreatedAt) {
		t.Errorf("new conversation %+v: want StateSince its CreatedAt", c)
	}
	update := func(fn func(*crm.Conversation) error) func() crm.Conversation {
		return func() crm.Conversation { return must[crm.Conversation](t)(st.UpdateConversation(ctx, "conv_s", fn)) }
	}
	msg := func(s crm.Sender) func() crm.Conversation {
		return func() crm.Conversation {
			m := appendMsg(t, st, crm.Message{ConversationID: "conv_s", Sender: s, AgentID: "grace", Text: "from " + string(s)})
			c := conversation(t, st, "conv_s")
			if s == crm.SenderCustomer && c.LastCustomerSeq != m.Seq {
				t.Fatalf("conversation %+v after customer message %d", c, m.Seq)
			}
			return c
		}
	}
	transition := func(ev crm.Event, fn func(*crm.Conversation) error) func() crm.Conversation {
		return func() crm.Conversation {
			c, _, err := st.Transition(ctx, "conv_s", ev, fn)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
	}
	// The steps run in order; the first ones keep StateSince at day(1), so
	// that a store that moves it anyway is caught.
	for _, tt := range []struct {
		name  string
		do    func() crm.Conversation
		moves bool
	}{
		{"slots change", update(func(c *crm.Conversation) error { c.Slots = map[string]string{"order_id": "1"}; return nil }), false},
		{"priority changes", update(func(c *crm.Conversation) error { c.Priority = crm.PriorityHigh; return nil }), false},
		{"customer message", msg(crm.SenderCustomer), false},
		{"bot message", msg(crm.SenderBot), false},
		{"agent message", msg(crm.SenderAgent), false},
		{"note", transition(crm.Event{Type: crm.EventNote, Actor: "grace", Text: "vip"}, nil), false},
		{"same state, queue and agent set again", update(func(c *crm.Conversation) error { c.State = crm.StateBot; return nil }), false},
		{"queue changes", update(func(c *crm.Conversation) error { c.Queue = "billing"; return nil }), true},
		{"state changes", update(func(c *crm.Conversation) error { c.State = crm.StateWaiting; return nil }), true},
		{"claimed", transition(crm.Event{Type: crm.EventClaim, Actor: "grace", Agent: "grace"}, claim("grace")), true},
		{"assignee changes", transition(crm.Event{Type: crm.EventTransfer, Actor: "grace", Agent: "alan"},
			func(c *crm.Conversation) error { c.AssignedAgent = "alan"; return nil }), true},
		{"resolved", transition(crm.Event{Type: crm.EventResolve, Actor: "alan"},
			func(c *crm.Conversation) error { c.State = crm.StateResolved; return nil }), true},
		{"reopened by a customer message", msg(crm.SenderCustomer), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := conversation(t, st, "conv_s")
			got := tt.do()
			if stored := conversation(t, st, "conv_s"); !stored.StateSince.Equal(got.StateSince) {
				t.Fatalf("returned StateSince %v, stored %v", got.StateSince, stored.StateSince)
			}
			switch {
			case !tt.moves && !got.StateSince.Equal(before.StateSince):
				t.Fatalf("StateSince moved from %v to %v", before.StateSince, got.StateSince)
			case tt.moves && (got.StateSince.Before(before.StateSince) || !got.StateSince.Equal(got.UpdatedAt)):
				t.Fatalf("StateSince %v (was %v), want the time of the change %v", got.StateSince, before.StateSince, got.UpdatedAt)
			case tt.moves && before.StateSince.Equal(day(1)) && got.StateSince.Equal(day(1)):
				t.Fatalf("StateSince still %v", got.StateSince)
			}
		})
	}
	t.Run("a turn that hands off", func(t *testing.T) {
		c := conversation(t, st, "conv_s")
		if c.State != crm.StateBot {
			t.Fatalf("conversation %+v: want it reopened", c)
		}
		got, _, _, err := st.CommitTurn(ctx, crm.Turn{ConversationID: c.ID, Seq: c.LastCustomerSeq,
			Update: func(c *crm.Conversation) error { c.State = crm.StateWaiting; return nil }})
		if err != nil {
			t.Fatal(err)
		}
		if got.StateSince.Before(c.StateSince) || got.StateSince.After(got.UpdatedAt) || got.StateSince.IsZero() {
			t.Errorf("StateSince %v after the handoff turn (was %v, updated %v)", got.StateSince, c.StateSince, got.UpdatedAt)
		}
	})
}

// testLastAgentAt checks that only agent messages move LastAgentAt.
func testLastAgentAt(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	conv := newConversation(t, st)
	for _, s := range []crm.Sender{crm.SenderCustomer, crm.SenderBot, crm.SenderSystem} {
		appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: s, Text: "from " + string(s)})
	}
	if c := conversation(t, st, conv.ID); !c.LastAgentAt.IsZero() {
		t.Fatalf("LastAgentAt %v without an agent message", c.LastAgentAt)
	}
	m := appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderAgent, AgentID: "grace", Text: "Grace here."})
	if c := conversation(t, st, conv.ID); !c.LastAgentAt.Equal(m.CreatedAt) {
		t.Fatalf("LastAgentAt %v, want the agent message's time %v", c.LastAgentAt, m.CreatedAt)
	}
	for _, tt := range []struct {
		name string
		do   func() error
	}{
		{"customer message", func() error {
			_, _, err := st.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "thanks"})
			return err
		}},
		{"update that sets it", func() error {
			_, err := st.UpdateConversation(ctx, conv.ID, func(c *crm.Conversation) error {
				c.LastAgentAt, c.State = day(50), crm.StateWaiting
				return nil
			})
			return err
		}},
		{"transition that sets it", func() error {
			_, _, err := st.Transition(ctx, conv.ID, crm.Event{Type: crm.EventClaim, Actor: "grace", Agent: "grace"}, func(c *crm.Conversation) error {
				c.LastAgentAt, c.State, c.AssignedAgent = day(50), crm.StateAgent, "grace"
				return nil
			})
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.do(); err != nil {
				t.Fatal(err)
			}
			if c := conversation(t, st, conv.ID); !c.LastAgentAt.Equal(m.CreatedAt) {
				t.Fatalf("LastAgentAt %v, want it kept at %v", c.LastAgentAt, m.CreatedAt)
			}
		})
	}
	t.Run("agent reply in a turn", func(t *testing.T) {
		must[crm.Conversation](t)(st.UpdateConversation(ctx, conv.ID, func(c *crm.Conversation) error {
			c.State, c.AssignedAgent = crm.StateBot, ""
			return nil
		}))
		c := conversation(t, st, conv.ID)
		_, replies, _, err := st.CommitTurn(ctx, crm.Turn{ConversationID: conv.ID, Seq: c.LastCustomerSeq,
			Replies: []crm.Message{{Sender: crm.SenderAgent, AgentID: "grace", Text: "Anything else?"}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := conversation(t, st, conv.ID); !got.LastAgentAt.Equal(replies[0].CreatedAt) {
			t.Errorf("LastAgentAt %v, want the agent reply's time %v", got.LastAgentAt, replies[0].CreatedAt)
		}
	})
	t.Run("import", func(t *testing.T) {
		imp(t, st, crm.Snapshot{
			Conversations: []crm.Conversation{
				{ID: "conv_kept", Channel: crm.ChannelWeb, CreatedAt: day(1), LastAgentAt: day(3)},
				{ID: "conv_raised", Channel: crm.ChannelWeb, CreatedAt: day(1), LastAgentAt: day(3)},
				{ID: "conv_none", Channel: crm.ChannelWeb, CreatedAt: day(1)},
			},
			Messages: []crm.Message{
				{ConversationID: "conv_kept", Sender: crm.SenderAgent, AgentID: "grace", Text: "old", CreatedAt: day(2)},
				{ConversationID: "conv_raised", Sender: crm.SenderAgent, AgentID: "grace", Text: "new", CreatedAt: day(4)},
				{ConversationID: "conv_raised", Sender: crm.SenderCustomer, Text: "later", CreatedAt: day(5)},
				{ConversationID: "conv_none", Sender: crm.SenderCustomer, Text: "hello", CreatedAt: day(2)},
			},
		})
		for id, want := range map[string]time.Time{"conv_kept": day(3), "conv_raised": day(4), "conv_none": {}} {
			if got := conversation(t, st, id).LastAgentAt; !got.Equal(want) {
				t.Errorf("%s: LastAgentAt %v, want %v (the snapshot's, raised by its agent messages)", id, got, want)
			}
		}
	})
}
