package jetstream_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/dialog/jetstream"
)

// wireEvents are one event of each type, as the engine publishes them.
func wireEvents() []dialog.Event {
	m := message("c1", 3)
	m.Message.ClientID = "client-9"
	m.Message.QuickReplies = []string{"yes", "no"}
	m.Message.Parse = json.RawMessage(`{"intent":"greet","confidence":0.9}`)
	return []dialog.Event{
		m,
		{Type: dialog.EventState, ConversationID: "c1", Conversation: &crm.Conversation{ID: "c1", Channel: crm.ChannelWeb,
			State: crm.StateWaiting, Queue: "billing", Priority: crm.PriorityHigh, Slots: map[string]string{"order_id": "1042"},
			LastSeq: 3, CreatedAt: at, UpdatedAt: at, StateSince: at}},
		{Type: dialog.EventLifecycle, ConversationID: "c1", Lifecycle: &crm.Event{ID: "e1", ConversationID: "c1", Seq: 4,
			Type: crm.EventNote, Actor: "ann", Text: "private", At: at}},
		{Type: dialog.EventTyping, ConversationID: "c1", Typing: true, Sender: crm.SenderAgent, Agent: "ann"},
		{Type: dialog.EventErased, ConversationID: "odd id. with * and >"},
	}
}

// TestWireRoundTrip: Decode(Encode(ev)) is ev for every type of event.
func TestWireRoundTrip(t *testing.T) {
	for _, ev := range wireEvents() {
		t.Run(string(ev.Type), func(t *testing.T) {
			data, err := jetstream.Encode(ev)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, []byte(`{"v":1,`)) {
				t.Errorf("encoding %s does not start with its version", data)
			}
			got, err := jetstream.Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, ev) {
				t.Errorf("round trip = %+v, want %+v", got, ev)
			}
		})
	}
}

// TestDecodeErrors: input that is not a v1 event is an ErrWire error.
func TestDecodeErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", ``, "unexpected end"},
		{"not json", `hello`, "invalid character"},
		{"trailing data", `{"v":1,"type":"typing","conversation":"c"} x`, "invalid character"},
		{"no version", `{"type":"typing","conversation":"c"}`, "version 0"},
		{"future version", `{"v":2,"type":"typing","conversation":"c"}`, "version 2"},
		{"unknown type", `{"v":1,"type":"teleport","conversation":"c"}`, "event type"},
		{"no conversation", `{"v":1,"type":"typing"}`, "conversation missing"},
		{"nul in conversation", `{"v":1,"type":"typing","conversation":"a\u0000b"}`, "NUL"},
		{"message without message", `{"v":1,"type":"message","conversation":"c"}`, "without a message"},
		{"state without state", `{"v":1,"type":"state","conversation":"c"}`, "without a conversation"},
		{"lifecycle without record", `{"v":1,"type":"lifecycle","conversation":"c"}`, "without a lifecycle"},
		{"message of another conversation", `{"v":1,"type":"message","conversation":"c","message":{"conversation_id":"d"}}`, "carries conversation"},
		{"wrong field type", `{"v":1,"type":"typing","conversation":"c","typing":"yes"}`, "cannot unmarshal"},
		{"too long", `{"v":1,"type":"typing","conversation":"c","agent":"` + strings.Repeat("a", jetstream.MaxWire) + `"}`, "over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := jetstream.Decode([]byte(tt.in))
			if !errors.Is(err, jetstream.ErrWire) {
				t.Fatalf("error %v, want ErrWire", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

// TestDecodeKeepsOnlyItsPayload: a payload of another type riding on an
// event (a lifecycle note on a message event) does not reach subscribers.
func TestDecodeKeepsOnlyItsPayload(t *testing.T) {
	in := `{"v":1,"type":"typing","conversation":"c","unknown":1,` +
		`"lifecycle":{"conversation_id":"c","type":"note","text":"private"}}`
	ev, err := jetstream.Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Lifecycle != nil || ev.Message != nil || ev.Conversation != nil {
		t.Errorf("decoded %+v keeps a payload of another type", ev)
	}
}

// FuzzDecode: any input decodes to an event or an ErrWire error, without
// a panic, and a decoded event encodes to a fixed point.
func FuzzDecode(f *testing.F) {
	for _, ev := range wireEvents() {
		data, err := jetstream.Encode(ev)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"v":1,"type":"message","conversation":"c","message":{"conversation_id":"c","parse":{"a":[1,2]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := jetstream.Decode(data)
		if err != nil {
			if !errors.Is(err, jetstream.ErrWire) {
				t.Fatalf("error %v is not ErrWire", err)
			}
			return
		}
		once, err := jetstream.Encode(ev)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", ev, err)
		}
		again, err := jetstream.Decode(once)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", once, err)
		}
		twice, err := jetstream.Encode(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once, twice) {
			t.Fatalf("encoding is not stable:\n%s\n%s", once, twice)
		}
	})
}
