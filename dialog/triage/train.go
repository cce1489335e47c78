package triage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// Options tune training. Domain is required; every other zero field takes
// its default.
type Options struct {
	// Domain is the dialog domain the models serve: its
	// Policy.FrustrationCues, the list the engine's policy uses, are the
	// frustration cues the cue_words feature counts.
	Domain *dialog.Domain
	// Model is the routing learner: Tree (the default: its decisions read
	// as rules), LogReg, SVM, or Auto (all three). For each of queue and
	// priority, training keeps the candidate (tree depth, or C) with the
	// best cross-validated macro F1, the simpler one on ties.
	// Satisfaction always uses logistic regression (it needs
	// probabilities) and chooses its C by cross-validated Brier score.
	Model Kind
	// Folds is the number of cross-validation folds; 0 means 5.
	Folds int
	// Seed drives the folds, the tree's feature order and the SVM's sample
	// order: the same seed and data give the same model and numbers.
	Seed uint64
	// Now stamps the model; nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() (Options, error) {
	if o.Folds == 0 {
		o.Folds = 5
	}
	if o.Folds < 2 {
		return o, fmt.Errorf("%w: %d folds, want 2 or more", ErrOption, o.Folds)
	}
	if o.Domain == nil {
		return o, fmt.Errorf("%w: no domain (its frustration cues are a feature)", ErrOption)
	}
	if o.Model == "" {
		o.Model = Tree
	}
	if _, err := ParseKind(string(o.Model)); err != nil {
		return o, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// TargetReport is the cross-validated evaluation of one routing target
// (queue or priority).
type TargetReport struct {
	Classes  []string // class names, in label order
	Counts   []int    // conversations per class
	Baseline Score    // always the training folds' most common class
	Tried    []Learner
	Scores   []Score // one per learner tried
	Chosen   Learner // the learner the saved model uses
}

// ChosenScore returns the score of the chosen learner.
func (r TargetReport) ChosenScore() Score { return r.Scores[slices.Index(r.Tried, r.Chosen)] }

// RoutingReport is what TrainRouting measured.
type RoutingReport struct {
	Conversations int // handed-off conversations trained on
	Folds         int
	Queue         TargetReport
	Priority      TargetReport
}

// priorities in rank order: the class order of the priority target.
var priorities = []crm.Priority{crm.PriorityLow, crm.PriorityNormal, crm.PriorityHigh, crm.PriorityUrgent}

// TrainRouting learns the queue and the priority agents gave handed-off
// conversations, from each one's situation at the handoff (the last
// customer message before an agent wrote). It cross-validates every
// learner asked for against the majority-class baseline, then fits the
// chosen ones on all the data.
//
// Errors: ErrOption for bad options; ErrNoData when fewer handed-off
// conversations than folds; ErrOneClass when they all share one queue or
// one priority; ctx's error.
func TrainRouting(ctx context.Context, ds *Dataset, opts Options) (*RoutingModel, *RoutingReport, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, nil, fmt.Errorf("train routing: %w", err)
	}
	var sits []dialog.Situation
	var queueNames []string
	for _, c := range ds.Conversations {
		if c.HandedOff() {
			sits = append(sits, c.Situations[len(c.Situations)-1])
			if !slices.Contains(queueNames, c.Queue) {
				queueNames = append(queueNames, c.Queue)
			}
		}
	}
	if len(sits) < opts.Folds {
		return nil, nil, fmt.Errorf("train routing: %w: %d handed-off conversations, want at least %d", ErrNoData, len(sits), opts.Folds)
	}
	slices.Sort(queueNames)
	var prioNames []string
	var yq, yp []int
	prioOf := func(p crm.Priority) crm.Priority {
		if slices.Contains(priorities, p) {
			return p
		}
		return crm.PriorityNormal
	}
	for _, p := range priorities {
		for _, c := range ds.Conversations {
			if c.HandedOff() && prioOf(c.Priority) == p {
				prioNames = append(prioNames, string(p))
				break
			}
		}
	}
	for _, c := range ds.Conversations {
		if c.HandedOff() {
			yq = append(yq, slices.Index(queueNames, c.Queue))
			yp = append(yp, slices.Index(prioNames, string(prioOf(c.Priority))))
		}
	}
	spec := specFor(sits, opts.Domain.Policy.FrustrationCues)
	names := spec.Names()
	X := make([][]float64, len(sits))
	for i, s := range sits {
		X[i] = spec.Vector(s)
	}
	m := &RoutingModel{spec: spec, names: names, trainedAt: opts.Now().UTC(), seed: opts.Seed}
	rep := &RoutingReport{Conversations: len(sits), Folds: opts.Folds}
	for _, tg := range []struct {
		what    string
		classes []string
		y       []int
		head    **head
		rep     *TargetReport
	}{
		{"queue", queueNames, yq, &m.queue, &rep.Queue},
		{"priority", prioNames, yp, &m.priority, &rep.Priority},
	} {
		if len(tg.classes) < 2 {
			return nil, nil, fmt.Errorf("train routing: %s: %w: every handed-off conversation has %s %s", tg.what, ErrOneClass, tg.what, tg.classes[0])
		}
		r, err := selectLearner(ctx, opts, names, tg.classes, X, tg.y)
		if err != nil {
			return nil, nil, fmt.Errorf("train routing: %s: %w", tg.what, err)
		}
		h, err := fitHead(r.Chosen, names, tg.classes, X, tg.y, opts.Seed)
		if err != nil {
			return nil, nil, fmt.Errorf("train routing: %s: %w", tg.what, err)
		}
		*tg.head, *tg.rep = h, r
	}
	m.report = *rep
	return m, rep, nil
}

// selectLearner cross-validates the learners opts asks for and the
// baseline on (X, y), and chooses one.
func selectLearner(ctx context.Context, opts Options, names, classes []string, X [][]float64, y []int) (TargetReport, error) {
	r := TargetReport{Classes: classes, Counts: make([]int, len(classes))}
	for _, c := range y {
		r.Counts[c]++
	}
	r.Tried = candidates(opts.Model)
	fold := folds(y, opts.Folds, opts.Seed)
	base := make([]int, len(y))
	for f := range opts.Folds {
		_, trainY, test := split(X, y, fold, f)
		counts := make([]int, len(classes))
		for _, c := range trainY {
			counts[c]++
		}
		maj := 0
		for c, n := range counts {
			if n > counts[maj] {
				maj = c
			}
		}
		for _, i := range test {
			base[i] = maj
		}
	}
	r.Baseline = score(y, base)
	best := -1.0
	for _, l := range r.Tried {
		pred := make([]int, len(y))
		for f := range opts.Folds {
			if err := ctx.Err(); err != nil {
				return r, err
			}
			trainX, trainY, test := split(X, y, fold, f)
			h, err := fitHead(l, names, classes, trainX, trainY, opts.Seed)
			if errors.Is(err, ErrOneClass) {
				// A training fold with one class predicts it.
				for _, i := range test {
					pred[i] = trainY[0]
				}
				continue
			}
			if err != nil {
				return r, fmt.Errorf("%s fold %d: %w", l, f+1, err)
			}
			for _, i := range test {
				c, err := h.predict(X[i])
				if err != nil {
					return r, fmt.Errorf("%s fold %d: %w", l, f+1, err)
				}
				pred[i] = slices.Index(classes, c)
			}
		}
		s := score(y, pred)
		r.Scores = append(r.Scores, s)
		if s.MacroF1 > best {
			best, r.Chosen = s.MacroF1, l
		}
	}
	return r, nil
}

// split returns the rows outside fold f for training and the indices of
// those in it.
func split(X [][]float64, y, fold []int, f int) (trainX [][]float64, trainY, test []int) {
	for i := range X {
		if fold[i] == f {
			test = append(test, i)
		} else {
			trainX = append(trainX, X[i])
			trainY = append(trainY, y[i])
		}
	}
	return trainX, trainY, test
}

// SatisfactionReport is what TrainSatisfaction measured, over out-of-fold
// predictions at every scored moment of the rated conversations.
type SatisfactionReport struct {
	Conversations int // rated conversations
	Low           int // of them rated 1 or 2
	Samples       int // scored moments (one per customer message the bot handled)
	Folds         int
	Learner       Learner // the logistic regression's C, chosen by Brier score
	// Tried are the candidates compared, with their out-of-fold scores.
	Tried        []Learner
	AUCs, Briers []float64
	AUC, Brier   float64 // the chosen one's
	// BaseAUC and BaseBrier are the baseline's: always the training folds'
	// share of low ratings (its AUC is 0.5).
	BaseAUC, BaseBrier float64
	// Threshold is the risk at which the engine escalates, with the
	// precision and recall it had out of fold.
	Threshold, Precision, Recall float64
}

// TrainSatisfaction learns the chance that a conversation ends with a
// rating of 1 or 2, from every moment of the rated conversations (each
// customer message the bot handled, labelled with the conversation's
// rating). Folds keep a conversation's moments together. It reports AUC
// and Brier score against the base rate, chooses the escalation threshold
// on the out-of-fold predictions (see threshold) and fits logistic
// regression on all the data.
//
// Errors: ErrOption for bad options; ErrNoData when fewer rated
// conversations than folds; ErrOneClass when all ratings are low or all
// are good; ctx's error.
func TrainSatisfaction(ctx context.Context, ds *Dataset, opts Options) (*SatisfactionModel, *SatisfactionReport, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, nil, fmt.Errorf("train satisfaction: %w", err)
	}
	var rated []Conversation
	var convLabel []int
	low := 0
	for _, c := range ds.Conversations {
		if c.Rating >= 1 {
			rated = append(rated, c)
			l := 0
			if c.Rating <= 2 {
				l, low = 1, low+1
			}
			convLabel = append(convLabel, l)
		}
	}
	if len(rated) < opts.Folds {
		return nil, nil, fmt.Errorf("train satisfaction: %w: %d rated conversations, want at least %d", ErrNoData, len(rated), opts.Folds)
	}
	if low == 0 || low == len(rated) {
		return nil, nil, fmt.Errorf("train satisfaction: %w: %d of %d rated conversations are low", ErrOneClass, low, len(rated))
	}
	var sits []dialog.Situation
	var y, group []int
	for i, c := range rated {
		for _, s := range c.Situations {
			sits = append(sits, s)
			y = append(y, convLabel[i])
			group = append(group, i)
		}
	}
	spec := specFor(sits, opts.Domain.Policy.FrustrationCues)
	names := spec.Names()
	X := make([][]float64, len(sits))
	for i, s := range sits {
		X[i] = spec.Vector(s)
	}
	classes := []string{"good", "low"}
	convFold := folds(convLabel, opts.Folds, opts.Seed)
	fold := make([]int, len(y))
	for i, g := range group {
		fold[i] = convFold[g]
	}
	base := make([]float64, len(y))
	for f := range opts.Folds {
		_, trainY, test := split(X, y, fold, f)
		rate := 0.0
		for _, v := range trainY {
			rate += float64(v)
		}
		rate /= float64(len(trainY))
		for _, i := range test {
			base[i] = rate
		}
	}
	var oof []float64
	var chosen Learner
	var aucs, briers []float64
	for _, l := range satisfactionCandidates {
		p, err := outOfFold(ctx, l, names, classes, X, y, fold, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("train satisfaction: %w", err)
		}
		aucs, briers = append(aucs, auc(p, y)), append(briers, brier(p, y))
		if oof == nil || brier(p, y) < brier(oof, y) {
			oof, chosen = p, l
		}
	}
	rep := &SatisfactionReport{
		Conversations: len(rated), Low: low, Samples: len(y), Folds: opts.Folds, Learner: chosen,
		Tried: satisfactionCandidates, AUCs: aucs, Briers: briers,
		AUC: auc(oof, y), Brier: brier(oof, y), BaseAUC: auc(base, y), BaseBrier: brier(base, y),
	}
	rep.Threshold, rep.Precision, rep.Recall = threshold(oof, y)
	h, err := fitHead(chosen, names, classes, X, y, opts.Seed)
	if err != nil {
		return nil, nil, fmt.Errorf("train satisfaction: %w", err)
	}
	m := &SatisfactionModel{spec: spec, names: names, head: h, threshold: rep.Threshold,
		trainedAt: opts.Now().UTC(), seed: opts.Seed, report: *rep}
	return m, rep, nil
}

// satisfactionCandidates are the logistic regressions TrainSatisfaction
// compares, most regularised first.
var satisfactionCandidates = []Learner{{Kind: LogReg, C: 0.01}, {Kind: LogReg, C: 0.1}, {Kind: LogReg, C: 1}}

// outOfFold returns each sample's probability of class 1 from the model
// trained on the other folds. A training fold with one class predicts its
// rate.
func outOfFold(ctx context.Context, l Learner, names, classes []string, X [][]float64, y, fold []int, opts Options) ([]float64, error) {
	oof := make([]float64, len(y))
	for f := range opts.Folds {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		trainX, trainY, test := split(X, y, fold, f)
		h, err := fitHead(l, names, classes, trainX, trainY, opts.Seed)
		if errors.Is(err, ErrOneClass) {
			for _, i := range test {
				oof[i] = float64(trainY[0])
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s fold %d: %w", l, f+1, err)
		}
		for _, i := range test {
			p, err := h.proba(X[i])
			if err != nil {
				return nil, fmt.Errorf("%s fold %d: %w", l, f+1, err)
			}
			oof[i] = p[1]
		}
	}
	return oof, nil
}
