package inmem_test

import (
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/crmtest"
	"github.com/parleyhq/parley/crm/inmem"
)

func TestConformance(t *testing.T) {
	crmtest.Run(t, func(t *testing.T) crm.Store {
		s := inmem.New(&inmem.Options{BcryptCost: bcrypt.MinCost})
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
		return s
	})
}
