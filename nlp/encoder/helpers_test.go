package encoder

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// topics are the synthetic help desk of the tests: each has its own words,
// so a model that learns anything ranks a topic's answer first.
var topics = []struct{ thing, verb, place string }{
	{"parcel", "track", "shipping page"},
	{"refund", "request", "returns form"},
	{"password", "reset", "login screen"},
	{"invoice", "download", "billing area"},
	{"address", "change", "profile settings"},
	{"voucher", "redeem", "checkout box"},
	{"subscription", "cancel", "membership tab"},
	{"review", "write", "product page"},
	{"warranty", "claim", "repairs desk"},
	{"newsletter", "unsubscribe", "email footer"},
	{"gift", "wrap", "basket options"},
	{"order", "split", "orders list"},
}

var openers = []string{"how do i", "how can i", "where can i", "i want to", "please help me", "can you tell me how to", "what is the way to", "i need to"}

// syntheticPairs returns n (question, answer) pairs over the topics, the
// answer of a topic always the same, the question phrased in varied ways.
func syntheticPairs(n int, seed uint64) []Pair {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([]Pair, n)
	for i := range out {
		t := topics[rng.IntN(len(topics))]
		o := openers[rng.IntN(len(openers))]
		out[i] = Pair{
			Question: fmt.Sprintf("%s %s my %s", o, t.verb, t.thing),
			Answer:   fmt.Sprintf("To %s your %s, open the %s and follow the steps there.", t.verb, t.thing, t.place),
		}
	}
	return out
}

// tinyOptions train in well under a second.
func tinyOptions() Options {
	o := DefaultOptions
	o.Dim, o.Epochs, o.Batch = 16, 6, 8
	o.LR = 0.01
	return o
}

func trainTiny(t testing.TB) *Encoder {
	t.Helper()
	e, err := Train(t.Context(), syntheticPairs(120, 1), tinyOptions())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func contextWithCancel(t testing.TB) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}
