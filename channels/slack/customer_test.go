package slack

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// The customer tests' Slack ids.
const (
	custDM   = "DCUST"    // the customer's DM with the bot
	custTeam = "TSHOP"    // the team helpers_test.go signs events for
	custRoot = "C1"       // a public channel the bot is in
	custTS0  = 1700000100 // first ts the tests give their messages
)

// custTS returns the ts of the test message n.
func custTS(n int) string { return strconv.Itoa(custTS0+n) + ".000100" }

// customerReady waits until the adapter knows its own user id (auth.test),
// so that mentions of it are stripped from the first message on.
func customerReady(t *testing.T, a *Adapter) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		a.self.Lock()
		me := a.self.userID
		a.self.Unlock()
		if me == botUser {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the adapter never learnt its own user id")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// customerWait polls cond until it holds (the deadline only keeps a
// broken test from hanging).
func customerWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// customerEvent posts a signed event_callback like s.event, as Slack's
// retry number retry (0: the first delivery, without retry headers).
func customerEvent(t *testing.T, s *stack, id string, inner map[string]any, retry int) {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"token": "legacy", "team_id": custTeam, "api_app_id": "AAPP", "type": "event_callback",
		"event_id": id, "event_time": s.now.Unix(), "event": inner,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := sign(testSecret, time.Now(), body)
	if retry > 0 {
		h.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
		h.Set("X-Slack-Retry-Reason", "http_timeout")
	}
	if code, resp := s.send(t, "/slack/events", "application/json", body, h); code != 200 {
		t.Fatalf("event %s (retry %d): status %d %s", id, retry, code, resp)
	}
}

// mention is an app_mention of the bot in a channel (in thread threadTS
// when not empty).
func mention(user, channel, threadTS, ts, text string) map[string]any {
	m := map[string]any{"type": "app_mention", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts}
	if threadTS != "" {
		m["thread_ts"] = threadTS
	}
	return m
}

// in returns a match for the posts to channel, in thread thread.
func in(channel, thread string) func(post) bool {
	return func(p post) bool {
		return p.Method == "chat.postMessage" && p.Channel == channel && p.ThreadTS == thread
	}
}

// waitCount waits until n posts match.
func waitCount(t *testing.T, s *stack, what string, n int, match func(post) bool) []post {
	t.Helper()
	s.slack.waitFor(t, what, func(ps []post) bool { return count(ps, match) >= n })
	var out []post
	for _, p := range s.slack.Posts() {
		if match(p) {
			out = append(out, p)
		}
	}
	return out
}

// customerMessages returns the customer's stored messages of conversation
// id.
func customerMessages(t *testing.T, s *stack, id string) []crm.Message {
	t.Helper()
	ms, err := s.store.MessagesAfter(context.Background(), id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []crm.Message
	for _, m := range ms {
		if m.Sender == crm.SenderCustomer {
			out = append(out, m)
		}
	}
	return out
}

// blockTexts returns every "text" string and every button (action id →
// value) in a post's blocks.
func blockTexts(t *testing.T, blocks string) (texts []string, buttons map[string]string) {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(blocks), &v); err != nil {
		t.Fatalf("blocks %q: %v", blocks, err)
	}
	buttons = map[string]string{}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				texts = append(texts, s)
			}
			if x["type"] == "button" {
				buttons[x["action_id"].(string)], _ = x["value"].(string)
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(v)
	return texts, buttons
}

func TestEscape(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"plain", "Where is my order?", "Where is my order?"},
		{"empty", "", ""},
		{"channel ping", "<!channel> hi", "&lt;!channel&gt; hi"},
		{"user mention", "ask <@U999>", "ask &lt;@U999&gt;"},
		{"link", "<https://evil.example|click>", "&lt;https://evil.example|click&gt;"},
		{"ampersand first", "fish & chips", "fish &amp; chips"},
		{"entity stays text", "&lt;!here&gt;", "&amp;lt;!here&amp;gt;"},
		{"unicode", "café <3", "café &lt;3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := escape(c.in); got != c.want {
				t.Errorf("escape(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestEscapeClip(t *testing.T) {
	for _, c := range []struct {
		name, in string
		n        int
		want     string
	}{
		{"fits", "a<b", 10, "a&lt;b"},
		{"cut before an entity", "ab<cd", 5, "ab…"},
		{"cut after an entity", "a<bcdef", 7, "a&lt;b…"},
		{"runes", "ééééé", 3, "éé…"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := escapeClip(c.in, c.n); got != c.want {
				t.Errorf("escapeClip(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
			}
		})
	}
	if got := clip("abcdef", 4); got != "abc…" {
		t.Errorf("clip = %q", got)
	}
	for _, c := range []struct {
		n    int
		want string
	}{{9, "aéééé"}, {6, "aé…"}, {5, "a…"}} {
		if got := clipBytes("aéééé", c.n); got != c.want {
			t.Errorf("clipBytes(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

func TestCustomerText(t *testing.T) {
	a := &Adapter{}
	a.self.userID = botUser
	for _, c := range []struct{ name, in, want string }{
		{"leading mention", "<@UBOT> where is my order", "where is my order"},
		{"mention with name", "hey <@UBOT|parley>, help", "hey , help"},
		{"other users stay, as text", "<@UBOTX> and <@U999> <@UBOT>", "@UBOTX and @U999"},
		{"only a mention", "<@UBOT>", "@UBOT"},
		{"links and broadcasts as text", "see <https://evil.example|click> <!channel>", "see click (https://evil.example) @channel"},
		{"entities undone", "a &lt; b &amp;&amp; c &gt; d", "a < b && c > d"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := a.customerText(c.in); got != c.want {
				t.Errorf("customerText(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestCustomerDM(t *testing.T) {
	s := newStack(t)
	customerReady(t, s.adapter)
	customerEvent(t, s, "EvDM1", dm(customerUser, custDM, custTS(1), "hello there"), 0)
	first := waitCount(t, s, "the reply to the DM", 1, in(custDM, ""))[0]
	// A second message is the barrier: the outbox posts a channel's
	// messages in order, so a second reply to the first would come before.
	customerEvent(t, s, "EvDM2", dm(customerUser, custDM, custTS(2), "thanks"), 0)
	got := waitCount(t, s, "the reply to the second DM", 2, in(custDM, ""))
	if len(got) != 2 || got[0].TS != first.TS {
		t.Fatalf("posts to the DM: %+v, want one reply per message", got)
	}
	if n := count(s.slack.Posts(), func(p post) bool { return p.Channel != custDM && p.Channel != agentChannel }); n != 0 {
		t.Errorf("%d posts elsewhere: %+v", n, s.slack.Posts())
	}
	id := customerConvID(custTeam, custDM, customerUser)
	conv, err := s.store.Conversation(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if conv.Channel != crm.ChannelSlack || conv.CustomerID != "" {
		t.Errorf("conversation = %+v, want channel slack, no customer", conv)
	}
	ms := customerMessages(t, s, id)
	if len(ms) != 2 || ms[0].Text != "hello there" || ms[0].ClientID != "slack:"+custDM+":"+custTS(1) {
		t.Errorf("stored customer messages: %+v", ms)
	}
}

func TestCustomerMentionInThread(t *testing.T) {
	s := newStack(t)
	customerReady(t, s.adapter)
	root := custTS(10)
	customerEvent(t, s, "EvM1", mention(customerUser, custRoot, "", root, "<@UBOT> hello"), 0)
	waitCount(t, s, "the answer in the mention's thread", 1, in(custRoot, root))
	// The customer goes on in the thread without mentioning the bot.
	customerEvent(t, s, "EvM2", threadReply(customerUser, custRoot, root, custTS(11), "thanks"), 0)
	waitCount(t, s, "the answer to the follow-up", 2, in(custRoot, root))
	// Somebody else in that thread is not talking to the bot...
	customerEvent(t, s, "EvM3", threadReply(strangerUser, custRoot, root, custTS(12), "me too, hello"), 0)
	// ...and the customer's next message is the barrier.
	customerEvent(t, s, "EvM4", threadReply(customerUser, custRoot, root, custTS(13), "hello again"), 0)
	got := waitCount(t, s, "the answer to the barrier", 3, in(custRoot, root))
	if len(got) != 3 {
		t.Errorf("answers in the thread: %d, want 3: %+v", len(got), got)
	}
	if n := count(s.slack.Posts(), func(p post) bool { return p.Channel == custRoot && p.ThreadTS != root }); n != 0 {
		t.Errorf("%d posts to %s outside the thread", n, custRoot)
	}
	ms := customerMessages(t, s, customerConvID(custTeam, custRoot, customerUser))
	if len(ms) != 3 || ms[0].Text != "hello" {
		t.Errorf("stored: %+v, want 3 messages, the first without the mention", ms)
	}
	if _, err := s.store.Conversation(context.Background(), customerConvID(custTeam, custRoot, strangerUser)); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("the stranger has a conversation: %v", err)
	}
}

func TestCustomerRetriesAnsweredOnce(t *testing.T) {
	s := newStack(t)
	customerReady(t, s.adapter)
	ev := dm(customerUser, custDM, custTS(20), "hello")
	for retry := range 4 {
		customerEvent(t, s, "EvRetry", ev, retry)
	}
	customerEvent(t, s, "EvBarrier", dm(customerUser, custDM, custTS(21), "thanks"), 0)
	got := waitCount(t, s, "the replies", 2, in(custDM, ""))
	if len(got) != 2 {
		t.Errorf("replies: %d, want 2 (one per message): %+v", len(got), got)
	}
	if ms := customerMessages(t, s, customerConvID(custTeam, custDM, customerUser)); len(ms) != 2 {
		t.Errorf("stored customer messages: %+v, want 2", ms)
	}
}

func TestCustomerMessageAndMentionCopies(t *testing.T) {
	s := newStack(t)
	customerReady(t, s.adapter)
	root := custTS(30)
	// A mention outside a thread: Slack sends a message event and an
	// app_mention event of the same message.
	customerEvent(t, s, "EvCopyMsg", map[string]any{"type": "message", "channel_type": "channel", "channel": custRoot,
		"user": customerUser, "text": "<@UBOT> hi", "ts": root, "event_ts": root}, 0)
	customerEvent(t, s, "EvCopyMention", mention(customerUser, custRoot, "", root, "<@UBOT> hi"), 0)
	// A mention inside the thread: both copies are customer messages.
	customerEvent(t, s, "EvCopyMention2", mention(customerUser, custRoot, root, custTS(31), "<@UBOT> hello?"), 0)
	customerEvent(t, s, "EvCopyMsg2", threadReply(customerUser, custRoot, root, custTS(31), "<@UBOT> hello?"), 0)
	customerEvent(t, s, "EvCopyBarrier", threadReply(customerUser, custRoot, root, custTS(32), "thanks"), 0)
	got := waitCount(t, s, "the replies", 3, in(custRoot, root))
	if len(got) != 3 {
		t.Errorf("replies: %d, want 3: %+v", len(got), got)
	}
	if ms := customerMessages(t, s, customerConvID(custTeam, custRoot, customerUser)); len(ms) != 3 {
		t.Errorf("stored customer messages: %+v, want 3", ms)
	}
}

// customerDMConversation starts the customer's DM conversation and waits
// for the bot's answer; it returns the conversation id.
func customerDMConversation(t *testing.T, s *stack) string {
	t.Helper()
	customerReady(t, s.adapter)
	customerEvent(t, s, "EvStart", dm(customerUser, custDM, custTS(1), "hello"), 0)
	waitCount(t, s, "the first answer", 1, in(custDM, ""))
	return customerConvID(custTeam, custDM, customerUser)
}

func TestCustomerQuickRepliesEscaped(t *testing.T) {
	s := newStack(t)
	id := customerDMConversation(t, s)
	ctx := context.Background()
	evil := "<!channel> hi <@U999> <https://evil.example|click>"
	m, _, err := s.store.AppendMessage(ctx, crm.Message{ConversationID: id, Sender: crm.SenderBot, Text: evil,
		QuickReplies: []string{"Talk to a person", "<!here> & go"}})
	if err != nil {
		t.Fatal(err)
	}
	s.adapter.customerEvent(ctx, dialog.Event{Type: dialog.EventMessage, ConversationID: id, Message: &m})
	p := waitCount(t, s, "the quick replies", 2, in(custDM, ""))[1]
	for _, bad := range []string{"<!channel>", "<@U999>", "<https://", "<!here>"} {
		if strings.Contains(p.Text, bad) {
			t.Errorf("text %q contains %q", p.Text, bad)
		}
	}
	if !strings.Contains(p.Text, "&lt;!channel&gt; hi &lt;@U999&gt; &lt;https://evil.example|click&gt;") {
		t.Errorf("text %q is not the escaped message", p.Text)
	}
	texts, buttons := blockTexts(t, p.Blocks)
	for _, s := range texts {
		if strings.Contains(s, "<") || strings.Contains(s, ">") {
			t.Errorf("a block text is not escaped: %q", s)
		}
	}
	if !strings.Contains(strings.Join(texts, "\n"), "&lt;!here&gt; &amp; go") {
		t.Errorf("no escaped button label in %q", texts)
	}
	var action string
	for a, v := range buttons {
		if !isAction(a, actionReply) {
			t.Errorf("button %q is not a quick reply", a)
		}
		if v == "Talk to a person" {
			action = a
		}
	}
	if len(buttons) != 2 || action == "" {
		t.Fatalf("buttons %v, want the two quick replies", buttons)
	}

	// The click is the customer's message: it asks for a person.
	if code := s.click(t, customerUser, custDM, p.TS, "", action, "Talk to a person"); code != 200 {
		t.Fatalf("click: status %d", code)
	}
	waitCount(t, s, "the answer to the click", 3, in(custDM, ""))
	ms := customerMessages(t, s, id)
	last := ms[len(ms)-1]
	if last.Text != "Talk to a person" || !strings.HasPrefix(last.ClientID, "slack:act:") {
		t.Errorf("the click stored %+v", last)
	}
	customerWait(t, "the handoff", func() bool {
		c, err := s.store.Conversation(ctx, id)
		return err == nil && c.State == crm.StateWaiting
	})
}

func TestCustomerCSAT(t *testing.T) {
	s := newStack(t)
	id := customerDMConversation(t, s)
	ctx := context.Background()
	conv, err := s.engine.Resolve(ctx, id, dialog.Actor{Login: agentEmail})
	if err != nil {
		t.Fatal(err)
	}
	isCSAT := func(p post) bool { return in(custDM, "")(p) && strings.Contains(p.Blocks, actionCSAT) }
	p := waitCount(t, s, "the CSAT buttons", 1, isCSAT)[0]
	_, buttons := blockTexts(t, p.Blocks)
	if len(buttons) != 5 || buttons[actionCSAT+"_4"] != id+":4" {
		t.Fatalf("CSAT buttons %v", buttons)
	}
	// The same resolution seen again (a restart, a second node) does not
	// ask again; neither does the thank-you below.
	s.adapter.customerEvent(ctx, dialog.Event{Type: dialog.EventState, ConversationID: id, Conversation: &conv})

	// Someone else cannot rate the customer's conversation.
	if code := s.click(t, strangerUser, custDM, p.TS, "", actionCSAT+"_1", id+":1"); code != 200 {
		t.Fatalf("click: status %d", code)
	}
	s.slack.waitFor(t, "the stranger's refusal", func(ps []post) bool {
		return count(ps, func(p post) bool { return p.Method == "chat.postEphemeral" && p.User == strangerUser }) == 1
	})
	if code := s.click(t, customerUser, custDM, p.TS, "", actionCSAT+"_4", id+":4"); code != 200 {
		t.Fatalf("click: status %d", code)
	}
	thanks := waitCount(t, s, "the thank-you", 3, in(custDM, ""))[2]
	if !strings.Contains(thanks.Text, "Thank you") {
		t.Errorf("after the rating: %q", thanks.Text)
	}
	f, err := s.store.ConversationFeedback(ctx, id)
	if err != nil || f.Score != 4 {
		t.Fatalf("feedback %+v, %v; want score 4", f, err)
	}
	// A second click is answered politely and changes nothing.
	s.click(t, customerUser, custDM, p.TS, "", actionCSAT+"_1", id+":1")
	again := waitCount(t, s, "the answer to the second rating", 4, in(custDM, ""))[3]
	if !strings.Contains(again.Text, "already") {
		t.Errorf("second rating answered %q", again.Text)
	}
	if f, _ := s.store.ConversationFeedback(ctx, id); f.Score != 4 {
		t.Errorf("score now %d", f.Score)
	}
	if n := count(s.slack.Posts(), isCSAT); n != 1 {
		t.Errorf("asked for a rating %d times", n)
	}
}

func TestCustomerTrustEmail(t *testing.T) {
	for _, c := range []struct {
		name  string
		trust bool
	}{{"on links the customer", true}, {"off leaves them unverified", false}} {
		t.Run(c.name, func(t *testing.T) {
			s := newStack(t, func(cfg *Config) { cfg.TrustEmail = c.trust })
			ctx := context.Background()
			seeded, err := s.store.CustomerByEmail(ctx, "ana@example.com")
			if err != nil {
				t.Fatal(err)
			}
			s.slack.mu.Lock()
			s.slack.users[customerUser] = "Ana@Example.com"
			s.slack.mu.Unlock()
			id := customerDMConversation(t, s)
			conv, err := s.store.Conversation(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			cu, err := s.store.Customer(ctx, seeded.ID)
			if err != nil {
				t.Fatal(err)
			}
			hasIdent := containsIdentity(cu.Identities, crm.Identity{Channel: crm.ChannelSlack, ExternalID: customerUser})
			if c.trust && (conv.CustomerID != seeded.ID || !hasIdent) {
				t.Errorf("customer %q (identity recorded: %v), want %q", conv.CustomerID, hasIdent, seeded.ID)
			}
			if !c.trust && (conv.CustomerID != "" || hasIdent) {
				t.Errorf("customer %q (identity recorded: %v), want none", conv.CustomerID, hasIdent)
			}
		})
	}
}

func TestCustomerCatchUpAfterRestart(t *testing.T) {
	s := newStack(t)
	id := customerDMConversation(t, s)
	ctx := context.Background()
	customerWait(t, "the delivery cursor", func() bool {
		v, err := s.store.Link(ctx, linkSent+id)
		return err == nil && v != "" && v != "0"
	})
	// Stored while no adapter heard of it (nothing is published).
	if _, _, err := s.store.AppendMessage(ctx, crm.Message{ConversationID: id, Sender: crm.SenderSystem, Text: "An agent wrote while you were away"}); err != nil {
		t.Fatal(err)
	}
	// A second adapter over the same store, talking to another fake Slack.
	f2 := newFakeSlack(t)
	a2, err := New(Config{Engine: s.engine, Store: s.store, BotToken: "xoxb-test", SigningSecret: testSecret, APIURL: f2.GetAPIURL(),
		Rate: 1000, Burst: 1000, Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); a2.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	f2.waitFor(t, "the catch-up", func(ps []post) bool { return count(ps, in(custDM, "")) >= 1 })
	// A message through the second adapter is the barrier.
	customerReady(t, a2)
	if err := a2.accept(ctx, event{Key: "ev:EvAfter", Kind: kindMessage, Team: custTeam, Channel: custDM, ChannelType: "im",
		User: customerUser, Text: "thanks", TS: custTS(40)}); err != nil {
		t.Fatal(err)
	}
	f2.waitFor(t, "the answer after the restart", func(ps []post) bool { return count(ps, in(custDM, "")) >= 2 })
	var got []post
	for _, p := range f2.Posts() {
		if in(custDM, "")(p) {
			got = append(got, p)
		}
	}
	if len(got) != 2 || got[0].Text != "An agent wrote while you were away" {
		t.Errorf("after the restart: %+v, want the missed message then one answer", got)
	}
}

func TestCustomerDeliveryFailureNoted(t *testing.T) {
	s := newStack(t)
	id := customerDMConversation(t, s)
	ctx := context.Background()
	s.adapter.customerSent(ctx, id, 99, 0, errors.New("channel_not_found"))
	evs, err := s.store.Events(ctx, id, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range evs {
		if e.Type == crm.EventNote && e.Actor == "slack" && strings.Contains(e.Text, "channel_not_found") {
			found = true
		}
	}
	if !found {
		t.Errorf("no note of the failure among %+v", evs)
	}
	if v, _ := s.store.Link(ctx, linkSent+id); v == "99" {
		t.Error("a failed message moved the delivery cursor")
	}
}

func TestCustomerErasedStartsAfresh(t *testing.T) {
	s := newStack(t, func(cfg *Config) { cfg.TrustEmail = true })
	ctx := context.Background()
	s.slack.mu.Lock()
	s.slack.users[customerUser] = "ana@example.com"
	s.slack.mu.Unlock()
	id := customerDMConversation(t, s)
	customerWait(t, "the delivery cursor", func() bool {
		_, err := s.store.Link(ctx, linkSent+id)
		return err == nil
	})
	conv, err := s.store.Conversation(ctx, id)
	if err != nil || conv.CustomerID == "" {
		t.Fatalf("conversation %+v, %v: want it linked", conv, err)
	}
	if _, err := s.engine.Erase(ctx, conv.CustomerID); err != nil {
		t.Fatal(err)
	}
	customerWait(t, "the links forgotten", func() bool {
		_, err := s.store.Link(ctx, linkDest+id)
		return errors.Is(err, crm.ErrNotFound)
	})
	// The same Slack user writes again: a new conversation under the same
	// id, answered from its first message on.
	customerEvent(t, s, "EvAfterErase", dm(customerUser, custDM, custTS(50), "hello again"), 0)
	waitCount(t, s, "the answer to the new conversation", 2, in(custDM, ""))
}
