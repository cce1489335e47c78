package crm

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// EventType names a change of who holds a conversation, or a private note.
type EventType string

// Event types. Each is stored with the change it records, in the same
// transaction (ConversationStore.Transition, or a Turn's Events).
const (
	EventHandoff  EventType = "handoff"  // the bot handed the conversation to a queue
	EventClaim    EventType = "claim"    // an agent took it (state agent, assignee set)
	EventAssign   EventType = "assign"   // the system or an admin gave it to an agent
	EventRelease  EventType = "release"  // the agent put it back in its queue
	EventTransfer EventType = "transfer" // moved to another queue or agent
	EventReturn   EventType = "return"   // given back to the bot
	EventResolve  EventType = "resolve"  // closed
	EventNote     EventType = "note"     // a private note: never sent to the customer
	EventTimeout  EventType = "timeout"  // nobody claimed it in time: the customer was told and offered an e-mail reply
	EventRequeue  EventType = "requeue"  // its agent did not answer in time: back in the queue
	EventContact  EventType = "contact"  // the customer left an e-mail address for a reply
	EventLeave    EventType = "leave"    // the customer left the queue ("bye" while waiting)
)

var eventTypes = map[EventType]bool{
	EventHandoff: true, EventClaim: true, EventAssign: true, EventRelease: true, EventTransfer: true,
	EventReturn: true, EventResolve: true, EventNote: true, EventTimeout: true, EventRequeue: true,
	EventContact: true, EventLeave: true,
}

// Actors that are not agents.
const (
	ActorBot    = "bot"
	ActorSystem = "system"
)

// Event is one stored step of a conversation's life: who did what, when.
// ID, Seq and At are given by the store; Seq counts 1, 2, 3, ... within the
// conversation's events (apart from its messages' Seq).
type Event struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversation_id"`
	Seq            uint64    `json:"seq"`
	Type           EventType `json:"type"`
	Actor          string    `json:"actor"`           // an agent login, ActorBot or ActorSystem
	Agent          string    `json:"agent,omitempty"` // the assignee after the event, if any
	Queue          string    `json:"queue,omitempty"` // the queue after the event, if any
	// Text is a note's text, or why (a handoff's reason, a transfer's
	// comment); redacted as message text is.
	Text string    `json:"text,omitempty"`
	At   time.Time `json:"at"`
}

// MaxEventText bounds an event's Text in bytes.
const MaxEventText = 4096

// PrepareEvent checks ev and redacts its text, as a store does before it
// stores ev; errors wrap ErrInvalid, or ErrTooLarge for a text over
// MaxEventText. ID, Seq and At are left for the store to set.
func PrepareEvent(ev Event) (Event, error) {
	if !eventTypes[ev.Type] {
		return ev, fmt.Errorf("event type %q: %w", ev.Type, ErrInvalid)
	}
	if err := CheckKeyPart("event actor", ev.Actor); err != nil {
		return ev, err
	}
	if ev.Agent != "" {
		if err := CheckKeyPart("event agent", ev.Agent); err != nil {
			return ev, err
		}
	}
	if ev.Queue != "" {
		if err := CheckKeyPart("event queue", ev.Queue); err != nil {
			return ev, err
		}
	}
	if len(ev.Text) > MaxEventText {
		return ev, fmt.Errorf("event text of %d bytes, limit %d: %w", len(ev.Text), MaxEventText, ErrTooLarge)
	}
	if !utf8.ValidString(ev.Text) {
		return ev, fmt.Errorf("event text: invalid UTF-8: %w", ErrInvalid)
	}
	if ev.Type == EventNote && strings.TrimSpace(ev.Text) == "" {
		return ev, fmt.Errorf("empty note: %w", ErrInvalid)
	}
	ev.Text = Redact(ev.Text)
	return ev, nil
}

// CannedResponse is a reply agents insert by typing "/" and its shortcut
// in the console. Text may hold the variables {{customer.name}} and
// {{order.id}}, filled in by the console.
type CannedResponse struct {
	Shortcut  string    `json:"shortcut"` // lower-case letters, digits and "-", such as "refund-sent"
	Title     string    `json:"title"`
	Text      string    `json:"text"`
	UpdatedBy string    `json:"updated_by,omitempty"` // agent login
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// MaxCannedText bounds a canned response's text in bytes.
const MaxCannedText = 4096

// ValidateCanned checks c; errors wrap ErrInvalid (or ErrTooLarge for a
// text over MaxCannedText).
func ValidateCanned(c *CannedResponse) error {
	if c.Shortcut == "" || len(c.Shortcut) > 64 {
		return fmt.Errorf("canned shortcut %q: 1 to 64 characters: %w", c.Shortcut, ErrInvalid)
	}
	for _, r := range c.Shortcut {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-') {
			return fmt.Errorf("canned shortcut %q: only a-z, 0-9 and -: %w", c.Shortcut, ErrInvalid)
		}
	}
	if len(c.Text) > MaxCannedText {
		return fmt.Errorf("canned text of %d bytes, limit %d: %w", len(c.Text), MaxCannedText, ErrTooLarge)
	}
	if strings.TrimSpace(c.Text) == "" {
		return fmt.Errorf("canned response %q has no text: %w", c.Shortcut, ErrInvalid)
	}
	if err := checkText("canned text", c.Text, MaxCannedText); err != nil {
		return err
	}
	if err := checkText("canned title", c.Title, maxField); err != nil {
		return err
	}
	return checkText("canned author", c.UpdatedBy, maxField)
}
