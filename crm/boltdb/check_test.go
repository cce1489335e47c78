package boltdb

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
)

// TestCheckFindsFaults breaks a good store in one way at a time and expects
// Check to name the fault.
func TestCheckFindsFaults(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(tx *bolt.Tx, conv string) error
		want    string
	}{
		{"gap in messages", func(tx *bolt.Tx, conv string) error {
			return tx.Bucket(bucketMessages).Delete(messageKey(conv, 2))
		}, "message 3 follows 1"},
		{"last seq ahead", func(tx *bolt.Tx, conv string) error {
			c, err := getRecord[crm.Conversation](tx, bucketConversations, "conversation", conv)
			if err != nil {
				return err
			}
			c.LastSeq = 9
			return putJSON(tx.Bucket(bucketConversations), []byte(conv), &c)
		}, "last seq 9, last message 3"},
		{"last customer seq wrong", func(tx *bolt.Tx, conv string) error {
			c, err := getRecord[crm.Conversation](tx, bucketConversations, "conversation", conv)
			if err != nil {
				return err
			}
			c.LastCustomerSeq = 2
			return putJSON(tx.Bucket(bucketConversations), []byte(conv), &c)
		}, "last customer seq 2, last customer message 3"},
		{"answered ahead", func(tx *bolt.Tx, conv string) error {
			c, err := getRecord[crm.Conversation](tx, bucketConversations, "conversation", conv)
			if err != nil {
				return err
			}
			c.AnsweredSeq = 4
			return putJSON(tx.Bucket(bucketConversations), []byte(conv), &c)
		}, "answered seq 4 after last seq 3"},
		{"duplicate client id", func(tx *bolt.Tx, conv string) error {
			var m crm.Message
			if _, err := getJSON(tx.Bucket(bucketMessages), messageKey(conv, 3), &m); err != nil {
				return err
			}
			m.ClientID = "c1"
			return putJSON(tx.Bucket(bucketMessages), messageKey(conv, 3), &m)
		}, "wanted twice"},
		{"stray index entry", func(tx *bolt.Tx, conv string) error {
			return tx.Bucket(idxConvOpen).Put(key("agent", "billing", conv), nil)
		}, "stray entry"},
		{"missing index entry", func(tx *bolt.Tx, conv string) error {
			return tx.Bucket(idxCustomerEmail).Delete([]byte("ada@example.com"))
		}, "idx_customer_email: entry \"ada@example.com\" missing"},
		{"index points elsewhere", func(tx *bolt.Tx, conv string) error {
			return tx.Bucket(idxCustomerEmail).Put([]byte("ada@example.com"), []byte("cus_x"))
		}, "want \"cus_ada\""},
		{"record under another key", func(tx *bolt.Tx, conv string) error {
			return tx.Bucket(bucketCustomers).Put([]byte("cus_zed"), tx.Bucket(bucketCustomers).Get([]byte("cus_ada")))
		}, "stored under \"cus_zed\""},
		{"message of no conversation", func(tx *bolt.Tx, conv string) error {
			return putJSON(tx.Bucket(bucketMessages), messageKey("ghost", 1), &crm.Message{ConversationID: "ghost", Seq: 1})
		}, "ghost/1: conversation missing"},
		{"undecodable record", func(tx *bolt.Tx, conv string) error {
			return tx.Bucket(bucketTickets).Put([]byte("tkt_bad"), []byte("{"))
		}, "tickets \"tkt_bad\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db, err := Open(filepath.Join(t.TempDir(), "parley.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			must[crm.Customer](t)(db.CreateCustomer(ctx, crm.Customer{ID: "cus_ada", Email: "ada@example.com"}))
			conv := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb, CustomerID: "cus_ada"}))
			for _, cid := range []string{"c1", "c2", ""} {
				mustMessage(t)(db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hi", ClientID: cid}))
			}
			if err := db.Check(ctx); err != nil {
				t.Fatalf("good store: %v", err)
			}
			if err := db.bolt.Update(func(tx *bolt.Tx) error { return tt.corrupt(tx, conv.ID) }); err != nil {
				t.Fatal(err)
			}
			err = db.Check(ctx)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check() = %v, want a fault saying %q", err, tt.want)
			}
		})
	}
}
