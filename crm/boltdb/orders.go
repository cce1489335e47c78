package boltdb

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

func orderIndexKey(o *crm.Order) []byte { return key(o.CustomerID, timeKey(o.PlacedAt), o.ID) }

// putOrderTx creates or replaces o; UpdatedAt must be set.
func putOrderTx(tx *bolt.Tx, o *crm.Order) error {
	if o.TotalCents == 0 {
		for _, it := range o.Items {
			o.TotalCents += int64(it.Qty) * it.PriceCents
		}
	}
	b := tx.Bucket(bucketOrders)
	var old crm.Order
	exists, err := getJSON(b, []byte(o.ID), &old)
	if err != nil {
		return err
	}
	if exists && o.PlacedAt.IsZero() {
		o.PlacedAt = old.PlacedAt
	}
	if o.PlacedAt.IsZero() {
		o.PlacedAt = o.UpdatedAt
	}
	if err := crm.ValidateOrder(o); err != nil {
		return err
	}
	if tx.Bucket(bucketCustomers).Get([]byte(o.CustomerID)) == nil {
		return fmt.Errorf("order customer %q: %w", o.CustomerID, crm.ErrNotFound)
	}
	idx := tx.Bucket(idxOrderCustomer)
	if exists {
		if err := idx.Delete(orderIndexKey(&old)); err != nil {
			return err
		}
	}
	if err := idx.Put(orderIndexKey(o), nil); err != nil {
		return err
	}
	return putJSON(b, []byte(o.ID), o)
}

// PutOrder implements OrderStore.
func (db *DB) PutOrder(ctx context.Context, o crm.Order) (crm.Order, error) {
	o.UpdatedAt = db.now()
	if err := db.update(ctx, func(tx *bolt.Tx) error { return putOrderTx(tx, &o) }); err != nil {
		return crm.Order{}, fmt.Errorf("put order: %w", err)
	}
	return o, nil
}

// Order implements OrderStore.
func (db *DB) Order(ctx context.Context, id string) (crm.Order, error) {
	var o crm.Order
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		o, err = getRecord[crm.Order](tx, bucketOrders, "order", id)
		return err
	})
	if err != nil {
		return crm.Order{}, fmt.Errorf("get order: %w", err)
	}
	return o, nil
}

// OrdersByCustomer implements OrderStore.
func (db *DB) OrdersByCustomer(ctx context.Context, customerID string, limit int) ([]crm.Order, error) {
	os := []crm.Order{}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		os, err = ordersOf(tx, customerID, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("orders by customer: %w", err)
	}
	return os, nil
}

func ordersOf(tx *bolt.Tx, customerID string, limit int) ([]crm.Order, error) {
	os := []crm.Order{}
	var err error
	scanPrefixReverse(tx.Bucket(idxOrderCustomer), prefix(customerID), func(k, _ []byte) bool {
		var o crm.Order
		o, err = getRecord[crm.Order](tx, bucketOrders, "order", lastPart(k))
		if err != nil {
			return false
		}
		os = append(os, o)
		return limit <= 0 || len(os) < limit
	})
	return os, err
}
