package webchat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/crm"
)

// version is the protocol version this package speaks (PROTOCOL.md).
const version = 1

// Frame types of PROTOCOL.md.
const (
	typeHello       = "hello"
	typeMessage     = "message"
	typeTyping      = "typing"
	typeCSAT        = "csat"
	typeWelcome     = "welcome"
	typeAck         = "ack"
	typeState       = "state"
	typeCSATRequest = "csat_request"
	typeCSATAck     = "csat_ack"
	typeError       = "error"
)

// Error codes of PROTOCOL.md, in the order of codeIndex.
const (
	codeBadFrame           = "bad_frame"
	codeInvalidUTF8        = "invalid_utf8"
	codeUnknownType        = "unknown_type"
	codeUnsupportedVersion = "unsupported_version"
	codeHelloRequired      = "hello_required"
	codeTooLarge           = "too_large"
	codeRateLimited        = "rate_limited"
	codeInvalidToken       = "invalid_token"
	codeInvalidIdentity    = "invalid_identity"
	codeBadScore           = "bad_score"
	codeInternal           = "internal"
)

// codes lists every error code; Stats counts error frames per code.
var codes = [...]string{
	codeBadFrame, codeInvalidUTF8, codeUnknownType, codeUnsupportedVersion, codeHelloRequired,
	codeTooLarge, codeRateLimited, codeInvalidToken, codeInvalidIdentity, codeBadScore, codeInternal,
}

func codeIndex(code string) int {
	for i, c := range codes {
		if c == code {
			return i
		}
	}
	return len(codes) - 1 // internal
}

// maxClientID is the longest client_id, in characters.
const maxClientID = 64

// identity is the signed-in user of the host page, as sent in hello.
type identity struct {
	UserID    string `json:"user_id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Signature string `json:"signature"`
}

// clientFrame is a decoded frame from the client; which fields are set
// depends on Type.
type clientFrame struct {
	Type     string
	Token    string    // hello
	LastSeq  uint64    // hello
	Identity *identity // hello, optional
	ClientID string    // message
	Text     string    // message
	Typing   bool      // typing
	Score    int       // csat
	Comment  string    // csat
}

// wireFrame is the JSON shape of every client frame. Pointers tell a missing
// field from a zero one.
type wireFrame struct {
	V        json.RawMessage `json:"v"`
	Type     *string         `json:"type"`
	Token    *string         `json:"token"`
	LastSeq  *uint64         `json:"last_seq"`
	Identity *identity       `json:"identity"`
	ClientID *string         `json:"client_id"`
	Text     *string         `json:"text"`
	Typing   *bool           `json:"typing"`
	Score    *int            `json:"score"`
	Comment  *string         `json:"comment"`
}

// frameError is a protocol error to report to the client in an error frame.
type frameError struct {
	Code     string
	Message  string
	ClientID string // set when the error is about one message
}

func (e *frameError) Error() string { return e.Code + ": " + e.Message }

func badFrame(format string, args ...any) *frameError {
	return &frameError{Code: codeBadFrame, Message: fmt.Sprintf(format, args...)}
}

// decodeFrame parses one client frame. A message text or CSAT comment may
// have at most maxChars characters and maxBytes bytes of UTF-8. Bad input
// gives a *frameError whose code PROTOCOL.md names (bad_frame,
// invalid_utf8, unknown_type, unsupported_version, too_large, bad_score);
// it never panics.
func decodeFrame(data []byte, maxChars, maxBytes int) (clientFrame, *frameError) {
	if !utf8.Valid(data) {
		return clientFrame{}, &frameError{Code: codeInvalidUTF8, Message: "frame is not valid UTF-8"}
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return clientFrame{}, badFrame("frame is not a JSON object")
	}
	var w wireFrame
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&w); err != nil {
		return clientFrame{}, badFrame("frame is not a valid frame: %v", jsonProblem(err))
	}
	if dec.More() {
		return clientFrame{}, badFrame("data after the JSON object")
	}
	if w.V != nil {
		v, err := strconv.ParseFloat(string(w.V), 64)
		switch {
		case err != nil:
			// Not a number: a string, an object, or null.
			return clientFrame{}, badFrame("field \"v\" must be a number")
		case v != version:
			return clientFrame{}, &frameError{Code: codeUnsupportedVersion, Message: "protocol version must be 1"}
		}
	}
	if w.Type == nil || *w.Type == "" {
		return clientFrame{}, badFrame("frame has no type")
	}
	f := clientFrame{Type: *w.Type}
	switch f.Type {
	case typeHello:
		f.Token = deref(w.Token)
		if w.LastSeq != nil {
			f.LastSeq = *w.LastSeq
		}
		f.Identity = w.Identity
	case typeMessage:
		f.ClientID = deref(w.ClientID)
		if n := utf8.RuneCountInString(f.ClientID); n < 1 || n > maxClientID {
			return clientFrame{}, badFrame("client_id must have 1 to %d characters", maxClientID)
		}
		if w.Text == nil || strings.TrimSpace(*w.Text) == "" {
			return clientFrame{}, &frameError{Code: codeBadFrame, Message: "message text is missing or blank", ClientID: f.ClientID}
		}
		f.Text = *w.Text
		if fe := checkLength("message", f.Text, maxChars, maxBytes); fe != nil {
			fe.ClientID = f.ClientID
			return clientFrame{}, fe
		}
	case typeTyping:
		if w.Typing == nil {
			return clientFrame{}, badFrame("typing frame without typing")
		}
		f.Typing = *w.Typing
	case typeCSAT:
		if w.Score == nil {
			return clientFrame{}, badFrame("csat frame without score")
		}
		f.Score = *w.Score
		if f.Score < 1 || f.Score > 5 {
			return clientFrame{}, &frameError{Code: codeBadScore, Message: "score must be 1 to 5"}
		}
		f.Comment = deref(w.Comment)
		if fe := checkLength("comment", f.Comment, maxChars, maxBytes); fe != nil {
			return clientFrame{}, fe
		}
	default:
		return clientFrame{}, &frameError{Code: codeUnknownType, Message: fmt.Sprintf("unknown frame type %q", truncate(f.Type, 40))}
	}
	return f, nil
}

// checkLength is too_large for a text over either limit. The byte limit is
// the store's: a text within the character limit may still be over it (1,100
// emoji are 4,400 bytes), and is refused here with the protocol's answer,
// not by the store.
func checkLength(what, text string, maxChars, maxBytes int) *frameError {
	if n := utf8.RuneCountInString(text); n > maxChars {
		return &frameError{Code: codeTooLarge, Message: fmt.Sprintf("%s of %d characters, longer than %d characters", what, n, maxChars)}
	}
	if len(text) > maxBytes {
		return &frameError{Code: codeTooLarge, Message: fmt.Sprintf("%s of %d bytes in UTF-8, longer than %d bytes", what, len(text), maxBytes)}
	}
	return nil
}

// jsonProblem shortens a decoding error for the client: it names the field
// or position, never echoes the input at length.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	}
	return truncate(err.Error(), 120)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Frames from the server.

type welcomeFrame struct {
	V              int    `json:"v"`
	Type           string `json:"type"`
	Token          string `json:"token"`
	ConversationID string `json:"conversation_id"`
	LastSeq        uint64 `json:"last_seq"`
	State          string `json:"state"`
	CustomerName   string `json:"customer_name,omitempty"`
}

type ackFrame struct {
	V        int    `json:"v"`
	Type     string `json:"type"`
	ClientID string `json:"client_id"`
	ID       string `json:"id"`
	Seq      uint64 `json:"seq"`
}

type messageFrame struct {
	V            int      `json:"v"`
	Type         string   `json:"type"`
	ID           string   `json:"id"`
	Seq          uint64   `json:"seq"`
	Sender       string   `json:"sender"`
	Agent        string   `json:"agent,omitempty"`
	ClientID     string   `json:"client_id,omitempty"`
	Text         string   `json:"text"`
	QuickReplies []string `json:"quick_replies,omitempty"`
	At           string   `json:"at"`
}

type typingFrame struct {
	V      int    `json:"v"`
	Type   string `json:"type"`
	Sender string `json:"sender"`
	Typing bool   `json:"typing"`
}

type stateFrame struct {
	V     int    `json:"v"`
	Type  string `json:"type"`
	State string `json:"state"`
	Queue string `json:"queue,omitempty"`
}

type csatRequestFrame struct {
	V        int    `json:"v"`
	Type     string `json:"type"`
	Question string `json:"question"`
	Min      int    `json:"min"`
	Max      int    `json:"max"`
}

type csatAckFrame struct {
	V     int    `json:"v"`
	Type  string `json:"type"`
	Score int    `json:"score"`
}

type errorFrame struct {
	V            int    `json:"v"`
	Type         string `json:"type"`
	Code         string `json:"code"`
	Message      string `json:"message"`
	ClientID     string `json:"client_id,omitempty"`
	RetryAfterMS int64  `json:"retry_after_ms,omitempty"`
}

// encode marshals a server frame. The frames are plain structs of strings
// and numbers, so marshalling cannot fail.
func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Unreachable for the frame types above; keep the socket usable.
		b, _ = json.Marshal(errorFrame{V: version, Type: typeError, Code: codeInternal, Message: "could not encode a frame"})
	}
	return b
}

func encodeMessage(m crm.Message) []byte {
	f := messageFrame{
		V: version, Type: typeMessage, ID: m.ID, Seq: m.Seq, Sender: string(m.Sender), Agent: m.AgentID,
		Text: m.Text, QuickReplies: m.QuickReplies, At: m.CreatedAt.UTC().Format(time.RFC3339),
	}
	if m.Sender == crm.SenderCustomer {
		f.ClientID = m.ClientID
	}
	return encode(f)
}

func encodeAck(m crm.Message) []byte {
	return encode(ackFrame{V: version, Type: typeAck, ClientID: m.ClientID, ID: m.ID, Seq: m.Seq})
}

func encodeCSATRequest() []byte {
	return encode(csatRequestFrame{V: version, Type: typeCSATRequest, Question: "How did we do?", Min: 1, Max: 5})
}
