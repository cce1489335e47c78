package boltdb

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

// channelStateBucket reports whether name is one of the buckets schema
// version 6 added.
func channelStateBucket(name []byte) bool {
	return bytes.Equal(name, bucketSeen) || bytes.Equal(name, bucketLinks)
}

// MarkSeen implements crm.ChannelStateStore.
func (db *DB) MarkSeen(ctx context.Context, key string, at time.Time) (bool, error) {
	if err := crm.CheckStateKey(key, ""); err != nil {
		return false, fmt.Errorf("mark seen: %w", err)
	}
	fresh := false
	err := db.write(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSeen)
		if b.Get([]byte(key)) != nil {
			fresh = false // the write may run twice (see write)
			return nil
		}
		fresh = true
		return b.Put([]byte(key), timeBound(at))
	})
	if err != nil {
		return false, fmt.Errorf("mark seen: %w", err)
	}
	return fresh, nil
}

// PruneSeen implements crm.ChannelStateStore. It reads every key: there
// are as many as events in the retention time (a day of Slack events).
func (db *DB) PruneSeen(ctx context.Context, before time.Time) (int, error) {
	limit := timeBound(before)
	n := 0
	err := db.write(ctx, func(tx *bolt.Tx) error {
		n = 0
		b := tx.Bucket(bucketSeen)
		var old [][]byte
		err := b.ForEach(func(k, v []byte) error {
			if bytes.Compare(v, limit) < 0 {
				old = append(old, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune seen: %w", err)
	}
	return n, nil
}

// PutLink implements crm.ChannelStateStore.
func (db *DB) PutLink(ctx context.Context, key, value string) error {
	if err := crm.CheckStateKey(key, value); err != nil {
		return fmt.Errorf("put link: %w", err)
	}
	err := db.write(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLinks)
		if value == "" {
			return b.Delete([]byte(key))
		}
		return b.Put([]byte(key), []byte(value))
	})
	if err != nil {
		return fmt.Errorf("put link: %w", err)
	}
	return nil
}

// Link implements crm.ChannelStateStore.
func (db *DB) Link(ctx context.Context, key string) (string, error) {
	var v string
	err := db.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLinks).Get([]byte(key))
		if b == nil {
			return crm.ErrNotFound
		}
		v = string(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("link %q: %w", key, err)
	}
	return v, nil
}
