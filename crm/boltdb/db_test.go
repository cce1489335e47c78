package boltdb

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

func TestOpenInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	first, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	// bbolt's flock is per open file description, so a second Open in the
	// same process is refused just like one from another process.
	second, err := Open(path, &Options{Timeout: 50 * time.Millisecond})
	if err == nil {
		second.Close()
		t.Fatal("second Open of a held store succeeded")
	}
	if !errors.Is(err, crm.ErrInUse) {
		t.Fatalf("err = %v, want ErrInUse", err)
	}
	if want := "store " + path + " is in use by another process"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(path, &Options{Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	again.Close()
}

func TestSchemaVersion(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		prepare func(tx *bolt.Tx) error // on a raw bbolt file before Open
		want    error
	}{
		{"new file", nil, nil},
		{"file without version is initialised", func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket([]byte("meta"))
			if err != nil {
				return err
			}
			return b.Put([]byte("other"), []byte("x"))
		}, nil},
		{"version 1 is migrated", func(tx *bolt.Tx) error {
			if err := migrations[0].apply(tx); err != nil {
				return err
			}
			return tx.Bucket(bucketMeta).Put(keySchemaVersion, u64(1))
		}, nil},
		{"newer version refused", func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			return b.Put(keySchemaVersion, u64(7))
		}, crm.ErrSchemaNewer},
		{"garbled version refused", func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			return b.Put(keySchemaVersion, []byte("1"))
		}, crm.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "parley.db")
			if tt.prepare != nil {
				raw, err := bolt.Open(path, 0o600, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := raw.Update(tt.prepare); err != nil {
					t.Fatal(err)
				}
				raw.Close()
			}
			db, err := Open(path, nil)
			if !errors.Is(err, tt.want) {
				if db != nil {
					db.Close()
				}
				t.Fatalf("Open: %v, want %v", err, tt.want)
			}
			if err != nil {
				if tt.want == crm.ErrSchemaNewer && !strings.Contains(err.Error(), fmt.Sprintf("version 7, this program knows up to %d", latestVersion())) {
					t.Errorf("error %q does not name the versions", err)
				}
				return
			}
			defer db.Close()
			if v, err := db.SchemaVersion(ctx); err != nil || v != latestVersion() {
				t.Fatalf("schema version %d, %v; want %d", v, err, latestVersion())
			}
			if err := db.Check(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A version 1 store has ratings but no index of them by conversation:
// opening it builds the index.
func TestMigrateIndexesFeedbackByConversation(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	cu := must[crm.Customer](t)(db.CreateCustomer(ctx, crm.Customer{Name: "Ada"}))
	conv := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb, CustomerID: cu.ID}))
	f := must[crm.Feedback](t)(db.AddFeedback(ctx, crm.Feedback{ConversationID: conv.ID, Score: 2}))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(idxFeedbackConv); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, u64(1))
	})
	if err := errors.Join(err, raw.Close()); err != nil {
		t.Fatal(err)
	}

	db, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := db.SchemaVersion(ctx); err != nil || v != latestVersion() {
		t.Fatalf("schema version %d, %v; want %d", v, err, latestVersion())
	}
	if got := must[crm.Feedback](t)(db.ConversationFeedback(ctx, conv.ID)); got.ID != f.ID {
		t.Errorf("conversation's rating %s, want %s", got.ID, f.ID)
	}
	if err := db.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateSteps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var ran []int
	step := func(v int) migration {
		return migration{version: v, name: "test", apply: func(tx *bolt.Tx) error {
			ran = append(ran, v)
			_, err := tx.CreateBucketIfNotExists([]byte{byte('a' + v)})
			return err
		}}
	}
	run := func(steps ...migration) (int, int, error) {
		var from, to int
		err := raw.Update(func(tx *bolt.Tx) error {
			var err error
			from, to, err = migrate(tx, steps)
			return err
		})
		return from, to, err
	}
	tests := []struct {
		name     string
		steps    []migration
		from, to int
		ran      []int
		wantErr  bool
	}{
		{"from nothing to 1", []migration{step(1)}, 0, 1, []int{1}, false},
		{"again is a no-op", []migration{step(1)}, 1, 1, nil, false},
		{"only the new steps run", []migration{step(1), step(2), step(3)}, 1, 3, []int{2, 3}, false},
		{"a gap is an error", []migration{step(1), step(2), step(3), step(5)}, 3, 3, nil, true},
		{"fewer steps than the file: newer", []migration{step(1)}, 3, 3, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran = nil
			from, to, err := run(tt.steps...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && (from != tt.from || to != tt.to) {
				t.Errorf("from %d to %d, want %d to %d", from, to, tt.from, tt.to)
			}
			if len(ran) != len(tt.ran) || (len(ran) > 0 && ran[len(ran)-1] != tt.ran[len(tt.ran)-1]) {
				t.Errorf("ran %v, want %v", ran, tt.ran)
			}
		})
	}
}

func TestClosed(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "parley.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	conv, err := db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelCLI})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, _, err := db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hi"}); !errors.Is(err, crm.ErrClosed) {
		t.Errorf("append after close: %v", err)
	}
	if _, err := db.Conversation(ctx, conv.ID); !errors.Is(err, crm.ErrClosed) {
		t.Errorf("read after close: %v", err)
	}
	if _, err := db.CreateCustomer(ctx, crm.Customer{}); !errors.Is(err, crm.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
}

func TestOpenBadOptions(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "parley.db"), &Options{BcryptCost: 99}); !errors.Is(err, crm.ErrInvalid) {
		t.Fatalf("bcrypt cost 99: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing", "dir", "parley.db"), nil); err == nil {
		t.Fatal("Open in a missing folder succeeded")
	}
}
