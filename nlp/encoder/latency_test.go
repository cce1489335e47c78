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

// BenchmarkRetrieve measures one search over 30,000 passages (the issue's
// size; its target is a p95 under 20 ms) with the encoder alone (a
// full-size Dim), BM25 alone, and both (as NewKBSearcher weighs them),
// and reports each p95. On this index every passage shares terms with
// every question, the worst case for BM25; nlp/kb scores it over flat
// postings (bm25fast.go), not the index file's maps.
//
//	go test ./nlp/encoder -run '^$' -bench Retrieve -benchtime 200x
func BenchmarkRetrieve(b *testing.B) {
	o := DefaultOptions
	o.Epochs = 1
	e, err := Train(b.Context(), syntheticPairs(200, 1), o)
	if err != nil {
		b.Fatal(err)
	}
	ix := bigIndex(b, latencyCandidates)
	r := NewRetriever(e, ix)
	qs := syntheticPairs(200, 9)
	for _, bc := range []struct {
		name string
		ask  func(q string) error
	}{
		{"encoder", func(q string) error { _, err := r.Retrieve(b.Context(), kb.Query{Text: q}); return err }},
		{"bm25", func(q string) error { _, err := kb.NewSearcher(ix).Ask(b.Context(), q, 3); return err }},
		{"hybrid", func(q string) error {
			s := &kb.Searcher{Index: ix, Calibration: kb.DefaultCalibration, Signals: []kb.Signal{
				{Retriever: ix.BM25Retriever(), Weight: 1}, {Retriever: r, Weight: 4}}}
			_, err := s.Ask(b.Context(), q, 3)
			return err
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ds := make([]time.Duration, 0, b.N)
			for i := 0; b.Loop(); i++ {
				t0 := time.Now()
				if err := bc.ask(qs[i%len(qs)].Question); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(t0))
			}
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}
