package replies

import (
	"cmp"
	"runtime"
	"slices"
	"sync"

	"github.com/parleyhq/parley/nlp/encoder"
	"github.com/parleyhq/parley/nlp/kb"
)

// Ranker ranks a fixed set of candidate replies for a customer's message
// by BM25, by the encoder's cosine and by their hybrid at the model's
// weight. It is read-only and safe for concurrent use.
type Ranker struct {
	m    *Model
	bm25 *kb.TextIndex
	dim  int
	vecs []float32 // [candidates, dim]: the answer vectors, in one block
	bufs sync.Pool // of *[]float64: Top's BM25 scores, one per candidate
}

// Ranked is one candidate of a Top ranking: its number in the candidates
// given to Model.Ranker, its hybrid score and the two scores it combines.
type Ranked struct {
	Candidate    int
	Score        float64
	BM25, Cosine float64
}

// RetrieveK is how many replies a timed retrieval returns (retrieve_p95 of
// Evaluate and bench/replies): the five that R@5 looks at.
const RetrieveK = 5

// chunk is how many candidates one goroutine scores at least.
const chunk = 4096

// Ranker indexes the candidates: BM25 and their answer vectors, encoded
// on all cores.
func (m *Model) Ranker(candidates []string) (*Ranker, error) {
	ix, err := kb.NewTextIndex(candidates, nil)
	if err != nil {
		return nil, err
	}
	d := m.Encoder.Dim()
	r := &Ranker{m: m, bm25: ix, dim: d, vecs: make([]float32, len(candidates)*d)}
	r.bufs.New = func() any { return new([]float64) }
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(candidates); i += workers {
				copy(r.vecs[i*d:(i+1)*d], m.Encoder.EncodeAnswer(candidates[i]))
			}
		})
	}
	wg.Wait()
	return r, nil
}

// Len is the number of candidates.
func (r *Ranker) Len() int { return r.bm25.Len() }

// Scores returns every candidate's BM25 score, cosine and hybrid score
// for message (higher is better), in candidate order.
func (r *Ranker) Scores(message string) (bm25, cosine, hybrid []float64) {
	n := r.Len()
	cosine, hybrid = make([]float64, n), make([]float64, n)
	bm25, top := r.bm25.Scores(nil, message)
	qv := r.m.Encoder.EncodeQuestion(message)
	for j := range n {
		cosine[j] = r.cosine(qv, j)
		hybrid[j] = encoder.HybridScore(cosine[j], bm25[j], top, r.m.meta.HybridWeight)
	}
	return bm25, cosine, hybrid
}

// Top returns the k candidates (fewer when there are fewer) with the best
// hybrid score for message, best first; of equal scores the earlier
// candidate ranks first. Scores are Scores' to the last bit. The
// candidates are scored in chunks on all cores, each keeping its own best
// k, so that a ranking among tens of thousands takes milliseconds.
func (r *Ranker) Top(message string, k int) []Ranked {
	n := r.Len()
	k = min(k, n)
	if k <= 0 {
		return nil
	}
	buf := r.bufs.Get().(*[]float64)
	defer r.bufs.Put(buf)
	bm25, top := r.bm25.Scores(*buf, message)
	*buf = bm25
	qv := r.m.Encoder.EncodeQuestion(message)

	parts := max(1, min(runtime.GOMAXPROCS(0), n/chunk))
	best := make([][]Ranked, parts)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() {
			hits := make([]Ranked, 0, k+1)
			for j := p * n / parts; j < (p+1)*n/parts; j++ {
				c := r.cosine(qv, j)
				h := encoder.HybridScore(c, bm25[j], top, r.m.meta.HybridWeight)
				if len(hits) == k && h <= hits[k-1].Score {
					continue
				}
				// After every kept candidate scoring at least h: the
				// earlier candidate stays first among equal scores.
				i, _ := slices.BinarySearchFunc(hits, h, func(x Ranked, h float64) int {
					if x.Score >= h {
						return -1
					}
					return 1
				})
				hits = slices.Insert(hits, i, Ranked{Candidate: j, Score: h, BM25: bm25[j], Cosine: c})
				hits = hits[:min(len(hits), k)]
			}
			best[p] = hits
		})
	}
	wg.Wait()
	// Parts hold ascending ranges of candidates, so a stable sort keeps the
	// earlier candidate first among equal scores.
	all := slices.Concat(best...)
	slices.SortStableFunc(all, func(a, b Ranked) int { return cmp.Compare(b.Score, a.Score) })
	return all[:k]
}

// cosine is the encoder's score of candidate j for the question vector qv.
func (r *Ranker) cosine(qv []float32, j int) float64 {
	return float64(encoder.Dot(qv, r.vecs[j*r.dim:(j+1)*r.dim]))
}
