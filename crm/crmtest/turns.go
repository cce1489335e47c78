package crmtest

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/crm"
)

func testCommitTurn(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	conv := newConversation(t, st)
	m1 := appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "my card is 4111 1111 1111 1111"})

	got, replies, _, err := st.CommitTurn(ctx, crm.Turn{
		ConversationID: conv.ID,
		Seq:            m1.Seq,
		Parse:          json.RawMessage(`{"intent":"payment_issue","text":"code is 482913"}`),
		Update: func(c *crm.Conversation) error {
			c.Queue, c.ActiveForm = "billing", "payment_form"
			c.Slots = map[string]string{"method": "card"}
			return nil
		},
		Replies: []crm.Message{
			{Sender: crm.SenderBot, Text: "Sorry to hear that.", ClientID: "turn-1-0"},
			{Sender: crm.SenderBot, Text: "Never send your card number (" + cardText + ").", QuickReplies: []string{"Talk to a human"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.AnsweredSeq != m1.Seq || got.LastSeq != 3 || got.LastCustomerSeq != 1 || got.Queue != "billing" || got.Slots["method"] != "card" {
		t.Fatalf("conversation after the turn %+v: want AnsweredSeq 1, LastSeq 3, the update applied", got)
	}
	if got.Unanswered() {
		t.Error("answered conversation still unanswered")
	}
	if len(replies) != 2 || replies[0].Seq != 2 || replies[1].Seq != 3 || replies[0].ID == "" || replies[1].CreatedAt.IsZero() {
		t.Fatalf("replies %+v: want seqs 2 and 3 with ids and times", replies)
	}
	for _, r := range replies {
		if r.ConversationID != conv.ID {
			t.Errorf("reply %+v: want its conversation set from the turn", r)
		}
	}
	if strings.Contains(replies[1].Text, "4111") || !strings.Contains(replies[1].Text, crm.CardPlaceholder) {
		t.Errorf("reply text %q not redacted", replies[1].Text)
	}
	if stored := conversation(t, st, conv.ID); stored.AnsweredSeq != 1 || stored.LastSeq != 3 || stored.ActiveForm != "payment_form" {
		t.Errorf("stored conversation %+v", stored)
	}
	ms := allMessages(t, st, conv.ID)
	equal(t, "seqs", seqs(ms), []uint64{1, 2, 3})
	if p := string(ms[0].Parse); !strings.Contains(p, "payment_issue") || strings.Contains(p, "482913") {
		t.Errorf("parse of the answered message %s: want it stored and redacted", p)
	}
	if ms[2].ID != replies[1].ID || ms[2].Text != replies[1].Text || len(ms[2].QuickReplies) != 1 {
		t.Errorf("stored reply %+v, returned %+v", ms[2], replies[1])
	}
	if un := must[[]crm.Conversation](t)(st.OpenConversations(ctx, crm.ConversationFilter{Unanswered: true})); len(un) != 0 {
		t.Errorf("unanswered after the turn: %v", convIDs(un))
	}
	// The update moved the conversation to another queue.
	equal(t, "open in billing", convIDs(must[[]crm.Conversation](t)(st.OpenConversations(ctx, crm.ConversationFilter{Queue: "billing"}))), []string{conv.ID})

	t.Run("a second turn for the message", func(t *testing.T) {
		_, _, _, err := st.CommitTurn(ctx, crm.Turn{
			ConversationID: conv.ID, Seq: m1.Seq, Parse: json.RawMessage(`{"intent":"other"}`),
			Update:  func(c *crm.Conversation) error { c.Queue = "other"; return nil },
			Replies: []crm.Message{{Sender: crm.SenderBot, Text: "answered twice"}},
		})
		wantErr(t, "second turn", err, crm.ErrAnswered)
		c := conversation(t, st, conv.ID)
		if c.LastSeq != 3 || c.Queue != "billing" || c.AnsweredSeq != 1 {
			t.Errorf("a refused turn was stored: %+v", c)
		}
		if p := string(allMessages(t, st, conv.ID)[0].Parse); !strings.Contains(p, "payment_issue") {
			t.Errorf("a refused turn replaced the parse: %s", p)
		}
	})

	t.Run("a turn without update, parse or replies", func(t *testing.T) {
		m := appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "ok"})
		appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "and?"})
		if c := conversation(t, st, conv.ID); !c.Unanswered() || c.LastCustomerSeq != m.Seq+1 {
			t.Fatalf("after two customer messages: %+v", c)
		}
		c, replies, _, err := st.CommitTurn(ctx, crm.Turn{ConversationID: conv.ID, Seq: m.Seq})
		if err != nil {
			t.Fatal(err)
		}
		if c.AnsweredSeq != m.Seq || c.LastSeq != m.Seq+1 || len(replies) != 0 || !c.Unanswered() {
			t.Fatalf("after a bare turn for %d: %+v, replies %v", m.Seq, c, replies)
		}
		if p := allMessages(t, st, conv.ID)[m.Seq-1].Parse; len(p) != 0 {
			t.Errorf("a turn without parse stored %s", p)
		}
		_, _, _, err = st.CommitTurn(ctx, crm.Turn{ConversationID: conv.ID, Seq: m.Seq - 1})
		wantErr(t, "turn for an earlier message", err, crm.ErrAnswered)
	})

	t.Run("a reply resent by its client id is not stored again", func(t *testing.T) {
		last := conversation(t, st, conv.ID)
		c, replies, _, err := st.CommitTurn(ctx, crm.Turn{ConversationID: conv.ID, Seq: last.LastCustomerSeq, Replies: []crm.Message{
			{Sender: crm.SenderBot, Text: "Sorry to hear that (again).", ClientID: "turn-1-0"},
			{Sender: crm.SenderBot, Text: "Still here."},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(replies) != 2 || replies[0].Seq != 2 || replies[0].Text != "Sorry to hear that." || replies[1].Seq != last.LastSeq+1 || c.LastSeq != last.LastSeq+1 {
			t.Fatalf("replies %+v, conversation %+v: want the stored reply 2 and one new one after %d", replies, c, last.LastSeq)
		}
	})
}

// testCommitTurnRefused checks that a turn that fails writes nothing: not
// its update, not its parse, not its replies, not AnsweredSeq.
func testCommitTurnRefused(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	conv := newConversation(t, st)
	m := appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "help"})
	boom := errors.New("boom")
	parse := json.RawMessage(`{"intent":"help"}`)
	update := func(c *crm.Conversation) error { c.Queue, c.State = "billing", crm.StateWaiting; return nil }
	reply := crm.Message{Sender: crm.SenderBot, Text: "One moment."}
	for _, tt := range []struct {
		name string
		turn crm.Turn
		want error
	}{
		{"update fails", crm.Turn{ConversationID: conv.ID, Seq: m.Seq, Parse: parse, Replies: []crm.Message{reply},
			Update: func(c *crm.Conversation) error { c.Queue = "billing"; return boom }}, boom},
		{"update invalid", crm.Turn{ConversationID: conv.ID, Seq: m.Seq, Parse: parse, Replies: []crm.Message{reply},
			Update: func(c *crm.Conversation) error { c.State = "gone"; return nil }}, crm.ErrInvalid},
		{"second reply too large", crm.Turn{ConversationID: conv.ID, Seq: m.Seq, Parse: parse, Update: update,
			Replies: []crm.Message{reply, {Sender: crm.SenderBot, Text: strings.Repeat("x", 1<<20)}}}, crm.ErrTooLarge},
		{"reply invalid UTF-8", crm.Turn{ConversationID: conv.ID, Seq: m.Seq, Parse: parse, Update: update,
			Replies: []crm.Message{reply, {Sender: crm.SenderBot, Text: "caf\xe9"}}}, crm.ErrInvalid},
		{"reply without sender", crm.Turn{ConversationID: conv.ID, Seq: m.Seq, Parse: parse, Update: update,
			Replies: []crm.Message{{Text: "who am I"}}}, crm.ErrInvalid},
		{"parse not JSON", crm.Turn{ConversationID: conv.ID, Seq: m.Seq, Parse: json.RawMessage(`{`), Update: update,
			Replies: []crm.Message{reply}}, crm.ErrInvalid},
		{"parse too large", crm.Turn{ConversationID: conv.ID, Seq: m.Seq, Update: update, Replies: []crm.Message{reply},
			Parse: json.RawMessage(`"` + strings.Repeat("a", crm.MaxParseBytes) + `"`)}, crm.ErrTooLarge},
		{"unknown conversation", crm.Turn{ConversationID: "conv_nobody", Seq: 1, Replies: []crm.Message{reply}}, crm.ErrNotFound},
		{"parse of a message not stored", crm.Turn{ConversationID: conv.ID, Seq: 9, Parse: parse, Update: update,
			Replies: []crm.Message{reply}}, crm.ErrNotFound},
		{"message 0", crm.Turn{ConversationID: conv.ID, Seq: 0, Update: update, Replies: []crm.Message{reply}}, crm.ErrInvalid},
		{"message not stored", crm.Turn{ConversationID: conv.ID, Seq: 9, Update: update, Replies: []crm.Message{reply}}, crm.ErrNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := st.CommitTurn(ctx, tt.turn)
			wantErr(t, "commit", err, tt.want)
			got := conversation(t, st, conv.ID)
			if got.AnsweredSeq != 0 || got.LastSeq != 1 || got.Queue != "" || got.State != crm.StateBot || !got.Unanswered() {
				t.Fatalf("a failed turn changed the conversation: %+v", got)
			}
			ms := allMessages(t, st, conv.ID)
			if len(ms) != 1 || len(ms[0].Parse) != 0 {
				t.Fatalf("a failed turn stored messages or a parse: %+v", ms)
			}
		})
	}
	// The message can still be answered.
	if _, _, _, err := st.CommitTurn(ctx, crm.Turn{ConversationID: conv.ID, Seq: m.Seq, Parse: parse, Update: update,
		Replies: []crm.Message{reply}}); err != nil {
		t.Fatalf("the turn after failed ones: %v", err)
	}
}

// testCommitTurnConcurrent commits the turn for one message from many
// goroutines at once: exactly one wins.
func testCommitTurnConcurrent(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	conv := newConversation(t, st)
	m := appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hello"})
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, _, _, errs[i] = st.CommitTurn(ctx, crm.Turn{ConversationID: conv.ID, Seq: m.Seq,
				Replies: []crm.Message{{Sender: crm.SenderBot, Text: "Hello!"}}})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, crm.ErrAnswered):
			t.Fatalf("concurrent turn: %v, want nil or ErrAnswered", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent turns for one message were stored, want 1", won, n)
	}
	equal(t, "seqs", seqs(allMessages(t, st, conv.ID)), []uint64{1, 2})
}
