package insight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/nlp/nlu"
)

// Page sizes for reading the Source.
const (
	conversationPage = 500
	messagePage      = 1000
)

// parsed is what Analyze needs of an NLU result.
type parsed struct {
	inScope    bool
	confidence float64
	intent     string
	embedding  []float64
}

// message is one analysed customer message.
type message struct {
	conversationID string
	seq            uint64
	text           string
	res            *parsed
}

// collector reads the Source and keeps the messages to analyse.
type collector struct {
	src    Source
	parser Parser
	opts   Options

	msgs                      []message
	scanned, parsed, unparsed int
	// cache holds the Parser's answer per exact text (nil: refused), so a
	// text sent many times is parsed once.
	cache map[string]*parsed
	// intents holds every intent name seen in a ranking: names a suggestion
	// must not take.
	intents map[string]bool
}

func (c *collector) collect(ctx context.Context) error {
	after := ""
	for {
		convs, err := c.src.Conversations(ctx, after, conversationPage)
		if err != nil {
			return fmt.Errorf("list conversations: %w", err)
		}
		for _, conv := range convs {
			if err := c.conversation(ctx, conv.ID); err != nil {
				return fmt.Errorf("conversation %s: %w", conv.ID, err)
			}
		}
		if len(convs) < conversationPage {
			return nil
		}
		after = convs[len(convs)-1].ID
	}
}

func (c *collector) conversation(ctx context.Context, id string) error {
	var after uint64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		msgs, err := c.src.MessagesAfter(ctx, id, after, messagePage)
		if err != nil {
			return fmt.Errorf("read messages: %w", err)
		}
		for _, m := range msgs {
			if err := c.message(ctx, m); err != nil {
				return fmt.Errorf("message %d: %w", m.Seq, err)
			}
		}
		if len(msgs) < messagePage {
			return nil
		}
		after = msgs[len(msgs)-1].Seq
	}
}

// message takes one stored message into account.
func (c *collector) message(ctx context.Context, m crm.Message) error {
	if m.Sender != crm.SenderCustomer || (!c.opts.Since.IsZero() && m.CreatedAt.Before(c.opts.Since)) {
		return nil
	}
	c.scanned++
	var res *parsed
	if !c.opts.Reparse {
		var intents []string
		res, intents = decodeParse(m.Parse)
		for _, in := range intents {
			c.intents[in] = true
		}
	}
	if res != nil && c.understood(res) {
		return nil
	}
	// No parse, or one without the embedding (the engine stores parses
	// without it): the Parser gives the embedding, and its own verdict.
	if res == nil || res.embedding == nil {
		var err error
		if res, err = c.parse(ctx, m.Text); err != nil {
			return err
		}
		if res == nil {
			c.unparsed++
			return nil
		}
		c.parsed++
		if c.understood(res) {
			return nil
		}
	}
	c.msgs = append(c.msgs, message{conversationID: m.ConversationID, seq: m.Seq, text: m.Text, res: res})
	return nil
}

// understood reports whether the NLU understood a message well enough that
// it is not analysed.
func (c *collector) understood(res *parsed) bool {
	return res.inScope && res.confidence >= c.opts.MinConfidence
}

// parse asks the Parser about text. It returns nil, nil when there is no
// Parser or it refuses the text as empty or not UTF-8.
func (c *collector) parse(ctx context.Context, text string) (*parsed, error) {
	if res, ok := c.cache[text]; ok {
		return res, nil
	}
	if c.parser == nil {
		return nil, nil
	}
	r, err := c.parser.Parse(ctx, text)
	switch {
	case errors.Is(err, nlu.ErrEmptyText), errors.Is(err, nlu.ErrInvalidUTF8):
		c.cache[text] = nil
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("parse: %w", err)
	}
	if len(r.Embedding) == 0 {
		return nil, fmt.Errorf("parse: %w: the parser returned no embedding", ErrDimension)
	}
	res := &parsed{inScope: r.InScope, confidence: r.Confidence, intent: r.Intent}
	if !c.understood(res) {
		// Only messages to analyse need their embedding: the cache holds
		// one entry per distinct text of the whole store.
		res.embedding = widen(r.Embedding)
	}
	for _, s := range r.Ranking {
		if s.Intent != "" {
			c.intents[s.Intent] = true
		}
	}
	if r.Intent != "" {
		c.intents[r.Intent] = true
	}
	c.cache[text] = res
	return res, nil
}

// storedParse is the part of a stored nlu.Result that Analyze reads.
// Pointers tell a missing field from a zero one.
type storedParse struct {
	Intent     string   `json:"intent"`
	Confidence *float64 `json:"confidence"`
	InScope    *bool    `json:"in_scope"`
	Ranking    []struct {
		Intent string `json:"intent"`
	} `json:"ranking"`
	// Embedding is read as float32, as nlp writes it: a float64 reading of
	// the decimal text would differ from a fresh parse of the same text.
	Embedding []float32 `json:"embedding"`
}

// decodeParse reads a stored parse and the intents of its ranking. It
// returns nil when there is no parse or it is not the JSON of an nlu.Result;
// the embedding is nil when the parse has none.
func decodeParse(raw json.RawMessage) (*parsed, []string) {
	if len(raw) == 0 {
		return nil, nil
	}
	var sp storedParse
	if err := json.Unmarshal(raw, &sp); err != nil || sp.Confidence == nil || sp.InScope == nil {
		return nil, nil
	}
	intents := make([]string, 0, len(sp.Ranking)+1)
	if sp.Intent != "" {
		intents = append(intents, sp.Intent)
	}
	for _, r := range sp.Ranking {
		if r.Intent != "" {
			intents = append(intents, r.Intent)
		}
	}
	res := &parsed{inScope: *sp.InScope, confidence: *sp.Confidence, intent: sp.Intent}
	if len(sp.Embedding) > 0 {
		res.embedding = widen(sp.Embedding)
	}
	return res, intents
}

func widen(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
