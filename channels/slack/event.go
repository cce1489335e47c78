package slack

// eventKind says what an event is.
type eventKind int

const (
	kindMessage eventKind = iota + 1 // a message event (im, channel, group, mpim)
	kindMention                      // an app_mention event
	kindAction                       // a Block Kit button click (block_actions)
)

// event is one thing Slack told the adapter, from either transport (the
// Events API over HTTP or Socket Mode), parsed and checked.
type event struct {
	// Key identifies the event for de-duplication: "ev:" and the Events
	// API's event_id, or "act:" and the interaction's trigger_id for a
	// click.
	Key  string
	Kind eventKind

	Team        string // team_id
	Channel     string // channel id (D..., C..., G...)
	ChannelType string // "im", "channel", "group", "mpim"; empty for a click
	User        string // who wrote the message or clicked
	BotID       string // set when a bot (maybe this one) wrote the message
	Subtype     string // message subtype ("", "bot_message", "message_changed", ...)
	Text        string
	TS          string // the message's ts
	ThreadTS    string // the thread's root ts when the message is in a thread

	// Clicks (kindAction): the button's action_id and value, and the ts
	// of the message it is on (MessageTS; that message's ThreadTS when it
	// is in a thread).
	ActionID  string
	Value     string
	MessageTS string
}
