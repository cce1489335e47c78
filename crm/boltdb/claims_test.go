package boltdb

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

// A store written before verified disclosure has conversations linked to a
// customer on a visitor's bare claim (slot "_claimed"): migration step 4
// unlinks them, so they leave the customer's history, export and erasure,
// and keeps the links the channel made.
func TestMigrateUnlinksClaims(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap := crm.Snapshot{
		Customers: []crm.Customer{{ID: "c1", Name: "Ana", Email: "ana@example.com"}},
		Conversations: []crm.Conversation{
			{ID: "conv_claimed", Channel: crm.ChannelWeb, CustomerID: "c1", Slots: map[string]string{legacyClaim: "1", "reason": "too small"}},
			{ID: "conv_signed", Channel: crm.ChannelWeb, CustomerID: "c1"},
		},
	}
	if err := db.Import(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchemaVersion, u64(3)) })
	if err := errors.Join(err, raw.Close()); err != nil {
		t.Fatal(err)
	}

	db = openTestAt(t, path, &Options{})
	c, err := db.Conversation(ctx, "conv_claimed")
	if err != nil {
		t.Fatal(err)
	}
	if c.CustomerID != "" || c.Slots[legacyClaim] != "" || c.Slots["reason"] != "too small" {
		t.Errorf("claimed conversation after migration: customer %q, slots %v", c.CustomerID, c.Slots)
	}
	convs, err := db.ConversationsByCustomer(ctx, "c1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) != 1 || convs[0].ID != "conv_signed" {
		t.Errorf("customer's conversations %v, want only conv_signed", convs)
	}
	if err := db.Check(ctx); err != nil {
		t.Errorf("check after migration: %v", err)
	}
}
