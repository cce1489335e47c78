package jetstream

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// WireVersion is the version of the encoding Encode writes and Decode reads.
const WireVersion = 1

// MaxWire bounds an encoded event in bytes; Decode rejects longer input
// before it parses anything. It is NATS's default maximum payload.
const MaxWire = 1 << 20

// ErrWire is wrapped by every error Decode returns for input that is not an
// event of WireVersion.
var ErrWire = errors.New("bad event encoding")

// wire is the JSON form of a dialog.Event on the stream. Unknown fields are
// ignored, so a newer node may add fields without breaking older ones; a
// change older nodes must not misread takes a new V.
type wire struct {
	V            int               `json:"v"`
	Type         dialog.EventType  `json:"type"`
	Conversation string            `json:"conversation"`
	Message      *crm.Message      `json:"message,omitempty"`
	State        *crm.Conversation `json:"state,omitempty"`
	Lifecycle    *crm.Event        `json:"lifecycle,omitempty"`
	Typing       bool              `json:"typing,omitempty"`
	Sender       crm.Sender        `json:"sender,omitempty"`
	Agent        string            `json:"agent,omitempty"`
}

// Encode returns the wire form of ev. It fails only for an event Decode
// would reject (an unknown type, a missing conversation id, or a payload
// that does not match its type), wrapping ErrWire.
func Encode(ev dialog.Event) ([]byte, error) {
	w := wire{
		V: WireVersion, Type: ev.Type, Conversation: ev.ConversationID,
		Message: ev.Message, State: ev.Conversation, Lifecycle: ev.Lifecycle,
		Typing: ev.Typing, Sender: ev.Sender, Agent: ev.Agent,
	}
	if err := w.check(); err != nil {
		return nil, err
	}
	data, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	if len(data) > MaxWire {
		return nil, fmt.Errorf("encoded event is %d bytes, over %d: %w", len(data), MaxWire, ErrWire)
	}
	return data, nil
}

// Decode parses an event written by Encode. Errors wrap ErrWire: input
// longer than MaxWire, not JSON, of another version, of an unknown type,
// or whose payload is missing or names another conversation.
func Decode(data []byte) (dialog.Event, error) {
	if len(data) > MaxWire {
		return dialog.Event{}, fmt.Errorf("event of %d bytes, over %d: %w", len(data), MaxWire, ErrWire)
	}
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return dialog.Event{}, fmt.Errorf("%w: %v", ErrWire, err)
	}
	if w.V != WireVersion {
		return dialog.Event{}, fmt.Errorf("event version %d, want %d: %w", w.V, WireVersion, ErrWire)
	}
	if err := w.check(); err != nil {
		return dialog.Event{}, err
	}
	ev := dialog.Event{Type: w.Type, ConversationID: w.Conversation, Typing: w.Typing, Sender: w.Sender, Agent: w.Agent}
	// Only the payload of the event's type is kept, so a subscriber never
	// sees, say, a lifecycle note riding on a message event.
	switch w.Type {
	case dialog.EventMessage:
		ev.Message = w.Message
	case dialog.EventState:
		ev.Conversation = w.State
	case dialog.EventLifecycle:
		ev.Lifecycle = w.Lifecycle
	}
	return ev, nil
}

// check reports whether w is an event subscribers can rely on: a known
// type with its payload, of a valid conversation id that the payload
// shares.
func (w *wire) check() error {
	if err := crm.CheckKeyPart("event conversation", w.Conversation); err != nil {
		return fmt.Errorf("%w: %v", ErrWire, err)
	}
	var owner string
	switch w.Type {
	case dialog.EventMessage:
		if w.Message == nil {
			return fmt.Errorf("message event without a message: %w", ErrWire)
		}
		owner = w.Message.ConversationID
	case dialog.EventState:
		if w.State == nil {
			return fmt.Errorf("state event without a conversation: %w", ErrWire)
		}
		owner = w.State.ID
	case dialog.EventLifecycle:
		if w.Lifecycle == nil {
			return fmt.Errorf("lifecycle event without a lifecycle record: %w", ErrWire)
		}
		owner = w.Lifecycle.ConversationID
	case dialog.EventTyping, dialog.EventErased:
		return nil
	default:
		return fmt.Errorf("event type %q: %w", w.Type, ErrWire)
	}
	if owner != w.Conversation {
		return fmt.Errorf("%s event of conversation %q carries conversation %q: %w", w.Type, w.Conversation, owner, ErrWire)
	}
	return nil
}

// token is the subject token of a conversation id: base64url without
// padding, so dots, spaces and wildcards in an id cannot split or widen a
// subject. It is never empty for a valid id.
func token(conversationID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(conversationID))
}

// msgID is the Nats-Msg-Id of ev, whose encoding is data, or "" for an
// event that is not de-duplicated (typing). Ids are built from subject
// tokens and digests so that no id can smuggle a line break into a header.
func msgID(ev dialog.Event, data []byte) string {
	switch ev.Type {
	case dialog.EventMessage:
		if ev.Message.ID == "" {
			return ""
		}
		return "msg:" + token(ev.Message.ID)
	case dialog.EventLifecycle:
		return "ev:" + token(ev.ConversationID) + ":" + strconv.FormatUint(ev.Lifecycle.Seq, 10)
	case dialog.EventState:
		// The same state twice is the same event; any change (state,
		// queue, agent, UpdatedAt...) is a new one. A digest of the whole
		// encoding says both, where UpdatedAt alone would merge two
		// changes stored under a frozen test clock.
		sum := sha256.Sum256(data)
		return "state:" + token(ev.ConversationID) + ":" + strconv.FormatInt(ev.Conversation.UpdatedAt.UnixNano(), 10) + ":" + hex.EncodeToString(sum[:12])
	case dialog.EventErased:
		return "erased:" + token(ev.ConversationID)
	}
	return ""
}
