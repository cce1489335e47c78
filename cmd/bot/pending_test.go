package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/internal/shoptest"
)

// TestServeAnswersWhatTheLastRunLeft stores a customer message the way a
// server acknowledges one (Receive) and stops before answering it; the
// next "bot serve" answers it before it listens, once: a second start
// answers nothing more.
func TestServeAnswersWhatTheLastRunLeft(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	conv, msg := leaveUnanswered(t, data, "hello")
	args := []string{"--data-dir", data, "--model", shoptest.ModelDir(t)}
	for run, want := range []string{"answered 1 conversation left unanswered by the last run", ""} {
		s := startServe(t, args...)
		s.stop(t)
		said := s.errOut.String()
		if want != "" && !strings.Contains(said, want) || want == "" && strings.Contains(said, "left unanswered") {
			t.Errorf("start %d said %q, want %q", run+1, said, want)
		}
		if n := botRepliesAfter(t, data, conv, msg); n != 1 {
			t.Errorf("after start %d: %d bot replies to the message, want 1", run+1, n)
		}
	}
}

// leaveUnanswered stores text as a customer message of a new web
// conversation in DATA/parley.db (seeded with the demo shop) without
// answering it, and returns the conversation and the message's seq.
func leaveUnanswered(t *testing.T, data, text string) (string, uint64) {
	t.Helper()
	ctx := context.Background()
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := boltdb.Open(filepath.Join(data, storeFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := shop.EnsureSeeded(ctx, db, time.Now()); err != nil {
		t.Fatal(err)
	}
	e, err := dialog.New(dialog.Config{Domain: shoptest.Domain(t), Parser: shoptest.Model(t), Store: db})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.Start(ctx, dialog.StartRequest{Channel: crm.ChannelWeb})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Receive(ctx, dialog.Inbound{ConversationID: c.ID, Text: text, ClientID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.New {
		t.Fatalf("received %+v, want a new message", r)
	}
	return c.ID, r.Message.Seq
}

// botRepliesAfter counts the bot's messages after seq in the conversation.
func botRepliesAfter(t *testing.T, data, conv string, seq uint64) int {
	t.Helper()
	db, err := boltdb.Open(filepath.Join(data, storeFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, err := db.MessagesAfter(context.Background(), conv, seq, 0)
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
