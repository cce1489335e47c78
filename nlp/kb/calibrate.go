package kb

import (
	"math"
	"sort"
)

// Calibration turns an answer's features into a confidence: a logistic
// function
//
//	confidence = 1 / (1 + exp(-(Score*score + Margin*margin + Coverage*coverage + Bias)))
//
// of the article's combined score, its margin over the best other article
// and the passage's coverage of the question, fitted by Fit on labelled
// questions; and Threshold, the confidence from which an answer is given.
type Calibration struct {
	Score     float64 `json:"score"`
	Margin    float64 `json:"margin"`
	Coverage  float64 `json:"coverage"`
	Bias      float64 `json:"bias"`
	Threshold float64 `json:"threshold"`
}

// DefaultCalibration is Fit(samples, 0.03) of the demo shop's validation
// questions (the "validation" half of internal/shop/testdata/
// kb_questions.yml, its out-of-KB questions included) on BM25 alone with
// DefaultBM25. The test half is never used for fitting: it measures. The
// 3% is ChooseMaxWrong's at WrongLimit: 10-fold cross-validation within
// the validation half answered 51 of 140 held-out questions, 2 wrong (at
// 4%: 71, 3 wrong, 4.2%). TestDefaultCalibrationIsFitted refits it and
// fails, printing the new numbers, when the articles, the questions or the
// scorer changed.
var DefaultCalibration = Calibration{Score: 0.4487, Margin: 0.1221, Coverage: 3.0492, Bias: -4.0107, Threshold: 0.7820}

// Confidence returns the calibrated probability that an article with these
// features is the right one.
func (c Calibration) Confidence(score, margin, coverage float64) float64 {
	return 1 / (1 + math.Exp(-(c.Score*score + c.Margin*margin + c.Coverage*coverage + c.Bias)))
}

// Sample is one labelled question for Fit: the features of the top answer
// and whether it was the right article (false also when the question has
// no article).
type Sample struct {
	Score, Margin, Coverage float64
	Correct                 bool
}

const nFeatures = 3

func (s Sample) features() [nFeatures]float64 {
	return [nFeatures]float64{s.Score, s.Margin, s.Coverage}
}

// Fit fits a Calibration to samples by logistic regression (full-batch
// gradient descent on standardised features, with a little L2 so that
// separable data stays finite; deterministic) and picks the lowest
// threshold at which at most maxWrong of the answered samples are wrong.
// With no samples it returns DefaultCalibration.
func Fit(samples []Sample, maxWrong float64) Calibration {
	if len(samples) == 0 {
		return DefaultCalibration
	}
	n := float64(len(samples))
	var mean, sd [nFeatures]float64
	for _, s := range samples {
		for i, x := range s.features() {
			mean[i] += x / n
		}
	}
	for _, s := range samples {
		for i, x := range s.features() {
			sd[i] += (x - mean[i]) * (x - mean[i]) / n
		}
	}
	for i := range sd {
		sd[i] = math.Sqrt(sd[i])
		if sd[i] == 0 {
			sd[i] = 1
		}
	}
	var w [nFeatures]float64
	var b float64
	const (
		rate   = 0.5
		l2     = 0.01
		epochs = 3000
	)
	for range epochs {
		var gw [nFeatures]float64
		var gb float64
		for _, s := range samples {
			z := b
			x := s.features()
			for i := range x {
				x[i] = (x[i] - mean[i]) / sd[i]
				z += w[i] * x[i]
			}
			p := 1 / (1 + math.Exp(-z))
			y := 0.0
			if s.Correct {
				y = 1
			}
			for i := range x {
				gw[i] += (p - y) * x[i] / n
			}
			gb += (p - y) / n
		}
		for i := range w {
			w[i] -= rate * (gw[i] + l2*w[i])
		}
		b -= rate * gb
	}
	c := Calibration{Score: w[0] / sd[0], Margin: w[1] / sd[1], Coverage: w[2] / sd[2], Bias: b}
	for i := range w {
		c.Bias -= w[i] * mean[i] / sd[i]
	}
	c.Threshold = pickThreshold(c, samples, maxWrong)
	return c
}

// pickThreshold returns the lowest threshold, halfway between two samples'
// confidences, at which the wrong share of answered samples is <= maxWrong
// (1, answering nothing, when there is none).
func pickThreshold(c Calibration, samples []Sample, maxWrong float64) float64 {
	type sc struct {
		conf    float64
		correct bool
	}
	all := make([]sc, len(samples))
	for i, s := range samples {
		all[i] = sc{c.Confidence(s.Score, s.Margin, s.Coverage), s.Correct}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].conf > all[j].conf })
	best := 1.0
	wrong := 0
	for i, s := range all {
		if !s.correct {
			wrong++
		}
		if i+1 < len(all) && all[i+1].conf == s.conf {
			continue // a threshold cannot split equal confidences
		}
		if float64(wrong) <= maxWrong*float64(i+1) {
			if i+1 < len(all) {
				best = (s.conf + all[i+1].conf) / 2
			} else {
				best = s.conf / 2
			}
		}
	}
	return best
}

// CV is one candidate of ChooseMaxWrong: Fit's maxWrong, and the held-out
// answers and wrong answers its calibration gave in cross-validation.
type CV struct {
	MaxWrong        float64
	Answered, Wrong int
}

// WrongRate is the wrong share of the held-out answers (0 with none).
func (c CV) WrongRate() float64 { return ratio(c.Wrong, c.Answered) }

// cvFolds is how many folds CrossValidate uses.
const cvFolds = 10

// CrossValidate fits a Calibration at maxWrong on nine tenths of samples
// (every tenth sample left out in turn) and counts the answers, and the
// wrong ones, that it gives on the samples left out.
func CrossValidate(samples []Sample, maxWrong float64) CV {
	cv := CV{MaxWrong: maxWrong}
	for f := range cvFolds {
		var fit, held []Sample
		for i, s := range samples {
			if i%cvFolds == f {
				held = append(held, s)
			} else {
				fit = append(fit, s)
			}
		}
		c := Fit(fit, maxWrong)
		for _, s := range held {
			if c.Confidence(s.Score, s.Margin, s.Coverage) >= c.Threshold {
				cv.Answered++
				if !s.Correct {
					cv.Wrong++
				}
			}
		}
	}
	return cv
}

// WrongLimit is the held-out wrong share the demo shop's calibrations are
// chosen under (ChooseMaxWrong's limit): a margin under the 5% of answers
// that Parley aims to keep wrong.
const WrongLimit = 0.04

// MaxWrongGrid are the in-sample wrong shares ChooseMaxWrong tries.
var MaxWrongGrid = []float64{0.01, 0.02, 0.03, 0.04, 0.05, 0.06}

// ChooseMaxWrong picks Fit's maxWrong for samples (validation questions,
// never test ones): of MaxWrongGrid, the one whose cross-validated answers
// are the most while their wrong share stays at or under limit. A
// threshold fitted in-sample is optimistic about unseen questions, so
// limit, not maxWrong, is what the held-out answers are held to. ok is
// false when no candidate keeps under limit (one that answers nothing
// does); every candidate's CV is returned for reports.
func ChooseMaxWrong(samples []Sample, limit float64) (best CV, ok bool, all []CV) {
	for _, mw := range MaxWrongGrid {
		cv := CrossValidate(samples, mw)
		all = append(all, cv)
		if cv.WrongRate() <= limit && (!ok || cv.Answered > best.Answered) {
			best, ok = cv, true
		}
	}
	return best, ok, all
}
