package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/crm"
)

// prepareEvents checks and redacts a turn's events before its transaction,
// giving each the turn's conversation; an error says which event.
func prepareEvents(conversationID string, evs []crm.Event) ([]crm.Event, error) {
	out := make([]crm.Event, len(evs))
	for i, ev := range evs {
		ev.ConversationID = conversationID
		p, err := crm.PrepareEvent(ev)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		out[i] = p
	}
	return out, nil
}

// insertEvent inserts ev, prepared and with its ID, Seq and At set.
// ErrConflict for a taken seq. Import uses it too.
func insertEvent(ctx context.Context, q querier, ev *crm.Event) error {
	doc, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	_, err = q.Exec(ctx, `insert into events (conversation_id, seq, type, at_ns, doc) values ($1, $2, $3, $4, $5)`,
		ev.ConversationID, seqArg(ev.Seq), string(ev.Type), nanos(ev.At), doc)
	return err
}

// insertEvents stores evs, prepared, as the next events of conversation
// conversationID, whose row the transaction has locked (which keeps the
// numbering free of gaps and duplicates), with new IDs and At = now, and
// returns them as stored; never nil.
func insertEvents(ctx context.Context, tx pgx.Tx, conversationID string, evs []crm.Event, now time.Time) ([]crm.Event, error) {
	out := make([]crm.Event, 0, len(evs))
	if len(evs) == 0 {
		return out, nil
	}
	var last int64
	err := tx.QueryRow(ctx, `select coalesce(max(seq), 0) from events where conversation_id = $1`, conversationID).Scan(&last)
	if err != nil {
		return nil, err
	}
	for i, ev := range evs {
		ev.ConversationID = conversationID
		ev.Seq = uint64(last) + uint64(i) + 1
		ev.ID = crm.NewID("evt")
		ev.At = now
		if err := insertEvent(ctx, tx, &ev); err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// Transition implements crm.LifecycleStore. The event is checked before
// the transaction; in it, the conversation's row is locked (for no key
// update) before fn sees it, so that of simultaneous claims each fn sees
// the one before it committed, and exactly one wins.
func (db *DB) Transition(ctx context.Context, conversationID string, ev crm.Event, fn func(*crm.Conversation) error) (crm.Conversation, crm.Event, error) {
	ev.ConversationID = conversationID
	ev, err := crm.PrepareEvent(ev)
	if err != nil {
		return crm.Conversation{}, crm.Event{}, fmt.Errorf("transition: %w", err)
	}
	var (
		conv   crm.Conversation
		stored crm.Event
	)
	// The write may run again (see write): it sets conv and stored afresh.
	err = db.write(ctx, func(tx pgx.Tx) error {
		now := db.now()
		var err error
		if fn != nil {
			conv, err = updateConversationTx(ctx, tx, conversationID, fn, now)
		} else {
			conv, err = getConversation(ctx, tx, conversationID, true)
		}
		if err != nil {
			return err
		}
		evs, err := insertEvents(ctx, tx, conversationID, []crm.Event{ev}, now)
		if err != nil {
			return err
		}
		stored = evs[0]
		return nil
	})
	if err != nil {
		return crm.Conversation{}, crm.Event{}, fmt.Errorf("transition: %w", err)
	}
	return conv, stored, nil
}

// Events implements crm.LifecycleStore. As MessagesAfter, one statement
// reads the conversation and its events.
func (db *DB) Events(ctx context.Context, conversationID string, afterSeq uint64, limit int) ([]crm.Event, error) {
	var evs []crm.Event
	err := db.read(ctx, func(q querier) error {
		var rows int
		var err error
		evs, rows, err = queryDocs[crm.Event](ctx, q, "event", `select e.doc from conversations c
			left join lateral (select seq, doc from events where conversation_id = c.id and seq > $2
				order by seq limit $3) e on true
			where c.id = $1 order by e.seq`, conversationID, seqArg(afterSeq), limitArg(limit))
		if err == nil && rows == 0 {
			err = fmt.Errorf("conversation %q: %w", conversationID, crm.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return evs, nil
}

// CreatedBetween implements crm.LifecycleStore, reading the index
// conversations_created.
func (db *DB) CreatedBetween(ctx context.Context, from, to time.Time, limit int) ([]crm.Conversation, error) {
	if !from.Before(to) {
		return []crm.Conversation{}, nil
	}
	var cs []crm.Conversation
	err := db.read(ctx, func(q querier) error {
		var err error
		cs, err = queryConversations(ctx, q, `select doc from conversations
			where created_ns >= $1 and created_ns < $2 order by created_ns, id limit $3`,
			nanos(from), nanos(to), limitArg(limit))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("conversations created between: %w", err)
	}
	return cs, nil
}

// ResolvedBetween implements crm.LifecycleStore, reading the index
// conversations_closed: closed_ns is set only while a conversation is
// resolved, so one reopened by a customer message is not listed although
// it keeps its ClosedAt until its next update. Conversations closed at the
// same instant come in descending id order, as in the bbolt store.
func (db *DB) ResolvedBetween(ctx context.Context, from, to time.Time, limit int) ([]crm.Conversation, error) {
	if !from.Before(to) {
		return []crm.Conversation{}, nil
	}
	var cs []crm.Conversation
	err := db.read(ctx, func(q querier) error {
		var err error
		cs, err = queryConversations(ctx, q, `select doc from conversations
			where closed_ns >= $1 and closed_ns < $2 order by closed_ns desc, id desc limit $3`,
			nanos(from), nanos(to), limitArg(limit))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("conversations resolved between: %w", err)
	}
	return cs, nil
}
