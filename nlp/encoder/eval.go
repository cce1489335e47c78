package encoder

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/parleyhq/parley/nlp/kb"
)

// Metrics are ranking figures over a set of questions, each with one gold
// answer among the same candidates.
type Metrics struct {
	N   int     // questions
	R1  float64 // share with the gold answer first
	R5  float64 // share with it in the first five
	MRR float64 // mean of 1/rank
}

func (m Metrics) String() string {
	return fmt.Sprintf("R@1 %.1f%%  R@5 %.1f%%  MRR %.3f  (%d questions)", 100*m.R1, 100*m.R5, m.MRR, m.N)
}

// Recall ranks the candidates of each question by scores[q] (higher is
// better) and measures where gold[q] lands. A tie with the gold answer
// counts against it (rank = 1 + candidates scoring at least as high), so a
// scorer that gives most candidates 0 gains nothing from ties.
func Recall(scores [][]float64, gold []int) Metrics {
	m := Metrics{N: len(scores)}
	if m.N == 0 {
		return m
	}
	for q, row := range scores {
		g := row[gold[q]]
		rank := 1
		for j, s := range row {
			if j != gold[q] && s >= g {
				rank++
			}
		}
		if rank == 1 {
			m.R1++
		}
		if rank <= 5 {
			m.R5++
		}
		m.MRR += 1 / float64(rank)
	}
	n := float64(m.N)
	m.R1, m.R5, m.MRR = m.R1/n, m.R5/n, m.MRR/n
	return m
}

// Candidates returns the questions of pairs, their distinct answers (in
// order of first appearance) and, per question, its answer's number: the
// ranking task "find the gold answer among every answer of the split".
func Candidates(pairs []Pair) (questions, answers []string, gold []int) {
	ids := map[string]int{}
	for _, p := range pairs {
		id, ok := ids[p.Answer]
		if !ok {
			id = len(answers)
			ids[p.Answer] = id
			answers = append(answers, p.Answer)
		}
		questions = append(questions, p.Question)
		gold = append(gold, id)
	}
	return questions, answers, gold
}

// EncoderScores returns the cosine of every question with every answer:
// scores[q][a].
func EncoderScores(e *Encoder, questions, answers []string) [][]float64 {
	av := make([][]float32, len(answers))
	for i, a := range answers {
		av[i] = e.EncodeAnswer(a)
	}
	out := make([][]float64, len(questions))
	for i, q := range questions {
		qv := e.EncodeQuestion(q)
		row := make([]float64, len(answers))
		for j, a := range av {
			row[j] = float64(Dot(qv, a))
		}
		out[i] = row
	}
	return out
}

// BM25Scores returns the BM25 score (nlp/kb's scorer: its terms, stemming,
// typo correction and DefaultBM25) of every answer for every question, each
// answer indexed as a passage of its own. It fails only for no answers.
func BM25Scores(ctx context.Context, questions, answers []string) ([][]float64, error) {
	arts := make([]kb.Article, len(answers))
	for i, a := range answers {
		arts[i] = kb.Article{ID: "a" + strconv.Itoa(i), Passages: []kb.Passage{{Text: a}}}
	}
	ix, err := kb.NewIndex(&kb.KB{Articles: arts}, nil)
	if err != nil {
		return nil, fmt.Errorf("bm25 scores: %w", err)
	}
	r := ix.BM25Retriever()
	out := make([][]float64, len(questions))
	for i, q := range questions {
		hits, err := r.Retrieve(ctx, kb.Query{Text: q, Terms: kb.Terms(q)})
		if err != nil {
			return nil, fmt.Errorf("bm25 scores: %w", err)
		}
		row := make([]float64, len(answers))
		for _, h := range hits {
			row[h.Passage] = h.Score // one passage per article, in order
		}
		out[i] = row
	}
	return out, nil
}

// Hybrid combines per question: weight*cosine + (1-weight)*bm25/max(bm25),
// BM25 scaled so that the question's best candidate scores 1 (BM25's scale
// varies with the question's length and rarity; the cosine's does not).
// The inputs are left unchanged.
func Hybrid(cosine, bm25 [][]float64, weight float64) [][]float64 {
	out := make([][]float64, len(cosine))
	for q := range cosine {
		top := 0.0
		for _, s := range bm25[q] {
			top = math.Max(top, s)
		}
		row := make([]float64, len(cosine[q]))
		for j, c := range cosine[q] {
			row[j] = HybridScore(c, bm25[q][j], top, weight)
		}
		out[q] = row
	}
	return out
}

// HybridScore is Hybrid's score of one answer of cosine c and BM25 score
// bm, where top is the question's best BM25 score among the answers.
func HybridScore(c, bm, top, weight float64) float64 {
	b := 0.0
	if top > 0 {
		b = bm / top
	}
	return weight*c + (1-weight)*b
}

// ChooseWeight returns the Hybrid weight, on a grid of twentieths, with
// the best R@1 (then MRR, then the lower weight) on the given scores:
// validation scores, never test ones.
func ChooseWeight(cosine, bm25 [][]float64, gold []int) (float64, Metrics) {
	best, bestM := 0.0, Metrics{R1: -1}
	for i := 0; i <= 20; i++ {
		w := float64(i) / 20
		m := Recall(Hybrid(cosine, bm25, w), gold)
		if m.R1 > bestM.R1 || (m.R1 == bestM.R1 && m.MRR > bestM.MRR) {
			best, bestM = w, m
		}
	}
	return best, bestM
}
