package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/crm"
)

// nullIfEmpty is nil for "" (a SQL null) and s otherwise.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// addFeedbackTx validates f (redacting its comment) and inserts it; its ID
// and CreatedAt must be set. The customer is taken from the conversation
// when f has none; a rating of a conversation whose customer is unknown
// (an anonymous web visitor) has none. The conversation's and customer's
// rows stay locked (for key share) until the transaction ends, so that an
// erasure cannot remove them under the rating.
func addFeedbackTx(ctx context.Context, tx pgx.Tx, f *crm.Feedback) error {
	if err := crm.ValidateFeedback(f); err != nil {
		return err
	}
	if f.ConversationID != "" {
		var c crm.Conversation
		err := tx.QueryRow(ctx, `select doc from conversations where id = $1 for key share`, f.ConversationID).Scan(&c)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("conversation %q: %w", f.ConversationID, crm.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if f.CustomerID == "" {
			f.CustomerID = c.CustomerID
		}
	}
	if f.CustomerID != "" {
		if err := lockCustomerRow(ctx, tx, "feedback customer", f.CustomerID); err != nil {
			return err
		}
	}
	doc, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode feedback %q: %w", f.ID, err)
	}
	tag, err := tx.Exec(ctx, `insert into feedback (id, conversation_id, customer_id, created_ns, doc)
		values ($1, $2, $3, $4, $5) on conflict (id) do nothing`,
		f.ID, nullIfEmpty(f.ConversationID), nullIfEmpty(f.CustomerID), nanos(f.CreatedAt), string(doc))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("feedback %q: %w", f.ID, crm.ErrConflict)
	}
	return nil
}

// AddFeedback implements crm.FeedbackStore. The comment is redacted like
// message text.
func (db *DB) AddFeedback(ctx context.Context, f crm.Feedback) (crm.Feedback, error) {
	if f.ID == "" {
		f.ID = crm.NewID("fb")
	}
	f.CreatedAt = db.now()
	in := f
	err := db.write(ctx, func(tx pgx.Tx) error {
		f = in // a retry starts again from the caller's rating
		return addFeedbackTx(ctx, tx, &f)
	})
	if err != nil {
		return crm.Feedback{}, fmt.Errorf("add feedback: %w", err)
	}
	return f, nil
}

// LatestFeedback implements crm.FeedbackStore.
func (db *DB) LatestFeedback(ctx context.Context, customerID string) (crm.Feedback, error) {
	f, err := db.latestFeedback(ctx, "customer", customerID)
	if err != nil {
		return crm.Feedback{}, fmt.Errorf("latest feedback: %w", err)
	}
	return f, nil
}

// ConversationFeedback implements crm.FeedbackStore.
func (db *DB) ConversationFeedback(ctx context.Context, conversationID string) (crm.Feedback, error) {
	f, err := db.latestFeedback(ctx, "conversation", conversationID)
	if err != nil {
		return crm.Feedback{}, fmt.Errorf("conversation feedback: %w", err)
	}
	return f, nil
}

// latestFeedback returns the newest rating of the customer or the
// conversation (what) id; ErrNotFound when there is none (or no id).
func (db *DB) latestFeedback(ctx context.Context, what, id string) (crm.Feedback, error) {
	if id == "" {
		return crm.Feedback{}, fmt.Errorf("no %s id: %w", what, crm.ErrNotFound)
	}
	var f crm.Feedback
	err := db.read(ctx, func(q querier) error {
		// what is one of two constants: the column is not caller input.
		err := q.QueryRow(ctx, `select doc from feedback where `+what+`_id = $1
			order by created_ns desc, id desc limit 1`, id).Scan(&f)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%s %q has none: %w", what, id, crm.ErrNotFound)
		}
		return err
	})
	return f, err
}
