package seq2seq_test

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/nlp/seq2seq"
)

func ExampleTrain() {
	pairs := []seq2seq.Pair{
		{Question: "where is my order?", Answer: "Track order {{Order Number}} on {{Tracking Page}}."},
		{Question: "I want a refund", Answer: "Refunds take five days."},
	}
	opts := seq2seq.Options{Hidden: 16, Embed: 8, Epochs: 60, Batch: 2, MaxIn: 8, MaxOut: 12, MinCount: 1, LR: 0.03, Seed: 1}
	m, err := seq2seq.Train(context.Background(), pairs, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Generate("where is my order?", 1))
	// Output: Track order {{Order Number}} on {{Tracking Page}}.
}
