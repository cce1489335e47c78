package inmem

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/parleyhq/parley/crm"
)

// putAgent stores a; an empty hash keeps the stored one.
func (d *data) putAgent(a *crm.Agent) error {
	if a.PasswordHash == "" {
		old, ok := d.agents[a.Login]
		if !ok {
			return fmt.Errorf("new agent %q without a password: %w", a.Login, crm.ErrInvalid)
		}
		a.PasswordHash = old.PasswordHash
	}
	if err := crm.ValidateAgent(a); err != nil {
		return err
	}
	d.agents[a.Login] = cloneAgent(*a)
	return nil
}

// PutAgent implements crm.AgentStore. Hashing happens before the lock is
// taken, since bcrypt is slow on purpose.
func (s *Store) PutAgent(ctx context.Context, a crm.Agent, password string) (crm.Agent, error) {
	a = cloneAgent(a)
	a.PasswordHash = ""
	if password != "" {
		h, err := crm.HashPassword(password, s.cost)
		if err != nil {
			return crm.Agent{}, fmt.Errorf("put agent: %w", err)
		}
		a.PasswordHash = h
	}
	if err := s.write(ctx, func(d *data) error { return d.putAgent(&a) }); err != nil {
		return crm.Agent{}, fmt.Errorf("put agent: %w", err)
	}
	return a, nil
}

// Agent implements crm.AgentStore.
func (s *Store) Agent(ctx context.Context, login string) (crm.Agent, error) {
	var a crm.Agent
	err := s.read(ctx, func(d *data) error {
		var ok bool
		if a, ok = d.agents[login]; !ok {
			return fmt.Errorf("agent %q: %w", login, crm.ErrNotFound)
		}
		a = cloneAgent(a)
		return nil
	})
	if err != nil {
		return crm.Agent{}, fmt.Errorf("get agent: %w", err)
	}
	return a, nil
}

// Agents implements crm.AgentStore.
func (s *Store) Agents(ctx context.Context) ([]crm.Agent, error) {
	as := []crm.Agent{}
	err := s.read(ctx, func(d *data) error {
		for _, a := range d.agents {
			as = append(as, cloneAgent(a))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("agents: %w", err)
	}
	slices.SortFunc(as, func(a, b crm.Agent) int { return cmp.Compare(a.Login, b.Login) })
	return as, nil
}

// DeleteAgent implements crm.AgentStore.
func (s *Store) DeleteAgent(ctx context.Context, login string) error {
	err := s.write(ctx, func(d *data) error {
		if _, ok := d.agents[login]; !ok {
			return fmt.Errorf("agent %q: %w", login, crm.ErrNotFound)
		}
		delete(d.agents, login)
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete agent: %w", err)
	}
	return nil
}

// Authenticate implements crm.AgentStore. The bcrypt comparison runs
// outside the lock, and as long for an unknown login as for a wrong
// password.
func (s *Store) Authenticate(ctx context.Context, login, password string) (crm.Agent, error) {
	return crm.Authenticate(ctx, s.Agent, s.dummyHash, login, password)
}
