package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/crm"
)

// scanAgent decodes the agent document row holds; no row is ErrNotFound.
func scanAgent(row pgx.Row, login string) (crm.Agent, error) {
	var (
		a   crm.Agent
		doc []byte
	)
	if err := row.Scan(&doc); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return crm.Agent{}, fmt.Errorf("agent %q: %w", login, crm.ErrNotFound)
		}
		return crm.Agent{}, err
	}
	if err := json.Unmarshal(doc, &a); err != nil {
		return crm.Agent{}, fmt.Errorf("decode agent %q: %w", login, err)
	}
	return a, nil
}

// PutAgent implements crm.AgentStore. Hashing happens before the write
// transaction, since bcrypt is slow on purpose.
func (db *DB) PutAgent(ctx context.Context, a crm.Agent, password string) (crm.Agent, error) {
	a.PasswordHash = ""
	if password != "" {
		h, err := crm.HashPassword(password, db.cost)
		if err != nil {
			return crm.Agent{}, fmt.Errorf("put agent: %w", err)
		}
		a.PasswordHash = h
	}
	var out crm.Agent
	err := db.write(ctx, func(tx pgx.Tx) error {
		p := a // the transaction may run again: start from a each time
		if p.PasswordHash == "" {
			old, err := scanAgent(tx.QueryRow(ctx, "select doc from agents where login = $1 for update", p.Login), p.Login)
			if errors.Is(err, crm.ErrNotFound) {
				return fmt.Errorf("new agent %q without a password: %w", p.Login, crm.ErrInvalid)
			}
			if err != nil {
				return err
			}
			p.PasswordHash = old.PasswordHash
		}
		if err := crm.ValidateAgent(&p); err != nil {
			return err
		}
		doc, err := json.Marshal(&p)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `insert into agents (login, doc) values ($1, $2)
			on conflict (login) do update set doc = excluded.doc`, p.Login, string(doc))
		out = p
		return err
	})
	if err != nil {
		return crm.Agent{}, fmt.Errorf("put agent: %w", err)
	}
	return out, nil
}

// Agent implements crm.AgentStore.
func (db *DB) Agent(ctx context.Context, login string) (crm.Agent, error) {
	var a crm.Agent
	err := db.read(ctx, func(q querier) error {
		var err error
		a, err = scanAgent(q.QueryRow(ctx, "select doc from agents where login = $1", login), login)
		return err
	})
	if err != nil {
		return crm.Agent{}, fmt.Errorf("get agent: %w", err)
	}
	return a, nil
}

// Agents implements crm.AgentStore.
func (db *DB) Agents(ctx context.Context) ([]crm.Agent, error) {
	var as []crm.Agent
	err := db.read(ctx, func(q querier) (err error) {
		as, _, err = queryDocs[crm.Agent](ctx, q, "agent", "select doc from agents order by login")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("agents: %w", err)
	}
	return as, nil
}

// DeleteAgent implements crm.AgentStore.
func (db *DB) DeleteAgent(ctx context.Context, login string) error {
	err := db.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "delete from agents where login = $1", login)
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("agent %q: %w", login, crm.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("delete agent: %w", err)
	}
	return nil
}

// Authenticate implements crm.AgentStore. The bcrypt comparison runs
// outside any transaction, and as long for an unknown login as for a wrong
// password.
func (db *DB) Authenticate(ctx context.Context, login, password string) (crm.Agent, error) {
	return crm.Authenticate(ctx, db.Agent, db.dummyHash, login, password)
}
