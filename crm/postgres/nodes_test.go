package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/parleyhq/parley/crm"
)

// TestTwoNodes checks what must hold across processes, with two stores on
// one database (as two nodes have): concurrent appends to one conversation
// get consecutive seqs, a resend is stored once, exactly one of many claims
// wins, and an event key is fresh for one node only.
func TestTwoNodes(t *testing.T) {
	a, url := openTestURL(t, nil)
	b, err := Open(context.Background(), url, nil) // migrations applied already: nothing to do
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	nodes := []*DB{a, b}
	ctx := context.Background()
	if _, err := a.CreateConversation(ctx, crm.Conversation{ID: "conv_1", Channel: crm.ChannelWeb, State: crm.StateWaiting}); err != nil {
		t.Fatal(err)
	}

	const per = 20
	var wg sync.WaitGroup
	errs := make(chan error, 4*per)
	for n := range nodes {
		for i := range per {
			wg.Go(func() {
				// Every message twice, once from each node: stored once.
				id := fmt.Sprintf("c%d-%d", n, i)
				for _, d := range nodes {
					if _, _, err := d.AppendMessage(ctx, crm.Message{ConversationID: "conv_1", Sender: crm.SenderCustomer, Text: id, ClientID: id}); err != nil {
						errs <- err
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	msgs, err := b.MessagesAfter(ctx, "conv_1", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2*per {
		t.Fatalf("%d messages stored, want %d (each once)", len(msgs), 2*per)
	}
	for i, m := range msgs {
		if m.Seq != uint64(i+1) {
			t.Fatalf("message %d has seq %d: not consecutive", i, m.Seq)
		}
	}

	// Claims from both nodes: exactly one wins.
	var won sync.Map
	for i := range 8 {
		db := nodes[i%2]
		login := fmt.Sprintf("agent%d@shop.example", i)
		wg.Go(func() {
			_, _, err := db.Transition(ctx, "conv_1", crm.Event{Type: crm.EventClaim, Actor: login, Agent: login}, func(c *crm.Conversation) error {
				if c.State == crm.StateAgent {
					return crm.ErrConflict
				}
				c.State, c.AssignedAgent = crm.StateAgent, login
				return nil
			})
			switch {
			case err == nil:
				won.Store(login, true)
			case !errors.Is(err, crm.ErrConflict):
				t.Errorf("claim by %s: %v", login, err)
			}
		})
	}
	wg.Wait()
	n := 0
	won.Range(func(_, _ any) bool { n++; return true })
	if n != 1 {
		t.Errorf("%d claims won, want exactly 1", n)
	}

	// One event key, marked from both nodes at once: fresh once.
	var fresh sync.Map
	for i := range 8 {
		db := nodes[i%2]
		wg.Go(func() {
			ok, err := db.MarkSeen(ctx, "slack:ev:Ev1", a.now())
			if err != nil {
				t.Error(err)
			}
			if ok {
				fresh.Store(i, true)
			}
		})
	}
	wg.Wait()
	n = 0
	fresh.Range(func(_, _ any) bool { n++; return true })
	if n != 1 {
		t.Errorf("the key was fresh %d times, want once", n)
	}
}
