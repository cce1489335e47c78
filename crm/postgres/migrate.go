package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/crm"
)

// Copy is a batch of records exactly as another store holds them, for
// CopyRecords (bot migrate: a bbolt store into PostgreSQL). Unlike Import,
// nothing is filled in, renumbered, redacted or re-hashed: ids, seqs,
// answered seqs, times and password hashes arrive as they are.
type Copy struct {
	Customers     []crm.Customer
	Orders        []crm.Order
	Conversations []crm.Conversation
	Messages      []crm.Message
	Events        []crm.Event
	Tickets       []crm.Ticket
	Feedback      []crm.Feedback
	Agents        []crm.Agent // with PasswordHash as stored
	Canned        []crm.CannedResponse
	Seen          []SeenKey
	Links         []Link
}

// SeenKey is a channel event taken (crm.ChannelStateStore.MarkSeen) and
// when. PostgreSQL keeps the time to the microsecond.
type SeenKey struct {
	Key string
	At  time.Time
}

// Link is a channel link (crm.ChannelStateStore.PutLink).
type Link struct {
	Key, Value string
}

// CopyResult counts what CopyRecords did with a batch.
type CopyResult struct {
	Added   int // records that were not there and are now
	Present int // records that were there already, equal to the batch's
}

// copyRow is one record of a batch: the insert that adds it unless a row
// with one of its keys is there, and, for when it was there, the query
// that reads the stored row and the test that it equals the record.
type copyRow struct {
	what   string // names the record in errors
	insert string
	args   []any
	lookup string
	key    []any
	same   func(pgx.Row) (bool, error)
	added  func(ctx context.Context, tx pgx.Tx) error // runs when the insert added the row; may be nil
}

// maxConflictsListed bounds how many differing records an error names.
const maxConflictsListed = 5

// CopyRecords stores the records of c in one transaction, in an order that
// satisfies the references between them (customers before their orders,
// conversations before their messages, ...), each one only if no record
// with its key is stored: a record already stored and equal to c's is
// counted as Present and left alone, so that a copy cut short and run
// again stores nothing twice. A stored record that differs from c's (or a
// record whose e-mail, phone, identity or client id another holds) fails
// the whole batch, nothing written, with an error that names up to five of
// them and wraps crm.ErrConflict; a record that refers to one the
// database lacks fails it with crm.ErrNotFound.
func (db *DB) CopyRecords(ctx context.Context, c Copy) (CopyResult, error) {
	rows, err := copyRows(&c)
	if err != nil {
		return CopyResult{}, fmt.Errorf("copy records: %w", err)
	}
	var res CopyResult
	err = db.write(ctx, func(tx pgx.Tx) error {
		var err error
		res, err = copyTx(ctx, tx, rows) // afresh when the transaction runs again
		return err
	})
	if err != nil {
		return CopyResult{}, fmt.Errorf("copy records: %w", err)
	}
	return res, nil
}

// copyTx inserts rows in one round trip, then reads back, in a second,
// those that were there already, and compares them.
func copyTx(ctx context.Context, tx pgx.Tx, rows []copyRow) (CopyResult, error) {
	var res CopyResult
	if len(rows) == 0 {
		return res, nil
	}
	b := &pgx.Batch{}
	for _, r := range rows {
		b.Queue(r.insert, r.args...)
	}
	br := tx.SendBatch(ctx, b)
	var present []int
	for i, r := range rows {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return res, fmt.Errorf("%s: %w", r.what, mapErr(err))
		}
		if tag.RowsAffected() == 0 {
			present = append(present, i)
		}
	}
	if err := br.Close(); err != nil {
		return res, err
	}
	res.Added = len(rows) - len(present)
	for i, r := range rows {
		if r.added == nil || isIn(present, i) {
			continue
		}
		if err := r.added(ctx, tx); err != nil {
			return res, fmt.Errorf("%s: %w", r.what, mapErr(err))
		}
	}
	if len(present) == 0 {
		return res, nil
	}
	b = &pgx.Batch{}
	for _, i := range present {
		b.Queue(rows[i].lookup, rows[i].key...)
	}
	br = tx.SendBatch(ctx, b)
	var differ []string
	for _, i := range present {
		same, err := rows[i].same(br.QueryRow())
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			differ = append(differ, rows[i].what+" (another record holds one of its unique keys)")
		case err != nil:
			br.Close()
			return res, fmt.Errorf("%s: %w", rows[i].what, err)
		case !same:
			differ = append(differ, rows[i].what)
		}
	}
	if err := br.Close(); err != nil {
		return res, err
	}
	if len(differ) > 0 {
		n := len(differ)
		if n > maxConflictsListed {
			differ = append(differ[:maxConflictsListed], "...")
		}
		return res, fmt.Errorf("%d record(s) already in the database differ from the ones copied (%s): %w",
			n, strings.Join(differ, ", "), crm.ErrConflict)
	}
	res.Present = len(present)
	return res, nil
}

func isIn(sorted []int, i int) bool {
	for _, v := range sorted {
		if v == i {
			return true
		}
		if v > i {
			return false
		}
	}
	return false
}

// sameDoc returns the test that a stored row's document (selected as
// text) is want: both are compared as the JSON encoding of a T, so that
// spacing and key order in the stored text do not count.
func sameDoc[T any](want []byte) func(pgx.Row) (bool, error) {
	return func(row pgx.Row) (bool, error) {
		var text string
		if err := row.Scan(&text); err != nil {
			return false, err
		}
		var got T
		if err := json.Unmarshal([]byte(text), &got); err != nil {
			return false, fmt.Errorf("decode stored document: %w", err)
		}
		b, err := json.Marshal(&got)
		if err != nil {
			return false, err
		}
		return string(b) == string(want), nil
	}
}

// docRow is a copyRow for a record kept as a document with key columns:
// insert has the columns' placeholders $1..$n, table and where find the
// stored row by the first len(key) arguments.
func docRow[T any](what string, rec *T, insert, table, where string, nkey int, cols func(doc string) []any) (copyRow, error) {
	doc, err := json.Marshal(rec)
	if err != nil {
		return copyRow{}, fmt.Errorf("encode %s: %w", what, err)
	}
	args := cols(string(doc))
	return copyRow{
		what:   what,
		insert: insert + " on conflict do nothing",
		args:   args,
		lookup: "select doc::text from " + table + " where " + where,
		key:    args[:nkey],
		same:   sameDoc[T](doc),
	}, nil
}

// copyRows turns c into rows, in the order references need.
func copyRows(c *Copy) ([]copyRow, error) {
	var rows []copyRow
	add := func(r copyRow, err error) error {
		if err != nil {
			return err
		}
		rows = append(rows, r)
		return nil
	}
	for i := range c.Customers {
		cu := &c.Customers[i]
		email, phone := customerColumns(cu)
		r, err := docRow(fmt.Sprintf("customer %q", cu.ID), cu,
			`insert into customers (id, email, phone, created_ns, doc) values ($1, $2, $3, $4, $5)`,
			"customers", "id = $1", 1,
			func(doc string) []any { return []any{cu.ID, email, phone, nanos(cu.CreatedAt), doc} })
		if err == nil {
			r.added = func(ctx context.Context, tx pgx.Tx) error { return insertIdentities(ctx, tx, cu) }
		}
		if err := add(r, err); err != nil {
			return nil, err
		}
	}
	for i := range c.Orders {
		o := &c.Orders[i]
		if err := add(docRow(fmt.Sprintf("order %q", o.ID), o,
			`insert into orders (id, customer_id, placed_ns, doc) values ($1, $2, $3, $4)`,
			"orders", "id = $1", 1,
			func(doc string) []any { return []any{o.ID, o.CustomerID, nanos(o.PlacedAt), doc} })); err != nil {
			return nil, err
		}
	}
	for i := range c.Conversations {
		cv := &c.Conversations[i]
		vals, err := convValues(cv)
		if err != nil {
			return nil, err
		}
		if err := add(docRow(fmt.Sprintf("conversation %q", cv.ID), cv,
			`insert into conversations (`+convColumns+`) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			"conversations", "id = $1", 1,
			func(doc string) []any { vals[8] = doc; return vals })); err != nil {
			return nil, err
		}
	}
	for i := range c.Messages {
		m := &c.Messages[i]
		if err := add(docRow(fmt.Sprintf("message %d of conversation %q", m.Seq, m.ConversationID), m,
			`insert into messages (conversation_id, seq, client_id, sender, created_ns, doc) values ($1, $2, $3, $4, $5, $6)`,
			"messages", "conversation_id = $1 and seq = $2", 2,
			func(doc string) []any {
				return []any{m.ConversationID, seqArg(m.Seq), nullIfEmpty(m.ClientID), string(m.Sender), nanos(m.CreatedAt), doc}
			})); err != nil {
			return nil, err
		}
	}
	for i := range c.Events {
		ev := &c.Events[i]
		if err := add(docRow(fmt.Sprintf("event %d of conversation %q", ev.Seq, ev.ConversationID), ev,
			`insert into events (conversation_id, seq, type, at_ns, doc) values ($1, $2, $3, $4, $5)`,
			"events", "conversation_id = $1 and seq = $2", 2,
			func(doc string) []any {
				return []any{ev.ConversationID, seqArg(ev.Seq), string(ev.Type), nanos(ev.At), doc}
			})); err != nil {
			return nil, err
		}
	}
	for i := range c.Tickets {
		t := &c.Tickets[i]
		if err := add(docRow(fmt.Sprintf("ticket %q", t.ID), t,
			`insert into tickets (id, customer_id, topic, status, created_ns, updated_ns, doc) values ($1, $2, $3, $4, $5, $6, $7)`,
			"tickets", "id = $1", 1,
			func(doc string) []any {
				return []any{t.ID, t.CustomerID, t.Topic, string(t.Status), nanos(t.CreatedAt), nanos(t.UpdatedAt), doc}
			})); err != nil {
			return nil, err
		}
	}
	for i := range c.Feedback {
		f := &c.Feedback[i]
		if err := add(docRow(fmt.Sprintf("feedback %q", f.ID), f,
			`insert into feedback (id, conversation_id, customer_id, created_ns, doc) values ($1, $2, $3, $4, $5)`,
			"feedback", "id = $1", 1,
			func(doc string) []any {
				return []any{f.ID, nullIfEmpty(f.ConversationID), nullIfEmpty(f.CustomerID), nanos(f.CreatedAt), doc}
			})); err != nil {
			return nil, err
		}
	}
	for i := range c.Agents {
		a := &c.Agents[i]
		if err := add(docRow(fmt.Sprintf("agent %q", a.Login), a,
			`insert into agents (login, doc) values ($1, $2)`, "agents", "login = $1", 1,
			func(doc string) []any { return []any{a.Login, doc} })); err != nil {
			return nil, err
		}
	}
	for i := range c.Canned {
		cr := &c.Canned[i]
		if err := add(docRow(fmt.Sprintf("canned response %q", cr.Shortcut), cr,
			`insert into canned (shortcut, doc) values ($1, $2)`, "canned", "shortcut = $1", 1,
			func(doc string) []any { return []any{cr.Shortcut, doc} })); err != nil {
			return nil, err
		}
	}
	for _, s := range c.Seen {
		// timestamptz keeps microseconds: a time stored from this
		// record reads back as the record's time truncated.
		want := s.At.Truncate(time.Microsecond)
		rows = append(rows, copyRow{
			what:   fmt.Sprintf("seen key %q", s.Key),
			insert: `insert into channel_seen (key, at) values ($1, $2) on conflict do nothing`,
			args:   []any{s.Key, s.At},
			lookup: `select at from channel_seen where key = $1`,
			key:    []any{s.Key},
			same: func(row pgx.Row) (bool, error) {
				var at time.Time
				err := row.Scan(&at)
				return err == nil && at.Equal(want), err
			},
		})
	}
	for _, l := range c.Links {
		rows = append(rows, copyRow{
			what:   fmt.Sprintf("link %q", l.Key),
			insert: `insert into channel_links (key, value) values ($1, $2) on conflict do nothing`,
			args:   []any{l.Key, l.Value},
			lookup: `select value from channel_links where key = $1`,
			key:    []any{l.Key},
			same: func(row pgx.Row) (bool, error) {
				var v string
				err := row.Scan(&v)
				return err == nil && v == l.Value, err
			},
		})
	}
	return rows, nil
}

// ChannelStateCounts counts the channel state crm.Stats leaves out: the
// event keys taken and the links.
func (db *DB) ChannelStateCounts(ctx context.Context) (seen, links int, err error) {
	err = db.read(ctx, func(q querier) error {
		return q.QueryRow(ctx, `select (select count(*) from channel_seen), (select count(*) from channel_links)`).Scan(&seen, &links)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("channel state counts: %w", err)
	}
	return seen, links, nil
}
