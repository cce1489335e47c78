package boltdb

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

func feedbackIndexKey(f *crm.Feedback) []byte { return key(f.CustomerID, timeKey(f.CreatedAt), f.ID) }
func feedbackConvKey(f *crm.Feedback) []byte {
	return key(f.ConversationID, timeKey(f.CreatedAt), f.ID)
}

// addFeedbackTx stores a new rating with id and time set, taking the customer
// from the conversation when f has none. A rating of a conversation whose
// customer is unknown (an anonymous web visitor) has no customer.
func addFeedbackTx(tx *bolt.Tx, f *crm.Feedback) error {
	if err := crm.ValidateFeedback(f); err != nil {
		return err
	}
	if f.ConversationID != "" {
		c, err := getRecord[crm.Conversation](tx, bucketConversations, "conversation", f.ConversationID)
		if err != nil {
			return err
		}
		if f.CustomerID == "" {
			f.CustomerID = c.CustomerID
		}
	}
	if f.CustomerID != "" {
		if tx.Bucket(bucketCustomers).Get([]byte(f.CustomerID)) == nil {
			return fmt.Errorf("feedback customer %q: %w", f.CustomerID, crm.ErrNotFound)
		}
	}
	b := tx.Bucket(bucketFeedback)
	if b.Get([]byte(f.ID)) != nil {
		return fmt.Errorf("feedback %q: %w", f.ID, crm.ErrConflict)
	}
	if f.CustomerID != "" {
		if err := tx.Bucket(idxFeedbackCustomer).Put(feedbackIndexKey(f), nil); err != nil {
			return err
		}
	}
	if f.ConversationID != "" {
		if err := tx.Bucket(idxFeedbackConv).Put(feedbackConvKey(f), nil); err != nil {
			return err
		}
	}
	return putJSON(b, []byte(f.ID), f)
}

// AddFeedback implements FeedbackStore. The comment is redacted like message
// text.
func (db *DB) AddFeedback(ctx context.Context, f crm.Feedback) (crm.Feedback, error) {
	if f.ID == "" {
		f.ID = crm.NewID("fb")
	}
	f.CreatedAt = db.now()
	if err := db.write(ctx, func(tx *bolt.Tx) error { return addFeedbackTx(tx, &f) }); err != nil {
		return crm.Feedback{}, fmt.Errorf("add feedback: %w", err)
	}
	return f, nil
}

// LatestFeedback implements FeedbackStore.
func (db *DB) LatestFeedback(ctx context.Context, customerID string) (crm.Feedback, error) {
	f, err := db.latestFeedback(ctx, idxFeedbackCustomer, "customer", customerID)
	if err != nil {
		return crm.Feedback{}, fmt.Errorf("latest feedback: %w", err)
	}
	return f, nil
}

// ConversationFeedback implements FeedbackStore.
func (db *DB) ConversationFeedback(ctx context.Context, conversationID string) (crm.Feedback, error) {
	f, err := db.latestFeedback(ctx, idxFeedbackConv, "conversation", conversationID)
	if err != nil {
		return crm.Feedback{}, fmt.Errorf("conversation feedback: %w", err)
	}
	return f, nil
}

// latestFeedback returns the newest rating under id in a feedback index.
func (db *DB) latestFeedback(ctx context.Context, idx []byte, what, id string) (crm.Feedback, error) {
	if id == "" {
		return crm.Feedback{}, fmt.Errorf("no %s id: %w", what, crm.ErrNotFound)
	}
	var f crm.Feedback
	err := db.view(ctx, func(tx *bolt.Tx) error {
		err := fmt.Errorf("%s %q has none: %w", what, id, crm.ErrNotFound)
		scanPrefixReverse(tx.Bucket(idx), prefix(id), func(k, _ []byte) bool {
			f, err = getRecord[crm.Feedback](tx, bucketFeedback, "feedback", lastPart(k))
			return false
		})
		return err
	})
	return f, err
}
