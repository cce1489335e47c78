package shop

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/dialog"
)

// labels are the intents a model trained on nlu.yml predicts.
func labels(t *testing.T) []string {
	t.Helper()
	return parse(t).Intents()
}

func TestDomainCoversEveryIntent(t *testing.T) {
	ls := labels(t)
	d, err := dialog.ParseDomain("domain.yml", Domain(), ls)
	if err != nil {
		t.Fatalf("embedded domain.yml: %v", err)
	}
	for _, l := range ls {
		if d.Intents[l] == nil {
			t.Errorf("domain.yml has no entry for intent %q", l)
		}
	}
	for _, name := range []string{"return_item", "cancel_order"} {
		if d.Intents[name].Form == "" {
			t.Errorf("intent %s should fill a form", name)
		}
	}
	if got := d.Forms["cancel_order"].Action; got != dialog.ActionCancelOrder {
		t.Errorf("cancel_order form action = %q", got)
	}
}

func TestSeedImports(t *testing.T) {
	ctx := context.Background()
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "parley.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)
	for i, want := range []bool{true, false} {
		did, err := EnsureSeeded(ctx, db, now)
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		if did != want {
			t.Errorf("seed %d: seeded = %v, want %v", i, did, want)
		}
	}
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Customers < 24 || st.Orders < st.Customers || st.Conversations < 3 || st.Tickets < 3 || st.Feedback < 3 {
		t.Errorf("seed holds too little: %+v", st)
	}
	// The demo's well-known story: Ana's order 1042 shipped yesterday.
	o, err := db.Order(ctx, "1042")
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.Customer(ctx, o.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Email != "ana@example.com" || o.Status != crm.OrderShipped || now.Sub(o.ShippedAt) != 24*time.Hour {
		t.Errorf("order 1042: %s %s shipped %v before now", c.Email, o.Status, now.Sub(o.ShippedAt))
	}
	if tk, err := db.OpenTicketByTopic(ctx, "c-003", "refund"); err != nil || tk.ID != "T-0001" {
		t.Errorf("open refund ticket of c-003: %v %v", tk.ID, err)
	}
}
