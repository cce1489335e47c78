package encoder

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/nlp/kb"
)

// latencyCandidates is the size for the retrieval latency target:
// p95 under 20 ms over 30,000 candidates.
const latencyCandidates = 30_000

// bigIndex returns an index of n synthetic passages, one per article,
// built from the test topics with random filler, so BM25 finds many
// candidates for every question (its worst case).
func bigIndex(t testing.TB, n int) *kb.Index {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 5))
	arts := make([]kb.Article, n)
	for i := range arts {
		tp := topics[rng.IntN(len(topics))]
		var b strings.Builder
		fmt.Fprintf(&b, "To %s your %s, open the %s.", tp.verb, tp.thing, tp.place)
		for range 30 {
			o := topics[rng.IntN(len(topics))]
			fmt.Fprintf(&b, " %s %s", o.thing, o.place)
		}
		arts[i] = kb.Article{ID: fmt.Sprintf("a%d", i), Title: tp.thing + " help", Passages: []kb.Passage{{Heading: tp.verb, Text: b.String()}}}
	}
	ix, err := kb.NewIndex(&kb.KB{Articles: arts}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// TestRetrievalLatency measures the encoder's Retrieve (a full-size Dim of
// 128) over 30,000 passages: its p95 must stay under 20 ms. It logs kb's
// Ask with BM25 alone and with both signals too: on this index, where
// every passage shares terms with every question, BM25's map-based scoring
// in nlp/kb dominates.
func TestRetrievalLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 30,000-passage index")
	}
	o := DefaultOptions
	o.Epochs = 1
	e, err := Train(t.Context(), syntheticPairs(200, 1), o)
	if err != nil {
		t.Fatal(err)
	}
	ix := bigIndex(t, latencyCandidates)
	start := time.Now()
	r := NewRetriever(e, ix)
	t.Logf("encoded %d passages in %v", latencyCandidates, time.Since(start).Round(time.Millisecond))
	bm := kb.NewSearcher(ix)
	s := &kb.Searcher{Index: ix, Calibration: kb.DefaultCalibration, Signals: []kb.Signal{
		{Retriever: ix.BM25Retriever(), Weight: 1}, {Retriever: r, Weight: 4},
	}}
	qs := syntheticPairs(200, 9)
	var encOnly, hybrid, bmOnly []time.Duration
	for _, q := range qs {
		t0 := time.Now()
		if _, err := r.Retrieve(t.Context(), kb.Query{Text: q.Question}); err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		if _, err := s.Ask(t.Context(), q.Question, 3); err != nil {
			t.Fatal(err)
		}
		t2 := time.Now()
		if _, err := bm.Ask(t.Context(), q.Question, 3); err != nil {
			t.Fatal(err)
		}
		encOnly, hybrid, bmOnly = append(encOnly, t1.Sub(t0)), append(hybrid, t2.Sub(t1)), append(bmOnly, time.Since(t2))
	}
	p95 := func(ds []time.Duration) time.Duration {
		slices.Sort(ds)
		return ds[len(ds)*95/100]
	}
	t.Logf("p95 over %d passages: encoder Retrieve %v; Ask with BM25 alone %v, with both %v",
		latencyCandidates, p95(encOnly), p95(bmOnly), p95(hybrid))
	if p := p95(encOnly); p >= 20*time.Millisecond && !raceEnabled {
		t.Errorf("encoder p95 %v, want < 20ms", p)
	}
}
