package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/crm"
)

// Import implements crm.Store, in one transaction: all of s or, on any
// error, none of it. Passwords of seed agents are hashed, and messages
// checked and redacted, before it starts (crm.PrepareSnapshot). Records get
// the defaults the bbolt store gives them: customers an id and times,
// orders an UpdatedAt (and a PlacedAt and total), conversations
// crm.ConversationDefaults (their seqs are set again by their messages,
// and imported customer messages count as answered), tickets
// crm.TicketDefaults, ratings crm.FeedbackDefaults, canned responses an
// UpdatedAt. A record already stored, or twice in s (id, e-mail, phone,
// identity, client id, agent login, canned shortcut), fails it with
// ErrConflict.
func (db *DB) Import(ctx context.Context, s crm.Snapshot) error {
	agents, msgs, err := crm.PrepareSnapshot(s, db.cost, db.maxMsg)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	// The transaction may run again (see write): every record is copied
	// before the helpers fill in, validate and redact it in place.
	err = db.write(ctx, func(tx pgx.Tx) error {
		now := db.now()
		for _, c := range s.Customers {
			c.Identities = slices.Clone(c.Identities)
			c.Attributes = maps.Clone(c.Attributes)
			crm.CustomerDefaults(&c, now)
			if err := importCustomerTx(ctx, tx, &c); err != nil {
				return fmt.Errorf("customer %q: %w", c.ID, err)
			}
		}
		for _, o := range s.Orders {
			o.Items = slices.Clone(o.Items)
			if o.UpdatedAt.IsZero() {
				o.UpdatedAt = now
			}
			if err := importOrderTx(ctx, tx, &o); err != nil {
				return fmt.Errorf("order %q: %w", o.ID, err)
			}
		}
		for _, c := range s.Conversations {
			c = cloneConversation(c)
			// The messages below set these again.
			c.LastSeq, c.LastCustomerSeq, c.AnsweredSeq = 0, 0, 0
			crm.ConversationDefaults(&c, now)
			if err := crm.ValidateConversation(&c); err != nil {
				return fmt.Errorf("conversation %q: %w", c.ID, err)
			}
			if err := insertConversation(ctx, tx, &c); err != nil {
				return fmt.Errorf("conversation %q: %w", c.ID, err)
			}
		}
		if err := importMessagesTx(ctx, tx, msgs, now); err != nil {
			return err
		}
		for _, t := range s.Tickets {
			t.History = slices.Clone(t.History)
			t.Conversations = slices.Clone(t.Conversations)
			crm.TicketDefaults(&t, now)
			if err := createTicketTx(ctx, tx, &t); err != nil {
				return fmt.Errorf("ticket %q: %w", t.ID, err)
			}
		}
		for _, f := range s.Feedback {
			crm.FeedbackDefaults(&f, now)
			if err := addFeedbackTx(ctx, tx, &f); err != nil {
				return fmt.Errorf("feedback %q: %w", f.ID, err)
			}
		}
		for _, a := range agents {
			if err := crm.ValidateAgent(&a); err != nil {
				return fmt.Errorf("agent %q: %w", a.Login, err)
			}
			if err := insertNew(ctx, tx, `insert into agents (login, doc) values ($1, $2) on conflict do nothing`, a.Login, &a); err != nil {
				return fmt.Errorf("agent %q: %w", a.Login, err)
			}
		}
		for _, c := range s.Canned {
			if err := crm.ValidateCanned(&c); err != nil {
				return fmt.Errorf("canned response %q: %w", c.Shortcut, err)
			}
			if c.UpdatedAt.IsZero() {
				c.UpdatedAt = now
			}
			if err := insertNew(ctx, tx, `insert into canned (shortcut, doc) values ($1, $2) on conflict do nothing`, c.Shortcut, &c); err != nil {
				return fmt.Errorf("canned response %q: %w", c.Shortcut, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	return nil
}

// insertNew runs sql, an insert of (key, the JSON of doc) that does
// nothing on a conflict, and fails with ErrConflict when it did nothing.
func insertNew(ctx context.Context, tx pgx.Tx, sql, key string, doc any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, sql, key, string(b))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%q taken: %w", key, crm.ErrConflict)
	}
	return nil
}

// importCustomerTx validates c, whose ID and times are set, and inserts it
// as CreateCustomer does.
func importCustomerTx(ctx context.Context, tx pgx.Tx, c *crm.Customer) error {
	if err := crm.ValidateCustomer(c); err != nil {
		return err
	}
	return insertCustomer(ctx, tx, c)
}

// importOrderTx stores a new order, whose UpdatedAt is set, as PutOrder
// would (its total from its items when zero, PlacedAt UpdatedAt when
// zero). ErrConflict for a taken id, ErrNotFound for an unknown customer.
func importOrderTx(ctx context.Context, tx pgx.Tx, o *crm.Order) error {
	if o.TotalCents == 0 {
		for _, it := range o.Items {
			o.TotalCents += int64(it.Qty) * it.PriceCents
		}
	}
	if o.PlacedAt.IsZero() {
		o.PlacedAt = o.UpdatedAt
	}
	if err := crm.ValidateOrder(o); err != nil {
		return err
	}
	if err := lockCustomerRow(ctx, tx, "order customer", o.CustomerID); err != nil {
		return err
	}
	doc, err := json.Marshal(o)
	if err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `insert into orders (id, customer_id, placed_ns, doc) values ($1, $2, $3, $4)
		on conflict (id) do nothing`, o.ID, o.CustomerID, nanos(o.PlacedAt), string(doc))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("order %q: %w", o.ID, crm.ErrConflict)
	}
	return nil
}

// importMessagesTx appends the snapshot's messages, prepared, to their
// conversations in order, keeping their own ID and CreatedAt when set. A
// non-zero Seq must be the next one (ErrInvalid). Each conversation's row
// is locked once, and written back once at the end with its LastSeq,
// LastCustomerSeq, AnsweredSeq (imported history counts as answered: a
// restored backup is not answered again), UpdatedAt and LastAgentAt.
func importMessagesTx(ctx context.Context, tx pgx.Tx, msgs []crm.Message, now time.Time) error {
	convs := map[string]*crm.Conversation{}
	var order []string
	for i, m := range msgs {
		conv := convs[m.ConversationID]
		if conv == nil {
			c, err := getConversation(ctx, tx, m.ConversationID, true)
			if err != nil {
				return fmt.Errorf("message %d: %w", i, err)
			}
			conv = &c
			convs[c.ID] = conv
			order = append(order, c.ID)
		}
		if m.Seq != 0 && m.Seq != conv.LastSeq+1 {
			return fmt.Errorf("message %d: seq %d in conversation %q after %d: %w", i, m.Seq, m.ConversationID, conv.LastSeq, crm.ErrInvalid)
		}
		m.Seq = conv.LastSeq + 1
		if m.ID == "" {
			m.ID = crm.NewID("msg")
		} else if err := crm.CheckKeyPart("message id", m.ID); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
		if m.CreatedAt.IsZero() {
			m.CreatedAt = now
		}
		if err := insertMessage(ctx, tx, &m); err != nil {
			return fmt.Errorf("message %d of conversation %q: %w", i, m.ConversationID, err)
		}
		conv.LastSeq = m.Seq
		if m.Sender == crm.SenderCustomer {
			conv.LastCustomerSeq, conv.AnsweredSeq = m.Seq, m.Seq
		}
		if conv.UpdatedAt.Before(m.CreatedAt) {
			conv.UpdatedAt = m.CreatedAt
		}
		if m.Sender == crm.SenderAgent && conv.LastAgentAt.Before(m.CreatedAt) {
			conv.LastAgentAt = m.CreatedAt
		}
	}
	for _, id := range order {
		if err := saveConversation(ctx, tx, convs[id]); err != nil {
			return fmt.Errorf("conversation %q: %w", id, err)
		}
	}
	return nil
}

// Stats implements crm.Store: one statement, so the counts are of one
// snapshot of the database. Each count reads a whole table: fine for a
// health page or a "seed on first start" check, not for a hot path.
func (db *DB) Stats(ctx context.Context) (crm.Stats, error) {
	var s crm.Stats
	err := db.read(ctx, func(q querier) error {
		return q.QueryRow(ctx, `select
			(select count(*) from customers), (select count(*) from orders),
			(select count(*) from conversations), (select count(*) from messages),
			(select count(*) from tickets), (select count(*) from feedback),
			(select count(*) from agents), (select count(*) from events),
			(select count(*) from canned)`).Scan(
			&s.Customers, &s.Orders, &s.Conversations, &s.Messages,
			&s.Tickets, &s.Feedback, &s.Agents, &s.Events, &s.Canned)
	})
	if err != nil {
		return crm.Stats{}, fmt.Errorf("stats: %w", err)
	}
	return s, nil
}
