package triage

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shoptest"
)

// TestEngineWithModels runs the dialog engine with the models loaded from
// disk, as "bot serve" does: every message is scored, and a handoff is
// routed by the model, which says why.
func TestEngineWithModels(t *testing.T) {
	ctx := context.Background()
	router, scorer, err := Load(shared(t).dir)
	if err != nil {
		t.Fatal(err)
	}
	db := seededStore(t)
	e, err := dialog.New(dialog.Config{Domain: shoptest.Domain(t), Parser: keywordNLU{}, Store: db,
		Now: func() time.Time { return now }, Router: router, Scorer: scorer})
	if err != nil {
		t.Fatal(err)
	}
	ana, err := db.CustomerByEmail(ctx, "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	conv, err := e.Start(ctx, dialog.StartRequest{Channel: crm.ChannelWeb, CustomerID: ana.ID})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "my parcel for order 1042 never arrived"})
	if err != nil {
		t.Fatal(err)
	}
	risk := out.Conversation.SatisfactionRisk
	if !(risk > 0 && risk < 1) {
		t.Errorf("risk after the first message: %v", risk)
	}
	out, err = e.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "can I talk to a human please"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.Conversation(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != crm.StateWaiting || c.Queue == "" || !strings.Contains(c.RoutingReason, "routed by model: queue ") {
		t.Fatalf("conversation %s in %q: %q", c.State, c.Queue, c.RoutingReason)
	}
	if c.SatisfactionRisk == 0 || c.SatisfactionRisk == risk {
		t.Errorf("risk not updated: %v then %v", risk, c.SatisfactionRisk)
	}
	t.Logf("routed to %s at %s: %s (risk %.2f)", c.Queue, c.Priority, c.RoutingReason, c.SatisfactionRisk)
}
