package triage

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/nlp/nlu"
)

// Source is the part of the store training reads: the conversations page by
// page, and each one's situation through the same reader the engine uses.
type Source interface {
	crm.HistoryStore
	Conversations(ctx context.Context, afterID string, limit int) ([]crm.Conversation, error)
	ConversationFeedback(ctx context.Context, conversationID string) (crm.Feedback, error)
}

// Conversation is one past conversation as training sees it.
type Conversation struct {
	// Situations are the conversation as the engine saw it after each
	// customer message the bot handled (before an agent first wrote), the
	// last one being the moment of the handoff when there was one.
	Situations []dialog.Situation
	// Queue and Priority are what the conversation finally had; Queue is
	// empty when it never went to a person.
	Queue    string
	Priority crm.Priority
	// Rating is the customer's rating of the conversation, 1..5, or 0.
	Rating int
}

// HandedOff reports whether the conversation went to a queue.
func (c Conversation) HandedOff() bool { return c.Queue != "" }

// Dataset is the training material read from the store.
type Dataset struct {
	Conversations []Conversation
	// Parsed counts the customer messages that had no stored parse and
	// were parsed for training; Unparsed those left without (no parser, or
	// it failed on them).
	Parsed, Unparsed int
}

// page is how many conversations ReadDataset lists at a time.
const page = 500

// ReadDataset reads the store's resolved conversations of known customers,
// each with dialog.ReadSituation as the customer's history stood when the
// conversation began (a case counts as open when it was opened before and
// is still open or was last updated after). Customer messages without a
// stored parse (imported history, say) are parsed with p when it is not
// nil; each distinct text is parsed once. Conversations without messages
// are skipped.
//
// Errors: the source's, a stored parse that does not decode, or ctx's.
func ReadDataset(ctx context.Context, src Source, p dialog.Parser) (*Dataset, error) {
	ds := &Dataset{}
	cache := map[string]*nlu.Result{}
	for after := ""; ; {
		convs, err := src.Conversations(ctx, after, page)
		if err != nil {
			return nil, fmt.Errorf("read dataset: %w", err)
		}
		for _, c := range convs {
			if c.State != crm.StateResolved || c.CustomerID == "" || c.LastSeq == 0 {
				continue
			}
			if err := ds.add(ctx, src, c, p, cache); err != nil {
				return nil, fmt.Errorf("read dataset: conversation %s: %w", c.ID, err)
			}
		}
		if len(convs) < page {
			return ds, nil
		}
		after = convs[len(convs)-1].ID
	}
}

// add reads one conversation's situations.
func (ds *Dataset) add(ctx context.Context, src Source, c crm.Conversation, p dialog.Parser, cache map[string]*nlu.Result) error {
	sit, err := dialog.ReadSituation(ctx, src, c.ID, crm.HistoryQuery{Messages: -1, AsOf: c.CreatedAt}, c.CreatedAt)
	if err != nil {
		return err
	}
	if sit.Customer == nil { // erased since
		return nil
	}
	rating := 0
	switch fb, err := src.ConversationFeedback(ctx, c.ID); {
	case err == nil:
		rating = fb.Score
	case !errors.Is(err, crm.ErrNotFound):
		return err
	}
	lines := sit.Messages
	for i := range lines {
		if l := &lines[i]; l.Sender == crm.SenderCustomer && l.Parse == nil {
			if l.Parse, err = ds.parse(ctx, p, l.Text, cache); err != nil {
				return err
			}
		}
	}
	out := Conversation{Queue: c.Queue, Priority: c.Priority, Rating: rating}
	// The bot's part ends where an agent first writes.
	for i, l := range lines {
		if l.Sender == crm.SenderAgent {
			break
		}
		if l.Sender != crm.SenderCustomer {
			continue
		}
		s := sit
		s.Messages = lines[max(0, i+1-dialog.SituationMessages) : i+1]
		s.Now = l.CreatedAt
		out.Situations = append(out.Situations, s)
	}
	if len(out.Situations) > 0 {
		ds.Conversations = append(ds.Conversations, out)
	}
	return nil
}

// parse returns the NLU's parse of text, or nil when there is no parser or
// it fails on the text (ctx's error is returned).
func (ds *Dataset) parse(ctx context.Context, p dialog.Parser, text string, cache map[string]*nlu.Result) (*nlu.Result, error) {
	if res, ok := cache[text]; ok {
		if res == nil {
			ds.Unparsed++
		} else {
			ds.Parsed++
		}
		return res, nil
	}
	if p == nil {
		cache[text] = nil
		ds.Unparsed++
		return nil, nil
	}
	res, err := p.Parse(ctx, text)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// An empty text (nlp.ErrEmptyText) or one the parser rejects
		// stays unparsed: it still counts in the text features.
		cache[text] = nil
		ds.Unparsed++
		return nil, nil
	}
	slim := *res
	slim.Embedding = nil // the features read none; the cache need not hold it
	res = &slim
	cache[text] = res
	ds.Parsed++
	return res, nil
}
