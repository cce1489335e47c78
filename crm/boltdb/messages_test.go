package boltdb

import (
	"context"
	"encoding/json"
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

func TestAppendMessage(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	conv := newConversation(t, db)
	m1 := mustMessage(t)(db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hello", ClientID: "c1",
		Parse: json.RawMessage(`{"intent":"greet","text":"my pin is 1234"}`)}))
	if m1.Seq != 1 || m1.ID == "" || m1.CreatedAt.IsZero() {
		t.Fatalf("first message %+v: want seq 1, an id and a time", m1)
	}
	if !strings.Contains(string(m1.Parse), "[code redacted]") || strings.Contains(string(m1.Parse), "1234") {
		t.Errorf("parse not redacted: %s", m1.Parse)
	}
	m2 := mustMessage(t)(db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderBot, Text: "Hi! How can I help?",
		QuickReplies: []string{"Track order", "Talk to a human"}}))
	if m2.Seq != 2 {
		t.Fatalf("second seq %d", m2.Seq)
	}
	again := mustMessage(t)(db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hello (resent)", ClientID: "c1"}))
	if again.ID != m1.ID || again.Seq != 1 || again.Text != "hello" {
		t.Fatalf("resend gave %+v, want the stored message %+v", again, m1)
	}
	m3 := mustMessage(t)(db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer,
		Text: "card 4111 1111 1111 1111, code is 482913", ClientID: "c2"}))
	if m3.Seq != 3 || m3.Text != "card [card redacted], code is [code redacted]" {
		t.Fatalf("third %+v", m3)
	}
	// The same client id in another conversation is another message.
	other := newConversation(t, db)
	if o := mustMessage(t)(db.AppendMessage(ctx, crm.Message{ConversationID: other.ID, Sender: crm.SenderCustomer, Text: "hi", ClientID: "c1"})); o.Seq != 1 || o.ID == m1.ID {
		t.Fatalf("other conversation: %+v", o)
	}
	if c := must[crm.Conversation](t)(db.Conversation(ctx, conv.ID)); c.LastSeq != 3 {
		t.Errorf("LastSeq %d, want 3", c.LastSeq)
	}

	for _, tt := range []struct {
		name    string
		after   uint64
		limit   int
		wantSeq []uint64
	}{
		{"all", 0, 0, []uint64{1, 2, 3}},
		{"after 1", 1, 0, []uint64{2, 3}},
		{"page", 0, 2, []uint64{1, 2}},
		{"next page", 2, 2, []uint64{3}},
		{"after last", 3, 0, nil},
		{"far after", 100, 0, nil},
	} {
		t.Run("after "+tt.name, func(t *testing.T) {
			ms := must[[]crm.Message](t)(db.MessagesAfter(ctx, conv.ID, tt.after, tt.limit))
			if len(ms) != len(tt.wantSeq) {
				t.Fatalf("%d messages, want %d", len(ms), len(tt.wantSeq))
			}
			for i, m := range ms {
				if m.Seq != tt.wantSeq[i] || m.ConversationID != conv.ID {
					t.Fatalf("message %d: %+v, want seq %d", i, m, tt.wantSeq[i])
				}
			}
		})
	}
	if ms := must[[]crm.Message](t)(db.RecentMessages(ctx, conv.ID, 2)); len(ms) != 2 || ms[0].Seq != 2 || ms[1].Seq != 3 {
		t.Errorf("recent 2: %+v", ms)
	}
	if ms := must[[]crm.Message](t)(db.RecentMessages(ctx, conv.ID, 10)); len(ms) != 3 || ms[0].Seq != 1 {
		t.Errorf("recent 10: %d messages", len(ms))
	}
	if _, err := db.MessagesAfter(ctx, "nope", 0, 0); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("unknown conversation: %v", err)
	}
	if _, err := db.RecentMessages(ctx, "nope", 1); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("unknown conversation: %v", err)
	}
}

func TestAppendMessageRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	db := openTestAt(t, path, &Options{MaxMessageBytes: 64})
	conv := newConversation(t, db)
	ok := crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hi"}
	with := func(f func(m *crm.Message)) crm.Message { m := ok; f(&m); return m }
	tests := []struct {
		name string
		m    crm.Message
		want error
	}{
		{"over the limit", with(func(m *crm.Message) { m.Text = strings.Repeat("x", 65) }), crm.ErrTooLarge},
		{"invalid utf8", with(func(m *crm.Message) { m.Text = "caf\xe9" }), crm.ErrInvalid},
		{"empty", with(func(m *crm.Message) { m.Text = " \n" }), crm.ErrInvalid},
		{"unknown conversation", with(func(m *crm.Message) { m.ConversationID = "nope" }), crm.ErrNotFound},
		{"no conversation", with(func(m *crm.Message) { m.ConversationID = "" }), crm.ErrInvalid},
		{"bad sender", with(func(m *crm.Message) { m.Sender = "robot" }), crm.ErrInvalid},
		{"nul in client id", with(func(m *crm.Message) { m.ClientID = "a\x00" }), crm.ErrInvalid},
		{"bad parse", with(func(m *crm.Message) { m.Parse = json.RawMessage(`{"a":`) }), crm.ErrInvalid},
		{"too many quick replies", with(func(m *crm.Message) { m.QuickReplies = make([]string, 33) }), crm.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := db.AppendMessage(ctx, tt.m); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
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

// TestAppendConcurrent appends from many goroutines to shared and to private
// conversations, with resends and many goroutines sending the same client id
// at once, and checks that nothing is lost, doubled or out of order. Run it
// with -race.
func TestAppendConcurrent(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	shared := []crm.Conversation{newConversation(t, db), newConversation(t, db)}
	const writers, perWriter = 16, 15
	type sent struct {
		clientID string
		msg      crm.Message
	}
	own := make([]crm.Conversation, writers)
	for w := range own {
		own[w] = shared[w%len(shared)]
		if w >= writers-4 {
			own[w] = newConversation(t, db) // a conversation of its own
		}
	}
	results := make([][]sent, writers)
	dupes := make([]crm.Message, 8)
	var wg sync.WaitGroup
	errs := make(chan error, writers+len(dupes))
	for w := range writers {
		wg.Go(func() {
			conv := own[w]
			for i := range perWriter {
				cid := fmt.Sprintf("w%d-%d", w, i)
				m, _, err := db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: cid, ClientID: cid})
				if err != nil {
					errs <- err
					return
				}
				results[w] = append(results[w], sent{cid, m})
				if i%4 == 3 { // resend an earlier one
					old := results[w][i/2]
					r, _, err := db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "resent", ClientID: old.clientID})
					if err != nil {
						errs <- err
						return
					}
					if r.ID != old.msg.ID || r.Seq != old.msg.Seq {
						errs <- fmt.Errorf("resend of %s gave %s/%d, want %s/%d", old.clientID, r.ID, r.Seq, old.msg.ID, old.msg.Seq)
						return
					}
				}
			}
		})
	}
	for i := range dupes {
		wg.Go(func() {
			m, _, err := db.AppendMessage(ctx, crm.Message{ConversationID: shared[0].ID, Sender: crm.SenderCustomer, Text: "same", ClientID: "same-client-id"})
			if err != nil {
				errs <- err
			}
			dupes[i] = m
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, d := range dupes[1:] {
		if d.ID != dupes[0].ID || d.Seq != dupes[0].Seq {
			t.Fatalf("concurrent sends of one client id gave %s/%d and %s/%d", d.ID, d.Seq, dupes[0].ID, dupes[0].Seq)
		}
	}
	// Each writer saw its own messages in increasing Seq order.
	total := 1 // the one message of all the dupes
	for w, rs := range results {
		total += len(rs)
		for i := 1; i < len(rs); i++ {
			if rs[i].msg.ConversationID == rs[i-1].msg.ConversationID && rs[i].msg.Seq <= rs[i-1].msg.Seq {
				t.Fatalf("writer %d: seq %d after %d", w, rs[i].msg.Seq, rs[i-1].msg.Seq)
			}
		}
	}
	// Every acknowledged message is stored once, under its seq.
	byID := map[string]crm.Message{}
	st := must[crm.Stats](t)(db.Stats(ctx))
	if st.Messages != total {
		t.Fatalf("%d messages stored, want %d", st.Messages, total)
	}
	for _, c := range append(shared, must[[]crm.Conversation](t)(db.OpenConversations(ctx, crm.ConversationFilter{}))...) {
		for _, m := range must[[]crm.Message](t)(db.MessagesAfter(ctx, c.ID, 0, 0)) {
			byID[m.ID] = m
		}
	}
	for w, rs := range results {
		for _, r := range rs {
			if got, ok := byID[r.msg.ID]; !ok || got.Seq != r.msg.Seq || got.Text != r.clientID {
				t.Fatalf("writer %d: acknowledged %s (%s) stored as %+v", w, r.msg.ID, r.clientID, got)
			}
		}
	}
	if c := db.commits.Load(); c >= int64(total) {
		t.Errorf("%d commits for %d appends: concurrent appends were not grouped", c, total)
	}
	t.Logf("%d appends (plus resends) in %d commits", total, db.commits.Load())
}

func TestSetMessageParse(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	conv := newConversation(t, db)
	m := mustMessage(t)(db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "where is my order"}))
	parse := json.RawMessage(`{"intent":"order_status","text":"card 4111 1111 1111 1111"}`)
	if err := db.SetMessageParse(ctx, conv.ID, m.Seq, parse); err != nil {
		t.Fatal(err)
	}
	got := must[[]crm.Message](t)(db.MessagesAfter(ctx, conv.ID, 0, 0))
	if len(got) != 1 || !strings.Contains(string(got[0].Parse), "order_status") || strings.Contains(string(got[0].Parse), "4111") {
		t.Fatalf("stored parse %s", got[0].Parse)
	}
	if got[0].Text != m.Text || got[0].Seq != m.Seq || got[0].ID != m.ID {
		t.Fatalf("the message changed: %+v vs %+v", got[0], m)
	}
	cases := []struct {
		name  string
		conv  string
		seq   uint64
		parse json.RawMessage
		want  error
	}{
		{"unknown message", conv.ID, 9, parse, crm.ErrNotFound},
		{"unknown conversation", "nope", 1, parse, crm.ErrNotFound},
		{"not JSON", conv.ID, m.Seq, json.RawMessage(`{`), crm.ErrInvalid},
		{"too large", conv.ID, m.Seq, json.RawMessage(`"` + strings.Repeat("a", crm.MaxParseBytes) + `"`), crm.ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := db.SetMessageParse(ctx, tc.conv, tc.seq, tc.parse); !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
	if err := db.Check(ctx); err != nil {
		t.Fatal(err)
	}
}
