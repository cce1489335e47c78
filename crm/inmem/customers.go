package inmem

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/parleyhq/parley/crm"
)

// indexKey is one way a customer is found, and the index that holds it.
type indexKey struct {
	idx map[string]string // d.emails or d.phones; nil for an identity
	key string
	id  crm.Identity
}

// lookupKeys lists the index entries c owns.
func (d *data) lookupKeys(c *crm.Customer) []indexKey {
	var ks []indexKey
	if c.Email != "" {
		ks = append(ks, indexKey{idx: d.emails, key: crm.NormalizeEmail(c.Email)})
	}
	if c.Phone != "" {
		ks = append(ks, indexKey{idx: d.phones, key: crm.NormalizePhone(c.Phone)})
	}
	for _, id := range c.Identities {
		ks = append(ks, indexKey{id: id})
	}
	return ks
}

// owner returns the customer id an index entry points at ("" for none).
func (d *data) owner(k indexKey) string {
	if k.idx == nil {
		return d.identities[k.id]
	}
	return k.idx[k.key]
}

// checkLookups fails with ErrConflict when an e-mail, phone or identity
// of c belongs to another customer.
func (d *data) checkLookups(c *crm.Customer) error {
	for _, k := range d.lookupKeys(c) {
		if o := d.owner(k); o != "" && o != c.ID {
			what := k.key
			if k.idx == nil {
				what = string(k.id.Channel) + "/" + k.id.ExternalID
			}
			return fmt.Errorf("%q belongs to customer %s: %w", what, o, crm.ErrConflict)
		}
	}
	return nil
}

// setLookups points c's index entries at c (add) or removes those that do
// (!add), and counts them.
func (d *data) setLookups(c *crm.Customer, add bool) int {
	n := 0
	for _, k := range d.lookupKeys(c) {
		switch {
		case add && k.idx == nil:
			d.identities[k.id] = c.ID
		case add:
			k.idx[k.key] = c.ID
		case d.owner(k) != c.ID:
			continue
		case k.idx == nil:
			delete(d.identities, k.id)
		default:
			delete(k.idx, k.key)
		}
		n++
	}
	return n
}

// createCustomer stores a new customer; c has its id and times set.
func (d *data) createCustomer(c *crm.Customer) error {
	if err := crm.ValidateCustomer(c); err != nil {
		return err
	}
	if _, ok := d.customers[c.ID]; ok {
		return fmt.Errorf("customer %q: %w", c.ID, crm.ErrConflict)
	}
	if err := d.checkLookups(c); err != nil {
		return err
	}
	d.setLookups(c, true)
	d.customers[c.ID] = cloneCustomer(*c)
	return nil
}

// customer returns a copy of the customer with the id, or ErrNotFound.
func (d *data) customer(id string) (crm.Customer, error) {
	c, ok := d.customers[id]
	if !ok {
		return crm.Customer{}, fmt.Errorf("customer %q: %w", id, crm.ErrNotFound)
	}
	return cloneCustomer(c), nil
}

// CreateCustomer implements crm.CustomerStore.
func (s *Store) CreateCustomer(ctx context.Context, c crm.Customer) (crm.Customer, error) {
	c = cloneCustomer(c)
	crm.NewCustomer(&c, s.now())
	if err := s.write(ctx, func(d *data) error { return d.createCustomer(&c) }); err != nil {
		return crm.Customer{}, fmt.Errorf("create customer: %w", err)
	}
	return c, nil
}

// UpdateCustomer implements crm.CustomerStore.
func (s *Store) UpdateCustomer(ctx context.Context, id string, fn func(*crm.Customer) error) (crm.Customer, error) {
	var out crm.Customer
	err := s.write(ctx, func(d *data) error {
		old, ok := d.customers[id]
		if !ok {
			return fmt.Errorf("customer %q: %w", id, crm.ErrNotFound)
		}
		cur := cloneCustomer(old)
		if err := fn(&cur); err != nil {
			return err
		}
		cur = cloneCustomer(cur) // fn may keep what it set
		if err := crm.UpdatedCustomer(old, &cur, s.now()); err != nil {
			return err
		}
		if err := d.checkLookups(&cur); err != nil {
			return err
		}
		d.setLookups(&old, false)
		d.setLookups(&cur, true)
		d.customers[id] = cur
		out = cloneCustomer(cur)
		return nil
	})
	if err != nil {
		return crm.Customer{}, fmt.Errorf("update customer: %w", err)
	}
	return out, nil
}

// Customer implements crm.CustomerStore.
func (s *Store) Customer(ctx context.Context, id string) (crm.Customer, error) {
	var c crm.Customer
	err := s.read(ctx, func(d *data) error {
		var err error
		c, err = d.customer(id)
		return err
	})
	if err != nil {
		return crm.Customer{}, fmt.Errorf("get customer: %w", err)
	}
	return c, nil
}

// customerByIndex looks a customer up through the index entry key makes
// (under the lock: Import swaps the indexes).
func (s *Store) customerByIndex(ctx context.Context, op string, key func(d *data) indexKey) (crm.Customer, error) {
	var c crm.Customer
	err := s.read(ctx, func(d *data) error {
		id := d.owner(key(d))
		if id == "" {
			return crm.ErrNotFound
		}
		var err error
		c, err = d.customer(id)
		return err
	})
	if err != nil {
		return crm.Customer{}, fmt.Errorf("%s: %w", op, err)
	}
	return c, nil
}

// CustomerByEmail implements crm.CustomerStore.
func (s *Store) CustomerByEmail(ctx context.Context, email string) (crm.Customer, error) {
	return s.customerByIndex(ctx, "customer by email", func(d *data) indexKey {
		return indexKey{idx: d.emails, key: crm.NormalizeEmail(email)}
	})
}

// CustomerByPhone implements crm.CustomerStore.
func (s *Store) CustomerByPhone(ctx context.Context, phone string) (crm.Customer, error) {
	return s.customerByIndex(ctx, "customer by phone", func(d *data) indexKey {
		return indexKey{idx: d.phones, key: crm.NormalizePhone(phone)}
	})
}

// CustomerByIdentity implements crm.CustomerStore.
func (s *Store) CustomerByIdentity(ctx context.Context, id crm.Identity) (crm.Customer, error) {
	return s.customerByIndex(ctx, "customer by identity", func(*data) indexKey { return indexKey{id: id} })
}

// CustomerIDs implements crm.CustomerStore.
func (s *Store) CustomerIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.read(ctx, func(d *data) error {
		ids = slices.Sorted(maps.Keys(d.customers))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list customers: %w", err)
	}
	return ids, nil
}
