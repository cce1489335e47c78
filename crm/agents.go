package crm

import (
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"
)

var roles = map[Role]bool{RoleAgent: true, RoleAdmin: true}

func validateAgent(a *Agent) error {
	if err := checkPart("agent login", a.Login); err != nil {
		return err
	}
	if !roles[a.Role] {
		return fmt.Errorf("role %q: %w", a.Role, ErrInvalid)
	}
	if err := checkText("agent name", a.Name, maxField); err != nil {
		return err
	}
	for _, t := range a.Teams {
		if err := checkPart("team", t); err != nil {
			return err
		}
	}
	if _, err := bcrypt.Cost([]byte(a.PasswordHash)); err != nil {
		return fmt.Errorf("password hash: %w", ErrInvalid)
	}
	return nil
}

// hashPassword hashes a password with the store's bcrypt cost.
func (db *DB) hashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), db.cost)
	if err != nil {
		if errors.Is(err, bcrypt.ErrPasswordTooLong) {
			return "", fmt.Errorf("password longer than 72 bytes: %w", ErrInvalid)
		}
		return "", err
	}
	return string(h), nil
}

// putAgentTx stores a; an empty hash keeps the stored one.
func putAgentTx(tx *bolt.Tx, a *Agent) error {
	b := tx.Bucket(bucketAgents)
	if a.PasswordHash == "" {
		var old Agent
		ok, err := getJSON(b, []byte(a.Login), &old)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("new agent %q without a password: %w", a.Login, ErrInvalid)
		}
		a.PasswordHash = old.PasswordHash
	}
	if err := validateAgent(a); err != nil {
		return err
	}
	return putJSON(b, []byte(a.Login), a)
}

// PutAgent implements AgentStore. Hashing happens before the write
// transaction, since bcrypt is slow on purpose.
func (db *DB) PutAgent(ctx context.Context, a Agent, password string) (Agent, error) {
	a.PasswordHash = ""
	if password != "" {
		h, err := db.hashPassword(password)
		if err != nil {
			return Agent{}, fmt.Errorf("put agent: %w", err)
		}
		a.PasswordHash = h
	}
	if err := db.update(ctx, func(tx *bolt.Tx) error { return putAgentTx(tx, &a) }); err != nil {
		return Agent{}, fmt.Errorf("put agent: %w", err)
	}
	return a, nil
}

// Agent implements AgentStore.
func (db *DB) Agent(ctx context.Context, login string) (Agent, error) {
	var a Agent
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		a, err = getRecord[Agent](tx, bucketAgents, "agent", login)
		return err
	})
	if err != nil {
		return Agent{}, fmt.Errorf("get agent: %w", err)
	}
	return a, nil
}

// Agents implements AgentStore.
func (db *DB) Agents(ctx context.Context) ([]Agent, error) {
	as := []Agent{}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAgents).ForEach(func(k, _ []byte) error {
			a, err := getRecord[Agent](tx, bucketAgents, "agent", string(k))
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
			return fmt.Errorf("agent %q: %w", login, ErrNotFound)
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
func (db *DB) Authenticate(ctx context.Context, login, password string) (Agent, error) {
	a, err := db.Agent(ctx, login)
	switch {
	case errors.Is(err, ErrNotFound):
		_ = bcrypt.CompareHashAndPassword(db.dummyHash(), []byte(password))
		return Agent{}, fmt.Errorf("authenticate: %w", ErrUnauthorized)
	case err != nil:
		return Agent{}, fmt.Errorf("authenticate: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)) != nil {
		return Agent{}, fmt.Errorf("authenticate: %w", ErrUnauthorized)
	}
	return a, nil
}
