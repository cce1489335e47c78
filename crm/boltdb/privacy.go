package boltdb

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

// deleteKeys deletes keys from b; keys are collected first because a bbolt
// cursor must not move while its bucket changes under it.
func deleteKeys(b *bolt.Bucket, keys [][]byte) error {
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// keysWithPrefix copies the keys under p in b.
func keysWithPrefix(b *bolt.Bucket, p []byte) [][]byte {
	var keys [][]byte
	scanPrefix(b, p, func(k, _ []byte) bool {
		keys = append(keys, append([]byte(nil), k...))
		return true
	})
	return keys
}

// EraseCustomer implements PrivacyStore. Erased records leave the store at
// once, but their bytes may stay in the file's free pages until bbolt reuses
// them (see the package documentation).
func (db *DB) EraseCustomer(ctx context.Context, id string) (crm.Erasure, error) {
	var e crm.Erasure
	err := db.update(ctx, func(tx *bolt.Tx) error {
		e = crm.Erasure{CustomerID: id}
		c, err := getRecord[crm.Customer](tx, bucketCustomers, "customer", id)
		if err != nil {
			return err
		}
		if e.IndexEntries, err = unindexCustomer(tx, &c); err != nil {
			return err
		}

		idx := tx.Bucket(idxOrderCustomer)
		keys := keysWithPrefix(idx, prefix(id))
		for _, k := range keys {
			if err := tx.Bucket(bucketOrders).Delete([]byte(lastPart(k))); err != nil {
				return err
			}
		}
		if err := deleteKeys(idx, keys); err != nil {
			return err
		}
		e.Orders = len(keys)
		e.IndexEntries += len(keys)

		convs, err := conversationsOf(tx, id, 0)
		if err != nil {
			return err
		}
		erased := make(map[string]bool, len(convs))
		for _, conv := range convs {
			erased[conv.ID] = true
			msgs := keysWithPrefix(tx.Bucket(bucketMessages), prefix(conv.ID))
			if err := deleteKeys(tx.Bucket(bucketMessages), msgs); err != nil {
				return err
			}
			clients := keysWithPrefix(tx.Bucket(idxMessageClient), prefix(conv.ID))
			if err := deleteKeys(tx.Bucket(idxMessageClient), clients); err != nil {
				return err
			}
			events := keysWithPrefix(tx.Bucket(bucketEvents), prefix(conv.ID))
			if err := deleteKeys(tx.Bucket(bucketEvents), events); err != nil {
				return err
			}
			if err := indexConversation(tx, &conv, false); err != nil {
				return err
			}
			if err := tx.Bucket(bucketConversations).Delete([]byte(conv.ID)); err != nil {
				return err
			}
			e.Messages += len(msgs)
			e.Events += len(events)
			// The customer and created indexes, and the open or the
			// closed one.
			e.IndexEntries += len(clients) + 2
			if conv.Open() || closedIndexed(&conv) {
				e.IndexEntries++
			}
		}
		e.Conversations = len(convs)

		tickets, err := ticketsIn(tx, idxTicketCustomer, prefix(id))
		if err != nil {
			return err
		}
		for _, t := range tickets {
			if err := indexTicket(tx, &t, false); err != nil {
				return err
			}
			if err := tx.Bucket(bucketTickets).Delete([]byte(t.ID)); err != nil {
				return err
			}
			e.IndexEntries++
			if t.Status.Open() {
				e.IndexEntries++
			}
		}
		e.Tickets = len(tickets)

		// Feedback: the customer's own, and any left on their conversations.
		var fbKeys, fbIdx, fbConvIdx [][]byte
		err = tx.Bucket(bucketFeedback).ForEach(func(k, v []byte) error {
			var f crm.Feedback
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("decode feedback %q: %w", k, err)
			}
			if f.CustomerID == id || erased[f.ConversationID] {
				fbKeys = append(fbKeys, append([]byte(nil), k...))
				if f.CustomerID != "" {
					fbIdx = append(fbIdx, feedbackIndexKey(&f))
				}
				if f.ConversationID != "" {
					fbConvIdx = append(fbConvIdx, feedbackConvKey(&f))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := deleteKeys(tx.Bucket(bucketFeedback), fbKeys); err != nil {
			return err
		}
		if err := deleteKeys(tx.Bucket(idxFeedbackCustomer), fbIdx); err != nil {
			return err
		}
		if err := deleteKeys(tx.Bucket(idxFeedbackConv), fbConvIdx); err != nil {
			return err
		}
		e.Feedback = len(fbKeys)
		e.IndexEntries += len(fbIdx) + len(fbConvIdx)

		return tx.Bucket(bucketCustomers).Delete([]byte(id))
	})
	if err != nil {
		return crm.Erasure{}, fmt.Errorf("erase customer: %w", err)
	}
	db.log.Info("customer erased", "customer", id, "conversations", e.Conversations, "messages", e.Messages)
	return e, nil
}

// ExportCustomer implements PrivacyStore. The records are read in one short
// read transaction and written to w after it ends.
func (db *DB) ExportCustomer(ctx context.Context, id string, w io.Writer) error {
	ex := crm.Export{ExportedAt: db.now()}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		if ex.Customer, err = getRecord[crm.Customer](tx, bucketCustomers, "customer", id); err != nil {
			return err
		}
		if ex.Orders, err = ordersOf(tx, id, 0); err != nil {
			return err
		}
		convs, err := conversationsOf(tx, id, 0)
		if err != nil {
			return err
		}
		ex.Conversations = make([]crm.ExportConversation, 0, len(convs))
		for _, c := range convs {
			ec := crm.ExportConversation{Conversation: c, Messages: []crm.Message{}}
			var err error
			scanPrefix(tx.Bucket(bucketMessages), prefix(c.ID), func(_, v []byte) bool {
				var m crm.Message
				err = json.Unmarshal(v, &m)
				ec.Messages = append(ec.Messages, m)
				return err == nil
			})
			if err != nil {
				return fmt.Errorf("decode message: %w", err)
			}
			if ec.Events, err = eventsOf(tx, c.ID, 0, 0); err != nil {
				return err
			}
			ex.Conversations = append(ex.Conversations, ec)
		}
		if ex.Tickets, err = ticketsIn(tx, idxTicketCustomer, prefix(id)); err != nil {
			return err
		}
		ex.Feedback = []crm.Feedback{}
		scanPrefixReverse(tx.Bucket(idxFeedbackCustomer), prefix(id), func(k, _ []byte) bool {
			var f crm.Feedback
			f, err = getRecord[crm.Feedback](tx, bucketFeedback, "feedback", lastPart(k))
			ex.Feedback = append(ex.Feedback, f)
			return err == nil
		})
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
