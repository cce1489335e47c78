package boltdb_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
)

func ExampleDB_AppendMessage() {
	dir, _ := os.MkdirTemp("", "parley")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := boltdb.Open(filepath.Join(dir, "parley.db"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	conv, _ := db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb})
	m, created, _ := db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hi", ClientID: "c-1"})
	again, createdAgain, _ := db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hi", ClientID: "c-1"})
	fmt.Println(m.Seq, created, again.ID == m.ID, createdAgain)
	after, _ := db.MessagesAfter(ctx, conv.ID, 0, 10)
	fmt.Println(len(after))
	// Output:
	// 1 true true false
	// 1
}
