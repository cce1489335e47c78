package crm

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestPrepareTurn checks the order of PrepareTurn's checks, which both
// stores rely on to refuse a turn the same way: message 0, then the parse,
// then the replies in order.
func TestPrepareTurn(t *testing.T) {
	reply := Message{Sender: SenderBot, Text: "Card 4111 1111 1111 1111 noted."}
	empty := Message{Sender: SenderBot, Text: " "}
	limit := len(reply.Text)
	for _, tt := range []struct {
		name string
		turn Turn
		want error
		msg  string // in the error
	}{
		{"message 0 before a bad parse", Turn{ConversationID: "conv_1", Parse: json.RawMessage(`{`)}, ErrInvalid, "message 0"},
		{"parse before a bad reply", Turn{ConversationID: "conv_1", Seq: 1, Parse: json.RawMessage(`{`), Replies: []Message{empty}}, ErrInvalid, "parse"},
		{"parse too large", Turn{ConversationID: "conv_1", Seq: 1, Parse: json.RawMessage(`"` + strings.Repeat("a", MaxParseBytes) + `"`)}, ErrTooLarge, "parse of"},
		{"the bad reply is named", Turn{ConversationID: "conv_1", Seq: 1, Replies: []Message{reply, empty}}, ErrInvalid, "reply 1"},
		{"reply over the limit", Turn{ConversationID: "conv_1", Seq: 1, Replies: []Message{{Sender: SenderBot, Text: strings.Repeat("x", limit+1)}}}, ErrTooLarge, "reply 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := PrepareTurn(tt.turn, limit)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("PrepareTurn: %v, want %v mentioning %q", err, tt.want, tt.msg)
			}
		})
	}

	parse := json.RawMessage(`{"intent":"refund","text":"code is 482913"}`)
	p, replies, err := PrepareTurn(Turn{ConversationID: "conv_1", Seq: 2, Parse: parse,
		Replies: []Message{reply, {ConversationID: "conv_other", Sender: SenderBot, Text: "ok"}}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(p), "482913") || !strings.Contains(string(p), CodePlaceholder) {
		t.Errorf("parse %s: want it redacted", p)
	}
	if len(replies) != 2 || replies[0].Text != "Card "+CardPlaceholder+" noted." || replies[1].ConversationID != "conv_1" {
		t.Errorf("replies %+v: want them redacted and in the turn's conversation", replies)
	}
	if p, _, err := PrepareTurn(Turn{ConversationID: "conv_1", Seq: 2}, 0); err != nil || p != nil {
		t.Errorf("turn without parse: parse %q, %v; want nil", p, err)
	}
}

func TestPrepareSnapshot(t *testing.T) {
	teams := []string{"billing"}
	s := Snapshot{
		Agents: []SeedAgent{{Agent: Agent{Login: "grace", Role: RoleAdmin, Teams: teams}, Password: "pw"}},
		Messages: []Message{{ID: "msg_1", ConversationID: "conv_1", Seq: 1, Sender: SenderCustomer, Text: "code is 482913",
			Parse: json.RawMessage(`{"intent":"greet"}`)}},
	}
	agents, msgs, err := PrepareSnapshot(s, 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(agents) != 1 || !CheckPassword(agents[0].PasswordHash, "pw") {
		t.Fatalf("agents %+v: want the password hashed", agents)
	}
	teams[0] = "changed"
	s.Messages[0].Parse[2] = 'X'
	if agents[0].Teams[0] != "billing" || !bytes.Equal(msgs[0].Parse, []byte(`{"intent":"greet"}`)) {
		t.Errorf("prepared records share slices with the snapshot: %+v, %+v", agents[0], msgs[0])
	}
	if m := msgs[0]; m.ID != "msg_1" || m.Seq != 1 || m.Text != "code is "+CodePlaceholder {
		t.Errorf("message %+v: want its id and seq kept and its text redacted", m)
	}

	for _, tt := range []struct {
		name string
		s    Snapshot
		msg  string
	}{
		{"agent without password", Snapshot{Agents: []SeedAgent{{Agent: Agent{Login: "alan", Role: RoleAgent}}}}, `agent "alan" has no password`},
		{"bad message", Snapshot{Messages: []Message{{ConversationID: "c", Sender: SenderBot, Text: "ok"}, {ConversationID: "c", Sender: "robot", Text: "x"}}}, "message 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := PrepareSnapshot(tt.s, 4, 0)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("PrepareSnapshot: %v, want ErrInvalid mentioning %q", err, tt.msg)
			}
		})
	}
}

// FuzzPrepareParse checks that an NLU result is refused exactly when it is
// too large or not JSON, and that what is kept is JSON, redacted (a second
// pass changes nothing) and shares no bytes with the input.
func FuzzPrepareParse(f *testing.F) {
	for _, s := range []string{
		`{"intent":"order_status","confidence":0.93,"entities":[{"entity":"order_id","value":"1042"}]}`,
		`{"intent":"payment_issue","text":"card 4111 1111 1111 1111, code is 482913"}`,
		`{"intent":"greet","ranking":[{"name":"greet","confidence":0.9},{"name":"goodbye","confidence":0.1}]}`,
		`{`, `null`, `"` + strings.Repeat("a", MaxParseBytes) + `"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		in := bytes.Clone(raw)
		out, err := PrepareParse(in)
		switch {
		case len(raw) > MaxParseBytes:
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%d bytes: %v, want ErrTooLarge", len(raw), err)
			}
			return
		case !json.Valid(raw):
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%q: %v, want ErrInvalid", raw, err)
			}
			return
		case err != nil:
			t.Fatalf("valid JSON %q refused: %v", raw, err)
		}
		if !json.Valid(out) {
			t.Fatalf("%q gave invalid JSON %q", raw, out)
		}
		kept := bytes.Clone(out)
		for i := range in {
			in[i] = 'x'
		}
		if !bytes.Equal(out, kept) {
			t.Fatalf("the result shares bytes with the input: %q became %q", kept, out)
		}
		if again, err := RedactParse(out); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not redacted: %q -> %q -> %q (%v)", raw, out, again, err)
		}
	})
}
