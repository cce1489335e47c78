package inmem

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley/crm"
)

// PutCanned implements crm.CannedStore.
func (s *Store) PutCanned(ctx context.Context, c crm.CannedResponse) (crm.CannedResponse, error) {
	if err := crm.ValidateCanned(&c); err != nil {
		return crm.CannedResponse{}, fmt.Errorf("put canned response: %w", err)
	}
	err := s.write(ctx, func(d *data) error {
		c.UpdatedAt = s.now()
		d.canned[c.Shortcut] = c
		return nil
	})
	if err != nil {
		return crm.CannedResponse{}, fmt.Errorf("put canned response: %w", err)
	}
	return c, nil
}

// CannedResponses implements crm.CannedStore.
func (s *Store) CannedResponses(ctx context.Context) ([]crm.CannedResponse, error) {
	out := []crm.CannedResponse{}
	err := s.read(ctx, func(d *data) error {
		for _, c := range d.canned {
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("canned responses: %w", err)
	}
	slices.SortFunc(out, func(a, b crm.CannedResponse) int { return cmp.Compare(a.Shortcut, b.Shortcut) })
	return out, nil
}

// DeleteCanned implements crm.CannedStore.
func (s *Store) DeleteCanned(ctx context.Context, shortcut string) error {
	err := s.write(ctx, func(d *data) error {
		if _, ok := d.canned[shortcut]; !ok {
			return fmt.Errorf("canned response %q: %w", shortcut, crm.ErrNotFound)
		}
		delete(d.canned, shortcut)
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete canned response: %w", err)
	}
	return nil
}

// importCanned stores a canned response of a snapshot; ErrConflict when
// its shortcut is taken. UpdatedAt is kept when set.
func (d *data) importCanned(c crm.CannedResponse, now time.Time) error {
	if err := crm.ValidateCanned(&c); err != nil {
		return err
	}
	if _, ok := d.canned[c.Shortcut]; ok {
		return fmt.Errorf("canned response %q: %w", c.Shortcut, crm.ErrConflict)
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = now
	}
	d.canned[c.Shortcut] = c
	return nil
}
