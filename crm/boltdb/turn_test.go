package boltdb

import (
	"context"
	"errors"
	"testing"

	"github.com/parleyhq/parley/crm"
)

// say appends a customer message and returns it.
func say(t *testing.T, db *DB, convID, text string) crm.Message {
	t.Helper()
	m, created, err := db.AppendMessage(context.Background(), crm.Message{ConversationID: convID, Sender: crm.SenderCustomer, Text: text})
	if err != nil || !created {
		t.Fatalf("AppendMessage(%q) = %v, %v", text, created, err)
	}
	return m
}

// TestCommitTurnConcurrent commits turns and appends at once, so that they
// share group commits, and expects every turn to commit exactly once.
func TestCommitTurnConcurrent(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	const n = 20
	convs := make([]crm.Conversation, n)
	for i := range convs {
		convs[i] = must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb}))
		say(t, db, convs[i].ID, "hi")
	}
	errs := make(chan error, 2*n)
	for _, c := range convs {
		for range 2 {
			go func() {
				_, _, _, err := db.CommitTurn(ctx, crm.Turn{ConversationID: c.ID, Seq: 1, Replies: []crm.Message{{Sender: crm.SenderBot, Text: "hello"}}})
				errs <- err
			}()
		}
	}
	answered := 0
	for range 2 * n {
		switch err := <-errs; {
		case err == nil:
			answered++
		case !errors.Is(err, crm.ErrAnswered):
			t.Error(err)
		}
	}
	if answered != n {
		t.Errorf("%d turns committed, want %d (one per conversation)", answered, n)
	}
	for _, c := range convs {
		if got := must[crm.Conversation](t)(db.Conversation(ctx, c.ID)); got.LastSeq != 2 || got.AnsweredSeq != 1 {
			t.Errorf("conversation %s: %+v", c.ID, got)
		}
	}
}
