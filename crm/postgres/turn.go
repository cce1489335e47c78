package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/crm"
)

// CommitTurn implements crm.ConversationStore. The parse, the replies and
// the events are checked and redacted before the transaction; in it, the
// conversation's row lock makes concurrent turns for one message take
// turns, so the first commits and the others find it answered
// (crm.ErrAnswered).
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
	// The write may run again (see write): it sets conv, stored and
	// storedEvs afresh.
	err = db.write(ctx, func(tx pgx.Tx) error {
		var err error
		conv, err = getConversation(ctx, tx, t.ConversationID, true)
		if err != nil {
			return err
		}
		if err := crm.CheckTurn(conv, t.Seq); err != nil {
			return err
		}
		var one int
		err = tx.QueryRow(ctx, `select 1 from messages where conversation_id = $1 and seq = $2`,
			conv.ID, seqArg(t.Seq)).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("message %d of conversation %q: %w", t.Seq, conv.ID, crm.ErrNotFound)
		}
		if err != nil {
			return err
		}
		now := db.now()
		if t.Update != nil {
			if conv, err = updated(conv, t.Update, now); err != nil {
				return err
			}
		}
		if parse != nil {
			if err := setParseTx(ctx, tx, conv.ID, t.Seq, parse); err != nil {
				return err
			}
		}
		stored = make([]crm.Message, 0, len(prepared))
		for _, r := range prepared {
			m, _, err := appendTx(ctx, tx, &conv, r, now)
			if err != nil {
				return err
			}
			stored = append(stored, m)
		}
		if storedEvs, err = insertEvents(ctx, tx, conv.ID, events, now); err != nil {
			return err
		}
		crm.FinishTurn(&conv, t.Seq, now)
		return saveConversation(ctx, tx, &conv)
	})
	if err != nil {
		return crm.Conversation{}, nil, nil, err
	}
	return conv, stored, storedEvs, nil
}
