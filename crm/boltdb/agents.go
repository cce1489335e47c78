package boltdb

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

// putAgentTx stores a; an empty hash keeps the stored one.
func putAgentTx(tx *bolt.Tx, a *crm.Agent) error {
	b := tx.Bucket(bucketAgents)
	if a.PasswordHash == "" {
		var old crm.Agent
		ok, err := getJSON(b, []byte(a.Login), &old)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("new agent %q without a password: %w", a.Login, crm.ErrInvalid)
		}
		a.PasswordHash = old.PasswordHash
	}
	if err := crm.ValidateAgent(a); err != nil {
		return err
	}
	return putJSON(b, []byte(a.Login), a)
}

// PutAgent implements AgentStore. Hashing happens before the write
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
	if err := db.update(ctx, func(tx *bolt.Tx) error { return putAgentTx(tx, &a) }); err != nil {
		return crm.Agent{}, fmt.Errorf("put agent: %w", err)
	}
	return a, nil
}

// Agent implements AgentStore.
func (db *DB) Agent(ctx context.Context, login string) (crm.Agent, error) {
	var a crm.Agent
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		a, err = getRecord[crm.Agent](tx, bucketAgents, "agent", login)
		return err
	})
	if err != nil {
		return crm.Agent{}, fmt.Errorf("get agent: %w", err)
	}
	return a, nil
}

// Agents implements AgentStore.
func (db *DB) Agents(ctx context.Context) ([]crm.Agent, error) {
	as := []crm.Agent{}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAgents).ForEach(func(k, _ []byte) error {
			a, err := getRecord[crm.Agent](tx, bucketAgents, "agent", string(k))
			as = append(as, a)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("agents: %w", err)
	}
	return as, nil
}

// DeleteAgent implements AgentStore.
func (db *DB) DeleteAgent(ctx context.Context, login string) error {
	err := db.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAgents)
		if b.Get([]byte(login)) == nil {
			return fmt.Errorf("agent %q: %w", login, crm.ErrNotFound)
		}
		return b.Delete([]byte(login))
	})
	if err != nil {
		return fmt.Errorf("delete agent: %w", err)
	}
	return nil
}

// Authenticate implements AgentStore. The bcrypt comparison runs outside any
// transaction.
func (db *DB) Authenticate(ctx context.Context, login, password string) (crm.Agent, error) {
	return crm.Authenticate(ctx, db.Agent, db.dummyHash, login, password)
}
