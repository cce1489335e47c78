package nlp

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/internal/intent"
)

// OOSMetrics are the out-of-scope figures at the model's threshold.
type OOSMetrics = intent.OOSMetrics

// WilsonLower is the lower end of the one-standard-error Wilson interval of
// a proportion p measured on n trials: the out-of-scope calibration takes
// in-scope accuracy and recall there.
func WilsonLower(p float64, n int) float64 { return intent.WilsonLower(p, n) }

// Report is the evaluation of a model on labelled examples.
type Report struct {
	N int `json:"n"` // examples evaluated, in scope and out of scope
	// Accuracy is closed-set: the share of in-scope examples whose top
	// intent is right, whatever the threshold says.
	Accuracy  float64       `json:"accuracy"`
	MacroF1   float64       `json:"macro_f1"`
	Intents   []IntentStats `json:"intents"`
	Confusion []Confusion   `json:"confused_pairs"`
	// OOS is present when the examples include out-of-scope ones.
	OOS     *OOSMetrics `json:"oos,omitempty"`
	Latency Latency     `json:"latency_us"`
	// Unknown counts in-scope examples of intents the model does not know
	// (they count as errors).
	Unknown int `json:"unknown_intents,omitempty"`
	// Rejected counts inputs Parse refused (empty or invalid text).
	Rejected int `json:"rejected,omitempty"`
}

// IntentStats are the closed-set figures of one intent.
type IntentStats struct {
	Intent    string  `json:"intent"`
	Support   int     `json:"support"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// Confusion is a pair of intents the model mixes up: Count examples of
// Actual were taken for Predicted.
type Confusion struct {
	Actual    string `json:"actual"`
	Predicted string `json:"predicted"`
	Count     int    `json:"count"`
}

// Latency holds percentiles of single-message Parse calls in microseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
}

// maxConfusions is how many confused pairs a Report lists.
const maxConfusions = 10

// Evaluate parses every example one at a time, as a live message would be,
// and scores the results.
func Evaluate(ctx context.Context, m *Model, exs []dataset.Example) (*Report, error) {
	r := &Report{}
	known := map[string]bool{}
	for _, l := range m.meta.Labels {
		known[l] = true
	}
	tp, fp, support := map[string]int{}, map[string]int{}, map[string]int{}
	confused := map[[2]string]int{}
	var scored []intent.Scored
	var micros []float64
	var inScope, correct int
	for _, ex := range exs {
		start := time.Now()
		res, err := m.Parse(ctx, ex.Text)
		elapsed := time.Since(start)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			r.Rejected++
			continue
		}
		micros = append(micros, float64(elapsed.Nanoseconds())/1e3)
		r.N++
		oos := ex.Intent == dataset.OutOfScope
		right := !oos && res.Intent == ex.Intent
		scored = append(scored, intent.Scored{Confidence: res.ScopeScore, Correct: right, OOS: oos})
		if oos {
			continue
		}
		inScope++
		support[ex.Intent]++
		if !known[ex.Intent] {
			r.Unknown++
		}
		if right {
			correct++
			tp[ex.Intent]++
		} else {
			fp[res.Intent]++
			confused[[2]string{ex.Intent, res.Intent}]++
		}
	}
	if r.N == 0 {
		return nil, fmt.Errorf("evaluate: no example could be parsed")
	}
	r.Accuracy = ratio(correct, inScope)
	r.Intents, r.MacroF1 = intentStats(tp, fp, support)
	r.Confusion = topConfusions(confused)
	if inScope < r.N {
		oos := intent.MeasureOOS(scored, m.meta.Threshold)
		r.OOS = &oos
	}
	r.Latency = Latency{P50: percentile(micros, 0.50), P99: percentile(micros, 0.99)}
	return r, nil
}

// intentStats computes per-intent precision, recall and F1 over the intents
// that have examples, and their macro average F1.
func intentStats(tp, fp, support map[string]int) ([]IntentStats, float64) {
	names := make([]string, 0, len(support))
	for name := range support {
		names = append(names, name)
	}
	slices.Sort(names)
	stats := make([]IntentStats, len(names))
	var sumF1 float64
	for i, name := range names {
		p := ratio(tp[name], tp[name]+fp[name])
		rec := ratio(tp[name], support[name])
		f1 := 0.0
		if p+rec > 0 {
			f1 = 2 * p * rec / (p + rec)
		}
		stats[i] = IntentStats{Intent: name, Support: support[name], Precision: p, Recall: rec, F1: f1}
		sumF1 += f1
	}
	if len(names) == 0 {
		return stats, 0
	}
	return stats, sumF1 / float64(len(names))
}

func topConfusions(confused map[[2]string]int) []Confusion {
	out := make([]Confusion, 0, len(confused))
	for pair, n := range confused {
		out = append(out, Confusion{Actual: pair[0], Predicted: pair[1], Count: n})
	}
	slices.SortFunc(out, func(a, b Confusion) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		if a.Actual != b.Actual {
			return strings.Compare(a.Actual, b.Actual)
		}
		return strings.Compare(a.Predicted, b.Predicted)
	})
	return out[:min(maxConfusions, len(out))]
}

// percentile returns the q-quantile of xs (nearest rank); xs is sorted in
// place.
func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return math.Round(xs[max(i, 0)]*10) / 10
}
