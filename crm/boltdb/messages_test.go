package boltdb

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/crm"
)

func newConversation(t testing.TB, db *DB) crm.Conversation {
	t.Helper()
	c, err := db.CreateConversation(context.Background(), crm.Conversation{Channel: crm.ChannelWeb})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMaxMessageBytes checks the MaxMessageBytes option and a cancelled
// append; the refusals that are the same for every store are the
// conformance suite's MessagesRefused.
func TestMaxMessageBytes(t *testing.T) {
	ctx := context.Background()
	db := openTestAt(t, filepath.Join(t.TempDir(), "parley.db"), &Options{MaxMessageBytes: 64})
	conv := newConversation(t, db)
	ok := crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hi"}
	with := func(f func(m *crm.Message)) crm.Message { m := ok; f(&m); return m }
	if _, _, err := db.AppendMessage(ctx, with(func(m *crm.Message) { m.Text = strings.Repeat("x", 65) })); !errors.Is(err, crm.ErrTooLarge) {
		t.Fatalf("text over the configured limit: %v, want ErrTooLarge", err)
	}
	exact := with(func(m *crm.Message) { m.Text = strings.Repeat("é", 32) }) // 64 bytes
	if _, _, err := db.AppendMessage(ctx, exact); err != nil {
		t.Fatalf("text of exactly the limit: %v", err)
	}
	if c := must[crm.Conversation](t)(db.Conversation(ctx, conv.ID)); c.LastSeq != 1 {
		t.Errorf("refused messages were stored: LastSeq %d", c.LastSeq)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := db.AppendMessage(cancelled, ok); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// TestAppendsShareCommits appends from many goroutines at once and expects
// the commit queue to group them: fewer commits than appends. That nothing
// acknowledged is lost, doubled or out of order under concurrency is the
// conformance suite's ConcurrentAppends. Run it with -race.
func TestAppendsShareCommits(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	const writers, perWriter = 16, 15
	convs := make([]crm.Conversation, 4)
	for i := range convs {
		convs[i] = newConversation(t, db)
	}
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				cid := fmt.Sprintf("w%d-%d", w, i)
				if _, _, err := db.AppendMessage(ctx, crm.Message{ConversationID: convs[w%len(convs)].ID, Sender: crm.SenderCustomer, Text: cid, ClientID: cid}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	const total = writers * perWriter
	if n := must[crm.Stats](t)(db.Stats(ctx)).Messages; n != total {
		t.Fatalf("%d messages stored, want %d", n, total)
	}
	if c := db.commits.Load(); c >= total {
		t.Errorf("%d commits for %d appends: concurrent appends were not grouped", c, total)
	}
	t.Logf("%d appends in %d commits", total, db.commits.Load())
}
