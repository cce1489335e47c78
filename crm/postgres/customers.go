package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/crm"
)

// customerColumns returns the values of the columns customers are found
// by: the normal forms of c's e-mail and phone, nil (SQL null) for none.
func customerColumns(c *crm.Customer) (email, phone any) {
	if c.Email != "" {
		email = crm.NormalizeEmail(c.Email)
	}
	if c.Phone != "" {
		phone = crm.NormalizePhone(c.Phone)
	}
	return email, phone
}

// insertIdentities points c's channel identities at c. An identity of
// another customer fails with ErrConflict (the primary key).
func insertIdentities(ctx context.Context, tx pgx.Tx, c *crm.Customer) error {
	if len(c.Identities) == 0 {
		return nil
	}
	channels := make([]string, len(c.Identities))
	externals := make([]string, len(c.Identities))
	for i, id := range c.Identities {
		channels[i], externals[i] = string(id.Channel), id.ExternalID
	}
	_, err := tx.Exec(ctx, `insert into customer_identities (channel, external_id, customer_id)
		select unnest($1::text[]), unnest($2::text[]), $3`, channels, externals, c.ID)
	return err
}

// scanCustomer decodes the customer document row holds; no row is
// ErrNotFound, saying what was looked for.
func scanCustomer(row pgx.Row, what string) (crm.Customer, error) {
	var (
		c   crm.Customer
		doc []byte
	)
	if err := row.Scan(&doc); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return crm.Customer{}, fmt.Errorf("customer %s: %w", what, crm.ErrNotFound)
		}
		return crm.Customer{}, err
	}
	if err := json.Unmarshal(doc, &c); err != nil {
		return crm.Customer{}, fmt.Errorf("decode customer %s: %w", what, err)
	}
	return c, nil
}

// CreateCustomer implements crm.CustomerStore. A taken id, e-mail, phone or
// identity fails on the table's unique keys, so that two nodes creating
// customers at once cannot both take one.
func (db *DB) CreateCustomer(ctx context.Context, c crm.Customer) (crm.Customer, error) {
	crm.NewCustomer(&c, db.now())
	if err := crm.ValidateCustomer(&c); err != nil {
		return crm.Customer{}, fmt.Errorf("create customer: %w", err)
	}
	err := db.write(ctx, func(tx pgx.Tx) error { return insertCustomer(ctx, tx, &c) })
	if err != nil {
		return crm.Customer{}, fmt.Errorf("create customer: %w", err)
	}
	return c, nil
}

// insertCustomer inserts c, valid and with its ID and times set, with its
// lookups (e-mail, phone, identities). A taken id, e-mail, phone or
// identity fails on the tables' unique keys (ErrConflict through mapErr).
func insertCustomer(ctx context.Context, tx pgx.Tx, c *crm.Customer) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return err
	}
	email, phone := customerColumns(c)
	_, err = tx.Exec(ctx, `insert into customers (id, email, phone, created_ns, doc) values ($1, $2, $3, $4, $5)`,
		c.ID, email, phone, nanos(c.CreatedAt), string(doc))
	if err != nil {
		return err
	}
	return insertIdentities(ctx, tx, c)
}

// UpdateCustomer implements crm.CustomerStore. The customer's row is
// locked for the transaction, so concurrent updates apply one after the
// other; the lookups are moved by deleting the old identities and
// inserting the new ones.
func (db *DB) UpdateCustomer(ctx context.Context, id string, fn func(*crm.Customer) error) (crm.Customer, error) {
	var out crm.Customer
	err := db.write(ctx, func(tx pgx.Tx) error {
		var doc []byte
		err := tx.QueryRow(ctx, "select doc from customers where id = $1 for update", id).Scan(&doc)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("customer %q: %w", id, crm.ErrNotFound)
		}
		if err != nil {
			return err
		}
		// Two decodings: fn gets a copy of its own, sharing nothing with old.
		var old, cur crm.Customer
		if err := json.Unmarshal(doc, &old); err != nil {
			return fmt.Errorf("decode customer %q: %w", id, err)
		}
		if err := json.Unmarshal(doc, &cur); err != nil {
			return fmt.Errorf("decode customer %q: %w", id, err)
		}
		if err := fn(&cur); err != nil {
			return err
		}
		if err := crm.UpdatedCustomer(old, &cur, db.now()); err != nil {
			return err
		}
		if doc, err = json.Marshal(&cur); err != nil {
			return err
		}
		email, phone := customerColumns(&cur)
		if _, err := tx.Exec(ctx, "update customers set email = $2, phone = $3, doc = $4 where id = $1",
			id, email, phone, string(doc)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "delete from customer_identities where customer_id = $1", id); err != nil {
			return err
		}
		if err := insertIdentities(ctx, tx, &cur); err != nil {
			return err
		}
		out = cur
		return nil
	})
	if err != nil {
		return crm.Customer{}, fmt.Errorf("update customer: %w", err)
	}
	return out, nil
}

// Customer implements crm.CustomerStore.
func (db *DB) Customer(ctx context.Context, id string) (crm.Customer, error) {
	return db.customerBy(ctx, "get customer", fmt.Sprintf("%q", id), "select doc from customers where id = $1", id)
}

// customerBy reads the one customer query finds.
func (db *DB) customerBy(ctx context.Context, op, what, query string, args ...any) (crm.Customer, error) {
	var c crm.Customer
	err := db.read(ctx, func(q querier) error {
		var err error
		c, err = scanCustomer(q.QueryRow(ctx, query, args...), what)
		return err
	})
	if err != nil {
		return crm.Customer{}, fmt.Errorf("%s: %w", op, err)
	}
	return c, nil
}

// CustomerByEmail implements crm.CustomerStore.
func (db *DB) CustomerByEmail(ctx context.Context, email string) (crm.Customer, error) {
	e := crm.NormalizeEmail(email)
	return db.customerBy(ctx, "customer by email", fmt.Sprintf("with e-mail %q", e),
		"select doc from customers where email = $1", e)
}

// CustomerByPhone implements crm.CustomerStore.
func (db *DB) CustomerByPhone(ctx context.Context, phone string) (crm.Customer, error) {
	p := crm.NormalizePhone(phone)
	return db.customerBy(ctx, "customer by phone", fmt.Sprintf("with phone %q", p),
		"select doc from customers where phone = $1", p)
}

// CustomerByIdentity implements crm.CustomerStore.
func (db *DB) CustomerByIdentity(ctx context.Context, id crm.Identity) (crm.Customer, error) {
	return db.customerBy(ctx, "customer by identity", fmt.Sprintf("known as %s/%s", id.Channel, id.ExternalID),
		`select c.doc from customer_identities i join customers c on c.id = i.customer_id
		where i.channel = $1 and i.external_id = $2`, string(id.Channel), id.ExternalID)
}

// CustomerIDs implements crm.CustomerStore.
func (db *DB) CustomerIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := db.read(ctx, func(q querier) error {
		rows, err := q.Query(ctx, "select id from customers order by id")
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list customers: %w", err)
	}
	return ids, nil
}
