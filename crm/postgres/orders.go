package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/crm"
)

// decodeOrder decodes an order document.
func decodeOrder(doc []byte) (crm.Order, error) {
	var o crm.Order
	if err := json.Unmarshal(doc, &o); err != nil {
		return crm.Order{}, fmt.Errorf("decode order: %w", err)
	}
	return o, nil
}

// PutOrder implements crm.OrderStore. The stored order's row is locked
// while its PlacedAt is read, and the write is an upsert, so that two
// nodes putting one new order at once both succeed (the later one wins).
func (db *DB) PutOrder(ctx context.Context, o crm.Order) (crm.Order, error) {
	if o.TotalCents == 0 {
		for _, it := range o.Items {
			o.TotalCents += int64(it.Qty) * it.PriceCents
		}
	}
	var out crm.Order
	err := db.write(ctx, func(tx pgx.Tx) error {
		p := o // the transaction may run again: start from o each time
		p.UpdatedAt = db.now()
		if p.PlacedAt.IsZero() {
			var doc []byte
			err := tx.QueryRow(ctx, "select doc from orders where id = $1 for update", p.ID).Scan(&doc)
			switch {
			case err == nil:
				old, err := decodeOrder(doc)
				if err != nil {
					return err
				}
				p.PlacedAt = old.PlacedAt
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			}
		}
		if p.PlacedAt.IsZero() {
			p.PlacedAt = p.UpdatedAt
		}
		if err := crm.ValidateOrder(&p); err != nil {
			return err
		}
		// The foreign key would refuse an unknown customer too; this says which.
		var known bool
		if err := tx.QueryRow(ctx, "select exists (select 1 from customers where id = $1)", p.CustomerID).Scan(&known); err != nil {
			return err
		}
		if !known {
			return fmt.Errorf("order customer %q: %w", p.CustomerID, crm.ErrNotFound)
		}
		doc, err := json.Marshal(&p)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `insert into orders (id, customer_id, placed_ns, doc) values ($1, $2, $3, $4)
			on conflict (id) do update set customer_id = excluded.customer_id, placed_ns = excluded.placed_ns, doc = excluded.doc`,
			p.ID, p.CustomerID, nanos(p.PlacedAt), string(doc))
		out = p
		return err
	})
	if err != nil {
		return crm.Order{}, fmt.Errorf("put order: %w", err)
	}
	return out, nil
}

// Order implements crm.OrderStore.
func (db *DB) Order(ctx context.Context, id string) (crm.Order, error) {
	var o crm.Order
	err := db.read(ctx, func(q querier) error {
		var doc []byte
		err := q.QueryRow(ctx, "select doc from orders where id = $1", id).Scan(&doc)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("order %q: %w", id, crm.ErrNotFound)
		}
		if err != nil {
			return err
		}
		o, err = decodeOrder(doc)
		return err
	})
	if err != nil {
		return crm.Order{}, fmt.Errorf("get order: %w", err)
	}
	return o, nil
}

// OrdersByCustomer implements crm.OrderStore. Orders placed at one instant
// come in descending id order, as from bbolt's index.
func (db *DB) OrdersByCustomer(ctx context.Context, customerID string, limit int) ([]crm.Order, error) {
	var os []crm.Order
	err := db.read(ctx, func(q querier) (err error) {
		os, _, err = queryDocs[crm.Order](ctx, q, "order", `select doc from orders where customer_id = $1
			order by placed_ns desc, id desc limit case when $2::bigint > 0 then $2::bigint end`, customerID, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("orders by customer: %w", err)
	}
	return os, nil
}
