package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/crm"
)

// MarkSeen implements crm.ChannelStateStore. The insert does nothing for
// a key already there, so of many concurrent calls (from any node) exactly
// one inserts the row and reports it fresh.
func (db *DB) MarkSeen(ctx context.Context, key string, at time.Time) (bool, error) {
	if err := crm.CheckStateKey(key, ""); err != nil {
		return false, fmt.Errorf("mark seen: %w", err)
	}
	fresh := false
	err := db.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "insert into channel_seen (key, at) values ($1, $2) on conflict (key) do nothing", key, at)
		fresh = err == nil && tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("mark seen: %w", err)
	}
	return fresh, nil
}

// PruneSeen implements crm.ChannelStateStore.
func (db *DB) PruneSeen(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := db.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "delete from channel_seen where at < $1", before)
		n = int(tag.RowsAffected())
		return err
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
	err := db.write(ctx, func(tx pgx.Tx) error {
		if value == "" {
			_, err := tx.Exec(ctx, "delete from channel_links where key = $1", key)
			return err
		}
		_, err := tx.Exec(ctx, `insert into channel_links (key, value) values ($1, $2)
			on conflict (key) do update set value = excluded.value`, key, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("put link: %w", err)
	}
	return nil
}

// Link implements crm.ChannelStateStore.
func (db *DB) Link(ctx context.Context, key string) (string, error) {
	var v string
	err := db.read(ctx, func(q querier) error {
		err := q.QueryRow(ctx, "select value from channel_links where key = $1", key).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			return crm.ErrNotFound
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("link %q: %w", key, err)
	}
	return v, nil
}
