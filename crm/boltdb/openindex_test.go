package boltdb

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

// latestVersion is the schema version Open brings a file to.
func latestVersion() int { return migrations[len(migrations)-1].version }

// openIndexConversations are open and resolved conversations of every
// priority, created in an order unlike their listing's.
var openIndexConversations = []crm.Conversation{
	{ID: "conv_a", Channel: crm.ChannelWeb, CreatedAt: day(1)},
	{ID: "conv_b", Channel: crm.ChannelWeb, State: crm.StateWaiting, Queue: "billing", Priority: crm.PriorityLow, CreatedAt: day(2)},
	{ID: "conv_c", Channel: crm.ChannelWeb, State: crm.StateWaiting, Queue: "billing", Priority: crm.PriorityUrgent, CreatedAt: day(3)},
	{ID: "conv_d", Channel: crm.ChannelWeb, State: crm.StateWaiting, Queue: "shipping", Priority: crm.PriorityHigh, CreatedAt: day(1)},
	{ID: "conv_e", Channel: crm.ChannelSlack, State: crm.StateAgent, Queue: "billing", Priority: crm.PriorityUrgent, CreatedAt: day(2)},
	{ID: "conv_r", Channel: crm.ChannelWeb, State: crm.StateResolved, Queue: "billing", Priority: crm.PriorityUrgent, CreatedAt: day(0)},
	{ID: "conv_u", Channel: crm.ChannelWeb, CreatedAt: day(4)},
}

func day(n int) time.Time { return time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC).AddDate(0, 0, n) }

func openIDs(t *testing.T, db *DB, f crm.ConversationFilter) []string {
	t.Helper()
	cs, err := db.OpenConversations(context.Background(), f)
	if err != nil {
		t.Fatalf("open conversations %+v: %v", f, err)
	}
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

// A store of schema version 2 has the open index keyed by state and queue:
// opening it rebuilds the index in the listing's order, and Check accepts
// the result.
func TestMigrateRebuildsOpenIndex(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Import(ctx, crm.Snapshot{Conversations: openIndexConversations}); err != nil {
		t.Fatal(err)
	}
	must[crm.Message](t)(db.appendForTest(ctx, crm.Message{ConversationID: "conv_u", Sender: crm.SenderCustomer, Text: "anyone there?"}))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Write the index as version 2 did: state, queue, id -> nothing.
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(idxConvOpen); err != nil {
			return err
		}
		idx, err := tx.CreateBucket(idxConvOpen)
		if err != nil {
			return err
		}
		for _, c := range openIndexConversations {
			if c.Open() {
				crm.ConversationDefaults(&c, day(0))
				if err := idx.Put(key(string(c.State), c.Queue, c.ID), nil); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, u64(2))
	})
	if err := errors.Join(err, raw.Close()); err != nil {
		t.Fatal(err)
	}

	db = openTestAt(t, path, &Options{})
	if v, err := db.SchemaVersion(ctx); err != nil || v != latestVersion() {
		t.Fatalf("schema version %d, %v; want %d", v, err, latestVersion())
	}
	if got, want := openIDs(t, db, crm.ConversationFilter{}), []string{"conv_e", "conv_c", "conv_d", "conv_a", "conv_u", "conv_b"}; !slices.Equal(got, want) {
		t.Errorf("open conversations %v, want %v", got, want)
	}
	if got := openIDs(t, db, crm.ConversationFilter{Unanswered: true}); !slices.Equal(got, []string{"conv_u"}) {
		t.Errorf("unanswered %v, want [conv_u]", got)
	}
}

// appendForTest is AppendMessage without the created flag.
func (db *DB) appendForTest(ctx context.Context, m crm.Message) (crm.Message, error) {
	m, _, err := db.AppendMessage(ctx, m)
	return m, err
}

// Listing reads the index in order and stops at the limit; a filter skips
// entries by their values. So a conversation past the limit, or excluded by
// the filter, is never decoded: a record that does not decode there does
// not fail the listing (it did when every open conversation was decoded to
// be sorted).
func TestOpenConversationsDecodeOnlyWhatTheyList(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if err := db.Import(ctx, crm.Snapshot{Conversations: openIndexConversations}); err != nil {
		t.Fatal(err)
	}
	must[crm.Message](t)(db.appendForTest(ctx, crm.Message{ConversationID: "conv_u", Sender: crm.SenderCustomer, Text: "anyone there?"}))
	// conv_a and conv_b stop decoding for the test's length; the listings
	// below must not need them.
	garble(t, db, "conv_a", "conv_b")

	for _, tc := range []struct {
		name string
		f    crm.ConversationFilter
		want []string
	}{
		{"the first three", crm.ConversationFilter{Limit: 3}, []string{"conv_e", "conv_c", "conv_d"}},
		{"unanswered (conv_a is held by the bot, answered)", crm.ConversationFilter{Unanswered: true}, []string{"conv_u"}},
		{"agent", crm.ConversationFilter{State: crm.StateAgent}, []string{"conv_e"}},
		{"waiting in billing, first", crm.ConversationFilter{State: crm.StateWaiting, Queue: "billing", Limit: 1}, []string{"conv_c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := openIDs(t, db, tc.f); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := db.OpenConversations(ctx, crm.ConversationFilter{}); err == nil {
		t.Error("listing every open conversation decoded the garbled ones without an error")
	}
}

// garble replaces the records of the conversations with bytes that do not
// decode, and puts them back when the test ends (before the store is
// checked).
func garble(t *testing.T, db *DB, ids ...string) {
	t.Helper()
	saved := map[string][]byte{}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketConversations)
		for _, id := range ids {
			saved[id] = slices.Clone(b.Get([]byte(id)))
			if err := b.Put([]byte(id), []byte("{garbled")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			for id, v := range saved {
				if err := tx.Bucket(bucketConversations).Put([]byte(id), v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	})
}

// Check verifies the open index's keys and values: an entry in the old
// layout, a stale value, a missing entry are all reported.
func TestCheckVerifiesOpenIndex(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		edit  func(idx *bolt.Bucket) error
		wants string
	}{
		{"entry of the old layout", func(idx *bolt.Bucket) error {
			return idx.Put(key("waiting", "billing", "conv_c"), nil)
		}, "stray entry"},
		{"stale state in a value", func(idx *bolt.Bucket) error {
			c := openIndexConversations[2]
			stale := c
			stale.State = crm.StateAgent
			return idx.Put(convOpenKey(&c), convOpenValue(&stale))
		}, "want"},
		{"missing entry", func(idx *bolt.Bucket) error {
			c := openIndexConversations[3]
			return idx.Delete(convOpenKey(&c))
		}, "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(filepath.Join(t.TempDir(), "parley.db"), &Options{BcryptCost: minBcryptCost})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Import(ctx, crm.Snapshot{Conversations: openIndexConversations}); err != nil {
				t.Fatal(err)
			}
			if err := db.Check(ctx); err != nil {
				t.Fatalf("check before the damage: %v", err)
			}
			if err := db.bolt.Update(func(tx *bolt.Tx) error { return tc.edit(tx.Bucket(idxConvOpen)) }); err != nil {
				t.Fatal(err)
			}
			err = db.Check(ctx)
			if err == nil || !strings.Contains(err.Error(), string(idxConvOpen)) || !strings.Contains(err.Error(), tc.wants) {
				t.Errorf("Check = %v, want a fault of %s saying %q", err, idxConvOpen, tc.wants)
			}
		})
	}
}
