package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/crm"
)

// PutCanned implements crm.CannedStore.
func (db *DB) PutCanned(ctx context.Context, c crm.CannedResponse) (crm.CannedResponse, error) {
	if err := crm.ValidateCanned(&c); err != nil {
		return crm.CannedResponse{}, fmt.Errorf("put canned response: %w", err)
	}
	err := db.write(ctx, func(tx pgx.Tx) error {
		c.UpdatedAt = db.now() // afresh when the transaction runs again
		doc, err := json.Marshal(&c)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `insert into canned (shortcut, doc) values ($1, $2)
			on conflict (shortcut) do update set doc = excluded.doc`, c.Shortcut, string(doc))
		return err
	})
	if err != nil {
		return crm.CannedResponse{}, fmt.Errorf("put canned response: %w", err)
	}
	return c, nil
}

// CannedResponses implements crm.CannedStore. There are few of them (a
// team's set of replies), so all are read at once.
func (db *DB) CannedResponses(ctx context.Context) ([]crm.CannedResponse, error) {
	var out []crm.CannedResponse
	err := db.read(ctx, func(q querier) (err error) {
		out, _, err = queryDocs[crm.CannedResponse](ctx, q, "canned response", "select doc from canned order by shortcut")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("canned responses: %w", err)
	}
	return out, nil
}

// DeleteCanned implements crm.CannedStore.
func (db *DB) DeleteCanned(ctx context.Context, shortcut string) error {
	err := db.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "delete from canned where shortcut = $1", shortcut)
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("canned response %q: %w", shortcut, crm.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("delete canned response: %w", err)
	}
	return nil
}
