package boltdb

import (
	"context"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

// Backup writes a consistent copy of the whole file to w while the store stays
// in use, and returns the bytes written. The copy is a bbolt file that Open
// accepts. It holds one read transaction for the whole copy: writers go on,
// but the file cannot reuse pages freed meanwhile, and a writer that must grow
// the file waits for the copy to finish. Cancelling ctx stops the copy with
// ctx's error.
func (db *DB) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(ctxWriter{ctx: ctx, w: w})
		return err
	})
	if err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	return n, nil
}

// Import implements Store. Passwords of seed agents are hashed before the
// transaction starts. Message texts are redacted as by AppendMessage.
// Conversations get the store's defaults (crm.ConversationDefaults: a
// StateSince of CreatedAt when none is given) and their time index
// entries; canned responses fail with ErrConflict on a shortcut already
// there.
func (db *DB) Import(ctx context.Context, s crm.Snapshot) error {
	agents, msgs, err := crm.PrepareSnapshot(s, db.cost, db.maxMsg)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	err = db.update(ctx, func(tx *bolt.Tx) error {
		now := db.now()
		for _, c := range s.Customers {
			crm.CustomerDefaults(&c, now)
			if err := createCustomerTx(tx, &c); err != nil {
				return fmt.Errorf("customer %q: %w", c.ID, err)
			}
		}
		for _, o := range s.Orders {
			if tx.Bucket(bucketOrders).Get([]byte(o.ID)) != nil {
				return fmt.Errorf("order %q: %w", o.ID, crm.ErrConflict)
			}
			if o.UpdatedAt.IsZero() {
				o.UpdatedAt = now
			}
			if err := putOrderTx(tx, &o); err != nil {
				return fmt.Errorf("order %q: %w", o.ID, err)
			}
		}
		for _, c := range s.Conversations {
			// The messages below set these again.
			c.LastSeq, c.LastCustomerSeq, c.AnsweredSeq = 0, 0, 0
			crm.ConversationDefaults(&c, now)
			if err := createConversationTx(tx, &c); err != nil {
				return fmt.Errorf("conversation %q: %w", c.ID, err)
			}
		}
		for i, m := range msgs {
			if err := db.importMessageTx(tx, m); err != nil {
				return fmt.Errorf("message %d of conversation %q: %w", i, m.ConversationID, err)
			}
		}
		for _, t := range s.Tickets {
			crm.TicketDefaults(&t, now)
			if err := createTicketTx(tx, &t); err != nil {
				return fmt.Errorf("ticket %q: %w", t.ID, err)
			}
		}
		for _, f := range s.Feedback {
			crm.FeedbackDefaults(&f, now)
			if err := addFeedbackTx(tx, &f); err != nil {
				return fmt.Errorf("feedback %q: %w", f.ID, err)
			}
		}
		for _, a := range agents {
			if tx.Bucket(bucketAgents).Get([]byte(a.Login)) != nil {
				return fmt.Errorf("agent %q: %w", a.Login, crm.ErrConflict)
			}
			if err := putAgentTx(tx, &a); err != nil {
				return fmt.Errorf("agent %q: %w", a.Login, err)
			}
		}
		for _, c := range s.Canned {
			if err := importCannedTx(tx, c, now); err != nil {
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

// Stats implements Store. It walks every bucket: fine for a health page or a
// "seed on first start" check, not for a hot path.
func (db *DB) Stats(ctx context.Context) (crm.Stats, error) {
	var s crm.Stats
	err := db.view(ctx, func(tx *bolt.Tx) error {
		for _, c := range []struct {
			bucket []byte
			n      *int
		}{
			{bucketCustomers, &s.Customers}, {bucketOrders, &s.Orders}, {bucketConversations, &s.Conversations},
			{bucketMessages, &s.Messages}, {bucketTickets, &s.Tickets}, {bucketFeedback, &s.Feedback},
			{bucketAgents, &s.Agents}, {bucketEvents, &s.Events}, {bucketCanned, &s.Canned},
		} {
			// A file CheckFile reads may be of a schema before the
			// bucket (it does not migrate): nothing of that kind then.
			if b := tx.Bucket(c.bucket); b != nil {
				*c.n = b.Stats().KeyN
			}
		}
		return nil
	})
	if err != nil {
		return crm.Stats{}, fmt.Errorf("stats: %w", err)
	}
	return s, nil
}
