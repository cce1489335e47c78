package nlp

import (
	"fmt"
	"slices"
	"testing"

	"github.com/parleyhq/parley/nlp/dataset"
)

func TestPseudoOutOfScope(t *testing.T) {
	// 150 sentences: a shared frame of common words around words that are
	// rarer, and a few out-of-scope examples that must not be used.
	var sentences [][]string
	var exs []dataset.Example
	for i := range 150 {
		words := []string{"how", "do", "i", fmt.Sprintf("verb%d", i%40), "my", fmt.Sprintf("thing%d", i)}
		intent := fmt.Sprintf("intent%d", i%5)
		if i%50 == 0 {
			words, intent = []string{"tell", "me", "a", "joke", fmt.Sprintf("oos%d", i)}, dataset.OutOfScope
		}
		sentences = append(sentences, words)
		exs = append(exs, dataset.Example{Intent: intent})
	}
	vocab := map[string]bool{}
	for _, words := range sentences {
		for _, w := range words {
			vocab[w] = true
		}
	}
	got := pseudoOutOfScope(sentences, exs, 7)
	if len(got) != 45 {
		t.Fatalf("%d pseudo sentences, want 45 (30%% of 150)", len(got))
	}
	for _, words := range got {
		// The frame words are the commonest: "how", "do", "i", "my" stay in
		// place; the others are replaced by training words.
		if len(words) != 6 || words[0] != "how" || words[1] != "do" || words[2] != "i" || words[4] != "my" {
			t.Fatalf("pseudo sentence %q does not keep the frame", words)
		}
		for _, w := range words {
			if !vocab[w] {
				t.Fatalf("pseudo sentence %q has %q, not a training word", words, w)
			}
		}
	}
	novel := 0
	for _, words := range got {
		if !slices.ContainsFunc(sentences, func(src []string) bool { return slices.Equal(src, words) }) {
			novel++
		}
	}
	if novel == 0 {
		t.Fatal("every pseudo sentence is a training sentence: no word was replaced")
	}
	again := pseudoOutOfScope(sentences, exs, 7)
	if !slices.EqualFunc(got, again, slices.Equal) {
		t.Fatal("the same seed made different sentences")
	}
	if other := pseudoOutOfScope(sentences, exs, 8); slices.EqualFunc(got, other, slices.Equal) {
		t.Fatal("another seed made the same sentences")
	}
	// A vocabulary no larger than the frame has nothing to fill it with.
	if small := pseudoOutOfScope(sentences[1:3], exs[1:3], 7); small != nil {
		t.Fatalf("small vocabulary: %q, want nothing", small)
	}
}
