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
