package nlu

import "errors"

// MaxTextBytes is how much of a message a parser reads; the rest is ignored
// and the Result says Truncated. Callers that accept text for parsing may
// reject longer input up front.
const MaxTextBytes = 4096

// Errors a parser returns for text it cannot read, to be tested with
// errors.Is. Both mean the message carries nothing to understand; a caller
// leaves it unparsed rather than failing.
var (
	ErrEmptyText   = errors.New("empty text")
	ErrInvalidUTF8 = errors.New("text is not valid UTF-8")
)

// Entity is one entity found in a message. Start and End are rune offsets
// into Result.Text, so that []rune(text)[Start:End] spells Text.
type Entity struct {
	// Type is a built-in type ("email", "phone", "order_id", "money",
	// "date", "name") or the name of an entity declared in the training
	// data.
	Type  string `json:"type"`
	Text  string `json:"text"`  // as written in the message
	Value string `json:"value"` // normalised value ("30.00 EUR", "2026-03-03", a synonym's canonical value)
	Start int    `json:"start"` // rune offset into the original text
	End   int    `json:"end"`   // rune offset, exclusive
}

// IntentScore is one ranked intent with its calibrated confidence.
type IntentScore struct {
	Intent     string  `json:"intent"`
	Confidence float64 `json:"confidence"`
}

// Result is what a parser understood of one message. Its JSON form is
// stored with the message (without the Embedding) and served by the parse
// API.
type Result struct {
	Text string `json:"text"`
	// Intent is the top intent, also when it is not InScope. Confidences
	// are probabilities over the intents and, when the model was trained
	// with out-of-scope examples, an out-of-scope class that takes its
	// share without ever being ranked.
	Intent     string  `json:"intent"`
	Confidence float64 `json:"confidence"`
	// InScope says whether ScopeScore reached the model's calibrated
	// threshold; when false the message should be treated as out of scope.
	InScope bool `json:"in_scope"`
	// ScopeScore is what InScope compares with the model's threshold: the
	// top intent's probability at a temperature chosen to tell in-scope
	// messages from out-of-scope ones, lowered when the message has words
	// the model never saw.
	ScopeScore float64       `json:"scope_score"`
	Ranking    []IntentScore `json:"ranking"` // best first, at most a few
	Entities   []Entity      `json:"entities"`
	// Embedding is the sentence vector the intent classifier computed; its
	// length is fixed by the model. Nil when the parser has none.
	Embedding []float32 `json:"embedding"`
	// Truncated says that only the first MaxTextBytes bytes were read.
	Truncated bool `json:"truncated,omitempty"`
}
