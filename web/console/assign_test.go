package console

import (
	"context"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// TestAutoAssign checks that with AutoAssign a conversation that enters
// waiting goes to an online agent serving its queue, the one holding the
// fewest conversations first, never back to the agent it came back from,
// and to nobody when nobody suitable is online.
func TestAutoAssign(t *testing.T) {
	f := newFixture(t)
	f.console.cfg.AutoAssign = true
	srv := f.live(t)
	ctx := context.Background()

	// Dave holds a conversation (taken before anyone was online); Bob none.
	f.handedOff(t, "held-1", "c-2")
	if _, err := f.engine.Claim(ctx, "held-1", dialog.Actor{Login: dave}); err != nil {
		t.Fatal(err)
	}
	b := online(t, srv, f.login(t, bob))
	d := online(t, srv, f.login(t, dave))
	c := online(t, srv, f.login(t, carol)) // serves returns only: never gets general's

	assigned := func(s *sock, id string) {
		t.Helper()
		g, _ := s.until("the assignment of "+id, func(g gotFrame) bool {
			return isKind("alert", id)(g) && g.Reason == reasonAssigned
		})
		conv, err := f.store.Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if conv.State != crm.StateAgent || conv.AssignedAgent == "" {
			t.Fatalf("%s: %s by %q after %s", id, conv.State, conv.AssignedAgent, g.raw)
		}
	}
	holder := func(id string) string {
		t.Helper()
		conv, err := f.store.Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return conv.AssignedAgent
	}

	// Fewest first: Bob holds none, Dave one.
	f.handedOff(t, "conv-1", "c-1")
	assigned(b, "conv-1")
	if h := holder("conv-1"); h != bob {
		t.Fatalf("conv-1 assigned to %q, want bob", h)
	}
	evs, err := f.store.Events(ctx, "conv-1", 0, 0)
	if err != nil || len(evs) == 0 || evs[len(evs)-1].Type != crm.EventAssign || evs[len(evs)-1].Actor != crm.ActorSystem {
		t.Fatalf("events of conv-1: %+v %v, want an assignment by the system last", evs, err)
	}

	// One each: the one given one least recently, Dave.
	f.handedOff(t, "conv-2", "")
	assigned(d, "conv-2")
	if h := holder("conv-2"); h != dave {
		t.Fatalf("conv-2 assigned to %q, want dave", h)
	}

	// Only online agents: Bob is away, so Dave gets a third.
	b.send(map[string]any{"type": "presence", "presence": "away"})
	d.until("bob away", isPresence(bob, presenceAway))
	f.handedOff(t, "conv-3", "")
	assigned(d, "conv-3")
	if h := holder("conv-3"); h != dave {
		t.Fatalf("conv-3 assigned to %q, want dave", h)
	}

	// Never back: Bob releases conv-1 and holds none, yet Dave gets it.
	b.send(map[string]any{"type": "presence", "presence": "online"})
	d.until("bob online", isPresence(bob, presenceOnline))
	if _, err := f.engine.Release(ctx, "conv-1", dialog.Actor{Login: bob}); err != nil {
		t.Fatal(err)
	}
	assigned(d, "conv-1")
	if h := holder("conv-1"); h != dave {
		t.Fatalf("conv-1 after its release assigned to %q, want dave", h)
	}

	// Nobody serving general online (Carol serves returns): it waits.
	// Bob's return then gets him the next one; the assigner takes them in
	// order, so conv-4 was decided before.
	b.ws.Close()
	d.ws.Close()
	gone := map[string]bool{}
	c.until("bob and dave offline", func(g gotFrame) bool {
		if g.Kind == "presence" && g.Presence == presenceOffline {
			gone[g.login()] = true
		}
		return gone[bob] && gone[dave]
	})
	f.handedOff(t, "conv-4", "")
	b = online(t, srv, f.login(t, bob))
	f.handedOff(t, "conv-5", "")
	assigned(b, "conv-5")
	if conv, err := f.store.Conversation(ctx, "conv-4"); err != nil || conv.State != crm.StateWaiting || conv.AssignedAgent != "" {
		t.Fatalf("conv-4: %s by %q (%v), want waiting for nobody", conv.State, conv.AssignedAgent, err)
	}
}
