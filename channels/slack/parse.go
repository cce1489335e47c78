package slack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"unicode/utf8"

	"github.com/parleyhq/parley/crm"
)

// maxBody bounds an Events API or interactions request body, and a Socket
// Mode payload: Slack's are a few KB (a message is at most 40,000
// characters).
const maxBody = 1 << 20

// maxID bounds the ids taken from Slack (event, trigger, action, team,
// channel, user and bot ids, timestamps): they become parts of the
// adapter's state keys, which crm.ChannelStateStore bounds.
const maxID = 255

// errBadPayload means a request body or Socket Mode payload is not one
// Slack sends: too large, not UTF-8, not JSON, or missing what the adapter
// needs. Over HTTP it is a 400.
var errBadPayload = errors.New("bad slack payload")

// eventsBody is what one Events API body (or a Socket Mode events_api
// payload, which is the same JSON) asks the adapter to do.
type eventsBody struct {
	// Challenge is set for a url_verification: answer it.
	Challenge string
	// Event is the message or mention to accept; nil when there is
	// nothing to do (an event type the adapter does not handle).
	Event *event
	// Type says what the body was, for logs: the outer type and, for an
	// event_callback, the inner one ("event_callback/reaction_added").
	Type string
}

// outerEvent is the envelope of an Events API body.
type outerEvent struct {
	Type      string          `json:"type"`
	Challenge string          `json:"challenge"`
	TeamID    string          `json:"team_id"`
	EventID   string          `json:"event_id"`
	Event     json.RawMessage `json:"event"`
}

// innerEvent is the part of a message or app_mention event the adapter
// reads. A message_changed or message_deleted event nests the message
// (not read here): only its subtype matters, for accept drops it.
type innerEvent struct {
	Type        string `json:"type"`
	Subtype     string `json:"subtype"`
	Team        string `json:"team"`
	Channel     string `json:"channel"`
	ChannelType string `json:"channel_type"`
	User        string `json:"user"`
	BotID       string `json:"bot_id"`
	Text        string `json:"text"`
	TS          string `json:"ts"`
	ThreadTS    string `json:"thread_ts"`
}

// parseEvents parses an Events API body: a url_verification (Challenge
// set), an event_callback carrying a message or an app_mention (Event
// set), or anything else (neither set: ignore it). The errors wrap
// errBadPayload.
func parseEvents(body []byte) (eventsBody, error) {
	if err := checkJSON(body); err != nil {
		return eventsBody{}, err
	}
	var outer outerEvent
	if err := json.Unmarshal(body, &outer); err != nil {
		return eventsBody{}, fmt.Errorf("parse slack event: %w: %w", errBadPayload, err)
	}
	out := eventsBody{Type: outer.Type}
	switch outer.Type {
	case "url_verification":
		if outer.Challenge == "" {
			return eventsBody{}, fmt.Errorf("parse slack event: url_verification without a challenge: %w", errBadPayload)
		}
		out.Challenge = outer.Challenge
		return out, nil
	case "event_callback":
	default: // app_rate_limited and whatever Slack adds later
		return out, nil
	}
	if isNull(outer.Event) {
		return eventsBody{}, fmt.Errorf("parse slack event: event_callback without an event: %w", errBadPayload)
	}
	// The inner type first: other event types have other shapes (a
	// user_change's "user" is an object), which must not fail the parse.
	var kind struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(outer.Event, &kind); err != nil {
		return eventsBody{}, fmt.Errorf("parse slack event: %w: %w", errBadPayload, err)
	}
	out.Type += "/" + kind.Type
	var k eventKind
	switch kind.Type {
	case "message":
		k = kindMessage
	case "app_mention":
		k = kindMention
	default:
		return out, nil
	}
	var in innerEvent
	if err := json.Unmarshal(outer.Event, &in); err != nil {
		return eventsBody{}, fmt.Errorf("parse slack %s event: %w: %w", kind.Type, errBadPayload, err)
	}
	team := outer.TeamID // the workspace the app is installed in: stable for one install
	if team == "" {
		team = in.Team
	}
	ev := event{
		Key: "ev:" + outer.EventID, Kind: k,
		Team: team, Channel: in.Channel, ChannelType: in.ChannelType, User: in.User, BotID: in.BotID,
		Subtype: in.Subtype, Text: in.Text, TS: in.TS, ThreadTS: in.ThreadTS,
	}
	if err := checkIDs("event_id", outer.EventID, "team", ev.Team, "channel", ev.Channel,
		"channel_type", ev.ChannelType, "user", ev.User, "bot_id", ev.BotID, "subtype", ev.Subtype,
		"ts", ev.TS, "thread_ts", ev.ThreadTS); err != nil {
		return eventsBody{}, fmt.Errorf("parse slack %s event: %w", kind.Type, err)
	}
	if ev.Channel == "" || ev.TS == "" { // nowhere to answer: not a message the adapter can act on
		return out, nil
	}
	out.Event = &ev
	return out, nil
}

// interaction is the part of an interaction payload (Slack's
// InteractionCallback) the adapter reads.
type interaction struct {
	Type      string `json:"type"`
	TriggerID string `json:"trigger_id"`
	Team      struct {
		ID string `json:"id"`
	} `json:"team"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	Channel struct {
		ID string `json:"id"`
	} `json:"channel"`
	Container struct {
		ChannelID string `json:"channel_id"`
		MessageTS string `json:"message_ts"`
		ThreadTS  string `json:"thread_ts"`
	} `json:"container"`
	Message struct {
		TS       string `json:"ts"`
		ThreadTS string `json:"thread_ts"`
	} `json:"message"`
	Actions []struct {
		ActionID       string `json:"action_id"`
		Value          string `json:"value"`
		SelectedOption struct {
			Value string `json:"value"`
		} `json:"selected_option"`
	} `json:"actions"`
}

// parseInteractionForm parses an interactions request body
// (application/x-www-form-urlencoded, the JSON in its field "payload") as
// parseInteraction does.
func parseInteractionForm(body []byte) ([]event, error) {
	if len(body) > maxBody {
		return nil, fmt.Errorf("parse slack interaction: body over %d bytes: %w", maxBody, errBadPayload)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("parse slack interaction form: %w: %w", errBadPayload, err)
	}
	payload := form.Get("payload")
	if payload == "" {
		return nil, fmt.Errorf("parse slack interaction: no payload field: %w", errBadPayload)
	}
	return parseInteraction([]byte(payload))
}

// parseInteraction parses an interaction payload: for block_actions, one
// event (kindAction) per action; for other interaction types (view
// submissions, shortcuts, ...), none. The errors wrap errBadPayload.
func parseInteraction(payload []byte) ([]event, error) {
	if err := checkJSON(payload); err != nil {
		return nil, err
	}
	var in interaction
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, fmt.Errorf("parse slack interaction: %w: %w", errBadPayload, err)
	}
	if in.Type != "block_actions" {
		return nil, nil
	}
	ev := event{
		Kind: kindAction, Team: in.Team.ID, User: in.User.ID,
		Channel: first(in.Channel.ID, in.Container.ChannelID),
		// The message's ts is the button's message; its thread_ts the
		// thread it is in.
		MessageTS: first(in.Container.MessageTS, in.Message.TS),
		ThreadTS:  first(in.Message.ThreadTS, in.Container.ThreadTS),
	}
	if err := checkIDs("trigger_id", in.TriggerID, "team.id", ev.Team, "user.id", ev.User,
		"channel", ev.Channel, "message_ts", ev.MessageTS, "thread_ts", ev.ThreadTS); err != nil {
		return nil, fmt.Errorf("parse slack block_actions: %w", err)
	}
	if ev.Channel == "" { // a button in a modal or the app home: the adapter puts none there
		return nil, nil
	}
	var evs []event
	for _, act := range in.Actions {
		if act.ActionID == "" { // Slack names every action; nothing to route without one
			continue
		}
		if err := checkIDs("action_id", act.ActionID); err != nil {
			return nil, fmt.Errorf("parse slack block_actions: %w", err)
		}
		e := ev
		e.Key = "act:" + in.TriggerID + ":" + act.ActionID
		if err := checkKey(e.Key); err != nil {
			return nil, fmt.Errorf("parse slack block_actions: %w", err)
		}
		e.ActionID = act.ActionID
		e.Value = first(act.Value, act.SelectedOption.Value) // a button's value, a menu's choice
		evs = append(evs, e)
	}
	return evs, nil
}

// checkJSON rejects what cannot be a Slack JSON payload before it is
// decoded: too large, not UTF-8 (encoding/json would silently turn bad
// bytes into U+FFFD), empty.
func checkJSON(b []byte) error {
	switch {
	case len(b) > maxBody:
		return fmt.Errorf("slack payload over %d bytes: %w", maxBody, errBadPayload)
	case !utf8.Valid(b):
		return fmt.Errorf("slack payload is not valid UTF-8: %w", errBadPayload)
	case len(bytes.TrimSpace(b)) == 0:
		return fmt.Errorf("slack payload is empty: %w", errBadPayload)
	}
	return nil
}

// checkIDs checks the ids taken from a payload, given as pairs of a name
// and a value: each at most maxID bytes without control characters, and the
// first one present. The errors wrap errBadPayload.
func checkIDs(pairs ...string) error {
	if pairs[1] == "" {
		return fmt.Errorf("no %s: %w", pairs[0], errBadPayload)
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		name, id := pairs[i], pairs[i+1]
		if len(id) > maxID {
			return fmt.Errorf("%s longer than %d bytes: %w", name, maxID, errBadPayload)
		}
		for _, r := range id {
			if r < 0x20 || r == 0x7f {
				return fmt.Errorf("%s contains a control character: %w", name, errBadPayload)
			}
		}
	}
	return nil
}

// checkKey checks that an event's key fits the state store, where accept
// records it as "slack:"+key.
func checkKey(key string) error {
	if len("slack:")+len(key) > crm.MaxStateKey {
		return fmt.Errorf("event key longer than %d bytes: %w", crm.MaxStateKey-len("slack:"), errBadPayload)
	}
	return nil
}

// first returns the first non-empty string of ss.
func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}
