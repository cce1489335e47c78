package dialog_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// "What other orders do I have?": a verified customer hears their latest
// orders, newest first, each with its status; a visitor who is not verified
// is asked for proof first and hears nothing of the orders.
func TestListOrders(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	conv := h.start(t, "ana@example.com")
	out := h.say(t, conv.ID, "what other orders do I have?", "list_orders:0.9")
	got := replyText(out)
	if !slices.Contains(out.Actions, dialog.ActionListOrders) {
		t.Errorf("actions %v, want %s", out.Actions, dialog.ActionListOrders)
	}
	c, err := h.db.CustomerByEmail(ctx, "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	hist, err := h.db.History(ctx, conv.ID, crm.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Orders) < 2 {
		t.Fatalf("the seed gives %s %d orders; the test needs two", c.Email, len(hist.Orders))
	}
	last := -1
	for _, o := range hist.Orders {
		i := strings.Index(got, o.ID+" ("+string(o.Status))
		if i < 0 {
			t.Errorf("the reply %q lacks order %s (%s)", got, o.ID, o.Status)
			continue
		}
		if i < last {
			t.Errorf("the reply %q is not newest first", got)
		}
		last = i
	}

	anon := h.start(t, "")
	out = h.say(t, anon.ID, "what other orders do I have?", "list_orders:0.9")
	if slices.Contains(out.Actions, dialog.ActionListOrders) || strings.Contains(replyText(out), hist.Orders[0].ID) {
		t.Errorf("an unverified visitor got %v: %q", out.Actions, replyText(out))
	}
}
