package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parleyhq/parley/crm"
)

// The instants a bigint of Unix nanoseconds holds; times outside them
// (the zero time.Time, a common "from the start") are clamped.
var (
	minNanoTime = time.Unix(0, math.MinInt64)
	maxNanoTime = time.Unix(0, math.MaxInt64)
)

// nanos is t in Unix nanoseconds, clamped to what an int64 holds, for the
// *_ns columns and the bounds compared with them.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minNanoTime):
		return math.MinInt64
	case t.After(maxNanoTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// seqArg is a seq as a bigint parameter: seqs above what a bigint holds are
// never stored, so they are clamped to its maximum.
func seqArg(seq uint64) int64 {
	return int64(min(seq, math.MaxInt64))
}

// limitArg is a listing's limit as a parameter: nil (limit null, no limit)
// for 0 or less.
func limitArg(limit int) any {
	if limit <= 0 {
		return nil
	}
	return limit
}

// convColumns are the columns of a conversation row, in the order of
// convValues.
const convColumns = `id, customer_id, state, queue, urgency, unanswered, created_ns, closed_ns, doc`

// convValues are the values of c's row, in the order of convColumns.
func convValues(c *crm.Conversation) ([]any, error) {
	doc, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode conversation %q: %w", c.ID, err)
	}
	var closed any
	if c.State == crm.StateResolved && !c.ClosedAt.IsZero() {
		// A conversation reopened by a customer message keeps ClosedAt
		// until its next update, but is no longer listed as resolved.
		closed = nanos(c.ClosedAt)
	}
	var customer any
	if c.CustomerID != "" {
		customer = c.CustomerID
	}
	return []any{c.ID, customer, string(c.State), c.Queue, int16(c.Priority.Rank()), c.Unanswered(),
		nanos(c.CreatedAt), closed, doc}, nil
}

// insertConversation inserts c, validated and with its ID, defaults and
// times set. ErrConflict for a taken id, ErrNotFound for an unknown
// customer (convError). Import uses it too.
func insertConversation(ctx context.Context, q querier, c *crm.Conversation) error {
	vals, err := convValues(c)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `insert into conversations (`+convColumns+`) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, vals...)
	return convError(err, c)
}

// convError says which conversation id is taken, or which customer is
// unknown, for the constraint violations a write of c meets; other errors
// pass as they are.
func convError(err error, c *crm.Conversation) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.ConstraintName {
	case "conversations_pkey":
		return fmt.Errorf("conversation %q: %w", c.ID, crm.ErrConflict)
	case "conversations_customer_id_fkey":
		return fmt.Errorf("conversation customer %q: %w", c.CustomerID, crm.ErrNotFound)
	}
	return err
}

// saveConversation writes c back over its row (which the caller has
// locked): its document and every column kept beside it. ErrNotFound for
// an unknown customer (convError).
func saveConversation(ctx context.Context, q querier, c *crm.Conversation) error {
	vals, err := convValues(c)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `update conversations set customer_id = $2, state = $3, queue = $4, urgency = $5,
		unanswered = $6, created_ns = $7, closed_ns = $8, doc = $9 where id = $1`, vals...)
	return convError(err, c)
}

// getConversation reads conversation id; lock takes its row lock until
// the transaction ends, which orders the writes to one conversation. The
// lock is "for no key update", as the update that follows takes: it
// excludes the other writers of the conversation and an erasure (for
// update), but not a transaction that only checks the row is there (for
// key share). ErrNotFound when there is none.
func getConversation(ctx context.Context, q querier, id string, lock bool) (crm.Conversation, error) {
	sql := `select doc from conversations where id = $1`
	if lock {
		sql += ` for no key update`
	}
	var doc []byte
	err := q.QueryRow(ctx, sql, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return crm.Conversation{}, fmt.Errorf("conversation %q: %w", id, crm.ErrNotFound)
	}
	if err != nil {
		return crm.Conversation{}, err
	}
	var c crm.Conversation
	if err := json.Unmarshal(doc, &c); err != nil {
		return crm.Conversation{}, fmt.Errorf("decode conversation %q: %w", id, err)
	}
	return c, nil
}

// queryConversations runs a query that selects conversation documents;
// never nil.
func queryConversations(ctx context.Context, q querier, sql string, args ...any) ([]crm.Conversation, error) {
	out, _, err := queryDocs[crm.Conversation](ctx, q, "conversation", sql, args...)
	return out, err
}

// cloneConversation copies c with a map of its own.
func cloneConversation(c crm.Conversation) crm.Conversation {
	c.Slots = maps.Clone(c.Slots)
	return c
}

// updated applies fn to a copy of old and finishes it as
// UpdateConversation documents (crm.UpdatedConversation), without storing
// it. An error from fn is returned as is.
func updated(old crm.Conversation, fn func(*crm.Conversation) error, now time.Time) (crm.Conversation, error) {
	cur := cloneConversation(old)
	if err := fn(&cur); err != nil {
		return crm.Conversation{}, err
	}
	cur = cloneConversation(cur) // fn may keep the map it set
	if err := crm.UpdatedConversation(old, &cur, now); err != nil {
		return crm.Conversation{}, err
	}
	return cur, nil
}

// updateConversationTx applies fn to conversation id, locked, and stores
// the result, as of now.
func updateConversationTx(ctx context.Context, tx pgx.Tx, id string, fn func(*crm.Conversation) error, now time.Time) (crm.Conversation, error) {
	old, err := getConversation(ctx, tx, id, true)
	if err != nil {
		return crm.Conversation{}, err
	}
	cur, err := updated(old, fn, now)
	if err != nil {
		return crm.Conversation{}, err
	}
	if err := saveConversation(ctx, tx, &cur); err != nil {
		return crm.Conversation{}, err
	}
	return cur, nil
}

// CreateConversation implements crm.ConversationStore.
func (db *DB) CreateConversation(ctx context.Context, c crm.Conversation) (crm.Conversation, error) {
	now := db.now()
	c = cloneConversation(c)
	c.CreatedAt, c.UpdatedAt, c.ClosedAt = now, time.Time{}, time.Time{}
	c.StateSince, c.LastAgentAt = time.Time{}, time.Time{}
	c.LastSeq, c.LastCustomerSeq, c.AnsweredSeq = 0, 0, 0
	crm.ConversationDefaults(&c, now)
	if err := crm.ValidateConversation(&c); err != nil {
		return crm.Conversation{}, fmt.Errorf("create conversation: %w", err)
	}
	err := db.write(ctx, func(tx pgx.Tx) error { return insertConversation(ctx, tx, &c) })
	if err != nil {
		return crm.Conversation{}, fmt.Errorf("create conversation: %w", err)
	}
	return c, nil
}

// Conversation implements crm.ConversationStore.
func (db *DB) Conversation(ctx context.Context, id string) (crm.Conversation, error) {
	var c crm.Conversation
	err := db.read(ctx, func(q querier) error {
		var err error
		c, err = getConversation(ctx, q, id, false)
		return err
	})
	if err != nil {
		return crm.Conversation{}, fmt.Errorf("get conversation: %w", err)
	}
	return c, nil
}

// UpdateConversation implements crm.ConversationStore. The row stays
// locked from the read to the commit, so concurrent updates of one
// conversation apply one after the other, each fn seeing the last result.
func (db *DB) UpdateConversation(ctx context.Context, id string, fn func(*crm.Conversation) error) (crm.Conversation, error) {
	var out crm.Conversation
	err := db.write(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = updateConversationTx(ctx, tx, id, fn, db.now())
		return err
	})
	if err != nil {
		return crm.Conversation{}, fmt.Errorf("update conversation: %w", err)
	}
	return out, nil
}

// OpenConversations implements crm.ConversationStore: it reads the
// partial index conversations_open in its order, as the bbolt store reads
// its open index.
func (db *DB) OpenConversations(ctx context.Context, f crm.ConversationFilter) ([]crm.Conversation, error) {
	switch f.State {
	case "", crm.StateBot, crm.StateWaiting, crm.StateAgent:
	default:
		return nil, fmt.Errorf("open conversations: state %q: %w", f.State, crm.ErrInvalid)
	}
	var cs []crm.Conversation
	err := db.read(ctx, func(q querier) error {
		var err error
		cs, err = queryConversations(ctx, q, `select doc from conversations
			where state <> 'resolved' and ($1 = '' or state = $1) and ($2 = '' or queue = $2) and (not $3 or unanswered)
			order by urgency desc, created_ns, id limit $4`,
			string(f.State), f.Queue, f.Unanswered, limitArg(f.Limit))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open conversations: %w", err)
	}
	return cs, nil
}

// Conversations implements crm.ConversationStore.
func (db *DB) Conversations(ctx context.Context, afterID string, limit int) ([]crm.Conversation, error) {
	var cs []crm.Conversation
	err := db.read(ctx, func(q querier) error {
		var err error
		cs, err = queryConversations(ctx, q, `select doc from conversations where id > $1 order by id limit $2`,
			afterID, limitArg(limit))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	return cs, nil
}

// ConversationsByCustomer implements crm.ConversationStore. Conversations
// created at the same instant come in descending id order, as in the
// bbolt store.
func (db *DB) ConversationsByCustomer(ctx context.Context, customerID string, limit int) ([]crm.Conversation, error) {
	var cs []crm.Conversation
	err := db.read(ctx, func(q querier) error {
		var err error
		cs, err = queryConversations(ctx, q, `select doc from conversations where customer_id = $1
			order by created_ns desc, id desc limit $2`, customerID, limitArg(limit))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("conversations by customer: %w", err)
	}
	return cs, nil
}
