package replies

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/parleyhq/parley/nlp/encoder"
)

// Ranking are the retrieval figures of one scorer.
type Ranking struct {
	R1  float64 `json:"r1"`
	R5  float64 `json:"r5"`
	MRR float64 `json:"mrr"`
}

func ranking(m encoder.Metrics) Ranking { return Ranking{R1: m.R1, R5: m.R5, MRR: m.MRR} }

// Report is what Evaluate measured; its JSON is "bot eval-replies --json".
type Report struct {
	N          int `json:"n"`          // pairs evaluated
	Candidates int `json:"candidates"` // distinct answers each question is ranked among
	Retrieval  struct {
		BM25    Ranking `json:"bm25"`
		Encoder Ranking `json:"encoder"`
		Hybrid  Ranking `json:"hybrid"`
	} `json:"retrieval"`
	Generation struct {
		Seq2seq          GenMetrics `json:"seq2seq"`
		NearestNeighbour GenMetrics `json:"nearest_neighbour"`
	} `json:"generation"`
	LatencyMS struct {
		RetrieveP95 float64 `json:"retrieve_p95"` // the hybrid's best RetrieveK candidates for one question (Ranker.Top)
		GenerateP95 float64 `json:"generate_p95"` // one seq2seq draft
	} `json:"latency_ms"`
	TrainSeconds float64  `json:"train_seconds"`
	HybridWeight float64  `json:"hybrid_weight"`
	Beam         int      `json:"beam"`
	Samples      []Sample `json:"samples,omitempty"`
}

// Sample is one evaluated question with the gold answer and both systems'.
type Sample struct {
	Question         string `json:"question"`
	Gold             string `json:"gold"`
	Seq2seq          string `json:"seq2seq"`
	NearestNeighbour string `json:"nearest_neighbour"`
}

// EvalOptions are Evaluate's settings.
type EvalOptions struct {
	Beam    int    // seq2seq beam width; <= 1 greedy
	Samples int    // how many evaluated questions to return in Report.Samples
	Seed    uint64 // which ones (a seeded shuffle)
	// Progress, if not nil, is called as drafts are generated (the slow
	// part): done of total.
	Progress func(done, total int)
}

// Evaluate measures m on pairs (a test split): retrieval, ranking each
// question's gold answer among every distinct answer of pairs by BM25, the
// encoder and the hybrid at the model's weight; generation, seq2seq drafts
// and the nearest neighbour's answers against the gold answers; and the
// 95th-percentile latency of one retrieval and one draft. It fails with
// ErrNoData for fewer than 2 pairs, and with ctx's error when cancelled.
func Evaluate(ctx context.Context, m *Model, pairs []Pair, opts EvalOptions) (Report, error) {
	var rep Report
	if len(pairs) < 2 {
		return rep, fmt.Errorf("evaluate replies: %w: %d pairs", ErrNoData, len(pairs))
	}
	qs, as, gold := Candidates(pairs)
	rep.N, rep.Candidates, rep.HybridWeight, rep.Beam = len(qs), len(as), m.meta.HybridWeight, max(1, opts.Beam)
	rep.TrainSeconds = m.meta.TrainSeconds()

	r, err := m.Ranker(as)
	if err != nil {
		return rep, fmt.Errorf("evaluate replies: %w", err)
	}
	cos, bm, hyb := make([][]float64, len(qs)), make([][]float64, len(qs)), make([][]float64, len(qs))
	retrieve := make([]time.Duration, len(qs))
	for i, q := range qs {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("evaluate replies: %w", err)
		}
		// Every candidate's scores give R@k; the timed retrieval is Top,
		// what a product would call (it ranks the same).
		bm[i], cos[i], hyb[i] = r.Scores(q)
		start := time.Now()
		r.Top(q, RetrieveK)
		retrieve[i] = time.Since(start)
	}
	rep.Retrieval.BM25 = ranking(encoder.Recall(bm, gold))
	rep.Retrieval.Encoder = ranking(encoder.Recall(cos, gold))
	rep.Retrieval.Hybrid = ranking(encoder.Recall(hyb, gold))
	rep.LatencyMS.RetrieveP95 = P95(retrieve)

	golds := make([]string, len(pairs))
	drafts := make([]string, len(pairs))
	nearest := make([]string, len(pairs))
	generate := make([]time.Duration, len(pairs))
	for i, p := range pairs {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("evaluate replies: %w", err)
		}
		golds[i] = p.Answer
		start := time.Now()
		drafts[i] = m.Seq2seq.Generate(p.Question, opts.Beam)
		generate[i] = time.Since(start)
		nearest[i] = m.Neighbour(p.Question)
		if opts.Progress != nil {
			opts.Progress(i+1, len(pairs))
		}
	}
	rep.Generation.Seq2seq = Generation(drafts, golds)
	rep.Generation.NearestNeighbour = Generation(nearest, golds)
	rep.LatencyMS.GenerateP95 = P95(generate)

	if opts.Samples > 0 {
		order := rand.New(rand.NewPCG(opts.Seed, 0x5eed)).Perm(len(pairs))
		for _, i := range order[:min(opts.Samples, len(order))] {
			rep.Samples = append(rep.Samples, Sample{Question: pairs[i].Question, Gold: golds[i], Seq2seq: drafts[i], NearestNeighbour: nearest[i]})
		}
	}
	return rep, nil
}

// P95 is the 95th percentile (nearest rank) of ds, in milliseconds.
func P95(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (95*len(s)+99)/100 - 1
	return float64(s[max(i, 0)].Microseconds()) / 1000
}
