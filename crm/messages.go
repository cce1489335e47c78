package crm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

const (
	maxQuickReplies = 32
	maxParseBytes   = 64 << 10
)

var senders = map[Sender]bool{SenderCustomer: true, SenderBot: true, SenderAgent: true, SenderSystem: true}

// prepareMessage validates m and redacts it, outside any transaction.
func (db *DB) prepareMessage(m Message) (Message, error) {
	if err := checkPart("conversation id", m.ConversationID); err != nil {
		return m, err
	}
	if !senders[m.Sender] {
		return m, fmt.Errorf("sender %q: %w", m.Sender, ErrInvalid)
	}
	if m.ClientID != "" {
		if err := checkPart("client id", m.ClientID); err != nil {
			return m, err
		}
	}
	if err := checkText("agent id", m.AgentID, maxKeyPart); err != nil {
		return m, err
	}
	if !utf8.ValidString(m.Text) {
		return m, fmt.Errorf("text not valid UTF-8: %w", ErrInvalid)
	}
	if len(m.Text) > db.maxMsg {
		return m, fmt.Errorf("text of %d bytes, limit %d: %w", len(m.Text), db.maxMsg, ErrTooLarge)
	}
	if strings.TrimSpace(m.Text) == "" {
		return m, fmt.Errorf("empty text: %w", ErrInvalid)
	}
	if len(m.QuickReplies) > maxQuickReplies {
		return m, fmt.Errorf("%d quick replies, at most %d: %w", len(m.QuickReplies), maxQuickReplies, ErrInvalid)
	}
	for _, q := range m.QuickReplies {
		if err := checkText("quick reply", q, maxField); err != nil {
			return m, err
		}
	}
	if len(m.Parse) > 0 {
		if len(m.Parse) > maxParseBytes {
			return m, fmt.Errorf("parse of %d bytes, limit %d: %w", len(m.Parse), maxParseBytes, ErrTooLarge)
		}
		p, err := redactJSON(m.Parse)
		if err != nil {
			return m, fmt.Errorf("parse: %w", ErrInvalid)
		}
		m.Parse = p
	}
	m.Text = Redact(m.Text)
	m.QuickReplies = slices.Clone(m.QuickReplies)
	m.ID, m.Seq = "", 0
	return m, nil
}

// AppendMessage implements ConversationStore. Concurrent calls share commits
// (see commit.go), so n writers pay for about one fsync per group, not n.
func (db *DB) AppendMessage(ctx context.Context, m Message) (Message, error) {
	m, err := db.prepareMessage(m)
	if err != nil {
		return Message{}, fmt.Errorf("append message: %w", err)
	}
	call := &commitCall{msg: m, done: make(chan struct{})}
	if err := db.enqueue(ctx, call); err != nil {
		return Message{}, fmt.Errorf("append message: %w", err)
	}
	select {
	case <-call.done:
	case <-ctx.Done():
		return Message{}, fmt.Errorf("append message: %w", ctx.Err())
	}
	if call.err != nil {
		return Message{}, fmt.Errorf("append message: %w", call.err)
	}
	return call.res, nil
}

// appendTx appends m in tx. convs caches the conversations changed in this
// transaction; the caller writes them back. Errors that are not errAbort mean
// nothing was written.
func (db *DB) appendTx(tx *bolt.Tx, convs map[string]*Conversation, m Message) (Message, error) {
	conv := convs[m.ConversationID]
	if conv == nil {
		c, err := getRecord[Conversation](tx, bucketConversations, "conversation", m.ConversationID)
		if err != nil {
			return Message{}, err
		}
		conv = &c
	}
	msgs := tx.Bucket(bucketMessages)
	clients := tx.Bucket(idxMessageClient)
	var ck []byte
	if m.ClientID != "" {
		ck = key(m.ConversationID, m.ClientID)
		if seq := clients.Get(ck); seq != nil {
			var stored Message
			ok, err := getJSON(msgs, append(prefix(m.ConversationID), seq...), &stored)
			if err != nil {
				return Message{}, err
			}
			if !ok {
				return Message{}, fmt.Errorf("client id %q points at a missing message: %w", m.ClientID, ErrInvalid)
			}
			return stored, nil
		}
	}
	m.Seq = conv.LastSeq + 1
	m.ID = newID("msg")
	m.CreatedAt = db.now()
	data, err := json.Marshal(&m)
	if err != nil {
		return Message{}, err
	}
	if err := msgs.Put(messageKey(m.ConversationID, m.Seq), data); err != nil {
		return Message{}, errAbort{err}
	}
	if ck != nil {
		if err := clients.Put(ck, u64(m.Seq)); err != nil {
			return Message{}, errAbort{err}
		}
	}
	conv.LastSeq = m.Seq
	conv.UpdatedAt = m.CreatedAt
	convs[m.ConversationID] = conv
	return m, nil
}

// importMessageTx stores m, already prepared, as the next message of its
// conversation; id and created are the snapshot's (zero: make new ones).
func (db *DB) importMessageTx(tx *bolt.Tx, m Message, id string, created time.Time) error {
	conv, err := getRecord[Conversation](tx, bucketConversations, "conversation", m.ConversationID)
	if err != nil {
		return err
	}
	if m.Seq != 0 && m.Seq != conv.LastSeq+1 {
		return fmt.Errorf("message seq %d in conversation %q after %d: %w", m.Seq, m.ConversationID, conv.LastSeq, ErrInvalid)
	}
	m.Seq = conv.LastSeq + 1
	if m.ID = id; m.ID == "" {
		m.ID = newID("msg")
	} else if err := checkPart("message id", m.ID); err != nil {
		return err
	}
	if m.CreatedAt = created; m.CreatedAt.IsZero() {
		m.CreatedAt = db.now()
	}
	if m.ClientID != "" {
		ck := key(m.ConversationID, m.ClientID)
		clients := tx.Bucket(idxMessageClient)
		if clients.Get(ck) != nil {
			return fmt.Errorf("message client id %q: %w", m.ClientID, ErrConflict)
		}
		if err := clients.Put(ck, u64(m.Seq)); err != nil {
			return err
		}
	}
	if err := putJSON(tx.Bucket(bucketMessages), messageKey(m.ConversationID, m.Seq), &m); err != nil {
		return err
	}
	conv.LastSeq = m.Seq
	if conv.UpdatedAt.Before(m.CreatedAt) {
		conv.UpdatedAt = m.CreatedAt
	}
	return putJSON(tx.Bucket(bucketConversations), []byte(conv.ID), &conv)
}

// SetMessageParse implements ConversationStore.
func (db *DB) SetMessageParse(ctx context.Context, conversationID string, seq uint64, parse json.RawMessage) error {
	if len(parse) > maxParseBytes {
		return fmt.Errorf("set message parse: parse of %d bytes, limit %d: %w", len(parse), maxParseBytes, ErrTooLarge)
	}
	redacted, err := redactJSON(parse)
	if err != nil {
		return fmt.Errorf("set message parse: %w", ErrInvalid)
	}
	err = db.write(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMessages)
		k := messageKey(conversationID, seq)
		var m Message
		ok, err := getJSON(b, k, &m)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("message %d of conversation %q: %w", seq, conversationID, ErrNotFound)
		}
		m.Parse = redacted
		return putJSON(b, k, &m)
	})
	if err != nil {
		return fmt.Errorf("set message parse: %w", err)
	}
	return nil
}

// MessagesAfter implements ConversationStore.
func (db *DB) MessagesAfter(ctx context.Context, conversationID string, afterSeq uint64, limit int) ([]Message, error) {
	ms := []Message{}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketConversations).Get([]byte(conversationID)) == nil {
			return fmt.Errorf("conversation %q: %w", conversationID, ErrNotFound)
		}
		p := prefix(conversationID)
		c := tx.Bucket(bucketMessages).Cursor()
		for k, v := c.Seek(messageKey(conversationID, afterSeq+1)); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			var m Message
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
func (db *DB) RecentMessages(ctx context.Context, conversationID string, n int) ([]Message, error) {
	if n <= 0 {
		return nil, fmt.Errorf("recent messages: n = %d: %w", n, ErrInvalid)
	}
	ms := []Message{}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketConversations).Get([]byte(conversationID)) == nil {
			return fmt.Errorf("conversation %q: %w", conversationID, ErrNotFound)
		}
		var err error
		scanPrefixReverse(tx.Bucket(bucketMessages), prefix(conversationID), func(_, v []byte) bool {
			var m Message
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
