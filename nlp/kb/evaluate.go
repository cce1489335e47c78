package kb

import (
	"context"
	"fmt"
)

// Question is a labelled question: Article is the id of the article that
// answers it, or "" when none does.
type Question struct {
	Text    string
	Article string
}

// Rates are what a Searcher does on labelled questions.
type Rates struct {
	Questions int // with an article as the answer
	Top1      int // of those, the first answer was that article
	OutOfKB   int // questions with no article
	Answered  int // all questions (out-of-KB included) with a confident answer
	Wrong     int // of those answered, the wrong article or none existed
}

// Top1Rate is Top1 / Questions.
func (r Rates) Top1Rate() float64 { return ratio(r.Top1, r.Questions) }

// WrongRate is Wrong / Answered: the share of given answers that are wrong.
func (r Rates) WrongRate() float64 { return ratio(r.Wrong, r.Answered) }

// AnsweredRate is Answered / all questions.
func (r Rates) AnsweredRate() float64 { return ratio(r.Answered, r.Questions+r.OutOfKB) }

func (r Rates) String() string {
	return fmt.Sprintf("top-1 %d/%d (%.1f%%); answered %d/%d (%.1f%%), wrong %d (%.1f%% of answered)",
		r.Top1, r.Questions, 100*r.Top1Rate(), r.Answered, r.Questions+r.OutOfKB, 100*r.AnsweredRate(), r.Wrong, 100*r.WrongRate())
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Evaluate asks every question and counts. It also returns one Sample per
// question that got any answer, for Fit. It fails if a question names an
// article the index does not hold, or if Ask fails.
func Evaluate(ctx context.Context, s *Searcher, qs []Question) (Rates, []Sample, error) {
	ids := map[string]bool{}
	for _, a := range s.Index.Articles {
		ids[a.ID] = true
	}
	var r Rates
	var samples []Sample
	for _, q := range qs {
		if q.Article != "" && !ids[q.Article] {
			return Rates{}, nil, fmt.Errorf("evaluate: question %q names unknown article %q", q.Text, q.Article)
		}
		res, err := s.Ask(ctx, q.Text, 2)
		if err != nil {
			return Rates{}, nil, fmt.Errorf("evaluate: %w", err)
		}
		if q.Article == "" {
			r.OutOfKB++
		} else {
			r.Questions++
		}
		if len(res.Answers) == 0 {
			continue
		}
		top := res.Answers[0]
		right := q.Article != "" && top.ArticleID == q.Article
		if right {
			r.Top1++
		}
		samples = append(samples, Sample{Score: top.Score, Margin: top.Margin, Coverage: top.Coverage, Correct: right})
		if res.Confident {
			r.Answered++
			if !right {
				r.Wrong++
			}
		}
	}
	return r, samples, nil
}
