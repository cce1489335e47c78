package boltdb

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

// The events taken and the links survive a restart: that is what makes a
// Slack event redelivered after a restart a duplicate, not a second reply.
func TestChannelStatePersists(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := Open(path, &Options{BcryptCost: minBcryptCost})
	if err != nil {
		t.Fatal(err)
	}
	if !must[bool](t)(db.MarkSeen(ctx, "ev:Ev01", day(0))) {
		t.Fatal("first MarkSeen not fresh")
	}
	must[bool](t)(db.MarkSeen(ctx, "ev:Ev02", day(2)))
	for k, v := range map[string]string{"slack:a:card:conv_1": "1712345678.000200", "slack:a:thread:1712345678.000200": "conv_1", "gone": "x"} {
		if err := db.PutLink(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutLink(ctx, "gone", ""); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openTestAt(t, path, nil)
	if must[bool](t)(db.MarkSeen(ctx, "ev:Ev01", day(5))) {
		t.Error("MarkSeen after a reopen: fresh, want the mark kept")
	}
	if got := must[string](t)(db.Link(ctx, "slack:a:card:conv_1")); got != "1712345678.000200" {
		t.Errorf("card link after a reopen: %q", got)
	}
	if got := must[string](t)(db.Link(ctx, "slack:a:thread:1712345678.000200")); got != "conv_1" {
		t.Errorf("thread link after a reopen: %q", got)
	}
	if _, err := db.Link(ctx, "gone"); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("deleted link after a reopen: %v, want ErrNotFound", err)
	}
	// The times were kept too: the prune still tells the old mark from the
	// new one.
	if n := must[int](t)(db.PruneSeen(ctx, day(1))); n != 1 {
		t.Errorf("PruneSeen(day 1) after a reopen forgot %d keys, want 1", n)
	}
	if !must[bool](t)(db.MarkSeen(ctx, "ev:Ev01", day(6))) {
		t.Error("a pruned key is not fresh again")
	}
	if must[bool](t)(db.MarkSeen(ctx, "ev:Ev02", day(6))) {
		t.Error("a key seen after the bound was pruned")
	}

	// A backup carries the channel state along.
	var buf bytes.Buffer
	if _, err := db.Backup(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(copyPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	restored := openTestAt(t, copyPath, nil)
	if got := must[string](t)(restored.Link(ctx, "slack:a:card:conv_1")); got != "1712345678.000200" {
		t.Errorf("card link in a backup: %q", got)
	}
	if must[bool](t)(restored.MarkSeen(ctx, "ev:Ev02", day(7))) {
		t.Error("a mark is missing from the backup")
	}
}

// makeVersion5 rewrites the store at path as schema version 5 left it:
// without the channel state buckets.
func makeVersion5(t *testing.T, path string) {
	t.Helper()
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		for _, name := range v6Records {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, u64(5))
	})
	if err := errors.Join(err, raw.Close()); err != nil {
		t.Fatal(err)
	}
}

// A store of schema version 5 has no channel state: CheckFile accepts it as
// it is, and opening it adds the buckets, keeping what was there.
func TestMigrateChannelState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Import(ctx, crm.Snapshot{Conversations: lifecycleConversations}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	makeVersion5(t, path)

	rep, err := CheckFile(ctx, path, nil)
	if err != nil {
		t.Fatalf("CheckFile of a version 5 store: %v", err)
	}
	if rep.SchemaVersion != 5 || rep.Stats == nil || rep.Stats.Conversations != len(lifecycleConversations) {
		t.Errorf("CheckFile report: version %d, stats %+v", rep.SchemaVersion, rep.Stats)
	}

	db = openTestAt(t, path, &Options{})
	if v, err := db.SchemaVersion(ctx); err != nil || v != channelStateVersion || v != latestVersion() {
		t.Fatalf("schema version %d, %v; want %d", v, err, channelStateVersion)
	}
	if got := len(must[[]crm.Conversation](t)(db.CreatedBetween(ctx, day(-100), day(100), 0))); got != len(lifecycleConversations) {
		t.Errorf("%d conversations after the migration, want %d", got, len(lifecycleConversations))
	}
	if !must[bool](t)(db.MarkSeen(ctx, "ev:Ev01", day(0))) {
		t.Error("first MarkSeen after the migration not fresh")
	}
	if err := db.PutLink(ctx, "slack:a:card:conv_a", "1712345678.000200"); err != nil {
		t.Fatal(err)
	}
	if got := must[string](t)(db.Link(ctx, "slack:a:card:conv_a")); got != "1712345678.000200" {
		t.Errorf("link after the migration: %q", got)
	}
}

// Check reports a version 6 file that lacks a channel state bucket.
func TestCheckFindsMissingChannelState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketLinks) })
	if err := errors.Join(err, raw.Close()); err != nil {
		t.Fatal(err)
	}
	_, err = CheckFile(ctx, path, nil)
	if err == nil || !bytes.Contains([]byte(err.Error()), bucketLinks) {
		t.Errorf("CheckFile of a version 6 store without %s: %v", bucketLinks, err)
	}
}
