package webchat

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

func TestHelloWelcomesNewVisitor(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	w := c.hello("", 0)
	if w.V != 1 || w.ConversationID == "" || w.LastSeq != 0 || w.State != string(crm.StateBot) || w.CustomerName != "" {
		t.Fatalf("welcome = %+v", w)
	}
	if id, _, ok := verifyToken(testKey, w.Token); !ok || id != w.ConversationID {
		t.Errorf("token %q names %q (%v), want %q", w.Token, id, ok, w.ConversationID)
	}
}

func TestMessageAckedThenAnswered(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	w := c.hello("", 0)
	ack, reply := c.exchange("c-1", "hi there")
	if ack.Seq != 1 || ack.ID == "" {
		t.Errorf("ack = %+v, want seq 1 with an id", ack)
	}
	if reply.Seq != 2 || reply.Text == "" || reply.At == "" || reply.ClientID != "" {
		t.Errorf("reply = %+v, want the bot's seq 2 without a client id", reply)
	}
	ms := s.messages(t, w.ConversationID)
	if len(ms) != 2 || ms[0].ID != ack.ID || ms[0].ClientID != "c-1" || ms[1].ID != reply.ID {
		t.Errorf("stored %+v, want the message and the reply", ms)
	}
	if f := c.read(); f.Type != typeTyping || f.Typing {
		t.Fatalf("after the reply got %+v, want typing off", f)
	}
	// hello and message in; welcome, ack, typing on, reply, typing off out.
	// A frame is counted once queued, which can be after the client read it.
	waitFor(t, "five frames counted out", func() bool { return s.handler.Stats().FramesOut >= 5 })
	if st := s.handler.Stats(); st.Accepted != 1 || st.Open != 1 || st.FramesIn != 2 || st.FramesOut != 5 || len(st.Errors) != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestResendIsAckedNotAnsweredAgain(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	w := c.hello("", 0)
	ack, _ := c.exchange("c-1", "hi there")

	c.message("c-1", "hi there")
	again := c.want(typeAck)
	if again.ID != ack.ID || again.Seq != ack.Seq || again.ClientID != "c-1" {
		t.Errorf("ack of the resend = %+v, want %+v", again, ack)
	}
	// Had the resend been answered, that reply would come before the
	// next message's ack.
	next, reply := c.exchange("c-2", "thanks")
	if next.Seq != 3 || reply.Seq != 4 {
		t.Errorf("next exchange seqs %d, %d, want 3, 4", next.Seq, reply.Seq)
	}
	if ms := s.messages(t, w.ConversationID); len(ms) != 4 {
		t.Errorf("stored %d messages, want 4 (one copy of the resent one)", len(ms))
	}
}

// TestUnansweredResendIsAnswered covers a message that was acknowledged
// but never answered (the server stopped between Receive and Answer): the
// client resends it, gets its ack again and then the one answer.
func TestUnansweredResendIsAnswered(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	w := c.hello("", 0)
	r, err := s.engine.Receive(context.Background(), dialog.Inbound{ConversationID: w.ConversationID, Text: "hi there", ClientID: "c-1",
		Start: &dialog.StartRequest{Channel: crm.ChannelWeb}})
	if err != nil {
		t.Fatal(err)
	}
	c.message("c-1", "hi there")
	ack := c.want(typeAck)
	if ack.ID != r.Message.ID || ack.Seq != 1 || ack.ClientID != "c-1" {
		t.Errorf("ack = %+v, want the stored message %+v", ack, r.Message)
	}
	if reply := c.want(typeMessage); reply.Seq != 2 || reply.Sender != "bot" {
		t.Errorf("reply = %+v, want the bot's at seq 2", reply)
	}
	// Once answered, a resend is only acked.
	c.message("c-1", "hi there")
	c.want(typeAck)
	if next, _ := c.exchange("c-2", "thanks"); next.Seq != 3 {
		t.Errorf("next message at seq %d, want 3: the message was answered twice", next.Seq)
	}
}

// TestAckFillsTheGap checks that the ack comes after the stored messages
// the client lacks before it, and that no frame comes twice.
func TestAckFillsTheGap(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	w := c.hello("", 0)
	c.exchange("c-1", "hi") // seqs 1, 2
	// Stored without an event: the client learns of it with the next ack.
	if _, _, err := s.db.AppendMessage(context.Background(), crm.Message{ConversationID: w.ConversationID, Sender: crm.SenderSystem, Text: "Sam joined"}); err != nil {
		t.Fatal(err)
	}
	c.message("c-2", "thanks")
	got := []frame{c.want(typeMessage), c.want(typeAck), c.want(typeMessage)}
	if got[0].Seq != 3 || got[0].Text != "Sam joined" || got[1].Seq != 4 || got[1].ClientID != "c-2" || got[2].Seq != 5 || got[2].Sender != "bot" {
		t.Errorf("got %s, want message 3, ack 4, reply 5", fmtSeqs(got))
	}
	if _, reply := c.exchange("c-3", "bye"); reply.Seq != 7 {
		t.Errorf("reply at seq %d, want 7", reply.Seq)
	}
}

// awayScenario makes a conversation of 5 messages, of which the visitor's
// socket saw the first 2 before it dropped.
func awayScenario(t *testing.T, s *stack) frame {
	t.Helper()
	first := s.dial(t)
	w := first.hello("", 0)
	first.exchange("c-1", "hi") // seqs 1, 2
	first.ws.Close()
	// While the visitor is away, an agent's message is stored and the bot
	// answers another tab: seqs 3, 4, 5. (Straight into the store: the
	// engine's Post would claim the conversation for the agent, and the bot
	// would not answer.)
	ctx := context.Background()
	if _, _, err := s.db.AppendMessage(ctx, crm.Message{ConversationID: w.ConversationID, Sender: crm.SenderAgent, AgentID: "sam", Text: "Sam here."}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.engine.Handle(ctx, dialog.Inbound{ConversationID: w.ConversationID, Text: "thanks", ClientID: "other-tab-1"}); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestResumeSendsExactlyTheMissingMessages(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	for _, tc := range []struct {
		name    string
		lastSeq uint64
		want    []uint64
	}{
		{"saw everything before the drop", 2, []uint64{3, 4, 5}},
		{"missed the reply", 1, []uint64{2, 3, 4, 5}},
		{"new device", 0, []uint64{1, 2, 3, 4, 5}},
		{"up to date", 5, nil},
		{"claims more than stored", 9, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := awayScenario(t, s)
			c := s.dial(t)
			again := c.hello(w.Token, tc.lastSeq)
			// The conversation is stored now: its token is the stored
			// conversation's, which every welcome gives from here on.
			if again.ConversationID != w.ConversationID || again.Token != signToken(testKey, w.ConversationID) || again.LastSeq != 5 {
				t.Fatalf("welcome = %+v, want the same conversation with its token, last_seq 5", again)
			}
			var got []frame
			for range tc.want {
				got = append(got, c.want(typeMessage))
			}
			for i, f := range got {
				if f.Seq != tc.want[i] {
					t.Fatalf("replayed %s, want seqs %v", fmtSeqs(got), tc.want)
				}
			}
			// Nothing else was replayed: the next frames belong to a new
			// exchange, numbered after what is stored.
			ack, reply := c.exchange("c-2", "hi again")
			if ack.Seq != 6 || reply.Seq != 7 {
				t.Errorf("after the replay got ack %d and reply %d, want 6 and 7", ack.Seq, reply.Seq)
			}
		})
	}
	t.Run("replayed messages carry what the widget shows", func(t *testing.T) {
		w := awayScenario(t, s)
		c := s.dial(t)
		c.hello(w.Token, 0)
		byseq := map[uint64]frame{}
		for range 5 {
			f := c.want(typeMessage)
			byseq[f.Seq] = f
		}
		if f := byseq[1]; f.Sender != "customer" || f.ClientID != "c-1" || f.Text != "hi" || f.ID == "" || f.At == "" {
			t.Errorf("seq 1 = %+v", f)
		}
		if f := byseq[3]; f.Sender != "agent" || f.Agent != "sam" || f.Text != "Sam here." {
			t.Errorf("seq 3 = %+v", f)
		}
		if f := byseq[5]; f.Sender != "bot" || f.ClientID != "" || f.Text == "" {
			t.Errorf("seq 5 = %+v", f)
		}
	})
}

func TestTokenNotIssuedHereIsRefused(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	other := []byte(strings.Repeat("k", 32))
	c0 := s.dial(t)
	real := c0.hello("", 0)
	for _, tc := range []struct{ name, token string }{
		{"garbage", "not-a-token"},
		{"signed with another key", signToken(other, real.ConversationID)},
		{"id swapped", signToken(testKey, "conv-x")[:10] + real.Token[strings.Index(real.Token, "."):]},
		{"unknown conversation", signToken(testKey, "conv-erased")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.dial(t)
			c.sendJSON(helloMsg{V: 1, Type: typeHello, Token: tc.token})
			c.wantError(codeInvalidToken)
			c.wantClose(websocket.ClosePolicyViolation)
		})
	}
}

func TestCrossOriginUpgradeIsForbidden(t *testing.T) {
	t.Parallel()
	s := newStack(t, withConfig(func(c *Config) { c.AllowedOrigins = []string{"https://shop.example.com", "http://localhost:*"} }))
	for _, tc := range []struct {
		name   string
		origin string
		want   int
	}{
		{"same origin", s.origin(), http.StatusSwitchingProtocols},
		{"no origin (not a browser)", "", http.StatusSwitchingProtocols},
		{"allowed shop", "https://shop.example.com", http.StatusSwitchingProtocols},
		{"localhost any port", "http://localhost:5173", http.StatusSwitchingProtocols},
		{"other site", "https://evil.example", http.StatusForbidden},
		{"shop over http", "http://shop.example.com", http.StatusForbidden},
		{"lookalike suffix", "https://shop.example.com.evil.example", http.StatusForbidden},
		{"null origin", "null", http.StatusForbidden},
		{"other loopback address", "http://127.0.0.2:80", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			ws, resp, err := websocket.DefaultDialer.Dial(s.url(), h)
			if ws != nil {
				ws.Close()
			}
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != tc.want {
				t.Errorf("HTTP %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	if st := s.handler.Stats(); st.Rejected < 4 {
		t.Errorf("stats count %d refused upgrades, want 4", st.Rejected)
	}
}

func TestOversizeFrameClosesWith1009(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	c.hello("", 0)
	c.sendRaw(websocket.TextMessage, []byte(`{"v":1,"type":"message","client_id":"c-1","text":"`+strings.Repeat("a", 17<<10)+`"}`))
	c.wantClose(websocket.CloseMessageTooBig)
}

func TestTooLargeTextKeepsTheSocket(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	w := c.hello("", 0)
	for _, tc := range []struct{ name, text string }{
		{"over 2000 characters", strings.Repeat("a", 2001)},
		{"2000 characters over the store's byte limit", strings.Repeat("€", 2000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.message("big", tc.text)
			if f := c.wantError(codeTooLarge); f.ClientID != "big" {
				t.Errorf("error names client id %q, want big", f.ClientID)
			}
		})
	}
	ack, _ := c.exchange("c-ok", strings.Repeat("é", 2000))
	if ack.Seq != 1 {
		t.Errorf("ack seq %d, want 1: the refused messages were stored", ack.Seq)
	}
	if ms := s.messages(t, w.ConversationID); len(ms) != 2 {
		t.Errorf("stored %d messages, want 2", len(ms))
	}
}

func TestBadFramesGetErrorsAndTheSocketStays(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	for _, tc := range []struct {
		name  string
		typ   int
		frame string
		code  string
	}{
		{"invalid JSON", websocket.TextMessage, `{"v":1,"type":`, codeBadFrame},
		{"not an object", websocket.TextMessage, `[1,2]`, codeBadFrame},
		{"null", websocket.TextMessage, `null`, codeBadFrame},
		{"invalid UTF-8 text frame", websocket.TextMessage, "{\"v\":1,\"type\":\"message\",\"client_id\":\"c\",\"text\":\"\xff\xfe\"}", codeInvalidUTF8},
		{"unknown type", websocket.TextMessage, `{"v":1,"type":"dance"}`, codeUnknownType},
		{"no type", websocket.TextMessage, `{"v":1}`, codeBadFrame},
		{"message without client id", websocket.TextMessage, `{"v":1,"type":"message","text":"hi"}`, codeBadFrame},
		{"client id too long", websocket.TextMessage, `{"v":1,"type":"message","client_id":"` + strings.Repeat("x", 65) + `","text":"hi"}`, codeBadFrame},
		{"blank text", websocket.TextMessage, `{"v":1,"type":"message","client_id":"c","text":"  \n"}`, codeBadFrame},
		{"text is a number", websocket.TextMessage, `{"v":1,"type":"message","client_id":"c","text":5}`, codeBadFrame},
		{"second hello", websocket.TextMessage, `{"v":1,"type":"hello"}`, codeBadFrame},
		{"score out of range", websocket.TextMessage, `{"v":1,"type":"csat","score":9}`, codeBadScore},
		{"csat before it was asked", websocket.TextMessage, `{"v":1,"type":"csat","score":3}`, codeBadScore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.dial(t)
			c.hello("", 0)
			c.sendRaw(tc.typ, []byte(tc.frame))
			c.wantError(tc.code)
			c.exchange("c-after", "hi")
		})
	}
}

func TestUnsupportedVersionCloses(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	c.sendRaw(websocket.TextMessage, []byte(`{"v":2,"type":"hello"}`))
	c.wantError(codeUnsupportedVersion)
	c.wantClose(websocket.CloseProtocolError)
}

func TestFrameBeforeHello(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	c.message("c-1", "hi")
	c.wantError(codeHelloRequired)
	c.sendJSON(map[string]any{"v": 1, "type": "typing", "typing": true})
	c.wantError(codeHelloRequired)
	c.hello("", 0)
	c.exchange("c-1", "hi")
}

func TestNoHelloClosesWith4000(t *testing.T) {
	t.Parallel()
	s := newStack(t, withLimits(Limits{HelloTimeout: 50 * time.Millisecond, ConnRate: -1, IPRate: -1}))
	c := s.dial(t)
	c.wantClose(closeHelloTimeout)
}

func TestTypingIsAccepted(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	c.hello("", 0)
	c.sendJSON(map[string]any{"v": 1, "type": "typing", "typing": true})
	c.sendJSON(map[string]any{"type": "typing", "typing": false}) // no "v": version 1
	ack, _ := c.exchange("c-1", "hi")
	if ack.Seq != 1 {
		t.Errorf("ack = %+v", ack)
	}
}

func TestBotTypingAndStateAreForwarded(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	w := c.hello("", 0)
	c.message("c-1", "hi")
	var types []string
	for len(types) == 0 || types[len(types)-1] != "typing:false" {
		f := c.read()
		switch f.Type {
		case typeTyping:
			if f.Sender != "bot" {
				t.Errorf("typing from %q", f.Sender)
			}
			types = append(types, map[bool]string{true: "typing:true", false: "typing:false"}[f.Typing])
		default:
			types = append(types, f.Type)
		}
	}
	want := "ack typing:true message typing:false"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("frames %q, want %q", got, want)
	}
	if _, err := s.engine.Resolve(context.Background(), w.ConversationID, dialog.Actor{}); err != nil {
		t.Fatal(err)
	}
	if f := c.read(); f.Type != typeState || f.State != "resolved" {
		t.Errorf("after resolve got %+v, want state resolved", f)
	}
}

func TestEngineFailureIsReported(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	w := c.hello("", 0)
	c.message("c-1", "explode")
	// The message is stored, so it is acked; the turn failed (the worker
	// says so), so there is no reply.
	ack := c.want(typeAck)
	if f := c.wantError(codeInternal); f.ClientID != "" {
		t.Errorf("error = %+v, want internal without a client id (the message is stored)", f)
	}
	if ms := s.messages(t, w.ConversationID); len(ms) != 1 || ms[0].Seq != ack.Seq {
		t.Errorf("stored %+v", ms)
	}
	// The message stays unanswered: the next turn answers it first, once
	// the parser works again, then the new message.
	s.parser.defused.Store(true)
	c.message("c-2", "hi")
	got := []frame{c.want(typeAck), c.want(typeMessage), c.want(typeMessage)}
	if got[0].Seq != 2 || got[1].Seq != 3 || got[2].Seq != 4 || got[1].Sender != "bot" || got[2].Sender != "bot" {
		t.Errorf("after the failure got %s, want ack 2 and replies 3 and 4", fmtSeqs(got))
	}
	if st := s.handler.Stats(); st.Errors[codeInternal] != 1 {
		t.Errorf("stats errors = %v", st.Errors)
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	t.Run("per socket", func(t *testing.T) {
		s := newStack(t, withLimits(Limits{ConnRate: 1, ConnBurst: 3, IPRate: -1}))
		c := s.dial(t)
		c.hello("", 0)
		for i := range 3 {
			c.exchange("c-"+string(rune('a'+i)), "hi")
		}
		c.message("c-d", "hi")
		f := c.wantError(codeRateLimited)
		if f.RetryAfterMS != 1000 || f.ClientID != "c-d" {
			t.Errorf("rate_limited = %+v, want retry after 1000 ms for c-d", f)
		}
		// Another socket from the same address has its own bucket.
		c2 := s.dial(t)
		c2.hello("", 0)
		c2.exchange("c-a", "hi")
	})
	t.Run("per address", func(t *testing.T) {
		s := newStack(t, withLimits(Limits{ConnRate: -1, IPRate: 2, IPBurst: 2}))
		a, b := s.dial(t), s.dial(t)
		a.hello("", 0)
		b.hello("", 0)
		a.exchange("c-1", "hi")
		b.exchange("c-1", "hi")
		b.message("c-2", "hi")
		if f := b.wantError(codeRateLimited); f.RetryAfterMS != 500 {
			t.Errorf("rate_limited = %+v, want retry after 500 ms", f)
		}
		a.message("c-2", "hi")
		a.wantError(codeRateLimited)
	})
	t.Run("switched off", func(t *testing.T) {
		s := newStack(t, withLimits(Limits{ConnRate: -1, IPRate: -1}))
		c := s.dial(t)
		c.hello("", 0)
		for i := range 40 {
			c.exchange("c-"+string(rune('A'+i)), "hi")
		}
	})
}

func TestIdentity(t *testing.T) {
	t.Parallel()
	secret := []byte("host-page-secret")
	s := newStack(t, withConfig(func(c *Config) { c.IdentitySecret = secret }))
	ctx := context.Background()
	signed := func(userID, email, name string) *identity {
		return &identity{UserID: userID, Email: email, Name: name, Signature: IdentitySignature(secret, userID, email)}
	}
	helloAs := func(t *testing.T, token string, id *identity) *client {
		t.Helper()
		c := s.dial(t)
		c.sendJSON(helloMsg{V: 1, Type: typeHello, Token: token, Identity: id})
		return c
	}
	// talk says hello with the identity and a first message, which stores
	// the conversation; it returns the welcome and the stored conversation.
	talk := func(t *testing.T, token string, id *identity) (frame, crm.Conversation) {
		t.Helper()
		c := helloAs(t, token, id)
		w := c.want(typeWelcome)
		c.exchange("c-first", "hi")
		conv, err := s.db.Conversation(ctx, w.ConversationID)
		if err != nil {
			t.Fatal(err)
		}
		return w, conv
	}
	ana, err := s.db.CustomerByEmail(ctx, "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("known e-mail links and records the identity", func(t *testing.T) {
		w, conv := talk(t, "", signed("u-ana", "ana@example.com", "Ana"))
		if w.CustomerName != ana.Name {
			t.Errorf("customer_name %q, want %q", w.CustomerName, ana.Name)
		}
		if conv.CustomerID != ana.ID {
			t.Fatalf("conversation customer %q, want %s", conv.CustomerID, ana.ID)
		}
		byID, err := s.db.CustomerByIdentity(ctx, crm.Identity{Channel: crm.ChannelWeb, ExternalID: "u-ana"})
		if err != nil || byID.ID != ana.ID {
			t.Errorf("identity u-ana belongs to %q (%v)", byID.ID, err)
		}
	})
	t.Run("known identity wins over the e-mail", func(t *testing.T) {
		_, conv := talk(t, "", signed("u-ana", "ana.new@example.com", "Ana"))
		if conv.CustomerID != ana.ID {
			t.Errorf("linked to %q, want %s", conv.CustomerID, ana.ID)
		}
	})
	t.Run("new user becomes a customer", func(t *testing.T) {
		w, conv := talk(t, "", signed("u-ada", "ada@example.com", "Ada"))
		cu, err := s.db.CustomerByEmail(ctx, "ada@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if conv.CustomerID != cu.ID || cu.Name != "Ada" || w.CustomerName != "Ada" {
			t.Errorf("conversation customer %q, created %+v, welcome %q", conv.CustomerID, cu, w.CustomerName)
		}
	})
	t.Run("anonymous conversation is linked on resume", func(t *testing.T) {
		c := s.dial(t)
		w := c.hello("", 0)
		c.exchange("c-1", "hi")
		c.ws.Close()
		again := helloAs(t, w.Token, signed("u-ana", "ana@example.com", "Ana")).want(typeWelcome)
		conv, _ := s.db.Conversation(ctx, again.ConversationID)
		if again.ConversationID != w.ConversationID || conv.CustomerID != ana.ID {
			t.Errorf("resumed %q linked to %q", again.ConversationID, conv.CustomerID)
		}
	})
	t.Run("conversation not stored yet is linked by its first message", func(t *testing.T) {
		c := s.dial(t)
		w := c.hello("", 0)
		c.ws.Close()
		again, conv := talk(t, w.Token, signed("u-ana", "ana@example.com", "Ana"))
		if again.ConversationID != w.ConversationID || conv.CustomerID != ana.ID {
			t.Errorf("resumed %q linked to %q", again.ConversationID, conv.CustomerID)
		}
	})
	for _, tc := range []struct {
		name string
		id   *identity
	}{
		{"wrong signature", &identity{UserID: "u-ana", Email: "ana@example.com", Signature: IdentitySignature([]byte("guess"), "u-ana", "ana@example.com")}},
		{"missing signature", &identity{UserID: "u-ana", Email: "ana@example.com"}},
		{"signature of another e-mail", &identity{UserID: "u-ana", Email: "ben@example.com", Signature: IdentitySignature(secret, "u-ana", "ana@example.com")}},
		{"no user id", signed("", "ana@example.com", "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := helloAs(t, "", tc.id)
			c.wantError(codeInvalidIdentity)
			c.wantClose(websocket.ClosePolicyViolation)
		})
	}
	t.Run("conversation of another customer", func(t *testing.T) {
		w, _ := talk(t, "", signed("u-ana", "ana@example.com", "Ana"))
		c := helloAs(t, w.Token, signed("u-ben", "ben@example.com", "Ben"))
		c.wantError(codeInvalidIdentity)
		c.wantClose(websocket.ClosePolicyViolation)
	})
	t.Run("no secret configured", func(t *testing.T) {
		s2 := newStack(t)
		c := s2.dial(t)
		c.sendJSON(helloMsg{V: 1, Type: typeHello, Identity: signed("u-ana", "ana@example.com", "Ana")})
		c.wantError(codeInvalidIdentity)
		c.wantClose(websocket.ClosePolicyViolation)
	})
}

func TestCSAT(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	c := s.dial(t)
	w := c.hello("", 0)
	c.exchange("c-1", "hi")
	if _, err := s.engine.Resolve(ctx, w.ConversationID, dialog.Actor{}); err != nil {
		t.Fatal(err)
	}
	if f := c.want(typeCSATRequest); f.Min != 1 || f.Max != 5 || f.Question == "" {
		t.Errorf("csat_request = %+v", f)
	}
	// A reload before answering asks again.
	c2 := s.dial(t)
	c2.hello(w.Token, 2)
	c2.want(typeCSATRequest)

	c.sendJSON(map[string]any{"v": 1, "type": "csat", "score": 4, "comment": "quick and helpful"})
	if f := c.want(typeCSATAck); f.Score != 4 {
		t.Errorf("csat_ack = %+v", f)
	}
	if rated, err := s.engine.Rated(ctx, w.ConversationID); err != nil || !rated {
		t.Errorf("rated = %v, %v", rated, err)
	}
	fb, err := s.db.ConversationFeedback(ctx, w.ConversationID)
	if err != nil || fb.Score != 4 || fb.Comment != "quick and helpful" {
		t.Errorf("stored feedback %+v (%v)", fb, err)
	}
	c.sendJSON(map[string]any{"v": 1, "type": "csat", "score": 5})
	c.wantError(codeBadScore)

	// Rated: a resume does not ask again.
	c3 := s.dial(t)
	c3.hello(w.Token, 2)
	c3.exchange("c-2", "hi again")
}

func TestGoodbyeResolvesAndAsksForARating(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	c.hello("", 0)
	c.message("c-1", "bye")
	c.want(typeAck)
	// The engine publishes the state change before the goodbye message, so
	// the two may come in either order.
	var got []string
	for len(got) < 2 {
		f := c.readSkip()
		got = append(got, f.Type+":"+f.Sender)
	}
	slices.Sort(got)
	if want := []string{"csat_request:", "message:bot"}; !slices.Equal(got, want) {
		t.Errorf("after goodbye got %v, want %v", got, want)
	}
}

func TestSecondTabSeesTheMessagesOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	a := s.dial(t)
	w := a.hello("", 0)
	b := s.dial(t)
	b.hello(w.Token, 0)
	ack, reply := a.exchange("c-1", "hi")
	mine := b.want(typeMessage)
	theirs := b.want(typeMessage)
	if mine.Seq != ack.Seq || mine.ClientID != "c-1" || mine.Sender != "customer" || theirs.ID != reply.ID {
		t.Errorf("other tab got %+v and %+v", mine, theirs)
	}
}

func TestSlowClientIsDroppedWithoutBlockingOthers(t *testing.T) {
	t.Parallel()
	s := newStack(t, withSmallBuffers(), withLimits(Limits{SendQueue: 8, WriteTimeout: 100 * time.Millisecond, ConnRate: -1, IPRate: -1}))
	slow := s.dialWith(t, smallBufferDialer())
	w := slow.hello("", 0)
	fast := s.dial(t)
	fast.hello("", 0)

	// Flood the slow client's conversation; it reads nothing.
	text := strings.Repeat("x", 1000)
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		for i := 0; s.handler.Stats().Dropped == 0 && i < 100000; i++ {
			s.bus.Publish(dialog.Event{Type: dialog.EventMessage, ConversationID: w.ConversationID,
				Message: &crm.Message{ID: "m", ConversationID: w.ConversationID, Seq: uint64(i + 1), Sender: crm.SenderBot, Text: text}})
		}
	}()
	for i := range 5 {
		fast.exchange("c-"+string(rune('a'+i)), "hi")
	}
	<-flooded
	waitFor(t, "the slow client to be dropped", func() bool { return s.handler.Stats().Dropped > 0 })
	waitFor(t, "the slow socket to close", func() bool { return s.handler.Stats().Open == 1 })
	fast.exchange("c-z", "hi")
}

func TestShutdownFinishesInFlightMessages(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	w := c.hello("", 0)
	idle := s.dial(t)
	idle.hello("", 0)
	c.message("c-1", "slow hello")
	<-s.parser.entered // the engine holds the message

	shut := make(chan error, 1)
	go func() { shut <- s.handler.Shutdown(context.Background()) }()
	waitFor(t, "upgrades to be refused", func() bool {
		ws, resp, err := websocket.DefaultDialer.Dial(s.url(), nil)
		if err == nil {
			ws.Close()
			return false
		}
		return resp != nil && resp.StatusCode == http.StatusServiceUnavailable
	})
	close(s.parser.release)

	ack := c.want(typeAck)
	reply := c.want(typeMessage)
	c.wantClose(websocket.CloseGoingAway)
	idle.wantClose(websocket.CloseGoingAway)
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if ack.Seq != 1 || reply.Seq != 2 || reply.Sender != "bot" {
		t.Errorf("ack %+v reply %+v", ack, reply)
	}
	if ms := s.messages(t, w.ConversationID); len(ms) != 2 {
		t.Errorf("stored %d messages, want 2", len(ms))
	}
	if st := s.handler.Stats(); st.Open != 0 {
		t.Errorf("%d sockets open after shutdown", st.Open)
	}
}

func TestShutdownHonoursContext(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	c.hello("", 0)
	c.message("c-1", "slow hello")
	<-s.parser.entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.handler.Shutdown(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("shutdown = %v, want context.Canceled", err)
	}
	if st := s.handler.Stats(); st.Open != 0 {
		t.Errorf("%d sockets open after shutdown", st.Open)
	}
}

func TestPingPong(t *testing.T) {
	t.Parallel()
	s := newStack(t, withLimits(Limits{PingInterval: 20 * time.Millisecond, PongTimeout: 200 * time.Millisecond, ConnRate: -1, IPRate: -1}))
	alive := s.dial(t)
	alive.hello("", 0)
	// alive waits in a read all along, so it answers every ping.
	frames := make(chan frame, 16)
	go func() {
		defer close(frames)
		for {
			f, err := alive.next()
			if err != nil {
				return
			}
			frames <- f
		}
	}()
	silent := s.dial(t)
	silent.hello("", 0)
	// silent reads nothing, so it never answers a ping: it is closed.
	waitFor(t, "the silent socket to be closed", func() bool { return s.handler.Stats().Open == 1 })
	// Many pong timeouts later, alive still gets its answer.
	time.Sleep(time.Second)
	alive.message("c-1", "hi")
	var got []string
	for f := range frames {
		if f.Type == typeTyping {
			continue
		}
		got = append(got, f.Type)
		if f.Type == typeMessage {
			break
		}
	}
	if strings.Join(got, " ") != "ack message" {
		t.Errorf("alive got %v, want ack and message", got)
	}
}

func TestEventsAreDeduplicatedAndGapsFilled(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	c := s.dial(t)
	w := c.hello("", 0)
	_, reply := c.exchange("c-1", "hi") // seqs 1, 2
	// An event for a message the socket has sent already is not sent again.
	old := s.messages(t, w.ConversationID)
	for _, m := range old {
		s.bus.Publish(dialog.Event{Type: dialog.EventMessage, ConversationID: w.ConversationID, Message: &m})
	}
	// Messages stored without an event (3, 4) come before the next one
	// that has one (5), in order.
	for _, text := range []string{"three", "four"} {
		if _, _, err := s.db.AppendMessage(ctx, crm.Message{ConversationID: w.ConversationID, Sender: crm.SenderSystem, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.engine.Post(ctx, dialog.Outbound{ConversationID: w.ConversationID, Sender: crm.SenderSystem, Text: "five"}); err != nil {
		t.Fatal(err)
	}
	var got []frame
	for range 3 {
		got = append(got, c.want(typeMessage))
	}
	if got[0].Seq != reply.Seq+1 || got[0].Text != "three" || got[1].Text != "four" || got[2].Seq != 5 || got[2].Text != "five" {
		t.Errorf("got %s, want seqs 3, 4, 5", fmtSeqs(got))
	}
}

// A customer's typing reaches the engine at each start after a stop, up to
// typingBurst starts at once (the stack's clock stands still): a customer
// who sends two quick messages is still seen typing the next one, and a
// flood of toggles is cut off.
func TestTypingStartsWithinBurst(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.dial(t)
	w := c.hello("", 0)
	events, stop := s.bus.Subscribe(w.ConversationID, 64)
	defer stop()
	for range typingBurst + 2 {
		c.sendJSON(map[string]any{"v": 1, "type": "typing", "typing": true})
		c.sendJSON(map[string]any{"v": 1, "type": "typing", "typing": false})
	}
	c.exchange("c-1", "hi") // the reader has handled every typing frame before it
	starts := 0
	for {
		select {
		case ev := <-events:
			if ev.Type == dialog.EventTyping && ev.Sender == crm.SenderCustomer && ev.Typing {
				starts++
			}
			continue
		default:
		}
		break
	}
	if starts != typingBurst {
		t.Errorf("%d typing starts reached the engine, want %d", starts, typingBurst)
	}
}
