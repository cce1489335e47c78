package main

import (
	"slices"
	"strings"

	"github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/replies"
)

// intentOracle gives every test pair of rows the reply a model would write
// if it knew the pair's gold intent and nothing else about the message:
// the training reply of that intent whose placeholders score the best
// placeholder F1 against all of the intent's training replies (the first
// of equals; "" for an intent with no training reply). gold holds the test
// replies in the same order. Bitext picks a reply's placeholders ({{Order
// Number}} or {{Purchase ID Anonymized}}, …) at random within an intent,
// so this oracle's placeholder F1 shows how far any reply model that reads
// only the message can get.
func intentOracle(rows []dataset.BitextPair) (oracle, gold []string) {
	train := map[string][]string{} // intent -> training replies
	for _, r := range rows {
		if r.Split == dataset.SplitTrain {
			train[r.Intent] = append(train[r.Intent], r.Response)
		}
	}
	best := map[string]string{}
	for intent, texts := range train {
		// Score each reply's placeholders only: the same F1, without
		// rereading every reply's text for every candidate.
		phs := make([]string, len(texts))
		for i, t := range texts {
			phs[i] = strings.Join(replies.Placeholders(t), " ")
		}
		bestF1 := -1.0
		for i, cand := range phs {
			if f := replies.PlaceholderF1(slices.Repeat([]string{cand}, len(phs)), phs); f > bestF1 {
				bestF1, best[intent] = f, texts[i]
			}
		}
	}
	for _, r := range rows {
		if r.Split == dataset.SplitTest {
			oracle = append(oracle, best[r.Intent])
			gold = append(gold, r.Response)
		}
	}
	return oracle, gold
}
