package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/crm"
)

// EraseCustomer implements crm.PrivacyStore, in one transaction. The
// customer's row and their conversations' rows are locked (for update)
// first: a message, event, ticket or rating being added for them
// concurrently either commits before and is erased with them, or waits and
// then finds them gone. Erasure.IndexEntries counts what the bbolt store
// counts (e-mail, phone and identity lookups; one entry per order, per
// conversation by customer and by creation time, per open or resolved
// conversation, per client id, per ticket and open ticket, per rating's
// customer and conversation), so that the stores report the same numbers.
//
// Erased rows leave the tables at once; their bytes stay in the table
// files until PostgreSQL vacuums and reuses the space.
func (db *DB) EraseCustomer(ctx context.Context, id string) (crm.Erasure, error) {
	var e crm.Erasure
	err := db.write(ctx, func(tx pgx.Tx) error {
		e = crm.Erasure{CustomerID: id}
		var cu crm.Customer
		err := tx.QueryRow(ctx, `select doc from customers where id = $1 for update`, id).Scan(&cu)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("customer %q: %w", id, crm.ErrNotFound)
		}
		if err != nil {
			return err
		}
		e.IndexEntries = len(cu.Identities)
		if cu.Email != "" {
			e.IndexEntries++
		}
		if cu.Phone != "" {
			e.IndexEntries++
		}

		convs, err := queryConversations(ctx, tx, `select doc from conversations where customer_id = $1 for update`, id)
		if err != nil {
			return err
		}
		convIDs := make([]string, len(convs))
		for i, c := range convs {
			convIDs[i] = c.ID
			e.IndexEntries += 2 // by customer, by creation time
			if c.Open() || !c.ClosedAt.IsZero() {
				e.IndexEntries++ // the open index, or the closed one
			}
		}

		// Ratings: the customer's own, and any left on their
		// conversations (before the customer was known).
		rows, err := tx.Query(ctx, `delete from feedback where customer_id = $1 or conversation_id = any($2)
			returning (customer_id is not null)::int + (conversation_id is not null)::int`, id, convIDs)
		if err != nil {
			return err
		}
		entries, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return err
		}
		e.Feedback = len(entries)
		for _, n := range entries {
			e.IndexEntries += int(n)
		}

		tag, err := tx.Exec(ctx, `delete from events where conversation_id = any($1)`, convIDs)
		if err != nil {
			return err
		}
		e.Events = int(tag.RowsAffected())
		var clients int
		err = tx.QueryRow(ctx, `with gone as (delete from messages where conversation_id = any($1) returning client_id)
			select count(*), count(client_id) from gone`, convIDs).Scan(&e.Messages, &clients)
		if err != nil {
			return err
		}
		e.IndexEntries += clients
		if tag, err = tx.Exec(ctx, `delete from conversations where id = any($1)`, convIDs); err != nil {
			return err
		}
		e.Conversations = int(tag.RowsAffected())

		if tag, err = tx.Exec(ctx, `delete from orders where customer_id = $1`, id); err != nil {
			return err
		}
		e.Orders = int(tag.RowsAffected())
		e.IndexEntries += e.Orders

		var open int
		err = tx.QueryRow(ctx, `with gone as (delete from tickets where customer_id = $1 returning status)
			select count(*), count(*) filter (where status in ('open', 'pending')) from gone`, id).Scan(&e.Tickets, &open)
		if err != nil {
			return err
		}
		e.IndexEntries += e.Tickets + open

		if _, err := tx.Exec(ctx, `delete from customer_identities where customer_id = $1`, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `delete from customers where id = $1`, id)
		return err
	})
	if err != nil {
		return crm.Erasure{}, fmt.Errorf("erase customer: %w", err)
	}
	return e, nil
}

// ExportCustomer implements crm.PrivacyStore. The records are read in one
// snapshot (readSnapshot) and written to w after it ends; nothing is
// written when the read fails.
func (db *DB) ExportCustomer(ctx context.Context, id string, w io.Writer) error {
	ex := crm.Export{ExportedAt: db.now()}
	err := db.readSnapshot(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `select doc from customers where id = $1`, id).Scan(&ex.Customer)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("customer %q: %w", id, crm.ErrNotFound)
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `select doc from orders where customer_id = $1 order by placed_ns desc, id desc`, id)
		if err != nil {
			return err
		}
		if ex.Orders, err = pgx.CollectRows(rows, pgx.RowTo[crm.Order]); err != nil {
			return err
		}
		if ex.Conversations, err = exportConversations(ctx, tx, id); err != nil {
			return err
		}
		if ex.Tickets, err = queryTickets(ctx, tx, `select doc from tickets where customer_id = $1
			order by updated_ns desc, id desc`, id); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `select doc from feedback where customer_id = $1 order by created_ns desc, id desc`, id)
		if err != nil {
			return err
		}
		ex.Feedback, err = pgx.CollectRows(rows, pgx.RowTo[crm.Feedback])
		return err
	})
	if err != nil {
		return fmt.Errorf("export customer: %w", err)
	}
	if err := crm.WriteExport(w, &ex); err != nil {
		return fmt.Errorf("export customer: %w", err)
	}
	return nil
}

// exportConversations reads the customer's conversations, newest first,
// each with its messages and events in seq order (empty lists, not nil).
func exportConversations(ctx context.Context, tx pgx.Tx, customerID string) ([]crm.ExportConversation, error) {
	convs, err := queryConversations(ctx, tx, `select doc from conversations where customer_id = $1
		order by created_ns desc, id desc`, customerID)
	if err != nil {
		return nil, err
	}
	out := make([]crm.ExportConversation, len(convs))
	at := make(map[string]*crm.ExportConversation, len(convs))
	ids := make([]string, len(convs))
	for i, c := range convs {
		out[i] = crm.ExportConversation{Conversation: c, Messages: []crm.Message{}, Events: []crm.Event{}}
		at[c.ID] = &out[i]
		ids[i] = c.ID
	}
	rows, err := tx.Query(ctx, `select doc from messages where conversation_id = any($1) order by conversation_id, seq`, ids)
	if err != nil {
		return nil, err
	}
	msgs, err := pgx.CollectRows(rows, pgx.RowTo[crm.Message])
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if ec := at[m.ConversationID]; ec != nil {
			ec.Messages = append(ec.Messages, m)
		}
	}
	rows, err = tx.Query(ctx, `select doc from events where conversation_id = any($1) order by conversation_id, seq`, ids)
	if err != nil {
		return nil, err
	}
	evs, err := pgx.CollectRows(rows, pgx.RowTo[crm.Event])
	if err != nil {
		return nil, err
	}
	for _, ev := range evs {
		if ec := at[ev.ConversationID]; ec != nil {
			ec.Events = append(ec.Events, ev)
		}
	}
	return out, nil
}
