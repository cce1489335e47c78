package crm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/parleyhq/parley/crm"
)

func ExampleRedact() {
	fmt.Println(crm.Redact("my card is 4111 1111 1111 1111 and the code is 482913"))
	fmt.Println(crm.Redact("order 1042, zip code 80331"))
	// Output:
	// my card is [card redacted] and the code is [code redacted]
	// order 1042, zip code 80331
}

func ExampleDB_AppendMessage() {
	dir, _ := os.MkdirTemp("", "parley")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := crm.Open(filepath.Join(dir, "parley.db"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	conv, _ := db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb})
	m, _ := db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hi", ClientID: "c-1"})
	again, _ := db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hi", ClientID: "c-1"})
	fmt.Println(m.Seq, again.ID == m.ID)
	after, _ := db.MessagesAfter(ctx, conv.ID, 0, 10)
	fmt.Println(len(after))
	// Output:
	// 1 true
	// 1
}
