package boltdb

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
)

// BenchmarkAppendDurable measures durable appends (each acknowledged after an
// fsync'd commit) from 1 and from 64 concurrent writers, each writer in its
// own conversation. It reports appends/s and appends per commit.
func BenchmarkAppendDurable(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			ctx := context.Background()
			db := openTest(b)
			convs := make([]crm.Conversation, writers)
			for i := range convs {
				convs[i] = newConversation(b, db)
			}
			text := "Hi, my parcel for order 1042 has not arrived yet, can you check where it is?"
			startCommits := db.commits.Load()
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			b.ResetTimer()
			start := time.Now()
			for w := range writers {
				n := b.N / writers
				if w < b.N%writers {
					n++
				}
				wg.Go(func() {
					for i := range n {
						if _, _, err := db.AppendMessage(ctx, crm.Message{ConversationID: convs[w].ID, Sender: crm.SenderCustomer,
							Text: text, ClientID: fmt.Sprintf("%d", i)}); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
			if c := db.commits.Load() - startCommits; c > 0 {
				b.ReportMetric(float64(b.N)/float64(c), "appends/commit")
			}
		})
	}
}

// BenchmarkOpenConversations lists the 20 most urgent open conversations
// (all of them, and those waiting in one queue) of stores holding 1,000 to
// 100,000 open conversations: the time must not grow with the total, since
// the open index is read in the listing's order and the scan stops at the
// limit.
func BenchmarkOpenConversations(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		db := openTest(b)
		seedOpenConversations(b, db, n)
		for _, f := range []struct {
			name string
			f    crm.ConversationFilter
		}{
			{"all", crm.ConversationFilter{Limit: 20}},
			{"waiting-billing", crm.ConversationFilter{State: crm.StateWaiting, Queue: "billing", Limit: 20}},
		} {
			b.Run(fmt.Sprintf("open=%d/%s", n, f.name), func(b *testing.B) {
				ctx := context.Background()
				for b.Loop() {
					cs, err := db.OpenConversations(ctx, f.f)
					if err != nil {
						b.Fatal(err)
					}
					if len(cs) != 20 {
						b.Fatalf("listed %d, want 20", len(cs))
					}
				}
			})
		}
	}
}

// seedOpenConversations imports n open conversations of mixed states,
// queues and priorities, created a second apart.
func seedOpenConversations(b *testing.B, db *DB, n int) {
	b.Helper()
	states := []crm.ConversationState{crm.StateBot, crm.StateWaiting, crm.StateAgent}
	queues := []string{"billing", "shipping", "returns"}
	prios := []crm.Priority{crm.PriorityLow, crm.PriorityNormal, crm.PriorityHigh, crm.PriorityUrgent}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := crm.Snapshot{Conversations: make([]crm.Conversation, n)}
	for i := range s.Conversations {
		c := crm.Conversation{ID: fmt.Sprintf("conv_%07d", i), Channel: crm.ChannelWeb, State: states[i%len(states)],
			Priority: prios[i/3%len(prios)], CreatedAt: start.Add(time.Duration(i) * time.Second)}
		if c.State != crm.StateBot {
			c.Queue = queues[i/12%len(queues)]
		}
		s.Conversations[i] = c
	}
	if err := db.Import(context.Background(), s); err != nil {
		b.Fatal(err)
	}
}
