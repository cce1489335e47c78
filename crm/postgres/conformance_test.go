package postgres

import (
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/crmtest"
)

func TestConformance(t *testing.T) {
	crmtest.Run(t, func(t *testing.T) crm.Store { return openTest(t, nil) })
}
