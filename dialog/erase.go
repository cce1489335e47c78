package dialog

import (
	"context"
	"fmt"
	"slices"

	"github.com/parleyhq/parley/crm"
)

// eraseKey serialises erasures in the engine's turn lock (and its Locker,
// across processes). Conversation ids never hold a NUL byte (crm validates
// them), so it is no conversation's key.
const eraseKey = "\x00erase"

// Erase removes the customer and everything that belongs to them through the
// store (crm.PrivacyStore.EraseCustomer) and then publishes an EventErased
// for each of their conversations, so that every channel still attached to
// one ends it. It holds the turn lock of each of those conversations during
// the erasure: a turn in progress finishes first, and none runs meanwhile.
// A conversation linked to the customer after Erase listed them (a race of a
// few microseconds) is erased too, without an event: its channel learns it on
// its next message (crm.ErrNotFound).
//
// Errors come from the store: crm.ErrNotFound when there is no such customer;
// nothing is erased or published on an error. Cancelling ctx while Erase
// waits for a turn gives ctx's error.
func (e *Engine) Erase(ctx context.Context, customerID string) (crm.Erasure, error) {
	// Two erasures at once would take the locks of a conversation that moves
	// between customers in different orders.
	unlock, err := e.lock(ctx, eraseKey)
	if err != nil {
		return crm.Erasure{}, fmt.Errorf("erase customer: %w", err)
	}
	defer unlock()
	convs, err := e.store.ConversationsByCustomer(ctx, customerID, 0)
	if err != nil {
		return crm.Erasure{}, fmt.Errorf("erase customer: %w", err)
	}
	ids := make([]string, len(convs))
	for i, c := range convs {
		ids[i] = c.ID
	}
	slices.Sort(ids)
	for _, id := range ids {
		unlock, err := e.lock(ctx, id)
		if err != nil {
			return crm.Erasure{}, fmt.Errorf("erase customer: %w", err)
		}
		defer unlock()
	}
	er, err := e.store.EraseCustomer(ctx, customerID)
	if err != nil {
		return crm.Erasure{}, err // the store's error names the operation
	}
	for _, id := range ids {
		e.events.Publish(Event{Type: EventErased, ConversationID: id})
	}
	e.log.Info("customer erased", "customer", customerID, "conversations", er.Conversations)
	return er, nil
}
