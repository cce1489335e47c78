package dataset_test

import (
	"fmt"

	"github.com/parleyhq/parley/nlp/dataset"
)

// The Bitext sample has no split of its own; HashSplit makes the same one
// for every tool, and ignores case and outer spaces.
func ExampleHashSplit() {
	for _, text := range []string{
		"where is my parcel 4471?",
		"how do i call off an order",
		"put me through to an agent",
		"  Put me through to an AGENT ",
	} {
		fmt.Printf("%-5s %q\n", dataset.HashSplit(text), text)
	}
	// Output:
	// train "where is my parcel 4471?"
	// val   "how do i call off an order"
	// test  "put me through to an agent"
	// test  "  Put me through to an AGENT "
}
