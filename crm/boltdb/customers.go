package boltdb

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

func identityKey(id crm.Identity) []byte { return key(string(id.Channel), id.ExternalID) }

// customerIndexKeys lists the index entries a customer owns.
func customerIndexKeys(c *crm.Customer) []indexEntry {
	var es []indexEntry
	if c.Email != "" {
		es = append(es, indexEntry{idxCustomerEmail, []byte(crm.NormalizeEmail(c.Email))})
	}
	if c.Phone != "" {
		es = append(es, indexEntry{idxCustomerPhone, []byte(crm.NormalizePhone(c.Phone))})
	}
	for _, id := range c.Identities {
		es = append(es, indexEntry{idxCustomerIdentity, identityKey(id)})
	}
	return es
}

type indexEntry struct {
	bucket []byte
	key    []byte
}

// indexCustomer points c's index entries at c, failing with ErrConflict when
// one belongs to another customer.
func indexCustomer(tx *bolt.Tx, c *crm.Customer) error {
	for _, e := range customerIndexKeys(c) {
		b := tx.Bucket(e.bucket)
		if owner := b.Get(e.key); owner != nil && string(owner) != c.ID {
			return fmt.Errorf("%s %q belongs to customer %s: %w", e.bucket, e.key, owner, crm.ErrConflict)
		}
		if err := b.Put(e.key, []byte(c.ID)); err != nil {
			return err
		}
	}
	return nil
}

// unindexCustomer removes c's index entries (those still pointing at c) and
// counts them.
func unindexCustomer(tx *bolt.Tx, c *crm.Customer) (int, error) {
	n := 0
	for _, e := range customerIndexKeys(c) {
		b := tx.Bucket(e.bucket)
		if string(b.Get(e.key)) != c.ID {
			continue
		}
		if err := b.Delete(e.key); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// createCustomerTx stores a new customer; c has its id and times set.
func createCustomerTx(tx *bolt.Tx, c *crm.Customer) error {
	if err := crm.ValidateCustomer(c); err != nil {
		return err
	}
	b := tx.Bucket(bucketCustomers)
	if b.Get([]byte(c.ID)) != nil {
		return fmt.Errorf("customer %q: %w", c.ID, crm.ErrConflict)
	}
	if err := indexCustomer(tx, c); err != nil {
		return err
	}
	return putJSON(b, []byte(c.ID), c)
}

// CreateCustomer implements CustomerStore.
func (db *DB) CreateCustomer(ctx context.Context, c crm.Customer) (crm.Customer, error) {
	crm.NewCustomer(&c, db.now())
	err := db.update(ctx, func(tx *bolt.Tx) error { return createCustomerTx(tx, &c) })
	if err != nil {
		return crm.Customer{}, fmt.Errorf("create customer: %w", err)
	}
	return c, nil
}

// UpdateCustomer implements CustomerStore.
func (db *DB) UpdateCustomer(ctx context.Context, id string, fn func(*crm.Customer) error) (crm.Customer, error) {
	var out crm.Customer
	err := db.update(ctx, func(tx *bolt.Tx) error {
		old, cur, err := editRecord(tx, bucketCustomers, "customer", id, fn)
		if err != nil {
			return err
		}
		if err := crm.UpdatedCustomer(old, &cur, db.now()); err != nil {
			return err
		}
		if _, err := unindexCustomer(tx, &old); err != nil {
			return err
		}
		if err := indexCustomer(tx, &cur); err != nil {
			return err
		}
		out = cur
		return putJSON(tx.Bucket(bucketCustomers), []byte(id), &cur)
	})
	if err != nil {
		return crm.Customer{}, fmt.Errorf("update customer: %w", err)
	}
	return out, nil
}

// Customer implements CustomerStore.
func (db *DB) Customer(ctx context.Context, id string) (crm.Customer, error) {
	var c crm.Customer
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		c, err = getRecord[crm.Customer](tx, bucketCustomers, "customer", id)
		return err
	})
	if err != nil {
		return crm.Customer{}, fmt.Errorf("get customer: %w", err)
	}
	return c, nil
}

// CustomerIDs implements CustomerStore.
func (db *DB) CustomerIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := db.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCustomers).ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list customers: %w", err)
	}
	return ids, nil
}

// customerBy looks a customer up through an index.
func (db *DB) customerBy(ctx context.Context, op string, idx, k []byte) (crm.Customer, error) {
	var c crm.Customer
	err := db.view(ctx, func(tx *bolt.Tx) error {
		id := tx.Bucket(idx).Get(k)
		if id == nil {
			return crm.ErrNotFound
		}
		var err error
		c, err = getRecord[crm.Customer](tx, bucketCustomers, "customer", string(id))
		return err
	})
	if err != nil {
		return crm.Customer{}, fmt.Errorf("%s: %w", op, err)
	}
	return c, nil
}

// CustomerByEmail implements CustomerStore.
func (db *DB) CustomerByEmail(ctx context.Context, email string) (crm.Customer, error) {
	return db.customerBy(ctx, "customer by email", idxCustomerEmail, []byte(crm.NormalizeEmail(email)))
}

// CustomerByPhone implements CustomerStore.
func (db *DB) CustomerByPhone(ctx context.Context, phone string) (crm.Customer, error) {
	return db.customerBy(ctx, "customer by phone", idxCustomerPhone, []byte(crm.NormalizePhone(phone)))
}

// CustomerByIdentity implements CustomerStore.
func (db *DB) CustomerByIdentity(ctx context.Context, id crm.Identity) (crm.Customer, error) {
	return db.customerBy(ctx, "customer by identity", idxCustomerIdentity, identityKey(id))
}
