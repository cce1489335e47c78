package main

import (
	"fmt"
	"os"

	"github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/replies"
)

// intentOracle gives every test pair of rows the reply a model would write
// if it knew the pair's gold intent and nothing else about the message:
// the training reply of that intent whose placeholders score the best
// micro F1 against all of the intent's training replies (the first of
// equals; "" for an intent with no training reply). gold holds the test
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
		golds := make([]map[string]int, len(texts))
		want := 0
		for i, t := range texts {
			golds[i] = counts(replies.Placeholders(t))
			want += total(golds[i])
		}
		bestF1, tried := -1.0, map[string]bool{}
		for i, cand := range golds {
			key := fmt.Sprint(cand) // fmt prints maps sorted by key
			if tried[key] {
				continue
			}
			tried[key] = true
			tp := 0
			for _, g := range golds {
				for p, n := range cand {
					tp += min(n, g[p])
				}
			}
			if f := microF1(tp, total(cand)*len(texts), want); f > bestF1 {
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

// readOracle reads the Bitext file and scores intentOracle's replies on its
// test split.
func readOracle(data string) (replies.GenMetrics, error) {
	f, err := os.Open(data)
	if err != nil {
		return replies.GenMetrics{}, err
	}
	defer f.Close()
	rows, err := dataset.ReadBitextPairs(data, f)
	if err != nil {
		return replies.GenMetrics{}, err
	}
	return replies.Generation(intentOracle(rows)), nil
}

func counts(xs []string) map[string]int {
	m := map[string]int{}
	for _, x := range xs {
		m[x]++
	}
	return m
}

func total(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

// microF1 is the F1 of tp items shared between got generated and want gold
// ones (1 when both are 0, as replies.Generation counts it).
func microF1(tp, got, want int) float64 {
	if got == 0 && want == 0 {
		return 1
	}
	if tp == 0 {
		return 0
	}
	return 2 * float64(tp) / float64(got+want)
}
