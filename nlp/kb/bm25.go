package kb

import (
	"context"
	"fmt"
	"sort"
)

// BM25 parameters: K1 saturates repeated terms, B normalises for passage
// length. The defaults are the usual ones; nil *BM25Params means them.
type BM25Params struct {
	K1 float64 `json:"k1"`
	B  float64 `json:"b"`
}

// DefaultBM25 is K1 1.2, B 0.75.
var DefaultBM25 = BM25Params{K1: 1.2, B: 0.75}

// posting is one passage that holds a term, and how often.
type posting struct {
	Doc int32 `json:"d"`
	TF  int32 `json:"f"`
}

// bm25 is an inverted index over passages. It is read-only once built, so
// one index serves any number of goroutines.
type bm25 struct {
	params   BM25Params
	docLen   []int32
	avgLen   float64
	postings map[string][]posting
	vocab    []string // sorted terms, for typo correction
	flat     flatPostings
}

// newBM25 indexes docs (each a list of terms).
func newBM25(docs [][]string, p BM25Params) *bm25 {
	ix := &bm25{params: p, docLen: make([]int32, len(docs)), postings: map[string][]posting{}}
	total := 0
	for d, terms := range docs {
		ix.docLen[d] = int32(len(terms))
		total += len(terms)
		tf := map[string]int32{}
		for _, t := range terms {
			tf[t]++
		}
		keys := make([]string, 0, len(tf))
		for t := range tf {
			keys = append(keys, t)
		}
		sort.Strings(keys)
		for _, t := range keys {
			ix.postings[t] = append(ix.postings[t], posting{Doc: int32(d), TF: tf[t]})
		}
	}
	if len(docs) > 0 {
		ix.avgLen = float64(total) / float64(len(docs))
	}
	ix.prepare()
	return ix
}

// prepare derives what search reads from postings, docLen and avgLen:
// the sorted vocabulary and the flat postings (bm25fast.go).
func (ix *bm25) prepare() {
	ix.vocab = make([]string, 0, len(ix.postings))
	for t := range ix.postings {
		ix.vocab = append(ix.vocab, t)
	}
	sort.Strings(ix.vocab)
	ix.buildFlat()
}

// coverage is the share of the question's weight (the idf of each distinct
// term; a term no passage holds weighs as if one passage held it) that
// passage doc holds: near 1 when the passage speaks of everything asked,
// low when it matched one word of several, as out-of-scope questions do.
func (ix *bm25) coverage(terms []string, doc int) float64 {
	var total, held float64
	seen := map[string]bool{}
	for _, t := range terms {
		if seen[t] {
			continue
		}
		seen[t] = true
		ps := ix.postings[t]
		idf := idf(len(ix.docLen), max(len(ps), 1))
		total += idf
		i := sort.Search(len(ps), func(i int) bool { return int(ps[i].Doc) >= doc })
		if i < len(ps) && int(ps[i].Doc) == doc {
			held += idf
		}
	}
	if total == 0 {
		return 0
	}
	return held / total
}

// correct replaces query terms that no passage holds with the indexed term
// one edit away (two for terms of 8 letters or more), preferring the more
// frequent term: shoppers type "refnd" and "recieve". Terms shorter than 4
// letters are left alone, as there too many words are one edit apart, and
// the first letter must match: people rarely mistype it, and without the
// rule "weather" becomes "leather".
func (ix *bm25) correct(terms []string) []string {
	out := make([]string, len(terms))
	for i, t := range terms {
		out[i] = t
		if _, ok := ix.postings[t]; ok || len(t) < 4 {
			continue
		}
		maxDist := 1
		if len(t) >= 8 {
			maxDist = 2
		}
		best, bestDF, bestDist := "", 0, maxDist+1
		for _, v := range ix.vocab {
			if abs(len(v)-len(t)) > maxDist || len(v) < 3 || v[0] != t[0] {
				continue
			}
			d := editDistance(t, v, maxDist)
			if d < bestDist || (d == bestDist && len(ix.postings[v]) > bestDF) {
				best, bestDF, bestDist = v, len(ix.postings[v]), d
			}
		}
		if best != "" && bestDist <= maxDist {
			out[i] = best
		}
	}
	return out
}

// editDistance is the optimal-string-alignment distance between a and b
// (insertions, deletions, substitutions and swaps of neighbours), or
// limit+1 once it is known to exceed limit.
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// DefaultBM25TopK is how many passages the BM25 Retriever returns: the
// best by score. Ask fills in the exact BM25 score of any other passage
// another signal brings (PassageScorer), so the cut only drops passages
// that no signal ranks highly.
const DefaultBM25TopK = 100

// lexical is the Retriever of the BM25 signal, named "bm25".
type lexical struct{ ix *Index }

var _ PassageScorer = lexical{}

func (lexical) Name() string { return SignalBM25 }

// Retrieve returns the DefaultBM25TopK passages with the best BM25 score
// for the question (after typo correction).
func (r lexical) Retrieve(_ context.Context, q Query) ([]Hit, error) {
	return r.ix.bm25.top(r.ix.bm25.correct(q.Terms), DefaultBM25TopK), nil
}

// ScorePassages returns the BM25 score of each of passages (0 for one that
// holds no term of the question), equal to what Retrieve would give it.
func (r lexical) ScorePassages(_ context.Context, q Query, passages []int) ([]float64, error) {
	for _, p := range passages {
		if p < 0 || p >= len(r.ix.bm25.docLen) {
			return nil, fmt.Errorf("bm25 score: passage %d of %d", p, len(r.ix.bm25.docLen))
		}
	}
	return r.ix.BM25Scores(q, passages), nil
}

// BM25Scores returns the BM25 score of each of passages (all in range, in
// Hit numbering; 0 for one that holds no term of the question), equal to
// what the BM25 Retriever gives it.
func (ix *Index) BM25Scores(q Query, passages []int) []float64 {
	return ix.bm25.scoreDocs(ix.bm25.correct(q.Terms), passages)
}
