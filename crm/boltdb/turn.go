package boltdb

import (
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

// CommitTurn implements ConversationStore. The parse, the replies and the
// events are checked and redacted before the write transaction (the events
// are stored after the replies, as Transition stores its event); the transaction goes
// through the commit queue like an append, so a turn shares its fsync with
// the messages arriving meanwhile.
func (db *DB) CommitTurn(ctx context.Context, t crm.Turn) (crm.Conversation, []crm.Message, []crm.Event, error) {
	conv, replies, events, err := db.commitTurn(ctx, t)
	if err != nil {
		return crm.Conversation{}, nil, nil, fmt.Errorf("commit turn: %w", err)
	}
	return conv, replies, events, nil
}

func (db *DB) commitTurn(ctx context.Context, t crm.Turn) (crm.Conversation, []crm.Message, []crm.Event, error) {
	parse, prepared, err := crm.PrepareTurn(t, db.maxMsg)
	if err != nil {
		return crm.Conversation{}, nil, nil, err
	}
	events, err := prepareEvents(t.ConversationID, t.Events)
	if err != nil {
		return crm.Conversation{}, nil, nil, err
	}
	var (
		conv      crm.Conversation
		stored    []crm.Message
		storedEvs []crm.Event
	)
	// The write may run twice (see write): it sets conv and stored afresh.
	err = db.write(ctx, func(tx *bolt.Tx) error {
		var err error
		conv, err = getRecord[crm.Conversation](tx, bucketConversations, "conversation", t.ConversationID)
		if err != nil {
			return err
		}
		if err := crm.CheckTurn(conv, t.Seq); err != nil {
			return err
		}
		if tx.Bucket(bucketMessages).Get(messageKey(conv.ID, t.Seq)) == nil {
			return fmt.Errorf("message %d of conversation %q: %w", t.Seq, conv.ID, crm.ErrNotFound)
		}
		now := db.now()
		if t.Update != nil {
			if conv, err = db.updateConversationTx(tx, conv.ID, t.Update, now); err != nil {
				return err
			}
		}
		if parse != nil {
			if err := setParseTx(tx, conv.ID, t.Seq, parse); err != nil {
				return err
			}
		}
		convs := map[string]*crm.Conversation{conv.ID: &conv}
		stored = make([]crm.Message, 0, len(prepared))
		for _, r := range prepared {
			m, _, err := db.appendTx(tx, convs, r)
			if abort := (errAbort{}); errors.As(err, &abort) {
				err = abort.err
			}
			if err != nil {
				return err
			}
			stored = append(stored, m)
		}
		storedEvs = make([]crm.Event, 0, len(events))
		for _, ev := range events {
			sev, err := putEventTx(tx, ev, now)
			if err != nil {
				return err
			}
			storedEvs = append(storedEvs, sev)
		}
		crm.FinishTurn(&conv, t.Seq, now)
		return putConversations(tx, convs)
	})
	if err != nil {
		return crm.Conversation{}, nil, nil, err
	}
	return conv, stored, storedEvs, nil
}
