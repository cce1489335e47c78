package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/crm"
)

// insertMessage inserts m, prepared and with its ID, Seq and CreatedAt
// set. ErrConflict for a taken seq or client id. Import uses it too.
func insertMessage(ctx context.Context, q querier, m *crm.Message) error {
	doc, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	var client any
	if m.ClientID != "" {
		client = m.ClientID
	}
	_, err = q.Exec(ctx, `insert into messages (conversation_id, seq, client_id, sender, created_ns, doc)
		values ($1, $2, $3, $4, $5, $6)`, m.ConversationID, seqArg(m.Seq), client, string(m.Sender), nanos(m.CreatedAt), doc)
	return err
}

// decodeMessage decodes a message document.
func decodeMessage(doc []byte) (crm.Message, error) {
	var m crm.Message
	if err := json.Unmarshal(doc, &m); err != nil {
		return crm.Message{}, fmt.Errorf("decode message: %w", err)
	}
	return m, nil
}

// appendTx appends m, prepared, to conv, whose row the transaction has
// locked, and reports whether it stored it (false: a message with its
// ClientID was there, and is returned). It changes conv as AppendMessage
// documents; the caller writes conv back when created is true. The row
// lock is what makes LastSeq + 1 the next seq without gaps, and what makes
// the client id lookup see every message committed before.
func appendTx(ctx context.Context, tx pgx.Tx, conv *crm.Conversation, m crm.Message, now time.Time) (crm.Message, bool, error) {
	if m.ClientID != "" {
		var doc []byte
		err := tx.QueryRow(ctx, `select doc from messages where conversation_id = $1 and client_id = $2`,
			conv.ID, m.ClientID).Scan(&doc)
		if err == nil {
			stored, err := decodeMessage(doc)
			return stored, false, err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return crm.Message{}, false, err
		}
	}
	if conv.LastSeq >= math.MaxInt64 {
		return crm.Message{}, false, fmt.Errorf("conversation %q holds %d messages: %w", conv.ID, conv.LastSeq, crm.ErrTooLarge)
	}
	m.ConversationID = conv.ID
	m.Seq = conv.LastSeq + 1
	m.ID = crm.NewID("msg")
	m.CreatedAt = now
	if err := insertMessage(ctx, tx, &m); err != nil {
		return crm.Message{}, false, err
	}
	if m.Sender == crm.SenderCustomer {
		conv.LastCustomerSeq = m.Seq
		if conv.State == crm.StateResolved {
			// ClosedAt stays until the next update, so that the engine
			// sees the conversation was reopened.
			conv.State = crm.StateBot
			conv.StateSince = now
		}
	}
	if m.Sender == crm.SenderAgent {
		conv.LastAgentAt = now
	}
	conv.LastSeq = m.Seq
	conv.UpdatedAt = now
	return m, true, nil
}

// AppendMessage implements crm.ConversationStore. The message and the
// conversation's new LastSeq commit together, under the conversation's row
// lock; a resend waits for that lock and then finds the stored message by
// its client id.
func (db *DB) AppendMessage(ctx context.Context, m crm.Message) (crm.Message, bool, error) {
	m, err := crm.PrepareMessage(m, db.maxMsg)
	if err != nil {
		return crm.Message{}, false, fmt.Errorf("append message: %w", err)
	}
	var (
		out     crm.Message
		created bool
	)
	// The write may run again (see write): it sets out and created afresh.
	err = db.write(ctx, func(tx pgx.Tx) error {
		conv, err := getConversation(ctx, tx, m.ConversationID, true)
		if err != nil {
			return err
		}
		out, created, err = appendTx(ctx, tx, &conv, m, db.now())
		if err != nil || !created {
			return err
		}
		return saveConversation(ctx, tx, &conv)
	})
	if err != nil {
		return crm.Message{}, false, fmt.Errorf("append message: %w", err)
	}
	return out, created, nil
}

// setParseTx attaches a prepared parse to message seq of the conversation.
// ErrNotFound when there is no such message.
func setParseTx(ctx context.Context, tx pgx.Tx, conversationID string, seq uint64, parse json.RawMessage) error {
	notFound := fmt.Errorf("message %d of conversation %q: %w", seq, conversationID, crm.ErrNotFound)
	if seq > math.MaxInt64 {
		return notFound
	}
	var doc []byte
	err := tx.QueryRow(ctx, `select doc from messages where conversation_id = $1 and seq = $2 for update`,
		conversationID, int64(seq)).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound
	}
	if err != nil {
		return err
	}
	m, err := decodeMessage(doc)
	if err != nil {
		return err
	}
	m.Parse = parse
	if doc, err = json.Marshal(&m); err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	_, err = tx.Exec(ctx, `update messages set doc = $3 where conversation_id = $1 and seq = $2`, conversationID, int64(seq), doc)
	return err
}

// SetMessageParse implements crm.ConversationStore.
func (db *DB) SetMessageParse(ctx context.Context, conversationID string, seq uint64, parse json.RawMessage) error {
	redacted, err := crm.PrepareParse(parse)
	if err != nil {
		return fmt.Errorf("set message parse: %w", err)
	}
	err = db.write(ctx, func(tx pgx.Tx) error { return setParseTx(ctx, tx, conversationID, seq, redacted) })
	if err != nil {
		return fmt.Errorf("set message parse: %w", err)
	}
	return nil
}

// queryMessages runs a query that selects message documents, with one row
// per message and, when the conversation has none that match, one row
// with a null document; no rows at all means no such conversation
// (ErrNotFound). Never nil.
func queryMessages(ctx context.Context, q querier, conversationID, sql string, args ...any) ([]crm.Message, error) {
	ms, rows, err := queryDocs[crm.Message](ctx, q, "message", sql, args...)
	if err != nil {
		return nil, err
	}
	if rows == 0 {
		return nil, fmt.Errorf("conversation %q: %w", conversationID, crm.ErrNotFound)
	}
	return ms, nil
}

// MessagesAfter implements crm.ConversationStore. One statement reads the
// conversation and its messages, so that an unknown conversation is told
// from one without messages consistently.
func (db *DB) MessagesAfter(ctx context.Context, conversationID string, afterSeq uint64, limit int) ([]crm.Message, error) {
	var ms []crm.Message
	err := db.read(ctx, func(q querier) error {
		var err error
		ms, err = queryMessages(ctx, q, conversationID, `select m.doc from conversations c
			left join lateral (select seq, doc from messages where conversation_id = c.id and seq > $2
				order by seq limit $3) m on true
			where c.id = $1 order by m.seq`, conversationID, seqArg(afterSeq), limitArg(limit))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("messages after: %w", err)
	}
	return ms, nil
}

// RecentMessages implements crm.ConversationStore.
func (db *DB) RecentMessages(ctx context.Context, conversationID string, n int) ([]crm.Message, error) {
	if n <= 0 {
		return nil, fmt.Errorf("recent messages: n = %d: %w", n, crm.ErrInvalid)
	}
	var ms []crm.Message
	err := db.read(ctx, func(q querier) error {
		var err error
		ms, err = queryMessages(ctx, q, conversationID, `select m.doc from conversations c
			left join lateral (select seq, doc from messages where conversation_id = c.id
				order by seq desc limit $2) m on true
			where c.id = $1 order by m.seq`, conversationID, n)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("recent messages: %w", err)
	}
	return ms, nil
}
