package boltdb

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

// maxCheckErrors stops Check from listing every fault of a badly broken file.
const maxCheckErrors = 100

// Check verifies the file and the store's own rules, and returns every fault
// found (joined), or nil:
//   - bbolt's page check (tx.Check);
//   - every record decodes and sits under its own id; references point at
//     records that exist;
//   - each conversation's messages are numbered 1..LastSeq with no gap, its
//     LastCustomerSeq is the Seq of its last customer message (or 0, in a
//     conversation last written to before the field existed), and its
//     AnsweredSeq is no more than LastSeq;
//   - no two messages of a conversation share a ClientID;
//   - every index holds exactly the entries its records call for.
//
// It reads everything in one read transaction: run it when the store is
// quiet (at start, in tests, from a maintenance command), not on a busy server.
func (db *DB) Check(ctx context.Context) error {
	var errs []error
	err := db.view(ctx, func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		c := checker{tx: tx}
		c.run()
		errs = append(errs, c.errs...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("check store: %w", err)
	}
	if len(errs) > maxCheckErrors {
		errs = append(errs[:maxCheckErrors], fmt.Errorf("and %d more", len(errs)-maxCheckErrors))
	}
	if len(errs) > 0 {
		return fmt.Errorf("check store: %w", errors.Join(errs...))
	}
	return nil
}

type checker struct {
	tx   *bolt.Tx
	errs []error
}

func (c *checker) failf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf(format, args...))
}

// index is what an index bucket should hold: key -> value.
type index map[string]string

func (c *checker) run() {
	for _, name := range allBuckets {
		if c.tx.Bucket(name) == nil {
			c.failf("bucket %s missing", name)
			return
		}
	}
	if v := c.tx.Bucket(bucketMeta).Get(keySchemaVersion); len(v) != 8 {
		c.failf("schema version missing")
	}
	want := map[string]index{}
	for _, name := range indexBuckets {
		want[string(name)] = index{}
	}
	put := func(bucket, k []byte, v string) {
		idx := want[string(bucket)]
		if old, dup := idx[string(k)]; dup {
			c.failf("%s: entry %q wanted twice (%q and %q)", bucket, k, old, v)
		}
		idx[string(k)] = v
	}
	exists := func(bucket []byte, id string) bool { return c.tx.Bucket(bucket).Get([]byte(id)) != nil }

	forEach(c, bucketCustomers, func(k string, cu *crm.Customer) string {
		for _, e := range customerIndexKeys(cu) {
			put(e.bucket, e.key, cu.ID)
		}
		return cu.ID
	})
	forEach(c, bucketOrders, func(k string, o *crm.Order) string {
		if !exists(bucketCustomers, o.CustomerID) {
			c.failf("order %q: customer %q missing", k, o.CustomerID)
		}
		put(idxOrderCustomer, orderIndexKey(o), "")
		return o.ID
	})
	convs := map[string]*crm.Conversation{}
	forEach(c, bucketConversations, func(k string, cv *crm.Conversation) string {
		if cv.CustomerID != "" && !exists(bucketCustomers, cv.CustomerID) {
			c.failf("conversation %q: customer %q missing", k, cv.CustomerID)
		}
		if cv.Open() {
			put(idxConvOpen, convOpenKey(cv), "")
		}
		if cv.CustomerID != "" {
			put(idxConvCustomer, convCustomerKey(cv), "")
		}
		convs[cv.ID] = cv
		return cv.ID
	})
	c.checkMessages(convs, put)
	forEach(c, bucketTickets, func(k string, t *crm.Ticket) string {
		if !exists(bucketCustomers, t.CustomerID) {
			c.failf("ticket %q: customer %q missing", k, t.CustomerID)
		}
		put(idxTicketCustomer, key(t.CustomerID, t.ID), "")
		if t.Status.Open() {
			put(idxTicketOpen, key(t.CustomerID, t.Topic, t.ID), "")
		}
		return t.ID
	})
	forEach(c, bucketFeedback, func(k string, f *crm.Feedback) string {
		if (f.CustomerID != "" || f.ConversationID == "") && !exists(bucketCustomers, f.CustomerID) {
			c.failf("feedback %q: customer %q missing", k, f.CustomerID)
		}
		if f.ConversationID != "" && !exists(bucketConversations, f.ConversationID) {
			c.failf("feedback %q: conversation %q missing", k, f.ConversationID)
		}
		if f.CustomerID != "" {
			put(idxFeedbackCustomer, feedbackIndexKey(f), "")
		}
		if f.ConversationID != "" {
			put(idxFeedbackConv, feedbackConvKey(f), "")
		}
		return f.ID
	})
	forEach(c, bucketAgents, func(k string, a *crm.Agent) string {
		if err := crm.ValidateAgent(a); err != nil {
			c.failf("agent %q: %v", k, err)
		}
		return a.Login
	})
	for name, idx := range want {
		c.compareIndex([]byte(name), idx)
	}
}

// forEach decodes every record of bucket and checks that it sits under the id
// fn returns.
func forEach[T any](c *checker, bucket []byte, fn func(k string, v *T) string) {
	_ = c.tx.Bucket(bucket).ForEach(func(k, data []byte) error {
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			c.failf("%s %q: %v", bucket, k, err)
			return nil
		}
		if id := fn(string(k), &v); id != string(k) {
			c.failf("%s: record %q stored under %q", bucket, id, k)
		}
		return nil
	})
}

func (c *checker) checkMessages(convs map[string]*crm.Conversation, put func(bucket, k []byte, v string)) {
	seen := map[string]uint64{}     // conversation -> last seq seen
	customer := map[string]uint64{} // conversation -> last customer message seen
	_ = c.tx.Bucket(bucketMessages).ForEach(func(k, data []byte) error {
		if len(k) < 10 || k[len(k)-9] != 0 {
			c.failf("message key %q malformed", k)
			return nil
		}
		conv, seq := string(k[:len(k)-9]), binary.BigEndian.Uint64(k[len(k)-8:])
		var m crm.Message
		if err := json.Unmarshal(data, &m); err != nil {
			c.failf("message %q: %v", k, err)
			return nil
		}
		if m.ConversationID != conv || m.Seq != seq {
			c.failf("message %s/%d stored under %s/%d", m.ConversationID, m.Seq, conv, seq)
		}
		if _, ok := convs[conv]; !ok {
			c.failf("message %s/%d: conversation missing", conv, seq)
		}
		if seq != seen[conv]+1 {
			c.failf("conversation %s: message %d follows %d", conv, seq, seen[conv])
		}
		seen[conv] = seq
		if m.Sender == crm.SenderCustomer {
			customer[conv] = seq
		}
		if m.ClientID != "" {
			put(idxMessageClient, key(conv, m.ClientID), string(u64(seq)))
		}
		return nil
	})
	for id, cv := range convs {
		if seen[id] != cv.LastSeq {
			c.failf("conversation %s: last seq %d, last message %d", id, cv.LastSeq, seen[id])
		}
		if customer[id] != cv.LastCustomerSeq && cv.LastCustomerSeq != 0 {
			c.failf("conversation %s: last customer seq %d, last customer message %d", id, cv.LastCustomerSeq, customer[id])
		}
		if cv.AnsweredSeq > cv.LastSeq {
			c.failf("conversation %s: answered seq %d after last seq %d", id, cv.AnsweredSeq, cv.LastSeq)
		}
	}
}

func (c *checker) compareIndex(name []byte, want index) {
	b := c.tx.Bucket(name)
	got := 0
	_ = b.ForEach(func(k, v []byte) error {
		got++
		w, ok := want[string(k)]
		switch {
		case !ok:
			c.failf("%s: stray entry %q -> %q", name, k, v)
		case w != string(v):
			c.failf("%s: entry %q -> %q, want %q", name, k, v, w)
		}
		return nil
	})
	if got != len(want) {
		for k := range want {
			if gk, _ := b.Cursor().Seek([]byte(k)); string(gk) != k {
				c.failf("%s: entry %q missing", name, k)
			}
		}
	}
}
