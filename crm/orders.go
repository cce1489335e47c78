package crm

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

var orderStatuses = map[OrderStatus]bool{
	OrderPlaced: true, OrderPaid: true, OrderShipped: true, OrderDelivered: true,
	OrderCancelled: true, OrderReturned: true, OrderRefunded: true,
}

func orderIndexKey(o *Order) []byte { return key(o.CustomerID, timeKey(o.PlacedAt), o.ID) }

func validateOrder(o *Order) error {
	if err := checkPart("order id", o.ID); err != nil {
		return err
	}
	if err := checkPart("order customer id", o.CustomerID); err != nil {
		return err
	}
	if !orderStatuses[o.Status] {
		return fmt.Errorf("order status %q: %w", o.Status, ErrInvalid)
	}
	for _, f := range []struct{ what, s string }{
		{"currency", o.Currency}, {"carrier", o.Carrier}, {"tracking", o.Tracking},
	} {
		if err := checkText(f.what, f.s, maxField); err != nil {
			return err
		}
	}
	for i, it := range o.Items {
		if it.Qty <= 0 || it.PriceCents < 0 {
			return fmt.Errorf("order item %d: quantity %d, price %d: %w", i, it.Qty, it.PriceCents, ErrInvalid)
		}
		if err := checkText("item sku", it.SKU, maxField); err != nil {
			return err
		}
		if err := checkText("item name", it.Name, maxField); err != nil {
			return err
		}
	}
	if o.TotalCents < 0 {
		return fmt.Errorf("order total %d: %w", o.TotalCents, ErrInvalid)
	}
	return nil
}

// putOrderTx creates or replaces o; UpdatedAt must be set.
func putOrderTx(tx *bolt.Tx, o *Order) error {
	if o.TotalCents == 0 {
		for _, it := range o.Items {
			o.TotalCents += int64(it.Qty) * it.PriceCents
		}
	}
	b := tx.Bucket(bucketOrders)
	var old Order
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
	if err := validateOrder(o); err != nil {
		return err
	}
	if tx.Bucket(bucketCustomers).Get([]byte(o.CustomerID)) == nil {
		return fmt.Errorf("order customer %q: %w", o.CustomerID, ErrNotFound)
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
func (db *DB) PutOrder(ctx context.Context, o Order) (Order, error) {
	o.UpdatedAt = db.now()
	if err := db.update(ctx, func(tx *bolt.Tx) error { return putOrderTx(tx, &o) }); err != nil {
		return Order{}, fmt.Errorf("put order: %w", err)
	}
	return o, nil
}

// Order implements OrderStore.
func (db *DB) Order(ctx context.Context, id string) (Order, error) {
	var o Order
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		o, err = getRecord[Order](tx, bucketOrders, "order", id)
		return err
	})
	if err != nil {
		return Order{}, fmt.Errorf("get order: %w", err)
	}
	return o, nil
}

// OrdersByCustomer implements OrderStore.
func (db *DB) OrdersByCustomer(ctx context.Context, customerID string, limit int) ([]Order, error) {
	os := []Order{}
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

func ordersOf(tx *bolt.Tx, customerID string, limit int) ([]Order, error) {
	os := []Order{}
	var err error
	scanPrefixReverse(tx.Bucket(idxOrderCustomer), prefix(customerID), func(k, _ []byte) bool {
		var o Order
		o, err = getRecord[Order](tx, bucketOrders, "order", lastPart(k))
		if err != nil {
			return false
		}
		os = append(os, o)
		return limit <= 0 || len(os) < limit
	})
	return os, err
}
