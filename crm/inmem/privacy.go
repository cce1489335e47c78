package inmem

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/parleyhq/parley/crm"
)

// EraseCustomer implements crm.PrivacyStore. Erasure.IndexEntries counts
// what the bbolt store counts (e-mail, phone and identity lookups, and one
// entry per order, per conversation (by customer and by creation time),
// per open conversation, per resolved conversation (by closing time), per
// client id, per ticket and open ticket, per rating's customer and
// conversation), so that both report the same numbers.
func (s *Store) EraseCustomer(ctx context.Context, id string) (crm.Erasure, error) {
	var e crm.Erasure
	err := s.write(ctx, func(d *data) error {
		c, ok := d.customers[id]
		if !ok {
			return fmt.Errorf("customer %q: %w", id, crm.ErrNotFound)
		}
		e = crm.Erasure{CustomerID: id}
		e.IndexEntries = d.setLookups(&c, false)
		delete(d.customers, id)

		for oid, o := range d.orders {
			if o.CustomerID == id {
				delete(d.orders, oid)
				e.Orders++
				e.IndexEntries++
			}
		}
		erased := map[string]bool{}
		for _, conv := range d.conversationsOf(id) {
			erased[conv.c.ID] = true
			delete(d.convs, conv.c.ID)
			e.Conversations++
			e.Messages += len(conv.msgs)
			e.Events += len(conv.events)
			e.IndexEntries += len(conv.clients) + 2 // by customer, by creation time
			if conv.c.Open() {
				e.IndexEntries++
			}
			if conv.c.State == crm.StateResolved {
				e.IndexEntries++
			}
		}
		for tid, t := range d.tickets {
			if t.CustomerID == id {
				delete(d.tickets, tid)
				e.Tickets++
				e.IndexEntries++
				if t.Status.Open() {
					e.IndexEntries++
				}
			}
		}
		// Ratings: the customer's own, and any left on their conversations.
		for fid, f := range d.feedback {
			if f.CustomerID == id || erased[f.ConversationID] {
				delete(d.feedback, fid)
				e.Feedback++
				if f.CustomerID != "" {
					e.IndexEntries++
				}
				if f.ConversationID != "" {
					e.IndexEntries++
				}
			}
		}
		return nil
	})
	if err != nil {
		return crm.Erasure{}, fmt.Errorf("erase customer: %w", err)
	}
	return e, nil
}

// ExportCustomer implements crm.PrivacyStore. The records are copied under
// the read lock and written to w after it is released.
func (s *Store) ExportCustomer(ctx context.Context, id string, w io.Writer) error {
	ex := crm.Export{ExportedAt: s.now()}
	err := s.read(ctx, func(d *data) error {
		var err error
		if ex.Customer, err = d.customer(id); err != nil {
			return err
		}
		ex.Orders = d.ordersOf(id)
		ex.Conversations = []crm.ExportConversation{}
		for _, c := range d.conversationsOf(id) {
			ex.Conversations = append(ex.Conversations, crm.ExportConversation{
				Conversation: cloneConversation(c.c),
				Messages:     cloneMessages(c.msgs),
				Events:       append([]crm.Event{}, c.events...),
			})
		}
		ex.Tickets = d.ticketsOf(id)
		ex.Feedback = []crm.Feedback{}
		for _, f := range d.feedback {
			if f.CustomerID == id {
				ex.Feedback = append(ex.Feedback, f)
			}
		}
		slices.SortFunc(ex.Feedback, func(a, b crm.Feedback) int { return newestFirst(a.CreatedAt, b.CreatedAt, a.ID, b.ID) })
		return nil
	})
	if err != nil {
		return fmt.Errorf("export customer: %w", err)
	}
	if err := crm.WriteExport(w, &ex); err != nil {
		return fmt.Errorf("export customer: %w", err)
	}
	return nil
}
