package kb

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxQuestionRunes is how much of a question Ask reads; the rest is cut (at
// a word boundary where there is one) and the Result says so. Questions to a
// help centre are a sentence or two; the limit keeps a pasted 1 MB log from
// costing more than a normal question.
const MaxQuestionRunes = 2000

// SignalBM25 names the lexical signal in Answer.Scores and Signal lists.
const SignalBM25 = "bm25"

// Query is a question prepared once for every retriever.
type Query struct {
	Text  string   // the question, truncated to MaxQuestionRunes
	Terms []string // Terms(Text)
}

// Hit is one passage a retriever scored; Passage numbers run over all
// articles' passages in Index order.
type Hit struct {
	Passage int
	Score   float64
}

// Retriever is one signal of relevance: BM25 now, the encoder's cosine
// later. Retrieve may return any subset of passages; a passage left out
// scores 0 for that signal.
type Retriever interface {
	Name() string
	Retrieve(ctx context.Context, q Query) ([]Hit, error)
}

// PassageScorer is a Retriever that can also score passages it did not
// return (a retriever that returns only its best k): Ask asks it for the
// passages another signal found, so that every candidate's combined score
// holds every signal. ScorePassages returns one score per passage, in
// order, as Retrieve would have scored it (0: no match).
type PassageScorer interface {
	ScorePassages(ctx context.Context, q Query, passages []int) ([]float64, error)
}

// Signal is a retriever and its weight in the combined score.
type Signal struct {
	Retriever Retriever
	Weight    float64
}

// Searcher answers questions from an Index (which must not be nil); it
// holds no state of its own between questions, so one serves any number of
// goroutines as long as its Retrievers do. The combined score of a
// passage is the weighted sum of its signals' scores; an article scores as
// its best passage. Confidence comes from Calibration, applied to the
// article's combined score, its margin over the best other article, and
// the passage's coverage of the question.
type Searcher struct {
	Index       *Index
	Signals     []Signal
	Calibration Calibration
}

// NewSearcher returns a Searcher with BM25 alone (weight 1) and
// DefaultCalibration, which was fitted for exactly that combination.
func NewSearcher(ix *Index) *Searcher {
	return &Searcher{Index: ix, Signals: []Signal{{Retriever: lexical{ix}, Weight: 1}}, Calibration: DefaultCalibration}
}

// BM25Retriever returns the index's lexical Retriever, for building Signals.
func (ix *Index) BM25Retriever() Retriever { return lexical{ix} }

// Result is what Ask found.
type Result struct {
	Question  string   `json:"question"`            // the text searched
	Truncated bool     `json:"truncated,omitempty"` // the question was cut to MaxQuestionRunes
	Answers   []Answer `json:"answers"`             // best first
	// Confident: the best answer's confidence reaches the calibration's
	// threshold, so it may be given as the answer.
	Confident bool `json:"confident"`
}

// Answer is one article, with the passage to quote.
type Answer struct {
	ArticleID string  `json:"article_id"`
	Title     string  `json:"title"`
	URL       string  `json:"url"`
	Heading   string  `json:"heading,omitempty"`
	Passage   string  `json:"passage"`
	File      string  `json:"file"`
	Line      int     `json:"line"`
	Score     float64 `json:"score"`  // combined score of the passage
	Margin    float64 `json:"margin"` // Score minus the best other article's score
	// Coverage is the share of the question's terms (weighted by rarity)
	// that the passage holds, after typo correction: 0..1.
	Coverage float64            `json:"coverage"`
	Scores   map[string]float64 `json:"scores"` // per signal
	// Confidence is the probability (0..1) that this article answers the
	// question: calibrated for the first answer, capped for the others (see
	// Ask).
	Confidence float64 `json:"confidence"`
}

// Ask returns up to n articles (n <= 0 means 3) ranked for question. A blank
// question is ErrEmptyQuestion; a question of only stop words finds nothing
// by BM25 (no answers, not an error). A cancelled ctx stops before the next
// signal. Invalid UTF-8 is read as spaces; a question
// over MaxQuestionRunes is cut and Result.Truncated set.
func (s *Searcher) Ask(ctx context.Context, question string, n int) (*Result, error) {
	if n <= 0 {
		n = 3
	}
	text, truncated := truncate(question, MaxQuestionRunes)
	text = strings.ToValidUTF8(text, " ")
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("ask: %w", ErrEmptyQuestion)
	}
	q := Query{Text: text, Terms: Terms(text)}
	corrected := s.Index.bm25.correct(q.Terms)
	res := &Result{Question: text, Truncated: truncated, Answers: []Answer{}}
	type passageScore struct {
		total  float64
		scores map[string]float64
	}
	// Each signal's hits first, then the scores that signals able to score
	// any passage (PassageScorer) give to passages they did not return but
	// another signal did, then the totals, summed in signal order.
	perSignal := make([]map[int]float64, len(s.Signals))
	byPassage := map[int]*passageScore{}
	for i, sig := range s.Signals {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("ask: %w", err)
		}
		hits, err := sig.Retriever.Retrieve(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("ask: %s: %w", sig.Retriever.Name(), err)
		}
		perSignal[i] = make(map[int]float64, len(hits))
		for _, h := range hits {
			if err := checkHit(sig.Retriever.Name(), h.Passage, h.Score, len(s.Index.refs)); err != nil {
				return nil, err
			}
			perSignal[i][h.Passage] = h.Score
			if byPassage[h.Passage] == nil {
				byPassage[h.Passage] = &passageScore{scores: map[string]float64{}}
			}
		}
	}
	for i, sig := range s.Signals {
		ps, ok := sig.Retriever.(PassageScorer)
		if !ok || len(perSignal[i]) == len(byPassage) {
			continue
		}
		var missing []int
		for p := range byPassage {
			if _, ok := perSignal[i][p]; !ok {
				missing = append(missing, p)
			}
		}
		sort.Ints(missing)
		scores, err := ps.ScorePassages(ctx, q, missing)
		if err != nil {
			return nil, fmt.Errorf("ask: %s: %w", sig.Retriever.Name(), err)
		}
		if len(scores) != len(missing) {
			return nil, fmt.Errorf("ask: %s scored %d of %d passages", sig.Retriever.Name(), len(scores), len(missing))
		}
		for j, p := range missing {
			if err := checkHit(sig.Retriever.Name(), p, scores[j], len(s.Index.refs)); err != nil {
				return nil, err
			}
			if scores[j] != 0 {
				perSignal[i][p] = scores[j]
			}
		}
	}
	for i, sig := range s.Signals {
		for p, score := range perSignal[i] {
			ps := byPassage[p]
			ps.scores[sig.Retriever.Name()] = score
			ps.total += sig.Weight * score
		}
	}
	// Best passage per article; ties go to the earlier passage.
	best := map[int]int{} // article -> passage number
	for p, ps := range byPassage {
		a := s.Index.refs[p].article
		if cur, ok := best[a]; !ok || ps.total > byPassage[cur].total || (ps.total == byPassage[cur].total && p < cur) {
			best[a] = p
		}
	}
	ranked := make([]int, 0, len(best))
	for _, p := range best {
		if byPassage[p].total > 0 {
			ranked = append(ranked, p)
		}
	}
	sort.Slice(ranked, func(i, j int) bool {
		ti, tj := byPassage[ranked[i]].total, byPassage[ranked[j]].total
		if ti != tj {
			return ti > tj
		}
		return ranked[i] < ranked[j]
	})
	for i, p := range ranked {
		if i == n {
			break
		}
		ref := s.Index.refs[p]
		a := &s.Index.Articles[ref.article]
		pas := &a.Passages[ref.passage]
		score := byPassage[p].total
		other := 0.0 // the best other article's score
		if i == 0 && len(ranked) > 1 {
			other = byPassage[ranked[1]].total
		} else if i > 0 {
			other = byPassage[ranked[0]].total
		}
		cov := s.Index.bm25.coverage(corrected, p)
		res.Answers = append(res.Answers, Answer{
			ArticleID: a.ID, Title: a.Title, URL: a.URL,
			Heading: pas.Heading, Passage: pas.Text, File: a.File, Line: pas.Line,
			Score: score, Margin: score - other, Coverage: cov, Scores: byPassage[p].scores,
			Confidence: s.Calibration.Confidence(score, score-other, cov),
		})
	}
	// Only the top answer's confidence is calibrated (Fit sees top answers
	// only). Below it, at most one article can be the right one, so a lower
	// answer's confidence is capped by what the top one leaves (1 - top),
	// and by the top's own, so that confidences never rise down the list.
	for i := 1; i < len(res.Answers); i++ {
		top := res.Answers[0].Confidence
		res.Answers[i].Confidence = min(res.Answers[i].Confidence, 1-top, top)
	}
	res.Confident = len(res.Answers) > 0 && res.Answers[0].Confidence >= s.Calibration.Threshold
	return res, nil
}

// checkHit rejects a passage number out of range and a score that is not
// a finite number.
func checkHit(name string, p int, score float64, passages int) error {
	if p < 0 || p >= passages {
		return fmt.Errorf("ask: %s returned passage %d of %d", name, p, passages)
	}
	if math.IsNaN(score) || math.IsInf(score, 0) {
		return fmt.Errorf("ask: %s scored passage %d %g", name, p, score)
	}
	return nil
}

// truncate cuts s to at most max runes, at the last space of the last
// tenth where there is one, and reports whether it cut.
func truncate(s string, max int) (string, bool) {
	if len(s) <= max { // bytes >= runes
		return s, false
	}
	i, n := 0, 0
	for i < len(s) && n < max {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	if i >= len(s) {
		return s, false
	}
	cut := s[:i]
	if sp := strings.LastIndexFunc(cut, unicode.IsSpace); sp > len(cut)*9/10 {
		cut = cut[:sp]
	}
	return cut, true
}
