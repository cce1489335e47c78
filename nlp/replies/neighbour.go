package replies

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/parleyhq/parley/nlp/encoder"
	"github.com/parleyhq/parley/nlp/kb"
)

// The nearest neighbour's similarities.
const (
	NeighbourBM25    = "bm25"    // BM25 over the training questions
	NeighbourEncoder = "encoder" // cosine of the encoder's question vectors
)

// neighbours is the nearest-neighbour baseline: the answer of the training
// question most similar to the one asked. Read-only once built.
type neighbours struct {
	pairs []Pair
	by    string // NeighbourBM25 or NeighbourEncoder
	bm25  *kb.TextIndex
	enc   *encoder.Encoder
	vecs  [][]float32 // question vectors, per pair
}

// newNeighbours indexes the training pairs both ways; by is the similarity
// answer uses ("" until choose picks one).
func newNeighbours(pairs []Pair, enc *encoder.Encoder, by string) (*neighbours, error) {
	switch by {
	case "", NeighbourBM25, NeighbourEncoder:
	default:
		return nil, fmt.Errorf("%w: unknown nearest-neighbour similarity %q", ErrCorrupt, by)
	}
	qs := make([]string, len(pairs))
	for i, p := range pairs {
		qs[i] = p.Question
	}
	ix, err := kb.NewTextIndex(qs, nil)
	if err != nil {
		return nil, err
	}
	n := &neighbours{pairs: pairs, by: by, bm25: ix, enc: enc, vecs: make([][]float32, len(pairs))}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(qs); i += workers {
				n.vecs[i] = enc.EncodeQuestion(qs[i])
			}
		})
	}
	wg.Wait()
	return n, nil
}

// answer returns the answer of the training question most similar to q by
// the chosen similarity. BM25 finds nothing for a question without a
// known word: then the encoder decides.
func (n *neighbours) answer(q, by string) string {
	if by == NeighbourBM25 {
		if hits := n.bm25.Search(q, 1); len(hits) > 0 {
			return n.pairs[hits[0].Doc].Answer
		}
	}
	qv := n.enc.EncodeQuestion(q)
	best, bestScore := 0, float32(-2)
	for i, v := range n.vecs {
		if s := encoder.Dot(qv, v); s > bestScore {
			best, bestScore = i, s
		}
	}
	return n.pairs[best].Answer
}

// choose sets and returns the similarity whose answers have the higher
// ROUGE-L against the validation pairs' answers (BM25 on a tie), with
// both scores.
func (n *neighbours) choose(val []Pair) (string, map[string]float64) {
	scores := map[string]float64{}
	gold := make([]string, len(val))
	for i, p := range val {
		gold[i] = p.Answer
	}
	for _, by := range []string{NeighbourBM25, NeighbourEncoder} {
		got := make([]string, len(val))
		for i, p := range val {
			got[i] = n.answer(p.Question, by)
		}
		scores[by] = Generation(got, gold).RougeL
	}
	n.by = NeighbourBM25
	if scores[NeighbourEncoder] > scores[NeighbourBM25] {
		n.by = NeighbourEncoder
	}
	return n.by, scores
}

// Neighbour returns the nearest-neighbour baseline's reply to question:
// the training answer of the most similar training question.
func (m *Model) Neighbour(question string) string { return m.nn.answer(question, m.nn.by) }
