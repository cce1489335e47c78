package kb

import (
	"fmt"
	"math"
	"slices"
)

// TextIndex is BM25 over any short texts (past customer messages, canned
// responses), with the same tokenizer (Terms), parameters and typo
// correction as the help centre's articles, so that every ranking in
// Parley matches words the same way. It is read-only once built: one
// index serves any number of goroutines.
type TextIndex struct {
	bm25 *bm25
}

// TextHit is one text a TextIndex search found: its number in the slice
// given to NewTextIndex, its BM25 score, its Coverage, the share (0..1) of
// the query's terms, weighted by rarity, that the text holds, and its
// Relative score: Score divided by what a text of average length holding
// each query term once would score (the sum of the terms' idf). Relative
// is near 1 for a text that holds the whole query, whatever the size of
// the index, where Score grows with the number of texts indexed (idf);
// a term no text holds weighs as if one text held it.
type TextHit struct {
	Doc      int
	Score    float64
	Coverage float64
	Relative float64
}

// NewTextIndex indexes texts; p nil means DefaultBM25. Texts of no terms
// (empty, stop words only) are indexed and never found. It fails for
// parameters outside BM25's range (K1 >= 0, 0 <= B <= 1).
func NewTextIndex(texts []string, p *BM25Params) (*TextIndex, error) {
	params := DefaultBM25
	if p != nil {
		params = *p
	}
	if params.K1 < 0 || params.B < 0 || params.B > 1 {
		return nil, fmt.Errorf("index texts: BM25 k1 %g, b %g: want k1 >= 0 and 0 <= b <= 1", params.K1, params.B)
	}
	docs := make([][]string, len(texts))
	for i, t := range texts {
		docs[i] = Terms(t)
	}
	return &TextIndex{bm25: newBM25(docs, params)}, nil
}

// Len is the number of texts indexed.
func (t *TextIndex) Len() int { return len(t.bm25.docLen) }

// Search returns up to n texts (n <= 0: all that match) that share a term
// with query after typo correction, best first; ties go to the earlier
// text. A query of no terms finds nothing.
func (t *TextIndex) Search(query string, n int) []TextHit {
	terms := t.bm25.correct(Terms(query))
	found := t.bm25.top(terms, n)
	hits := make([]TextHit, len(found))
	for i, h := range found {
		hits[i] = TextHit{Doc: h.Passage, Score: h.Score}
	}
	ideal := t.ideal(terms)
	for i := range hits {
		hits[i].Coverage = t.bm25.coverage(terms, hits[i].Doc)
		if ideal > 0 {
			hits[i].Relative = hits[i].Score / ideal
		}
	}
	return hits
}

// Scores returns the BM25 score of every text for query after typo
// correction, 0 for a text that shares no term with it, in dst's memory
// when it has room (dst's contents are ignored), and the highest of them.
// The scores are those Search gives, without its ranking and coverage: for
// callers that combine BM25 with another score of every text.
func (t *TextIndex) Scores(dst []float64, query string) (scores []float64, top float64) {
	scores = slices.Grow(dst[:0], t.Len())[:t.Len()]
	clear(scores)
	acc := t.bm25.accumulate(t.bm25.correct(Terms(query)))
	defer t.bm25.release(acc)
	for _, d := range acc.touched {
		scores[d] = acc.score[d]
		top = math.Max(top, scores[d])
	}
	return scores, top
}

// ideal is the BM25 score of a text of average length that holds each
// distinct term once: with tf 1 and length normalisation 1, each term
// adds exactly its idf.
func (t *TextIndex) ideal(terms []string) float64 {
	seen := map[string]bool{}
	sum := 0.0
	for _, term := range terms {
		if seen[term] {
			continue
		}
		seen[term] = true
		sum += idf(len(t.bm25.docLen), max(len(t.bm25.postings[term]), 1))
	}
	return sum
}
