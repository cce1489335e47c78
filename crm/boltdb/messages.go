package boltdb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

// AppendMessage implements ConversationStore. Concurrent calls share commits
// (see commit.go), so n writers pay for about one fsync per group, not n.
func (db *DB) AppendMessage(ctx context.Context, m crm.Message) (crm.Message, bool, error) {
	m, err := crm.PrepareMessage(m, db.maxMsg)
	if err != nil {
		return crm.Message{}, false, fmt.Errorf("append message: %w", err)
	}
	call := &commitCall{msg: m, done: make(chan struct{})}
	if err := db.enqueue(ctx, call); err != nil {
		return crm.Message{}, false, fmt.Errorf("append message: %w", err)
	}
	select {
	case <-call.done:
	case <-ctx.Done():
		return crm.Message{}, false, fmt.Errorf("append message: %w", ctx.Err())
	}
	if call.err != nil {
		return crm.Message{}, false, fmt.Errorf("append message: %w", call.err)
	}
	return call.res, call.created, nil
}

// appendTx appends m, already prepared, in tx, and reports whether it stored
// it (false: a message with its ClientID was there, and is returned).
// convs caches the conversations changed in this transaction; the caller
// writes them back. A customer message raises LastCustomerSeq and reopens a
// resolved conversation (taking it out of the closed index); an agent
// message sets LastAgentAt. Errors that are not errAbort mean nothing was
// written.
func (db *DB) appendTx(tx *bolt.Tx, convs map[string]*crm.Conversation, m crm.Message) (crm.Message, bool, error) {
	conv := convs[m.ConversationID]
	if conv == nil {
		c, err := getRecord[crm.Conversation](tx, bucketConversations, "conversation", m.ConversationID)
		if err != nil {
			return crm.Message{}, false, err
		}
		conv = &c
	}
	msgs := tx.Bucket(bucketMessages)
	clients := tx.Bucket(idxMessageClient)
	var ck []byte
	if m.ClientID != "" {
		ck = key(m.ConversationID, m.ClientID)
		if seq := clients.Get(ck); seq != nil {
			var stored crm.Message
			ok, err := getJSON(msgs, append(prefix(m.ConversationID), seq...), &stored)
			if err != nil {
				return crm.Message{}, false, err
			}
			if !ok {
				return crm.Message{}, false, fmt.Errorf("client id %q points at a missing message: %w", m.ClientID, crm.ErrInvalid)
			}
			return stored, false, nil
		}
	}
	m.Seq = conv.LastSeq + 1
	m.ID = crm.NewID("msg")
	m.CreatedAt = db.now()
	data, err := json.Marshal(&m)
	if err != nil {
		return crm.Message{}, false, err
	}
	if err := msgs.Put(messageKey(m.ConversationID, m.Seq), data); err != nil {
		return crm.Message{}, false, errAbort{err}
	}
	if ck != nil {
		if err := clients.Put(ck, u64(m.Seq)); err != nil {
			return crm.Message{}, false, errAbort{err}
		}
	}
	if m.Sender == crm.SenderCustomer {
		conv.LastCustomerSeq = m.Seq
		if conv.State == crm.StateResolved {
			// ClosedAt stays until the next update, so that the engine
			// sees the conversation was reopened. The write-back
			// (putConversationTx) puts it in the open index again; the
			// closed index loses it here.
			if closedIndexed(conv) {
				if err := tx.Bucket(idxConvClosed).Delete(convTimeKey(conv.ClosedAt, conv.ID)); err != nil {
					return crm.Message{}, false, errAbort{err}
				}
			}
			conv.State = crm.StateBot
			conv.StateSince = m.CreatedAt
		}
	}
	if m.Sender == crm.SenderAgent {
		conv.LastAgentAt = m.CreatedAt
	}
	conv.LastSeq = m.Seq
	conv.UpdatedAt = m.CreatedAt
	convs[m.ConversationID] = conv
	return m, true, nil
}

// importMessageTx stores m, already prepared, as the next message of its
// conversation; id and created are the snapshot's (zero: make new ones).
func (db *DB) importMessageTx(tx *bolt.Tx, m crm.Message) error {
	conv, err := getRecord[crm.Conversation](tx, bucketConversations, "conversation", m.ConversationID)
	if err != nil {
		return err
	}
	if m.Seq != 0 && m.Seq != conv.LastSeq+1 {
		return fmt.Errorf("message seq %d in conversation %q after %d: %w", m.Seq, m.ConversationID, conv.LastSeq, crm.ErrInvalid)
	}
	m.Seq = conv.LastSeq + 1
	if m.ID == "" {
		m.ID = crm.NewID("msg")
	} else if err := crm.CheckKeyPart("message id", m.ID); err != nil {
		return err
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = db.now()
	}
	if m.ClientID != "" {
		ck := key(m.ConversationID, m.ClientID)
		clients := tx.Bucket(idxMessageClient)
		if clients.Get(ck) != nil {
			return fmt.Errorf("message client id %q: %w", m.ClientID, crm.ErrConflict)
		}
		if err := clients.Put(ck, u64(m.Seq)); err != nil {
			return err
		}
	}
	if err := putJSON(tx.Bucket(bucketMessages), messageKey(m.ConversationID, m.Seq), &m); err != nil {
		return err
	}
	conv.LastSeq = m.Seq
	if m.Sender == crm.SenderCustomer {
		// Imported history counts as answered: a restored backup is not
		// answered again.
		conv.LastCustomerSeq, conv.AnsweredSeq = m.Seq, m.Seq
	}
	if conv.UpdatedAt.Before(m.CreatedAt) {
		conv.UpdatedAt = m.CreatedAt
	}
	if m.Sender == crm.SenderAgent && conv.LastAgentAt.Before(m.CreatedAt) {
		conv.LastAgentAt = m.CreatedAt
	}
	return putConversationTx(tx, &conv)
}

// SetMessageParse implements ConversationStore.
func (db *DB) SetMessageParse(ctx context.Context, conversationID string, seq uint64, parse json.RawMessage) error {
	redacted, err := crm.PrepareParse(parse)
	if err != nil {
		return fmt.Errorf("set message parse: %w", err)
	}
	err = db.write(ctx, func(tx *bolt.Tx) error { return setParseTx(tx, conversationID, seq, redacted) })
	if err != nil {
		return fmt.Errorf("set message parse: %w", err)
	}
	return nil
}

// setParseTx attaches a prepared parse to message seq of the conversation.
func setParseTx(tx *bolt.Tx, conversationID string, seq uint64, parse json.RawMessage) error {
	b := tx.Bucket(bucketMessages)
	k := messageKey(conversationID, seq)
	var m crm.Message
	ok, err := getJSON(b, k, &m)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("message %d of conversation %q: %w", seq, conversationID, crm.ErrNotFound)
	}
	m.Parse = parse
	return putJSON(b, k, &m)
}

// MessagesAfter implements ConversationStore.
func (db *DB) MessagesAfter(ctx context.Context, conversationID string, afterSeq uint64, limit int) ([]crm.Message, error) {
	ms := []crm.Message{}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketConversations).Get([]byte(conversationID)) == nil {
			return fmt.Errorf("conversation %q: %w", conversationID, crm.ErrNotFound)
		}
		p := prefix(conversationID)
		c := tx.Bucket(bucketMessages).Cursor()
		for k, v := c.Seek(messageKey(conversationID, afterSeq+1)); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			var m crm.Message
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("decode message: %w", err)
			}
			ms = append(ms, m)
			if limit > 0 && len(ms) >= limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("messages after: %w", err)
	}
	return ms, nil
}

// RecentMessages implements ConversationStore.
func (db *DB) RecentMessages(ctx context.Context, conversationID string, n int) ([]crm.Message, error) {
	if n <= 0 {
		return nil, fmt.Errorf("recent messages: n = %d: %w", n, crm.ErrInvalid)
	}
	ms := []crm.Message{}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketConversations).Get([]byte(conversationID)) == nil {
			return fmt.Errorf("conversation %q: %w", conversationID, crm.ErrNotFound)
		}
		var err error
		scanPrefixReverse(tx.Bucket(bucketMessages), prefix(conversationID), func(_, v []byte) bool {
			var m crm.Message
			if err = json.Unmarshal(v, &m); err != nil {
				return false
			}
			ms = append(ms, m)
			return len(ms) < n
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("recent messages: %w", err)
	}
	slices.Reverse(ms)
	return ms, nil
}
