package inmem

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley/crm"
)

// MarkSeen implements crm.ChannelStateStore.
func (s *Store) MarkSeen(ctx context.Context, key string, at time.Time) (bool, error) {
	if err := crm.CheckStateKey(key, ""); err != nil {
		return false, fmt.Errorf("mark seen: %w", err)
	}
	fresh := false
	err := s.write(ctx, func(d *data) error {
		if _, ok := d.seen[key]; !ok {
			d.seen[key], fresh = at, true
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("mark seen: %w", err)
	}
	return fresh, nil
}

// PruneSeen implements crm.ChannelStateStore.
func (s *Store) PruneSeen(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := s.write(ctx, func(d *data) error {
		for k, at := range d.seen {
			if at.Before(before) {
				delete(d.seen, k)
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune seen: %w", err)
	}
	return n, nil
}

// PutLink implements crm.ChannelStateStore.
func (s *Store) PutLink(ctx context.Context, key, value string) error {
	if err := crm.CheckStateKey(key, value); err != nil {
		return fmt.Errorf("put link: %w", err)
	}
	err := s.write(ctx, func(d *data) error {
		if value == "" {
			delete(d.links, key)
		} else {
			d.links[key] = value
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put link: %w", err)
	}
	return nil
}

// Link implements crm.ChannelStateStore.
func (s *Store) Link(ctx context.Context, key string) (string, error) {
	var v string
	err := s.read(ctx, func(d *data) error {
		var ok bool
		if v, ok = d.links[key]; !ok {
			return crm.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("link %q: %w", key, err)
	}
	return v, nil
}
