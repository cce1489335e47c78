package seq2seq

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// tinyPairs are 40 synthetic support exchanges: 8 kinds of question, each
// asked 5 ways, each kind with its own answer, half of them with a
// placeholder.
func tinyPairs() []Pair {
	kinds := []struct{ topic, answer string }{
		{"cancel my order", "I can help you cancel order {{Order Number}}. Please confirm."},
		{"track my parcel", "Your parcel is on its way, track it with {{Tracking Number}}."},
		{"get a refund", "Refunds take five days. Check {{Refund Page}} for details."},
		{"change my address", "Sure, update your address in {{Account Settings}}."},
		{"talk to a human", "Of course! An agent will call you soon."},
		{"reset my password", "Click on forgot password and follow the steps."},
		{"pay by card", "We accept all major cards, thank you."},
		{"open an account", "Welcome! Sign up on {{Signup Page}} today."},
	}
	ways := []string{"i want to %s", "how do i %s?", "help me %s", "can you %s please", "%s now"}
	var pairs []Pair
	for _, k := range kinds {
		for _, w := range ways {
			pairs = append(pairs, Pair{Question: fmt.Sprintf(w, k.topic), Answer: k.answer})
		}
	}
	return pairs
}

// tinyOptions train a hidden-16 model in seconds.
func tinyOptions() Options {
	return Options{Hidden: 16, Embed: 12, Epochs: 40, Batch: 8, MaxIn: 8, MaxOut: 16, MinCount: 1, LR: 0.02, Seed: 7}
}

var (
	tinyOnce  sync.Once
	tinyModel *Model
	tinyLoss  []Epoch
	tinyErr   error
)

// trainedTiny returns a tiny model trained once per test binary on
// tinyPairs, and its epochs.
func trainedTiny(t testing.TB) (*Model, []Epoch) {
	t.Helper()
	tinyOnce.Do(func() {
		o := tinyOptions()
		o.Progress = func(e Epoch) { tinyLoss = append(tinyLoss, e) }
		tinyModel, tinyErr = Train(context.Background(), tinyPairs(), o)
	})
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	return tinyModel, tinyLoss
}
