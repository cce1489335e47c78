package replies

import (
	"runtime"
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
	vecs [][]float32 // answer vectors, per candidate
}

// Ranker indexes the candidates: BM25 and their answer vectors, encoded
// on all cores.
func (m *Model) Ranker(candidates []string) (*Ranker, error) {
	ix, err := kb.NewTextIndex(candidates, nil)
	if err != nil {
		return nil, err
	}
	r := &Ranker{m: m, bm25: ix, vecs: make([][]float32, len(candidates))}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(candidates); i += workers {
				r.vecs[i] = m.Encoder.EncodeAnswer(candidates[i])
			}
		})
	}
	wg.Wait()
	return r, nil
}

// Scores returns every candidate's BM25 score, cosine and hybrid score
// for message (higher is better), in candidate order.
func (r *Ranker) Scores(message string) (bm25, cosine, hybrid []float64) {
	bm25, cosine = make([]float64, len(r.vecs)), make([]float64, len(r.vecs))
	qv := r.m.Encoder.EncodeQuestion(message)
	for j, v := range r.vecs {
		cosine[j] = float64(encoder.Dot(qv, v))
	}
	for _, h := range r.bm25.Search(message, 0) {
		bm25[h.Doc] = h.Score
	}
	hybrid = encoder.Hybrid([][]float64{cosine}, [][]float64{bm25}, r.m.meta.HybridWeight)[0]
	return bm25, cosine, hybrid
}
