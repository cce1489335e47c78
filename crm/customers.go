package crm

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	bolt "go.etcd.io/bbolt"
)

// maxField limits names, subjects, comments and other short free-text fields.
const maxField = 4096

// normalizeEmail is the form e-mail addresses are indexed and compared in.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// normalizePhone keeps the digits of a phone number and a leading "+", so
// "+41 79 123-45-67" and "+41791234567" are the same number.
func normalizePhone(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	if strings.HasPrefix(s, "+") {
		b.WriteByte('+')
	}
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func identityKey(id Identity) []byte { return key(string(id.Channel), id.ExternalID) }

func validateCustomer(c *Customer) error {
	if err := checkPart("customer id", c.ID); err != nil {
		return err
	}
	for _, f := range []struct{ what, s string }{
		{"name", c.Name}, {"email", c.Email}, {"phone", c.Phone}, {"tier", string(c.Tier)}, {"language", c.Language},
	} {
		if err := checkText(f.what, f.s, maxField); err != nil {
			return err
		}
	}
	if c.Email != "" {
		e := normalizeEmail(c.Email)
		if len(e) > maxKeyPart || strings.Count(e, "@") != 1 || strings.IndexFunc(e, unicode.IsSpace) >= 0 ||
			strings.HasPrefix(e, "@") || strings.HasSuffix(e, "@") {
			return fmt.Errorf("email %q: %w", c.Email, ErrInvalid)
		}
	}
	if c.Phone != "" {
		p := strings.TrimPrefix(normalizePhone(c.Phone), "+")
		if len(p) < 5 || len(p) > 20 {
			return fmt.Errorf("phone %q: %w", c.Phone, ErrInvalid)
		}
	}
	seen := make(map[Identity]bool, len(c.Identities))
	ids := c.Identities[:0:0]
	for _, id := range c.Identities {
		if err := checkPart("identity channel", string(id.Channel)); err != nil {
			return err
		}
		if err := checkPart("identity external id", id.ExternalID); err != nil {
			return err
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	c.Identities = ids
	for k, v := range c.Attributes {
		if err := checkText("attribute name", k, maxKeyPart); err != nil {
			return err
		}
		if err := checkText("attribute "+k, v, maxField); err != nil {
			return err
		}
	}
	return nil
}

// customerIndexKeys lists the index entries a customer owns.
func customerIndexKeys(c *Customer) []indexEntry {
	var es []indexEntry
	if c.Email != "" {
		es = append(es, indexEntry{idxCustomerEmail, []byte(normalizeEmail(c.Email))})
	}
	if c.Phone != "" {
		es = append(es, indexEntry{idxCustomerPhone, []byte(normalizePhone(c.Phone))})
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
func indexCustomer(tx *bolt.Tx, c *Customer) error {
	for _, e := range customerIndexKeys(c) {
		b := tx.Bucket(e.bucket)
		if owner := b.Get(e.key); owner != nil && string(owner) != c.ID {
			return fmt.Errorf("%s %q belongs to customer %s: %w", e.bucket, e.key, owner, ErrConflict)
		}
		if err := b.Put(e.key, []byte(c.ID)); err != nil {
			return err
		}
	}
	return nil
}

// unindexCustomer removes c's index entries (those still pointing at c) and
// counts them.
func unindexCustomer(tx *bolt.Tx, c *Customer) (int, error) {
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
func createCustomerTx(tx *bolt.Tx, c *Customer) error {
	if err := validateCustomer(c); err != nil {
		return err
	}
	b := tx.Bucket(bucketCustomers)
	if b.Get([]byte(c.ID)) != nil {
		return fmt.Errorf("customer %q: %w", c.ID, ErrConflict)
	}
	if err := indexCustomer(tx, c); err != nil {
		return err
	}
	return putJSON(b, []byte(c.ID), c)
}

// CreateCustomer implements CustomerStore.
func (db *DB) CreateCustomer(ctx context.Context, c Customer) (Customer, error) {
	if c.ID == "" {
		c.ID = newID("cus")
	}
	now := db.now()
	c.CreatedAt, c.UpdatedAt = now, now
	if c.Consent.UpdatedAt.IsZero() && c.Consent.Marketing {
		c.Consent.UpdatedAt = now
	}
	err := db.update(ctx, func(tx *bolt.Tx) error { return createCustomerTx(tx, &c) })
	if err != nil {
		return Customer{}, fmt.Errorf("create customer: %w", err)
	}
	return c, nil
}

// UpdateCustomer implements CustomerStore.
func (db *DB) UpdateCustomer(ctx context.Context, id string, fn func(*Customer) error) (Customer, error) {
	var out Customer
	err := db.update(ctx, func(tx *bolt.Tx) error {
		old, cur, err := editRecord(tx, bucketCustomers, "customer", id, fn)
		if err != nil {
			return err
		}
		cur.ID, cur.CreatedAt = old.ID, old.CreatedAt
		cur.UpdatedAt = db.now()
		if cur.Consent != old.Consent && cur.Consent.UpdatedAt.Equal(old.Consent.UpdatedAt) {
			cur.Consent.UpdatedAt = cur.UpdatedAt
		}
		if err := validateCustomer(&cur); err != nil {
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
		return Customer{}, fmt.Errorf("update customer: %w", err)
	}
	return out, nil
}

// Customer implements CustomerStore.
func (db *DB) Customer(ctx context.Context, id string) (Customer, error) {
	var c Customer
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		c, err = getRecord[Customer](tx, bucketCustomers, "customer", id)
		return err
	})
	if err != nil {
		return Customer{}, fmt.Errorf("get customer: %w", err)
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
func (db *DB) customerBy(ctx context.Context, op string, idx, k []byte) (Customer, error) {
	var c Customer
	err := db.view(ctx, func(tx *bolt.Tx) error {
		id := tx.Bucket(idx).Get(k)
		if id == nil {
			return ErrNotFound
		}
		var err error
		c, err = getRecord[Customer](tx, bucketCustomers, "customer", string(id))
		return err
	})
	if err != nil {
		return Customer{}, fmt.Errorf("%s: %w", op, err)
	}
	return c, nil
}

// CustomerByEmail implements CustomerStore.
func (db *DB) CustomerByEmail(ctx context.Context, email string) (Customer, error) {
	return db.customerBy(ctx, "customer by email", idxCustomerEmail, []byte(normalizeEmail(email)))
}

// CustomerByPhone implements CustomerStore.
func (db *DB) CustomerByPhone(ctx context.Context, phone string) (Customer, error) {
	return db.customerBy(ctx, "customer by phone", idxCustomerPhone, []byte(normalizePhone(phone)))
}

// CustomerByIdentity implements CustomerStore.
func (db *DB) CustomerByIdentity(ctx context.Context, id Identity) (Customer, error) {
	return db.customerBy(ctx, "customer by identity", idxCustomerIdentity, identityKey(id))
}
