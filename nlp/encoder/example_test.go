package encoder_test

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/nlp/encoder"
)

// Train an encoder on (question, answer) pairs and rank answers for a new
// question by cosine.
func Example() {
	var pairs []encoder.Pair
	for _, t := range []struct{ q, a string }{
		{"where is my parcel", "Track your parcel on the shipping page."},
		{"has my package shipped yet", "Track your parcel on the shipping page."},
		{"i forgot my password", "Reset your password on the login screen."},
		{"cannot log in to my account", "Reset your password on the login screen."},
		{"i want my money back", "Ask for a refund with the returns form."},
		{"how do i get a refund", "Ask for a refund with the returns form."},
	} {
		pairs = append(pairs, encoder.Pair{Question: t.q, Answer: t.a})
	}
	opts := encoder.DefaultOptions
	opts.Dim, opts.Epochs, opts.Batch, opts.MinDF, opts.LR = 16, 30, 6, 1, 0.01
	e, err := encoder.Train(context.Background(), pairs, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	answers := []string{"Track your parcel on the shipping page.", "Reset your password on the login screen.", "Ask for a refund with the returns form."}
	scores := encoder.EncoderScores(e, []string{"where is my package"}, answers)[0]
	best := 0
	for i, s := range scores {
		if s > scores[best] {
			best = i
		}
	}
	fmt.Println(answers[best])
	// Output: Track your parcel on the shipping page.
}
