package crmtest

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
)

func newAda() crm.Customer {
	return crm.Customer{
		Name: "Ada", Email: "Ada@Example.com", Phone: "+41 79 123 45 67", Tier: crm.TierGold, Language: "en",
		Identities: []crm.Identity{{Channel: crm.ChannelWeb, ExternalID: "visitor-1"}, {Channel: crm.ChannelSlack, ExternalID: "U123"},
			{Channel: crm.ChannelWeb, ExternalID: "visitor-1"}},
		Attributes: map[string]string{"newsletter": "weekly"},
		Consent:    crm.Consent{Marketing: true},
	}
}

func testCustomers(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	ada := must[crm.Customer](t)(st.CreateCustomer(ctx, newAda()))
	if ada.ID == "" || ada.CreatedAt.IsZero() || ada.UpdatedAt.IsZero() {
		t.Fatalf("created customer %+v: want an id and times", ada)
	}
	if len(ada.Identities) != 2 {
		t.Errorf("identities %v: want the repeated one dropped", ada.Identities)
	}
	if ada.Consent.UpdatedAt.IsZero() {
		t.Error("marketing consent given without a time")
	}
	if ada.Email != "Ada@Example.com" || ada.Phone != "+41 79 123 45 67" {
		t.Errorf("email %q, phone %q: want them kept as given", ada.Email, ada.Phone)
	}

	lookups := []struct {
		name string
		get  func() (crm.Customer, error)
		want error
	}{
		{"by id", func() (crm.Customer, error) { return st.Customer(ctx, ada.ID) }, nil},
		{"by email in another case", func() (crm.Customer, error) { return st.CustomerByEmail(ctx, " ada@EXAMPLE.com") }, nil},
		{"by phone without spaces", func() (crm.Customer, error) { return st.CustomerByPhone(ctx, "+41791234567") }, nil},
		{"by phone with dashes", func() (crm.Customer, error) { return st.CustomerByPhone(ctx, "+41-79-123-45-67") }, nil},
		{"by identity", func() (crm.Customer, error) {
			return st.CustomerByIdentity(ctx, crm.Identity{Channel: crm.ChannelSlack, ExternalID: "U123"})
		}, nil},
		{"unknown id", func() (crm.Customer, error) { return st.Customer(ctx, "cus_nobody") }, crm.ErrNotFound},
		{"unknown email", func() (crm.Customer, error) { return st.CustomerByEmail(ctx, "bob@example.com") }, crm.ErrNotFound},
		{"empty email", func() (crm.Customer, error) { return st.CustomerByEmail(ctx, "") }, crm.ErrNotFound},
		{"phone without its plus", func() (crm.Customer, error) { return st.CustomerByPhone(ctx, "41791234567") }, crm.ErrNotFound},
		{"unknown phone", func() (crm.Customer, error) { return st.CustomerByPhone(ctx, "+41791234568") }, crm.ErrNotFound},
		{"identity on another channel", func() (crm.Customer, error) {
			return st.CustomerByIdentity(ctx, crm.Identity{Channel: crm.ChannelWeb, ExternalID: "U123"})
		}, crm.ErrNotFound},
	}
	for _, tt := range lookups {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.get()
			wantErr(t, tt.name, err, tt.want)
			if tt.want == nil {
				if c.ID != ada.ID || c.Name != "Ada" || c.Attributes["newsletter"] != "weekly" || len(c.Identities) != 2 {
					t.Fatalf("got %+v, want %+v", c, ada)
				}
			}
		})
	}

	refused := []struct {
		name string
		c    crm.Customer
		want error
	}{
		{"taken id", crm.Customer{ID: ada.ID, Name: "Eve"}, crm.ErrConflict},
		{"taken email in another case", crm.Customer{Email: "ADA@example.com"}, crm.ErrConflict},
		{"taken phone in another format", crm.Customer{Phone: "+41 (79) 123-45-67"}, crm.ErrConflict},
		{"taken identity", crm.Customer{Identities: []crm.Identity{{Channel: crm.ChannelWeb, ExternalID: "visitor-1"}}}, crm.ErrConflict},
		{"free email, taken phone", crm.Customer{Email: "eve@example.com", Phone: "+41791234567"}, crm.ErrConflict},
		{"malformed email", crm.Customer{Email: "not an email"}, crm.ErrInvalid},
		{"malformed phone", crm.Customer{Phone: "n/a"}, crm.ErrInvalid},
		{"NUL in id", crm.Customer{ID: "a\x00b"}, crm.ErrInvalid},
		{"invalid UTF-8 name", crm.Customer{Name: "\xff"}, crm.ErrInvalid},
		{"identity without external id", crm.Customer{Identities: []crm.Identity{{Channel: crm.ChannelWeb}}}, crm.ErrInvalid},
	}
	for _, tt := range refused {
		t.Run("create "+tt.name, func(t *testing.T) {
			_, err := st.CreateCustomer(ctx, tt.c)
			wantErr(t, "create", err, tt.want)
		})
	}
	// The refused customer with a free e-mail left nothing behind.
	_, err := st.CustomerByEmail(ctx, "eve@example.com")
	wantErr(t, "e-mail of a refused customer", err, crm.ErrNotFound)
	if ids := must[[]string](t)(st.CustomerIDs(ctx)); len(ids) != 1 {
		t.Errorf("customers %v after refused creates, want only %s", ids, ada.ID)
	}

	// A customer with an id of the caller's choice.
	bob := must[crm.Customer](t)(st.CreateCustomer(ctx, crm.Customer{ID: "cus_bob", Name: "Bob"}))
	if bob.ID != "cus_bob" {
		t.Errorf("id %q, want the one given", bob.ID)
	}
}

func testCustomerUpdates(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	ada := must[crm.Customer](t)(st.CreateCustomer(ctx, newAda()))
	bob := must[crm.Customer](t)(st.CreateCustomer(ctx, crm.Customer{Name: "Bob", Email: "bob@example.com"}))

	t.Run("update moves the lookups", func(t *testing.T) {
		up, err := st.UpdateCustomer(ctx, ada.ID, func(c *crm.Customer) error {
			c.Email = "ada@new.example"
			c.Phone = "+44 20 7946 0018"
			c.Identities[0].ExternalID = "visitor-2" // changed in place
			c.Consent.Marketing = false
			c.ID = "cus_hijack"
			c.CreatedAt = time.Time{}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if up.ID != ada.ID || !up.CreatedAt.Equal(ada.CreatedAt) || up.UpdatedAt.Before(ada.UpdatedAt) {
			t.Fatalf("update changed the id or the times wrongly: %+v, was %+v", up, ada)
		}
		if up.Consent.Marketing || up.Consent.UpdatedAt.Before(ada.Consent.UpdatedAt) {
			t.Errorf("consent %+v after withdrawal, was %+v", up.Consent, ada.Consent)
		}
		if _, err := st.Customer(ctx, "cus_hijack"); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("the id given by fn was stored: %v", err)
		}
		gone := []struct {
			name string
			get  func() (crm.Customer, error)
		}{
			{"old email", func() (crm.Customer, error) { return st.CustomerByEmail(ctx, "ada@example.com") }},
			{"old phone", func() (crm.Customer, error) { return st.CustomerByPhone(ctx, "+41791234567") }},
			{"old identity", func() (crm.Customer, error) {
				return st.CustomerByIdentity(ctx, crm.Identity{Channel: crm.ChannelWeb, ExternalID: "visitor-1"})
			}},
		}
		for _, g := range gone {
			_, err := g.get()
			wantErr(t, g.name, err, crm.ErrNotFound)
		}
		found := []struct {
			name string
			get  func() (crm.Customer, error)
		}{
			{"new email", func() (crm.Customer, error) { return st.CustomerByEmail(ctx, "ADA@new.example") }},
			{"new phone", func() (crm.Customer, error) { return st.CustomerByPhone(ctx, "+442079460018") }},
			{"new identity", func() (crm.Customer, error) {
				return st.CustomerByIdentity(ctx, crm.Identity{Channel: crm.ChannelWeb, ExternalID: "visitor-2"})
			}},
			{"kept identity", func() (crm.Customer, error) {
				return st.CustomerByIdentity(ctx, crm.Identity{Channel: crm.ChannelSlack, ExternalID: "U123"})
			}},
		}
		for _, f := range found {
			c, err := f.get()
			if err != nil || c.ID != ada.ID {
				t.Errorf("%s: %q, %v; want %s", f.name, c.ID, err, ada.ID)
			}
		}
		// The freed e-mail can be taken by another customer.
		must[crm.Customer](t)(st.CreateCustomer(ctx, crm.Customer{Name: "Other Ada", Email: "ada@example.com"}))
	})

	t.Run("a conflict writes nothing", func(t *testing.T) {
		_, err := st.UpdateCustomer(ctx, bob.ID, func(c *crm.Customer) error {
			c.Name = "Robert"
			c.Email = "ADA@new.example"
			return nil
		})
		wantErr(t, "update to a taken e-mail", err, crm.ErrConflict)
		if c := must[crm.Customer](t)(st.Customer(ctx, bob.ID)); c.Email != "bob@example.com" || c.Name != "Bob" {
			t.Errorf("bob after a refused update: %+v", c)
		}
		if c := must[crm.Customer](t)(st.CustomerByEmail(ctx, "ada@new.example")); c.ID != ada.ID {
			t.Errorf("the e-mail now finds %s, want %s", c.ID, ada.ID)
		}
	})

	t.Run("an error from fn writes nothing", func(t *testing.T) {
		boom := errors.New("boom")
		before := must[crm.Customer](t)(st.Customer(ctx, ada.ID))
		_, err := st.UpdateCustomer(ctx, ada.ID, func(c *crm.Customer) error {
			c.Name = "changed"
			c.Identities[0].ExternalID = "changed in place"
			c.Attributes["newsletter"] = "changed in place"
			return boom
		})
		wantErr(t, "update", err, boom)
		after := must[crm.Customer](t)(st.Customer(ctx, ada.ID))
		if after.Name != before.Name || !slices.Equal(after.Identities, before.Identities) || !maps.Equal(after.Attributes, before.Attributes) {
			t.Errorf("after a failed update %+v, want %+v", after, before)
		}
	})

	t.Run("refused updates", func(t *testing.T) {
		_, err := st.UpdateCustomer(ctx, "cus_nobody", func(*crm.Customer) error { return nil })
		wantErr(t, "unknown customer", err, crm.ErrNotFound)
		_, err = st.UpdateCustomer(ctx, bob.ID, func(c *crm.Customer) error { c.Email = "@"; return nil })
		wantErr(t, "malformed email", err, crm.ErrInvalid)
	})
}

func testCustomerIDs(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	if ids := must[[]string](t)(st.CustomerIDs(ctx)); len(ids) != 0 {
		t.Fatalf("empty store lists %v", ids)
	}
	for _, id := range []string{"cus_c", "cus_a", "cus_d", "cus_b"} {
		must[crm.Customer](t)(st.CreateCustomer(ctx, crm.Customer{ID: id}))
	}
	equal(t, "customer ids", must[[]string](t)(st.CustomerIDs(ctx)), []string{"cus_a", "cus_b", "cus_c", "cus_d"})
}

func testOrders(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	ada := must[crm.Customer](t)(st.CreateCustomer(ctx, crm.Customer{Name: "Ada"}))
	bob := must[crm.Customer](t)(st.CreateCustomer(ctx, crm.Customer{Name: "Bob"}))
	for i, id := range []string{"1001", "1003", "1002", "1004"} {
		o := crm.Order{ID: id, CustomerID: ada.ID, Status: crm.OrderPaid, Currency: "EUR", PlacedAt: day(i),
			Items: []crm.OrderItem{{SKU: "S1", Name: "Shoe", Qty: 2, PriceCents: 4999}}}
		got := must[crm.Order](t)(st.PutOrder(ctx, o))
		if got.TotalCents != 9998 || got.UpdatedAt.IsZero() || !got.PlacedAt.Equal(day(i)) {
			t.Fatalf("put order %+v: want the total of its items, UpdatedAt set and PlacedAt kept", got)
		}
	}
	// Replace 1001 with a shipped version: PlacedAt left zero keeps the stored one.
	shipped := must[crm.Order](t)(st.Order(ctx, "1001"))
	shipped.Status, shipped.Carrier, shipped.Tracking, shipped.ShippedAt = crm.OrderShipped, "DHL", "JD0001", day(5)
	shipped.PlacedAt = time.Time{}
	must[crm.Order](t)(st.PutOrder(ctx, shipped))
	// Move 1004 to Bob.
	moved := must[crm.Order](t)(st.Order(ctx, "1004"))
	moved.CustomerID = bob.ID
	must[crm.Order](t)(st.PutOrder(ctx, moved))

	list := must[[]crm.Order](t)(st.OrdersByCustomer(ctx, ada.ID, 0))
	equal(t, "ada's orders", orderIDs(list), []string{"1002", "1003", "1001"})
	if o := list[2]; o.Status != crm.OrderShipped || o.Tracking != "JD0001" || !o.PlacedAt.Equal(day(0)) || !o.ShippedAt.Equal(day(5)) {
		t.Errorf("replaced order: %+v", o)
	}
	equal(t, "ada's latest 2", orderIDs(must[[]crm.Order](t)(st.OrdersByCustomer(ctx, ada.ID, 2))), []string{"1002", "1003"})
	equal(t, "bob's orders", orderIDs(must[[]crm.Order](t)(st.OrdersByCustomer(ctx, bob.ID, 0))), []string{"1004"})
	none := must[[]crm.Order](t)(st.OrdersByCustomer(ctx, "cus_nobody", 0))
	if none == nil || len(none) != 0 {
		t.Errorf("orders of an unknown customer: %#v, want an empty slice", none)
	}
	// An order put without PlacedAt is placed when it is put.
	now := must[crm.Order](t)(st.PutOrder(ctx, crm.Order{ID: "1005", CustomerID: ada.ID, Status: crm.OrderPlaced, TotalCents: 100}))
	if now.PlacedAt.IsZero() || now.TotalCents != 100 {
		t.Errorf("order without PlacedAt: %+v", now)
	}
	if got := must[[]crm.Order](t)(st.OrdersByCustomer(ctx, ada.ID, 1)); len(got) != 1 || got[0].ID != "1005" {
		t.Errorf("newest order %v, want 1005", orderIDs(got))
	}

	for _, tt := range []struct {
		name string
		o    crm.Order
		want error
	}{
		{"unknown customer", crm.Order{ID: "2000", CustomerID: "cus_nobody", Status: crm.OrderPaid}, crm.ErrNotFound},
		{"unknown status", crm.Order{ID: "2000", CustomerID: ada.ID, Status: "lost"}, crm.ErrInvalid},
		{"no quantity", crm.Order{ID: "2000", CustomerID: ada.ID, Status: crm.OrderPaid, Items: []crm.OrderItem{{SKU: "S1"}}}, crm.ErrInvalid},
		{"no id", crm.Order{CustomerID: ada.ID, Status: crm.OrderPaid}, crm.ErrInvalid},
		{"no customer", crm.Order{ID: "2000", Status: crm.OrderPaid}, crm.ErrInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := st.PutOrder(ctx, tt.o)
			wantErr(t, "put order", err, tt.want)
		})
	}
	_, err := st.Order(ctx, "2000")
	wantErr(t, "refused order", err, crm.ErrNotFound)
}
