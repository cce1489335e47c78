package kb

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/internal/shop"
)

// referenceScore is the map-based BM25 scoring that the flat postings
// replaced, kept as the definition the fast path must equal: every passage
// that shares a term with the question, each distinct term counted once.
func referenceScore(ix *bm25, terms []string) map[int]float64 {
	out := map[int]float64{}
	k1, b := ix.params.K1, ix.params.B
	seen := map[string]bool{}
	for _, t := range terms {
		if seen[t] {
			continue
		}
		seen[t] = true
		ps := ix.postings[t]
		if len(ps) == 0 {
			continue
		}
		n := float64(len(ix.docLen))
		df := float64(len(ps))
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		for _, p := range ps {
			tf := float64(p.TF)
			norm := 1 - b + b*float64(ix.docLen[p.Doc])/ix.avgLen
			out[int(p.Doc)] += idf * tf * (k1 + 1) / (tf + k1*norm)
		}
	}
	return out
}

// fastCorpora returns the demo articles' index and a synthetic one of
// many passages and a small vocabulary (long posting lists, many ties),
// with questions for each.
func fastCorpora(t testing.TB) map[string]struct {
	ix        *Index
	questions []string
} {
	t.Helper()
	k, err := Load(shop.KB())
	if err != nil {
		t.Fatal(err)
	}
	demo, err := NewIndex(k, nil)
	if err != nil {
		t.Fatal(err)
	}
	var demoQs []string
	for _, a := range demo.Articles {
		demoQs = append(demoQs, a.Title)
		for _, p := range a.Passages {
			demoQs = append(demoQs, p.Heading+" "+p.Text)
		}
	}
	demoQs = append(demoQs, "can i return a gift without the receipt", "refnd my parcel parcel", "the of and", "zzzz qqqq")

	words := strings.Fields("parcel refund return order coat size delivery card payment account password gift receipt voucher label courier address")
	rng := rand.New(rand.NewPCG(1, 2))
	text := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		return b.String()
	}
	var arts []Article
	for i := range 3000 {
		arts = append(arts, Article{ID: fmt.Sprintf("a%d", i), Title: "t", Passages: []Passage{{Text: text(1 + rng.IntN(40))}}})
	}
	synth, err := NewIndex(&KB{Articles: arts}, &BM25Params{K1: 1.5, B: 0.6})
	if err != nil {
		t.Fatal(err)
	}
	var synthQs []string
	for range 200 {
		synthQs = append(synthQs, text(1+rng.IntN(6)))
	}
	return map[string]struct {
		ix        *Index
		questions []string
	}{"demo": {demo, demoQs}, "synthetic": {synth, synthQs}}
}

// TestFastBM25EqualsReference: the flat, pooled scorer gives every
// passage exactly (bit for bit) the score of the map-based one, ranks as
// the reference ranks, and scoreDocs agrees with both.
func TestFastBM25EqualsReference(t *testing.T) {
	for name, c := range fastCorpora(t) {
		t.Run(name, func(t *testing.T) {
			ix := c.ix.bm25
			for _, q := range c.questions {
				terms := ix.correct(Terms(q))
				want := referenceScore(ix, terms)
				all := ix.top(terms, 0)
				if len(all) != len(want) {
					t.Fatalf("%q: %d passages, reference %d", q, len(all), len(want))
				}
				for _, h := range all {
					if w, ok := want[h.Passage]; !ok || w != h.Score {
						t.Fatalf("%q: passage %d scores %v, reference %v (found %v)", q, h.Passage, h.Score, w, ok)
					}
				}
				ranked := make([]Hit, 0, len(want))
				for d, s := range want {
					ranked = append(ranked, Hit{Passage: d, Score: s})
				}
				sort.Slice(ranked, func(i, j int) bool { return worse(ranked[j], ranked[i]) })
				if !slices.Equal(all, ranked) {
					t.Fatalf("%q: ranking differs from the reference", q)
				}
				for _, k := range []int{1, 3, 10} {
					if got := ix.top(terms, k); !slices.Equal(got, ranked[:min(k, len(ranked))]) {
						t.Fatalf("%q: top %d %v, want %v", q, k, got, ranked[:min(k, len(ranked))])
					}
				}
				docs := make([]int, len(ix.docLen))
				for i := range docs {
					docs[i] = i
				}
				for d, s := range ix.scoreDocs(terms, docs) {
					if s != want[d] {
						t.Fatalf("%q: scoreDocs passage %d %v, reference %v", q, d, s, want[d])
					}
				}
			}
		})
	}
}

// TestFastBM25AfterReload: an index read back from its file scores as the
// one that was written.
func TestFastBM25AfterReload(t *testing.T) {
	c := fastCorpora(t)["demo"]
	var buf bytes.Buffer
	if _, err := c.ix.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadIndex(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range c.questions {
		terms := Terms(q)
		if a, b := c.ix.bm25.top(terms, 0), back.bm25.top(terms, 0); !slices.Equal(a, b) {
			t.Fatalf("%q: %v after reload, %v before", q, b, a)
		}
	}
}

// TestAskFillsInCutPassages: with the BM25 cut at k, a passage another
// signal brings still gets its exact BM25 score, so Ask ranks as with no
// cut at all.
func TestAskFillsInCutPassages(t *testing.T) {
	c := fastCorpora(t)["synthetic"]
	ix := c.ix
	ctx := context.Background()
	for _, q := range c.questions[:20] {
		terms := Terms(q)
		all := ix.bm25.top(terms, 0)
		if len(all) <= DefaultBM25TopK {
			continue
		}
		// A signal that returns only the worst BM25 passage, far below the cut.
		low := all[len(all)-1]
		s := &Searcher{Index: ix, Calibration: DefaultCalibration, Signals: []Signal{
			{Retriever: ix.BM25Retriever(), Weight: 1},
			{Retriever: fixedRetriever{Hit{Passage: low.Passage, Score: 1000}}, Weight: 1},
		}}
		res, err := s.Ask(ctx, q, 1)
		if err != nil {
			t.Fatal(err)
		}
		a := res.Answers[0]
		if a.ArticleID != ix.Articles[low.Passage].ID || a.Scores[SignalBM25] != low.Score || a.Score != low.Score+1000 {
			t.Fatalf("%q: top answer %s scores %v, want %s with bm25 %v", q, a.ArticleID, a.Scores, ix.Articles[low.Passage].ID, low.Score)
		}
		return
	}
	t.Fatal("no question found more passages than the cut")
}

type fixedRetriever []Hit

func (fixedRetriever) Name() string { return "fixed" }
func (r fixedRetriever) Retrieve(context.Context, Query) ([]Hit, error) {
	return r, nil
}

// TestFastBM25Concurrent: searches from many goroutines at once (each
// taking its own pooled accumulator) give the results of one at a time.
func TestFastBM25Concurrent(t *testing.T) {
	c := fastCorpora(t)["synthetic"]
	ix := c.ix.bm25
	want := make([][]Hit, len(c.questions))
	for i, q := range c.questions {
		want[i] = ix.top(Terms(q), 5)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range c.questions {
				i = (i + g*17) % len(c.questions)
				if got := ix.top(Terms(c.questions[i]), 5); !slices.Equal(got, want[i]) {
					errs <- fmt.Sprintf("%q: %v, alone %v", c.questions[i], got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// BenchmarkBM25Top measures the flat scorer alone against the map-based
// reference on the synthetic corpus (3,000 passages, long posting lists).
//
//	go test ./nlp/kb -run '^$' -bench BM25Top
func BenchmarkBM25Top(b *testing.B) {
	c := fastCorpora(b)["synthetic"]
	ix := c.ix.bm25
	terms := make([][]string, len(c.questions))
	for i, q := range c.questions {
		terms[i] = Terms(q)
	}
	b.Run("flat", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			ix.top(terms[i%len(terms)], DefaultBM25TopK)
		}
	})
	b.Run("reference", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			referenceScore(ix, terms[i%len(terms)])
		}
	})
}
