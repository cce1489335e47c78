package encoder

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/parleyhq/parley/nlp/kb"
)

// SignalEncoder names the encoder's signal in kb.Answer.Scores.
const SignalEncoder = "encoder"

// DefaultTopK is how many passages Retriever returns when TopK is 0.
const DefaultTopK = 50

// Retriever is the encoder's kb.Retriever: it scores a question against
// every passage of an index by cosine, from vectors computed once by
// NewRetriever, and returns the TopK best. Scores are the cosine clamped at
// 0, so that an unrelated passage adds nothing to the combined score (as
// a passage BM25 does not return). It is read-only and safe for concurrent
// use.
type Retriever struct {
	enc  *Encoder
	dim  int
	vecs []float32 // [passages, dim], in kb.Hit passage order
	TopK int
}

var _ kb.Retriever = (*Retriever)(nil)

// NewRetriever encodes every passage of ix (its article's title, the
// section heading and the passage text, as BM25 indexes it) with the
// answer tower, on all cores: 30,000 passages take seconds on one.
func NewRetriever(enc *Encoder, ix *kb.Index) *Retriever {
	var texts []string
	for _, a := range ix.Articles {
		for _, p := range a.Passages {
			texts = append(texts, PassageText(a, p))
		}
	}
	d := enc.Dim()
	r := &Retriever{enc: enc, dim: d, vecs: make([]float32, len(texts)*d)}
	workers := max(1, min(runtime.GOMAXPROCS(0), len(texts)/64))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			// Worker w takes every workers-th passage: each writes its own
			// rows of vecs.
			for i := w; i < len(texts); i += workers {
				copy(r.vecs[i*d:(i+1)*d], enc.EncodeAnswer(texts[i]))
			}
		})
	}
	wg.Wait()
	return r
}

// PassageText is the text of a passage as the encoder reads it: the
// article's title, the section's heading and the passage.
func PassageText(a kb.Article, p kb.Passage) string {
	return strings.Join([]string{a.Title, p.Heading, p.Text}, "\n")
}

// Name is SignalEncoder.
func (r *Retriever) Name() string { return SignalEncoder }

// Retrieve returns the TopK passages by cosine with the question; it fails
// only when ctx is done.
func (r *Retriever) Retrieve(ctx context.Context, q kb.Query) ([]kb.Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("encoder retrieve: %w", err)
	}
	qv := r.enc.EncodeQuestion(q.Text)
	n := len(r.vecs) / r.dim
	k := r.TopK
	if k <= 0 {
		k = DefaultTopK
	}
	k = min(k, n)
	// Keep the best k in a small sorted slice: k is tens, n up to tens of
	// thousands, and a heap would not pay off.
	hits := make([]kb.Hit, 0, k+1)
	for p := range n {
		s := float64(Dot(qv, r.vecs[p*r.dim:(p+1)*r.dim]))
		if s <= 0 || (len(hits) == k && s <= hits[k-1].Score) {
			continue
		}
		// After every hit scoring at least s: of equal scores, the earlier
		// passage stays first, as in kb's ranking.
		i, _ := slices.BinarySearchFunc(hits, s, func(h kb.Hit, s float64) int {
			if h.Score >= s {
				return -1
			}
			return 1
		})
		hits = slices.Insert(hits, i, kb.Hit{Passage: p, Score: s})
		if len(hits) > k {
			hits = hits[:k]
		}
	}
	return hits, nil
}
