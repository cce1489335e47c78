package inmem

import (
	"context"
	"fmt"
	"slices"

	"github.com/parleyhq/parley/crm"
)

// putOrder creates or replaces o; UpdatedAt must be set.
func (d *data) putOrder(o *crm.Order) error {
	if o.TotalCents == 0 {
		for _, it := range o.Items {
			o.TotalCents += int64(it.Qty) * it.PriceCents
		}
	}
	if old, ok := d.orders[o.ID]; ok && o.PlacedAt.IsZero() {
		o.PlacedAt = old.PlacedAt
	}
	if o.PlacedAt.IsZero() {
		o.PlacedAt = o.UpdatedAt
	}
	if err := crm.ValidateOrder(o); err != nil {
		return err
	}
	if _, ok := d.customers[o.CustomerID]; !ok {
		return fmt.Errorf("order customer %q: %w", o.CustomerID, crm.ErrNotFound)
	}
	d.orders[o.ID] = cloneOrder(*o)
	return nil
}

// ordersOf returns the customer's orders, most recently placed first.
func (d *data) ordersOf(customerID string) []crm.Order {
	os := []crm.Order{}
	for _, o := range d.orders {
		if o.CustomerID == customerID {
			os = append(os, cloneOrder(o))
		}
	}
	slices.SortFunc(os, func(a, b crm.Order) int { return newestFirst(a.PlacedAt, b.PlacedAt, a.ID, b.ID) })
	return os
}

// PutOrder implements crm.OrderStore.
func (s *Store) PutOrder(ctx context.Context, o crm.Order) (crm.Order, error) {
	o = cloneOrder(o)
	o.UpdatedAt = s.now()
	if err := s.write(ctx, func(d *data) error { return d.putOrder(&o) }); err != nil {
		return crm.Order{}, fmt.Errorf("put order: %w", err)
	}
	return o, nil
}

// Order implements crm.OrderStore.
func (s *Store) Order(ctx context.Context, id string) (crm.Order, error) {
	var o crm.Order
	err := s.read(ctx, func(d *data) error {
		var ok bool
		if o, ok = d.orders[id]; !ok {
			return fmt.Errorf("order %q: %w", id, crm.ErrNotFound)
		}
		o = cloneOrder(o)
		return nil
	})
	if err != nil {
		return crm.Order{}, fmt.Errorf("get order: %w", err)
	}
	return o, nil
}

// OrdersByCustomer implements crm.OrderStore.
func (s *Store) OrdersByCustomer(ctx context.Context, customerID string, limit int) ([]crm.Order, error) {
	var os []crm.Order
	err := s.read(ctx, func(d *data) error {
		os = firstN(d.ordersOf(customerID), limit)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("orders by customer: %w", err)
	}
	return os, nil
}
