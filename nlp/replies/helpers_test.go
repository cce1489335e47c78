package replies

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/encoder"
	"github.com/parleyhq/parley/nlp/seq2seq"
)

// topics are the synthetic support topics: ways to ask, and the reply.
var topics = []struct {
	asks  []string
	reply string
}{
	{[]string{"where is my order", "track my parcel", "has my package shipped", "order status please", "when does my order arrive", "where's my delivery"},
		"Your order {{Order Number}} is on its way. You can follow it under {{Track Order}} on {{Website Name}}."},
	{[]string{"cancel my order", "i want to cancel a purchase", "stop my order", "please cancel the order i placed", "can i cancel", "undo my purchase"},
		"I have cancelled order {{Order Number}}. The refund reaches your card within five days."},
	{[]string{"reset my password", "i forgot my password", "can't log in", "password does not work", "locked out of my account", "change my password"},
		"Open {{Account Settings}} and choose reset password: we email you a link that works for one hour."},
	{[]string{"talk to a human", "speak to an agent", "call customer service", "phone number for support", "i need a person", "contact support"},
		"You can call us on {{Customer Support Phone Number}} or write to us in {{Live Chat}} at any time."},
	{[]string{"return an item", "send back a gift", "how do returns work", "i want a refund for shoes", "return policy", "give back a jacket"},
		"You can return any item within 30 days from {{Order History}}: print the label and drop the parcel off."},
}

// syntheticPairs are the topics' questions, each asked in a few ways,
// split by HashSplit like real data; every split gets some pairs.
func syntheticPairs() []Pair {
	var out []Pair
	for _, t := range topics {
		for _, a := range t.asks {
			for _, frame := range []string{"%s", "hi, %s?", "%s thanks", "hello %s please", "can you help: %s", "%s asap"} {
				q := fmt.Sprintf(frame, a)
				out = append(out, Pair{Question: q, Answer: t.reply, Split: dataset.HashSplit(q)})
			}
		}
	}
	return out
}

// tinyOptions train in seconds.
func tinyOptions() Options {
	eo := encoder.DefaultOptions
	eo.Dim, eo.Epochs, eo.Batch = 16, 4, 16
	return Options{
		Source:  "bitext",
		Seed:    7,
		Encoder: eo,
		Seq2seq: seq2seq.Options{Hidden: 24, Embed: 12, Epochs: 25, Batch: 16, MaxIn: 10, MaxOut: 28, MinCount: 1, LR: 0.01},
	}
}

var (
	tinyOnce  sync.Once
	tinyModel *Model
	tinyErr   error
)

// trainTiny trains one tiny model for the whole test binary.
func trainTiny(tb testing.TB) *Model {
	tb.Helper()
	tinyOnce.Do(func() { tinyModel, tinyErr = Train(context.Background(), syntheticPairs(), tinyOptions()) })
	if tinyErr != nil {
		tb.Fatal(tinyErr)
	}
	return tinyModel
}
