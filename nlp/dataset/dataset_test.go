package dataset

import (
	"slices"
	"testing"
)

func TestDatasetIntents(t *testing.T) {
	ds := &Dataset{Train: []Example{
		{Text: "b", Intent: "refund"}, {Text: "a", Intent: OutOfScope},
		{Text: "c", Intent: "greet"}, {Text: "d", Intent: "refund"},
	}}
	if got, want := ds.Intents(), []string{"greet", "refund"}; !slices.Equal(got, want) {
		t.Errorf("Intents() = %v, want %v", got, want)
	}
}
