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

// lifecycleConversations are created and closed in orders unlike their ids'.
var lifecycleConversations = []crm.Conversation{
	{ID: "conv_a", Channel: crm.ChannelWeb, CreatedAt: day(3), UpdatedAt: day(4)},
	{ID: "conv_b", Channel: crm.ChannelWeb, State: crm.StateResolved, CreatedAt: day(1), UpdatedAt: day(5), ClosedAt: day(5)},
	{ID: "conv_c", Channel: crm.ChannelWeb, State: crm.StateResolved, CreatedAt: day(2), UpdatedAt: day(6), ClosedAt: day(6)},
	{ID: "conv_d", Channel: crm.ChannelWeb, State: crm.StateWaiting, Queue: "billing", CreatedAt: day(0), UpdatedAt: day(2)},
}

// makeVersion4 rewrites the store at path as schema version 4 left it: no
// events, canned responses or time indexes, and conversations without
// StateSince.
func makeVersion4(t *testing.T, path string) {
	t.Helper()
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketEvents, bucketCanned, idxConvCreated, idxConvClosed} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		b := tx.Bucket(bucketConversations)
		var cs []crm.Conversation
		err := b.ForEach(func(k, v []byte) error {
			var c crm.Conversation
			_, err := getJSON(b, k, &c)
			cs = append(cs, c)
			return err
		})
		if err != nil {
			return err
		}
		for _, c := range cs {
			c.StateSince = time.Time{}
			if err := putJSON(b, []byte(c.ID), &c); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, u64(4))
	})
	if err := errors.Join(err, raw.Close()); err != nil {
		t.Fatal(err)
	}
}

// A store of schema version 4 has no time indexes: opening it builds them
// from the conversations there are, gives each conversation a StateSince
// (its UpdatedAt), and adds the events and canned buckets; Check accepts
// the result.
func TestMigrateLifecycle(t *testing.T) {
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
	makeVersion4(t, path)

	// CheckFile reads a file Open has not migrated yet: an older schema is
	// not damage.
	rep, err := CheckFile(ctx, path, nil)
	if err != nil {
		t.Fatalf("CheckFile of a version 4 store: %v", err)
	}
	if rep.SchemaVersion != 4 || rep.Stats == nil || rep.Stats.Conversations != len(lifecycleConversations) {
		t.Errorf("CheckFile report: version %d, stats %+v", rep.SchemaVersion, rep.Stats)
	}

	db = openTestAt(t, path, &Options{})
	if v, err := db.SchemaVersion(ctx); err != nil || v != latestVersion() {
		t.Fatalf("schema version %d, %v; want %d", v, err, latestVersion())
	}
	created := must[[]crm.Conversation](t)(db.CreatedBetween(ctx, time.Time{}, day(100), 0))
	if got, want := pluckIDs(created), []string{"conv_d", "conv_b", "conv_c", "conv_a"}; !slices.Equal(got, want) {
		t.Errorf("created between %v, want %v", got, want)
	}
	resolved := must[[]crm.Conversation](t)(db.ResolvedBetween(ctx, time.Time{}, day(100), 0))
	if got, want := pluckIDs(resolved), []string{"conv_c", "conv_b"}; !slices.Equal(got, want) {
		t.Errorf("resolved between %v, want %v", got, want)
	}
	for _, c := range created {
		if !c.StateSince.Equal(c.UpdatedAt) {
			t.Errorf("%s: StateSince %v, want its UpdatedAt %v", c.ID, c.StateSince, c.UpdatedAt)
		}
	}
	// The new buckets are there to write to.
	_, ev := must2(t)(db.Transition(ctx, "conv_a", crm.Event{Type: crm.EventNote, Actor: "ann", Text: "called back"}, nil))
	if ev.Seq != 1 {
		t.Errorf("first event seq %d, want 1", ev.Seq)
	}
	must[crm.CannedResponse](t)(db.PutCanned(ctx, crm.CannedResponse{Shortcut: "hi", Title: "Hi", Text: "Hello!"}))
}

// The listings read the indexes between their bounds, in their order, up
// to the limit, and follow the conversations as they are resolved and
// reopened (by an update, and by a customer's message).
func TestListingsFollowResolveAndReopen(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if err := db.Import(ctx, crm.Snapshot{Conversations: lifecycleConversations}); err != nil {
		t.Fatal(err)
	}
	ids := func(cs []crm.Conversation, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return pluckIDs(cs)
	}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"created in [day 1, day 3)", ids(db.CreatedBetween(ctx, day(1), day(3), 0)), []string{"conv_b", "conv_c"}},
		{"created, limit 1", ids(db.CreatedBetween(ctx, day(1), day(3), 1)), []string{"conv_b"}},
		{"created, empty range", ids(db.CreatedBetween(ctx, day(3), day(3), 0)), []string{}},
		{"created, reversed range", ids(db.CreatedBetween(ctx, day(3), day(1), 0)), []string{}},
		{"resolved in [day 5, day 6)", ids(db.ResolvedBetween(ctx, day(5), day(6), 0)), []string{"conv_b"}},
		{"resolved, limit 1", ids(db.ResolvedBetween(ctx, day(0), day(9), 1)), []string{"conv_c"}},
		{"resolved, unbounded", ids(db.ResolvedBetween(ctx, time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 0)), []string{"conv_c", "conv_b"}},
	}
	for _, tt := range tests {
		if !slices.Equal(tt.got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.got, tt.want)
		}
	}

	// conv_c reopens by a message, conv_a is resolved now (after day 6).
	mustMessage(t)(db.AppendMessage(ctx, crm.Message{ConversationID: "conv_c", Sender: crm.SenderCustomer, Text: "one more thing"}))
	must2(t)(db.Transition(ctx, "conv_a", crm.Event{Type: crm.EventResolve, Actor: crm.ActorSystem}, func(c *crm.Conversation) error {
		c.State = crm.StateResolved
		return nil
	}))
	got := ids(db.ResolvedBetween(ctx, time.Time{}, day(100), 0))
	if want := []string{"conv_a", "conv_b"}; !slices.Equal(got, want) {
		t.Errorf("resolved after the changes %v, want %v", got, want)
	}
	if err := db.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCheckFindsLifecycleFaults breaks the lifecycle records and indexes
// one way at a time and expects Check to name the fault.
func TestCheckFindsLifecycleFaults(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(tx *bolt.Tx) error
		want    string
	}{
		{"created entry missing", func(tx *bolt.Tx) error {
			return tx.Bucket(idxConvCreated).Delete(convTimeKey(day(3), "conv_a"))
		}, "idx_conversation_created: entry"},
		{"created entry at the wrong time", func(tx *bolt.Tx) error {
			return tx.Bucket(idxConvCreated).Put(convTimeKey(day(9), "conv_a"), nil)
		}, "idx_conversation_created: stray entry"},
		{"closed entry of an open conversation", func(tx *bolt.Tx) error {
			return tx.Bucket(idxConvClosed).Put(convTimeKey(day(4), "conv_a"), nil)
		}, "idx_conversation_closed: stray entry"},
		{"closed entry missing", func(tx *bolt.Tx) error {
			return tx.Bucket(idxConvClosed).Delete(convTimeKey(day(5), "conv_b"))
		}, "idx_conversation_closed: entry"},
		{"gap in events", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketEvents).Delete(messageKey("conv_a", 1))
		}, "event 2 follows 0"},
		{"event of no conversation", func(tx *bolt.Tx) error {
			return putJSON(tx.Bucket(bucketEvents), messageKey("ghost", 1), &crm.Event{ID: "evt_x", ConversationID: "ghost", Seq: 1, Type: crm.EventNote, Actor: "ann", Text: "x", At: day(1)})
		}, "ghost/1: conversation missing"},
		{"event under another seq", func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketEvents)
			return b.Put(messageKey("conv_a", 3), b.Get(messageKey("conv_a", 1)))
		}, "event conv_a/1 stored under conv_a/3"},
		{"event of unknown type", func(tx *bolt.Tx) error {
			return putJSON(tx.Bucket(bucketEvents), messageKey("conv_a", 3), &crm.Event{ID: "evt_x", ConversationID: "conv_a", Seq: 3, Type: "wave", Actor: "ann", At: day(1)})
		}, "event type \"wave\""},
		{"canned response under another shortcut", func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketCanned)
			return b.Put([]byte("bye"), b.Get([]byte("hi")))
		}, "stored under \"bye\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db, err := Open(filepath.Join(t.TempDir(), "parley.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Import(ctx, crm.Snapshot{Conversations: lifecycleConversations}); err != nil {
				t.Fatal(err)
			}
			for _, text := range []string{"first", "second"} {
				must2(t)(db.Transition(ctx, "conv_a", crm.Event{Type: crm.EventNote, Actor: "ann", Text: text}, nil))
			}
			must[crm.CannedResponse](t)(db.PutCanned(ctx, crm.CannedResponse{Shortcut: "hi", Title: "Hi", Text: "Hello!"}))
			if err := db.Check(ctx); err != nil {
				t.Fatalf("good store: %v", err)
			}
			if err := db.bolt.Update(tt.corrupt); err != nil {
				t.Fatal(err)
			}
			err = db.Check(ctx)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check() = %v, want a fault saying %q", err, tt.want)
			}
		})
	}
}

// Erasing a customer removes the events of their conversations and the
// conversations' time index entries (Check, at the end, proves none is
// left), and counts them.
func TestEraseRemovesLifecycle(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	cu := must[crm.Customer](t)(db.CreateCustomer(ctx, crm.Customer{Name: "Ada"}))
	open := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb, CustomerID: cu.ID}))
	closed := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb, CustomerID: cu.ID}))
	other := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb}))
	must2(t)(db.Transition(ctx, open.ID, crm.Event{Type: crm.EventNote, Actor: "ann", Text: "VIP"}, nil))
	must2(t)(db.Transition(ctx, closed.ID, crm.Event{Type: crm.EventResolve, Actor: "ann"}, func(c *crm.Conversation) error {
		c.State = crm.StateResolved
		return nil
	}))
	must2(t)(db.Transition(ctx, other.ID, crm.Event{Type: crm.EventNote, Actor: "ann", Text: "stays"}, nil))

	e := must[crm.Erasure](t)(db.EraseCustomer(ctx, cu.ID))
	// Per conversation: customer and created entries, and the open or
	// the closed one.
	if e.Events != 2 || e.Conversations != 2 || e.IndexEntries != 6 {
		t.Errorf("erasure %+v, want 2 events, 2 conversations, 6 index entries", e)
	}
	if got := must[[]crm.Conversation](t)(db.CreatedBetween(ctx, time.Time{}, day(100), 0)); !slices.Equal(pluckIDs(got), []string{other.ID}) {
		t.Errorf("created after the erasure %v, want [%s]", pluckIDs(got), other.ID)
	}
	if got := must[[]crm.Event](t)(db.Events(ctx, other.ID, 0, 0)); len(got) != 1 {
		t.Errorf("events of the other conversation: %d, want 1", len(got))
	}
	if st := must[crm.Stats](t)(db.Stats(ctx)); st.Events != 1 {
		t.Errorf("stats: %d events, want 1", st.Events)
	}
}

func pluckIDs(cs []crm.Conversation) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

// must2 is must for Transition.
func must2(t testing.TB) func(c crm.Conversation, ev crm.Event, err error) (crm.Conversation, crm.Event) {
	return func(c crm.Conversation, ev crm.Event, err error) (crm.Conversation, crm.Event) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c, ev
	}
}
