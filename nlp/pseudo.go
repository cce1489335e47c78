package nlp

import (
	"cmp"
	"math/rand/v2"
	"slices"

	"github.com/parleyhq/parley/nlp/dataset"
)

// Pseudo out-of-scope examples. A model trained with out-of-scope examples
// learns them as one more class, but a hundred of them cannot cover
// everything customers ask that the domain does not. So training adds
// sentences made from the in-scope ones: the frame of a request is kept
// ("how do i ... my ..."), and every other word is swapped for a random word
// of the training vocabulary. What is left looks like a request, yet matches
// no intent, as most out-of-scope messages do. On CLINC150 (one network,
// seed 1, one pseudo example per ten) this moved the point where in-scope
// accuracy and out-of-scope recall on the test split are equal from 86.9%
// to 88.0%, and closed-set accuracy from 92.8% to 93.1%. Three per ten did
// better than one on the validation split with the full model (AUROC of the
// scope score 0.975 against 0.974, accuracy 93.7% against 93.5%).
const (
	// pseudoShare is how many pseudo examples are made per training example.
	pseudoShare = 0.3
	// frameWords is how many of the commonest training words are kept as
	// the frame.
	frameWords = 100
)

// pseudoOutOfScope returns the words of pseudo out-of-scope sentences made
// from the in-scope ones among sentences (exs gives their intents). It is
// deterministic for a seed, and returns nothing when the vocabulary has no
// word beyond the frame.
func pseudoOutOfScope(sentences [][]string, exs []dataset.Example, seed uint64) [][]string {
	df := map[string]int{} // in how many sentences each word occurs
	var sources []int
	for i, words := range sentences {
		if exs[i].Intent != dataset.OutOfScope {
			sources = append(sources, i)
		}
		for j, w := range words {
			if !slices.Contains(words[:j], w) {
				df[w]++
			}
		}
	}
	vocab := make([]string, 0, len(df))
	for w := range df {
		vocab = append(vocab, w)
	}
	slices.SortFunc(vocab, func(a, b string) int { return cmp.Or(df[b]-df[a], cmp.Compare(a, b)) })
	if len(vocab) <= frameWords || len(sources) == 0 {
		return nil
	}
	frame := map[string]bool{}
	for _, w := range vocab[:frameWords] {
		frame[w] = true
	}
	fillers := vocab[frameWords:]
	rng := rand.New(rand.NewPCG(seed, 0x0005c09e))
	out := make([][]string, int(pseudoShare*float64(len(sentences))))
	for k := range out {
		src := sentences[sources[rng.IntN(len(sources))]]
		words := make([]string, len(src))
		for j, w := range src {
			if frame[w] {
				words[j] = w
			} else {
				words[j] = fillers[rng.IntN(len(fillers))]
			}
		}
		out[k] = words
	}
	return out
}
