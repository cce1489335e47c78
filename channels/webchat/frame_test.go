package webchat

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// protocolExamples are the frames of PROTOCOL.md, as the widget and the
// server write them.
var protocolExamples = []string{
	`{"v": 1, "type": "hello", "token": "", "last_seq": 0,
 "identity": {"user_id": "u-123", "email": "ada@example.com", "name": "Ada",
              "signature": "9f86d081884c7d65..."}}`,
	`{"v": 1, "type": "message", "client_id": "c-5f0c1e2a-1", "text": "Where is my order 1042?"}`,
	`{"v": 1, "type": "typing", "typing": true}`,
	`{"v": 1, "type": "csat", "score": 4, "comment": "quick and helpful"}`,
	`{"v": 1, "type": "welcome", "token": "Y29udi0...", "conversation_id": "conv-8c1f...",
 "last_seq": 7, "state": "bot", "customer_name": "Ada"}`,
	`{"v": 1, "type": "ack", "client_id": "c-5f0c1e2a-1", "id": "msg-2b7e...", "seq": 8}`,
	`{"v": 1, "type": "message", "id": "msg-91aa...", "seq": 9, "sender": "bot",
 "text": "Order 1042 shipped on 3 March with DHL.", "quick_replies": ["Track it", "Talk to a person"],
 "at": "2026-11-29T09:12:03Z"}`,
	`{"v": 1, "type": "typing", "sender": "bot", "typing": true}`,
	`{"v": 1, "type": "state", "state": "waiting", "queue": "billing"}`,
	`{"v": 1, "type": "csat_request", "question": "How did we do?", "min": 1, "max": 5}`,
	`{"v": 1, "type": "csat_ack", "score": 4}`,
	`{"v": 1, "type": "error", "code": "too_large", "message": "message of 2001 characters, longer than 2000 characters",
 "client_id": "c-5f0c1e2a-2"}`,
}

func TestDecodeFrame(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want clientFrame
		code string
	}{
		{"hello from the protocol", protocolExamples[0], clientFrame{Type: typeHello, Identity: &identity{UserID: "u-123", Email: "ada@example.com", Name: "Ada", Signature: "9f86d081884c7d65..."}}, ""},
		{"resume", `{"v":1,"type":"hello","token":"abc.def","last_seq":7}`, clientFrame{Type: typeHello, Token: "abc.def", LastSeq: 7}, ""},
		{"message from the protocol", protocolExamples[1], clientFrame{Type: typeMessage, ClientID: "c-5f0c1e2a-1", Text: "Where is my order 1042?"}, ""},
		{"typing", protocolExamples[2], clientFrame{Type: typeTyping, Typing: true}, ""},
		{"csat", protocolExamples[3], clientFrame{Type: typeCSAT, Score: 4, Comment: "quick and helpful"}, ""},
		{"no version means 1", `{"type":"typing","typing":false}`, clientFrame{Type: typeTyping}, ""},
		{"version 1.0", `{"v":1.0,"type":"typing","typing":false}`, clientFrame{Type: typeTyping}, ""},
		{"unknown fields ignored", `{"v":1,"type":"typing","typing":true,"future":[1,2]}`, clientFrame{Type: typeTyping, Typing: true}, ""},
		{"2000 characters", `{"type":"message","client_id":"c","text":"` + strings.Repeat("ж", 2000) + `"}`, clientFrame{Type: typeMessage, ClientID: "c", Text: strings.Repeat("ж", 2000)}, ""},
		{"2001 characters", `{"type":"message","client_id":"c","text":"` + strings.Repeat("ж", 2001) + `"}`, clientFrame{}, codeTooLarge},
		{"comment too long", `{"type":"csat","score":2,"comment":"` + strings.Repeat("a", 2001) + `"}`, clientFrame{}, codeTooLarge},
		{"1,100 emoji: under 2000 characters, over 4096 bytes", `{"type":"message","client_id":"c","text":"` + strings.Repeat("😀", 1100) + `"}`, clientFrame{}, codeTooLarge},
		{"1,024 emoji: 4096 bytes", `{"type":"message","client_id":"c","text":"` + strings.Repeat("😀", 1024) + `"}`, clientFrame{Type: typeMessage, ClientID: "c", Text: strings.Repeat("😀", 1024)}, ""},
		{"comment of 1,100 emoji", `{"type":"csat","score":2,"comment":"` + strings.Repeat("😀", 1100) + `"}`, clientFrame{}, codeTooLarge},
		{"version 2", `{"v":2,"type":"hello"}`, clientFrame{}, codeUnsupportedVersion},
		{"version as text", `{"v":"1","type":"hello"}`, clientFrame{}, codeBadFrame},
		{"version null", `{"v":null,"type":"hello"}`, clientFrame{}, codeBadFrame},
		{"version 1e0", `{"v":1e0,"type":"typing","typing":false}`, clientFrame{Type: typeTyping}, ""},
		{"negative last_seq", `{"type":"hello","last_seq":-1}`, clientFrame{}, codeBadFrame},
		{"identity not an object", `{"type":"hello","identity":"ada"}`, clientFrame{}, codeBadFrame},
		{"empty", ``, clientFrame{}, codeBadFrame},
		{"array", `[{"type":"hello"}]`, clientFrame{}, codeBadFrame},
		{"two objects", `{"type":"hello"}{"type":"hello"}`, clientFrame{}, codeBadFrame},
		{"trailing garbage", `{"type":"hello"} x`, clientFrame{}, codeBadFrame},
		{"bad UTF-8", "{\"type\":\"hello\",\"token\":\"\xff\"}", clientFrame{}, codeInvalidUTF8},
		{"unknown type", `{"type":"welcome"}`, clientFrame{}, codeUnknownType},
		{"empty type", `{"type":""}`, clientFrame{}, codeBadFrame},
		{"empty client id", `{"type":"message","client_id":"","text":"hi"}`, clientFrame{}, codeBadFrame},
		{"no text", `{"type":"message","client_id":"c"}`, clientFrame{}, codeBadFrame},
		{"typing missing", `{"type":"typing"}`, clientFrame{}, codeBadFrame},
		{"score zero", `{"type":"csat","score":0}`, clientFrame{}, codeBadScore},
		{"score fraction", `{"type":"csat","score":4.5}`, clientFrame{}, codeBadFrame},
		{"score missing", `{"type":"csat"}`, clientFrame{}, codeBadFrame},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, fe := decodeFrame([]byte(tc.in), 2000, 4096)
			if tc.code != "" {
				if fe == nil || fe.Code != tc.code {
					t.Fatalf("decode = %+v, %v; want error %s", got, fe, tc.code)
				}
				return
			}
			if fe != nil {
				t.Fatalf("decode: %v", fe)
			}
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(tc.want)
			if string(gj) != string(wj) {
				t.Errorf("decode = %s, want %s", gj, wj)
			}
		})
	}
}

// The server's frames are JSON the widget can read, with "v" and "type".
func TestEncodeFrames(t *testing.T) {
	for _, b := range [][]byte{
		encodeCSATRequest(),
		encode(errorFrame{V: version, Type: typeError, Code: codeTooLarge, Message: "x"}),
		encode(stateFrame{V: version, Type: typeState, State: "waiting", Queue: "billing"}),
	} {
		var m map[string]any
		err := json.Unmarshal(b, &m)
		if typ, _ := m["type"].(string); err != nil || m["v"] != 1.0 || typ == "" {
			t.Errorf("frame %s: %v", b, err)
		}
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, ex := range protocolExamples {
		f.Add([]byte(ex))
	}
	f.Add([]byte(`{"v":1,"type":"hello","token":"YWJj.ZGVm","last_seq":18446744073709551615}`))
	f.Add([]byte("{\"type\":\"message\",\"client_id\":\"\xc3\",\"text\":\"x\"}"))
	f.Add([]byte(`{"type":"message","client_id":"c","text":"\u0000\ud800"}`))
	f.Add([]byte(`{"type":"message","client_id":"c","text":"` + strings.Repeat("😀", 1100) + `"}`))
	f.Add([]byte(`{"type":"csat","score":3,"comment":"` + strings.Repeat("€", 1400) + `"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, fe := decodeFrame(data, 2000, 4096)
		if fe != nil {
			if !slices.Contains(codes[:], fe.Code) {
				t.Fatalf("unknown error code %q", fe.Code)
			}
			return
		}
		if !utf8.Valid(data) {
			t.Fatal("accepted invalid UTF-8")
		}
		switch fr.Type {
		case typeHello, typeTyping:
		case typeMessage:
			if n := utf8.RuneCountInString(fr.ClientID); n < 1 || n > maxClientID {
				t.Fatalf("accepted client id %q", fr.ClientID)
			}
			if strings.TrimSpace(fr.Text) == "" || utf8.RuneCountInString(fr.Text) > 2000 || len(fr.Text) > 4096 {
				t.Fatalf("accepted text of %d characters", utf8.RuneCountInString(fr.Text))
			}
		case typeCSAT:
			if fr.Score < 1 || fr.Score > 5 {
				t.Fatalf("accepted score %d", fr.Score)
			}
		default:
			t.Fatalf("accepted type %q", fr.Type)
		}
	})
}
