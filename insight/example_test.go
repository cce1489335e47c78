package insight_test

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/insight"
	"github.com/parleyhq/parley/nlp/nlu"
)

// memory is a store of one conversation; a crm.Store such as *boltdb.DB plays this part in Parley.
type memory []crm.Message

func (m memory) Conversations(_ context.Context, afterID string, _ int) ([]crm.Conversation, error) {
	if afterID != "" {
		return nil, nil
	}
	return []crm.Conversation{{ID: "conv_1"}}, nil
}

func (m memory) MessagesAfter(_ context.Context, _ string, afterSeq uint64, _ int) ([]crm.Message, error) {
	return slices.DeleteFunc(slices.Clone(m), func(x crm.Message) bool { return x.Seq <= afterSeq }), nil
}

// keywords is a toy NLU whose embedding says which topic a message is on;
// *nlp.Model plays this part in Parley.
type keywords struct{}

func (keywords) Parse(_ context.Context, text string) (*nlu.Result, error) {
	emb := []float32{0.1, 0.1}
	switch {
	case strings.Contains(text, "gift"):
		emb[0] = 1
	case strings.Contains(text, "points"):
		emb[1] = 1
	default:
		return &nlu.Result{Intent: "order_status", Confidence: 0.95, InScope: true, Embedding: emb}, nil
	}
	return &nlu.Result{Intent: "order_status", Confidence: 0.2, InScope: false, Embedding: emb}, nil
}

func ExampleAnalyze() {
	var store memory
	for i, text := range []string{
		"where is my order 1042",
		"how do I check my gift card balance",
		"can I pay with a gift card",
		"do my loyalty points expire",
		"is my gift card still valid",
		"how many loyalty points do I have",
	} {
		store = append(store, crm.Message{ConversationID: "conv_1", Seq: uint64(i + 1), Sender: crm.SenderCustomer, Text: text})
	}
	r, err := insight.Analyze(context.Background(), store, keywords{}, insight.Options{K: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d of %d messages not understood\n", r.Analysed, r.Scanned)
	for _, c := range r.Clusters {
		fmt.Printf("%s: %d messages, e.g. %q\n", c.Name, c.Size, c.Examples[0].Text)
	}
	// Output:
	// 5 of 6 messages not understood
	// gift_card: 3 messages, e.g. "how do I check my gift card balance"
	// loyalty_points: 2 messages, e.g. "do my loyalty points expire"
}
