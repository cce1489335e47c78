package triage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// Source is the part of the store training reads: everything about one
// customer at a time, as crm.PrivacyStore.ExportCustomer writes it.
type Source interface {
	ExportCustomer(ctx context.Context, id string, w io.Writer) error
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

// ReadDataset reads the resolved conversations of the customers from src.
// Customer messages without a stored parse (imported history, say) are
// parsed with p when it is not nil; each distinct text is parsed once.
// Conversations without messages are skipped, as are conversations of
// unknown customers, which no export holds. Features of the customer's
// history are taken as of each conversation's start (a case counts as open
// when it was opened before and is still open or was last updated after).
//
// Errors: the source's (crm.ErrNotFound for an unknown customer), an
// export that does not decode, or ctx's.
func ReadDataset(ctx context.Context, src Source, customerIDs []string, p dialog.Parser) (*Dataset, error) {
	ds := &Dataset{}
	cache := map[string]json.RawMessage{}
	var buf bytes.Buffer
	for _, id := range customerIDs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read dataset: %w", err)
		}
		buf.Reset()
		if err := src.ExportCustomer(ctx, id, &buf); err != nil {
			return nil, fmt.Errorf("read dataset: customer %s: %w", id, err)
		}
		var ex crm.Export
		if err := json.Unmarshal(buf.Bytes(), &ex); err != nil {
			return nil, fmt.Errorf("read dataset: customer %s: %w", id, err)
		}
		if err := ds.add(ctx, &ex, p, cache); err != nil {
			return nil, fmt.Errorf("read dataset: customer %s: %w", id, err)
		}
	}
	return ds, nil
}

// add turns one customer's export into conversations.
func (ds *Dataset) add(ctx context.Context, ex *crm.Export, p dialog.Parser, cache map[string]json.RawMessage) error {
	rating := map[string]crm.Feedback{}
	for _, f := range ex.Feedback {
		if old, ok := rating[f.ConversationID]; f.ConversationID != "" && (!ok || f.CreatedAt.After(old.CreatedAt)) {
			rating[f.ConversationID] = f
		}
	}
	cust := ex.Customer
	for _, ec := range ex.Conversations {
		if ec.State != crm.StateResolved || len(ec.Messages) == 0 {
			continue
		}
		msgs := slices.Clone(ec.Messages)
		for i := range msgs {
			m := &msgs[i]
			if m.Sender != crm.SenderCustomer || len(m.Parse) > 0 {
				continue
			}
			raw, err := ds.parse(ctx, p, m.Text, cache)
			if err != nil {
				return err
			}
			m.Parse = raw
		}
		c := Conversation{Queue: ec.Queue, Priority: ec.Priority, Rating: rating[ec.ID].Score}
		h := historyAsOf(ex, ec.Conversation)
		// The bot's part ends where an agent first writes.
		end := len(msgs)
		for i, m := range msgs {
			if m.Sender == crm.SenderAgent {
				end = i
				break
			}
		}
		for i := range end {
			if msgs[i].Sender != crm.SenderCustomer {
				continue
			}
			c.Situations = append(c.Situations, dialog.Situation{
				Conversation: ec.Conversation, Customer: &cust, Messages: msgs[max(0, i+1-dialog.SituationMessages) : i+1],
				History: h, Now: msgs[i].CreatedAt,
			})
		}
		if len(c.Situations) > 0 {
			ds.Conversations = append(ds.Conversations, c)
		}
	}
	return nil
}

// parse returns the stored form of the NLU's parse of text, or nil when
// there is no parser or it fails on the text (ctx's error is returned).
func (ds *Dataset) parse(ctx context.Context, p dialog.Parser, text string, cache map[string]json.RawMessage) (json.RawMessage, error) {
	if raw, ok := cache[text]; ok {
		if raw == nil {
			ds.Unparsed++
		} else {
			ds.Parsed++
		}
		return raw, nil
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
	// The features read no embedding: leave it out of the cache.
	slim := *res
	slim.Embedding = nil
	raw, err := json.Marshal(&slim)
	if err != nil {
		return nil, err
	}
	cache[text] = raw
	ds.Parsed++
	return raw, nil
}

// historyAsOf is the customer's history at the start of conversation c.
func historyAsOf(ex *crm.Export, c crm.Conversation) dialog.History {
	at := c.CreatedAt
	var h dialog.History
	for _, t := range ex.Tickets {
		if t.CreatedAt.Before(at) && (t.Status.Open() || t.UpdatedAt.After(at)) {
			h.OpenTickets++
		}
	}
	for _, o := range ex.Conversations {
		if o.ID != c.ID && o.Queue != "" && o.CreatedAt.Before(at) {
			h.PastHandoffs++
		}
	}
	var newest crm.Feedback
	for _, f := range ex.Feedback {
		if f.CreatedAt.Before(at) && f.CreatedAt.After(newest.CreatedAt) {
			newest = f
		}
	}
	h.LastRating = newest.Score
	for _, o := range ex.Orders {
		if o.PlacedAt.Before(at) {
			h.LifetimeOrders++
		}
	}
	return h
}
