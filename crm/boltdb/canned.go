package boltdb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

// PutCanned implements crm.CannedStore.
func (db *DB) PutCanned(ctx context.Context, c crm.CannedResponse) (crm.CannedResponse, error) {
	if err := crm.ValidateCanned(&c); err != nil {
		return crm.CannedResponse{}, fmt.Errorf("put canned response: %w", err)
	}
	// The write may run twice (see write): it sets UpdatedAt afresh.
	err := db.write(ctx, func(tx *bolt.Tx) error {
		c.UpdatedAt = db.now()
		return putJSON(tx.Bucket(bucketCanned), []byte(c.Shortcut), &c)
	})
	if err != nil {
		return crm.CannedResponse{}, fmt.Errorf("put canned response: %w", err)
	}
	return c, nil
}

// CannedResponses implements crm.CannedStore. There are few of them (a
// team's set of replies), so all are read at once.
func (db *DB) CannedResponses(ctx context.Context) ([]crm.CannedResponse, error) {
	out := []crm.CannedResponse{}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCanned).ForEach(func(k, v []byte) error {
			var c crm.CannedResponse
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("decode canned response %q: %w", k, err)
			}
			out = append(out, c)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("canned responses: %w", err)
	}
	return out, nil
}

// DeleteCanned implements crm.CannedStore.
func (db *DB) DeleteCanned(ctx context.Context, shortcut string) error {
	err := db.write(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCanned)
		if b.Get([]byte(shortcut)) == nil {
			return fmt.Errorf("canned response %q: %w", shortcut, crm.ErrNotFound)
		}
		return b.Delete([]byte(shortcut))
	})
	if err != nil {
		return fmt.Errorf("delete canned response: %w", err)
	}
	return nil
}

// importCannedTx stores a snapshot's canned response: a shortcut already
// there fails with ErrConflict; a zero UpdatedAt becomes now.
func importCannedTx(tx *bolt.Tx, c crm.CannedResponse, now time.Time) error {
	if err := crm.ValidateCanned(&c); err != nil {
		return err
	}
	b := tx.Bucket(bucketCanned)
	if b.Get([]byte(c.Shortcut)) != nil {
		return fmt.Errorf("canned response %q: %w", c.Shortcut, crm.ErrConflict)
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = now
	}
	return putJSON(b, []byte(c.Shortcut), &c)
}
