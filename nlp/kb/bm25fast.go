package kb

import (
	"math"
	"slices"
	"sort"
	"sync"
)

// flatPostings is the search-time form of bm25.postings: every term's
// postings in one pair of flat arrays, with the per-term idf and the
// per-passage length normalisation computed once, so that scoring a
// question touches no map in its inner loop and allocates nothing (the
// accumulators come from a pool). The map form stays the index file's
// format and what typo correction and coverage read.
type flatPostings struct {
	ids   map[string]int32 // term -> term number (its place in vocab)
	start []int32          // term t's postings are docs[start[t]:start[t+1]]
	docs  []int32          // passage numbers, ascending within a term
	tfs   []float32        // term frequency of each posting (exact: small integers)
	idf   []float64        // per term, as bm25 computes it
	norm  []float64        // per passage: 1 - b + b*len/avgLen
	pool  *sync.Pool       // of *accumulator sized for docLen
}

// accumulator is one search's scratch: a score per passage (zero outside
// touched) and the passages scored so far.
type accumulator struct {
	score   []float64
	touched []int32
	terms   []int32
}

// buildFlat fills ix.flat from postings, vocab, docLen and avgLen.
func (ix *bm25) buildFlat() {
	n := len(ix.docLen)
	f := flatPostings{ids: make(map[string]int32, len(ix.vocab)), start: make([]int32, 1, len(ix.vocab)+1),
		idf: make([]float64, len(ix.vocab)), norm: make([]float64, n)}
	total := 0
	for _, t := range ix.vocab {
		total += len(ix.postings[t])
	}
	f.docs = make([]int32, 0, total)
	f.tfs = make([]float32, 0, total)
	for id, t := range ix.vocab {
		ps := ix.postings[t]
		f.ids[t] = int32(id)
		for _, p := range ps {
			f.docs = append(f.docs, p.Doc)
			f.tfs = append(f.tfs, float32(p.TF))
		}
		f.start = append(f.start, int32(len(f.docs)))
		f.idf[id] = idf(n, len(ps))
	}
	b := ix.params.B
	for d, l := range ix.docLen {
		f.norm[d] = 1 - b + b*float64(l)/ix.avgLen
	}
	f.pool = &sync.Pool{New: func() any { return &accumulator{score: make([]float64, n)} }}
	ix.flat = f
}

// idf is BM25's inverse document frequency of a term held by df of n
// passages, never negative.
func idf(n, df int) float64 {
	return math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5))
}

// termIDs appends to dst the numbers of the distinct terms of terms that
// some passage holds, in their first order in terms.
func (ix *bm25) termIDs(dst []int32, terms []string) []int32 {
	for _, t := range terms {
		if id, ok := ix.flat.ids[t]; ok && !slices.Contains(dst, id) {
			dst = append(dst, id)
		}
	}
	return dst
}

// contribution is one term's BM25 share for a posting of frequency tf in
// passage d. Every scoring path computes it with this one expression, so
// that their scores are equal to the last bit.
func (ix *bm25) contribution(idf float64, tf float32, d int32) float64 {
	k1 := ix.params.K1
	x := float64(tf)
	return idf * x * (k1 + 1) / (x + k1*ix.flat.norm[d])
}

// accumulate scores every passage that shares a term with the question:
// terms are summed in question order, each distinct term once.
func (ix *bm25) accumulate(terms []string) *accumulator {
	acc := ix.flat.pool.Get().(*accumulator)
	acc.terms = ix.termIDs(acc.terms[:0], terms)
	f := &ix.flat
	for _, id := range acc.terms {
		lo, hi := f.start[id], f.start[id+1]
		docs, tfs, w := f.docs[lo:hi], f.tfs[lo:hi], f.idf[id]
		for i, d := range docs {
			// Every contribution is > 0 (idf > 0, tf >= 1), so a zero
			// score means the passage is not touched yet.
			if acc.score[d] == 0 {
				acc.touched = append(acc.touched, d)
			}
			acc.score[d] += ix.contribution(w, tfs[i], d)
		}
	}
	return acc
}

// release clears what acc touched and returns it to the pool.
func (ix *bm25) release(acc *accumulator) {
	for _, d := range acc.touched {
		acc.score[d] = 0
	}
	acc.touched = acc.touched[:0]
	ix.flat.pool.Put(acc)
}

// top returns the k passages (k <= 0: all) with the best BM25 score for
// terms, best first; of equal scores the earlier passage ranks first.
func (ix *bm25) top(terms []string, k int) []Hit {
	acc := ix.accumulate(terms)
	defer ix.release(acc)
	if k <= 0 || k > len(acc.touched) {
		k = len(acc.touched)
	}
	// h is a min-heap of the best k so far: its root is the worst of them.
	h := make([]Hit, 0, k)
	for _, d := range acc.touched {
		hit := Hit{Passage: int(d), Score: acc.score[d]}
		if len(h) < k {
			h = append(h, hit)
			siftUp(h, len(h)-1)
			continue
		}
		if worse(hit, h[0]) {
			continue
		}
		h[0] = hit
		siftDown(h, 0)
	}
	sort.Slice(h, func(i, j int) bool { return worse(h[j], h[i]) })
	return h
}

// worse reports whether a ranks below b: a lower score, or the same score
// and a later passage.
func worse(a, b Hit) bool {
	if a.Score != b.Score {
		return a.Score < b.Score
	}
	return a.Passage > b.Passage
}

func siftUp(h []Hit, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !worse(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func siftDown(h []Hit, i int) {
	for {
		l, m := 2*i+1, i
		if l < len(h) && worse(h[l], h[m]) {
			m = l
		}
		if r := l + 1; r < len(h) && worse(h[r], h[m]) {
			m = r
		}
		if m == i {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// scoreDocs returns the BM25 score for terms of each passage of docs (all
// in range), equal to what top gives it: terms in the same order, each
// contribution found by binary search in the term's postings.
func (ix *bm25) scoreDocs(terms []string, docs []int) []float64 {
	out := make([]float64, len(docs))
	f := &ix.flat
	for _, id := range ix.termIDs(nil, terms) {
		lo, hi := f.start[id], f.start[id+1]
		ps := f.docs[lo:hi]
		for i, d := range docs {
			j, ok := slices.BinarySearch(ps, int32(d))
			if ok {
				out[i] += ix.contribution(f.idf[id], f.tfs[int(lo)+j], int32(d))
			}
		}
	}
	return out
}
