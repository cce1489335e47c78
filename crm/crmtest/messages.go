package crmtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/crm"
)

// Texts the store must redact, and what they become.
const (
	cardText     = "my card is 4111 1111 1111 1111, code is 482913"
	cardRedacted = "my card is " + crm.CardPlaceholder + ", code is " + crm.CodePlaceholder
)

func testMessages(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	conv := newConversation(t, st)

	m1 := appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hello", ClientID: "c1",
		Parse: json.RawMessage(`{"intent":"greet","text":"my pin is 1234"}`)})
	if m1.Seq != 1 || m1.ID == "" || m1.CreatedAt.IsZero() || m1.ConversationID != conv.ID || m1.Text != "hello" {
		t.Fatalf("first message %+v: want seq 1, an id and a time", m1)
	}
	if p := string(m1.Parse); !strings.Contains(p, crm.CodePlaceholder) || strings.Contains(p, "1234") || !strings.Contains(p, "greet") {
		t.Errorf("parse %s: want its strings redacted", p)
	}
	m2 := appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderBot, Text: "Hi! How can I help?",
		QuickReplies: []string{"Track order", "Talk to a human"}})
	m3 := appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: cardText, ClientID: "c2"})
	m4 := appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderAgent, AgentID: "grace", Text: "Let me check."})
	equal(t, "seqs", []uint64{m1.Seq, m2.Seq, m3.Seq, m4.Seq}, []uint64{1, 2, 3, 4})
	if m3.Text != cardRedacted {
		t.Errorf("returned text %q, want %q", m3.Text, cardRedacted)
	}
	if ids := []string{m1.ID, m2.ID, m3.ID, m4.ID}; len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 4 {
		t.Errorf("message ids %v are not distinct", ids)
	}
	if c := conversation(t, st, conv.ID); c.LastSeq != 4 || c.LastCustomerSeq != 3 {
		t.Fatalf("conversation %+v: want LastSeq 4, LastCustomerSeq 3", c)
	}

	t.Run("stored as returned", func(t *testing.T) {
		ms := allMessages(t, st, conv.ID)
		equal(t, "seqs", seqs(ms), []uint64{1, 2, 3, 4})
		if ms[2].Text != cardRedacted || ms[2].ID != m3.ID || ms[2].ClientID != "c2" || ms[2].Sender != crm.SenderCustomer {
			t.Errorf("stored %+v", ms[2])
		}
		if !slices.Equal(ms[1].QuickReplies, m2.QuickReplies) || ms[3].AgentID != "grace" {
			t.Errorf("stored %+v and %+v", ms[1], ms[3])
		}
		if strings.Contains(string(ms[0].Parse), "1234") {
			t.Errorf("stored parse %s", ms[0].Parse)
		}
	})

	t.Run("resend is not stored again", func(t *testing.T) {
		before := conversation(t, st, conv.ID)
		again, created, err := st.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hello (resent)", ClientID: "c1"})
		if err != nil {
			t.Fatal(err)
		}
		if created || again.ID != m1.ID || again.Seq != 1 || again.Text != "hello" {
			t.Fatalf("resend gave %+v (created %v), want the stored %+v", again, created, m1)
		}
		after := conversation(t, st, conv.ID)
		if after.LastSeq != before.LastSeq || after.LastCustomerSeq != before.LastCustomerSeq {
			t.Errorf("conversation after a resend %+v, was %+v", after, before)
		}
		if n := len(allMessages(t, st, conv.ID)); n != 4 {
			t.Errorf("%d messages after a resend, want 4", n)
		}
	})

	t.Run("same client id in another conversation", func(t *testing.T) {
		other := newConversation(t, st)
		o := appendMsg(t, st, crm.Message{ConversationID: other.ID, Sender: crm.SenderCustomer, Text: "hi", ClientID: "c1"})
		if o.Seq != 1 || o.ID == m1.ID || o.ConversationID != other.ID {
			t.Fatalf("other conversation: %+v", o)
		}
	})

	for _, tt := range []struct {
		name  string
		after uint64
		limit int
		want  []uint64
	}{
		{"all", 0, 0, []uint64{1, 2, 3, 4}},
		{"after 1", 1, 0, []uint64{2, 3, 4}},
		{"first page", 0, 2, []uint64{1, 2}},
		{"next page", 2, 2, []uint64{3, 4}},
		{"after the last", 4, 0, []uint64{}},
		{"far after", 100, 0, []uint64{}},
	} {
		t.Run("after "+tt.name, func(t *testing.T) {
			ms := must[[]crm.Message](t)(st.MessagesAfter(ctx, conv.ID, tt.after, tt.limit))
			equal(t, "seqs", seqs(ms), tt.want)
			for _, m := range ms {
				if m.ConversationID != conv.ID {
					t.Fatalf("message %+v of another conversation", m)
				}
			}
		})
	}
	for _, tt := range []struct {
		n    int
		want []uint64
	}{
		{1, []uint64{4}},
		{2, []uint64{3, 4}},
		{10, []uint64{1, 2, 3, 4}},
	} {
		t.Run(fmt.Sprintf("recent %d", tt.n), func(t *testing.T) {
			equal(t, "seqs", seqs(must[[]crm.Message](t)(st.RecentMessages(ctx, conv.ID, tt.n))), tt.want)
		})
	}
	_, err := st.RecentMessages(ctx, conv.ID, 0)
	wantErr(t, "recent 0", err, crm.ErrInvalid)
	_, err = st.MessagesAfter(ctx, "conv_nobody", 0, 0)
	wantErr(t, "messages of an unknown conversation", err, crm.ErrNotFound)
	_, err = st.RecentMessages(ctx, "conv_nobody", 1)
	wantErr(t, "recent messages of an unknown conversation", err, crm.ErrNotFound)
	empty := newConversation(t, st)
	equal(t, "messages of a new conversation", seqs(must[[]crm.Message](t)(st.MessagesAfter(ctx, empty.ID, 0, 0))), []uint64{})
	equal(t, "recent messages of a new conversation", seqs(must[[]crm.Message](t)(st.RecentMessages(ctx, empty.ID, 3))), []uint64{})
}

func testMessagesRefused(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	conv := newConversation(t, st)
	ok := crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hi"}
	with := func(f func(m *crm.Message)) crm.Message { m := ok; f(&m); return m }
	for _, tt := range []struct {
		name string
		m    crm.Message
		want error
	}{
		{"text of 1 MiB", with(func(m *crm.Message) { m.Text = strings.Repeat("x", 1<<20) }), crm.ErrTooLarge},
		{"invalid UTF-8", with(func(m *crm.Message) { m.Text = "caf\xe9" }), crm.ErrInvalid},
		{"empty text", with(func(m *crm.Message) { m.Text = " \n" }), crm.ErrInvalid},
		{"unknown conversation", with(func(m *crm.Message) { m.ConversationID = "conv_nobody" }), crm.ErrNotFound},
		{"no conversation", with(func(m *crm.Message) { m.ConversationID = "" }), crm.ErrInvalid},
		{"unknown sender", with(func(m *crm.Message) { m.Sender = "robot" }), crm.ErrInvalid},
		{"NUL in client id", with(func(m *crm.Message) { m.ClientID = "a\x00" }), crm.ErrInvalid},
		{"parse not JSON", with(func(m *crm.Message) { m.Parse = json.RawMessage(`{"a":`) }), crm.ErrInvalid},
		{"parse too large", with(func(m *crm.Message) {
			m.Parse = json.RawMessage(`"` + strings.Repeat("a", crm.MaxParseBytes) + `"`)
		}), crm.ErrTooLarge},
		{"too many quick replies", with(func(m *crm.Message) { m.QuickReplies = make([]string, 33) }), crm.ErrInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, created, err := st.AppendMessage(ctx, tt.m)
			wantErr(t, "append", err, tt.want)
			if created {
				t.Error("created true with an error")
			}
		})
	}
	if c := conversation(t, st, conv.ID); c.LastSeq != 0 || c.LastCustomerSeq != 0 {
		t.Errorf("refused messages were stored: %+v", c)
	}
	if ms := allMessages(t, st, conv.ID); len(ms) != 0 {
		t.Errorf("refused messages were stored: %+v", ms)
	}
	if m := appendMsg(t, st, with(func(m *crm.Message) { m.Text = strings.Repeat("é", 100) })); m.Seq != 1 {
		t.Errorf("seq %d after refused messages, want 1", m.Seq)
	}
}

// testMessageReopens checks what a message does to the state of its
// conversation.
func testMessageReopens(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	conv := newConversation(t, st)
	first := appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "thanks, bye", ClientID: "c1"})
	resolve := func(t *testing.T) {
		t.Helper()
		c := must[crm.Conversation](t)(st.UpdateConversation(ctx, conv.ID, func(c *crm.Conversation) error {
			c.State = crm.StateResolved
			c.AnsweredSeq = c.LastCustomerSeq
			return nil
		}))
		if c.ClosedAt.IsZero() {
			t.Fatal("resolved without ClosedAt")
		}
	}
	resolve(t)

	t.Run("a resend does not reopen", func(t *testing.T) {
		got, created, err := st.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "thanks, bye", ClientID: "c1"})
		if err != nil || created || got.ID != first.ID {
			t.Fatalf("resend: %+v, created %v, %v", got, created, err)
		}
		if c := conversation(t, st, conv.ID); c.State != crm.StateResolved || c.ClosedAt.IsZero() {
			t.Fatalf("a resend changed the conversation: %+v", c)
		}
	})
	t.Run("a bot message does not reopen", func(t *testing.T) {
		appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderBot, Text: "Goodbye!"})
		if c := conversation(t, st, conv.ID); c.State != crm.StateResolved || c.LastSeq != 2 || c.LastCustomerSeq != 1 {
			t.Fatalf("after a bot message: %+v", c)
		}
	})
	t.Run("a customer message reopens", func(t *testing.T) {
		closed := conversation(t, st, conv.ID).ClosedAt
		m := appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "one more question"})
		c := conversation(t, st, conv.ID)
		if c.State != crm.StateBot || c.LastSeq != m.Seq || c.LastCustomerSeq != m.Seq || !c.Unanswered() {
			t.Fatalf("after a customer message %+v: want state bot, LastCustomerSeq %d", c, m.Seq)
		}
		// ClosedAt stays until the next update, so that the engine sees
		// the conversation was reopened.
		if !c.ClosedAt.Equal(closed) {
			t.Errorf("ClosedAt %v after reopening, want %v kept", c.ClosedAt, closed)
		}
		open := convIDs(must[[]crm.Conversation](t)(st.OpenConversations(ctx, crm.ConversationFilter{Unanswered: true})))
		equal(t, "unanswered", open, []string{conv.ID})
		equal(t, "held by the bot", convIDs(must[[]crm.Conversation](t)(st.OpenConversations(ctx, crm.ConversationFilter{State: crm.StateBot}))), []string{conv.ID})
		c, _, _, err := st.CommitTurn(ctx, crm.Turn{ConversationID: conv.ID, Seq: m.Seq})
		if err != nil {
			t.Fatal(err)
		}
		if !c.ClosedAt.IsZero() || !conversation(t, st, conv.ID).ClosedAt.IsZero() || c.State != crm.StateBot {
			t.Errorf("after the turn that answered the reopening message %+v: want ClosedAt cleared", c)
		}
	})
	t.Run("an update clears ClosedAt of a reopened conversation", func(t *testing.T) {
		resolve(t)
		appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "and another"})
		if c := conversation(t, st, conv.ID); c.State != crm.StateBot || c.ClosedAt.IsZero() {
			t.Fatalf("reopened %+v: want state bot and ClosedAt kept", c)
		}
		c := must[crm.Conversation](t)(st.UpdateConversation(ctx, conv.ID, func(c *crm.Conversation) error { c.Queue = "billing"; return nil }))
		if !c.ClosedAt.IsZero() || !conversation(t, st, conv.ID).ClosedAt.IsZero() {
			t.Errorf("after an update %+v: want ClosedAt cleared", c)
		}
	})
	t.Run("a customer message leaves an agent in charge", func(t *testing.T) {
		must[crm.Conversation](t)(st.UpdateConversation(ctx, conv.ID, func(c *crm.Conversation) error {
			c.State, c.AssignedAgent = crm.StateAgent, "grace"
			return nil
		}))
		appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hello grace"})
		if c := conversation(t, st, conv.ID); c.State != crm.StateAgent || c.AssignedAgent != "grace" {
			t.Fatalf("after a customer message to an agent: %+v", c)
		}
	})
}

func testMessageParse(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	conv := newConversation(t, st)
	m := appendMsg(t, st, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "where is my order"})
	parse := json.RawMessage(`{"intent":"order_status","text":"card 4111 1111 1111 1111","entities":[{"value":"code is 482913"}]}`)
	if err := st.SetMessageParse(ctx, conv.ID, m.Seq, parse); err != nil {
		t.Fatal(err)
	}
	got := allMessages(t, st, conv.ID)
	p := string(got[0].Parse)
	if !strings.Contains(p, "order_status") || strings.Contains(p, "4111") || strings.Contains(p, "482913") ||
		!strings.Contains(p, crm.CardPlaceholder) || !strings.Contains(p, crm.CodePlaceholder) {
		t.Fatalf("stored parse %s: want its strings redacted", p)
	}
	if got[0].Text != m.Text || got[0].Seq != m.Seq || got[0].ID != m.ID {
		t.Fatalf("the message changed: %+v, was %+v", got[0], m)
	}
	if err := st.SetMessageParse(ctx, conv.ID, m.Seq, json.RawMessage(`{"intent":"track_order"}`)); err != nil {
		t.Fatal(err)
	}
	if p := string(allMessages(t, st, conv.ID)[0].Parse); !strings.Contains(p, "track_order") || strings.Contains(p, "order_status") {
		t.Fatalf("parse set again: %s, want it replaced", p)
	}
	for _, tt := range []struct {
		name  string
		conv  string
		seq   uint64
		parse json.RawMessage
		want  error
	}{
		{"unknown message", conv.ID, 9, parse, crm.ErrNotFound},
		{"unknown conversation", "conv_nobody", 1, parse, crm.ErrNotFound},
		{"not JSON", conv.ID, m.Seq, json.RawMessage(`{`), crm.ErrInvalid},
		{"too large", conv.ID, m.Seq, json.RawMessage(`"` + strings.Repeat("a", crm.MaxParseBytes) + `"`), crm.ErrTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, "set parse", st.SetMessageParse(ctx, tt.conv, tt.seq, tt.parse), tt.want)
		})
	}
	if p := string(allMessages(t, st, conv.ID)[0].Parse); !strings.Contains(p, "track_order") {
		t.Errorf("refused parses changed the stored one: %s", p)
	}
}

// testConcurrentAppends appends from many goroutines to shared and to
// private conversations, resending some messages and sending one client id
// from many goroutines at once, and checks that nothing acknowledged is
// lost, doubled or out of order. Run it with -race.
func testConcurrentAppends(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	const writers, perWriter, dupes = 12, 12, 8
	shared := []crm.Conversation{newConversation(t, st), newConversation(t, st)}
	convs := make([]crm.Conversation, writers)
	for w := range convs {
		convs[w] = shared[w%len(shared)]
		if w >= writers-3 {
			convs[w] = newConversation(t, st) // one of its own
		}
	}
	type sent struct {
		clientID string
		msg      crm.Message
	}
	results := make([][]sent, writers)
	dupeResults := make([]crm.Message, dupes)
	dupeCreated := make([]bool, dupes)
	errs := make(chan error, writers+dupes)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			conv := convs[w]
			for i := range perWriter {
				cid := fmt.Sprintf("w%d-%d", w, i)
				m, created, err := st.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: cid, ClientID: cid})
				if err != nil || !created {
					errs <- fmt.Errorf("append %s: created %v, %v", cid, created, err)
					return
				}
				results[w] = append(results[w], sent{cid, m})
				if i%4 == 3 { // resend an earlier one
					old := results[w][i/2]
					r, created, err := st.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "resent", ClientID: old.clientID})
					if err != nil || created || r.ID != old.msg.ID || r.Seq != old.msg.Seq {
						errs <- fmt.Errorf("resend of %s gave %s/%d, created %v, %v; want %s/%d",
							old.clientID, r.ID, r.Seq, created, err, old.msg.ID, old.msg.Seq)
						return
					}
				}
			}
		})
	}
	for i := range dupes {
		wg.Go(func() {
			m, created, err := st.AppendMessage(ctx, crm.Message{ConversationID: shared[0].ID, Sender: crm.SenderCustomer, Text: "same", ClientID: "same-client-id"})
			if err != nil {
				errs <- err
			}
			dupeResults[i], dupeCreated[i] = m, created
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	created := 0
	for i, d := range dupeResults {
		if d.ID != dupeResults[0].ID || d.Seq != dupeResults[0].Seq {
			t.Fatalf("concurrent sends of one client id gave %s/%d and %s/%d", d.ID, d.Seq, dupeResults[0].ID, dupeResults[0].Seq)
		}
		if dupeCreated[i] {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("%d of %d concurrent sends of one client id say created, want 1", created, dupes)
	}

	// Each writer saw its own messages in increasing Seq order.
	for w, rs := range results {
		for i := 1; i < len(rs); i++ {
			if rs[i].msg.Seq <= rs[i-1].msg.Seq {
				t.Fatalf("writer %d: seq %d after %d", w, rs[i].msg.Seq, rs[i-1].msg.Seq)
			}
		}
	}
	// Every conversation holds 1..LastSeq without gaps, and every
	// acknowledged message is stored once, under its seq.
	byID := map[string]crm.Message{}
	total := 0
	for _, c := range append(shared, convs[writers-3:]...) {
		ms := allMessages(t, st, c.ID)
		equal(t, "seqs of "+c.ID, seqs(ms), seqRange(1, uint64(len(ms))))
		if got := conversation(t, st, c.ID); got.LastSeq != uint64(len(ms)) || got.LastCustomerSeq != got.LastSeq {
			t.Errorf("conversation %+v holds %d customer messages", got, len(ms))
		}
		for _, m := range ms {
			if _, dup := byID[m.ID]; dup {
				t.Fatalf("message id %s stored twice", m.ID)
			}
			byID[m.ID] = m
		}
		total += len(ms)
	}
	if want := writers*perWriter + 1; total != want {
		t.Fatalf("%d messages stored, want %d", total, want)
	}
	for w, rs := range results {
		for _, r := range rs {
			if got, ok := byID[r.msg.ID]; !ok || got.Seq != r.msg.Seq || got.Text != r.clientID || got.ConversationID != convs[w].ID {
				t.Fatalf("writer %d: acknowledged %s (%s) stored as %+v", w, r.msg.ID, r.clientID, got)
			}
		}
	}
}
