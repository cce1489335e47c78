package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/replies"
)

// latencyQuestions is how many test questions the 30,000-candidate
// retrieval is timed on.
const latencyQuestions = 200

// retrievalLatency loads the trained model and times the hybrid retrieval
// of the best replies.RetrieveK replies for the first latencyQuestions test
// messages of rows among n candidates: every reply of rows, repeated (each
// copy numbered, so no two texts are equal) until there are n.
func retrievalLatency(ctx context.Context, modelDir string, rows []dataset.BitextPair, n int) (float64, error) {
	m, err := replies.Load(modelDir)
	if err != nil {
		return 0, err
	}
	cands := make([]string, 0, n)
	for copyNo := 0; len(cands) < n; copyNo++ {
		for _, row := range rows {
			if len(cands) == n {
				break
			}
			cands = append(cands, fmt.Sprintf("%s (%d)", row.Response, copyNo))
		}
	}
	r, err := m.Ranker(cands)
	if err != nil {
		return 0, err
	}
	test := slices.DeleteFunc(slices.Clone(rows), func(row dataset.BitextPair) bool { return row.Split != dataset.SplitTest })
	var took []time.Duration
	for _, row := range test[:min(latencyQuestions, len(test))] {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		start := time.Now()
		r.Top(row.Instruction, replies.RetrieveK)
		took = append(took, time.Since(start))
	}
	return replies.P95(took), nil
}

// render writes the Markdown: the table (with intentOracle's row), the
// verdict and the samples.
func render(w io.Writer, r replies.Report, oracle replies.GenMetrics, rssMiB, candidates int, retrieveP95 float64) {
	fmt.Fprintf(w, "Bitext test split: %d customer messages, each ranked among the split's %d distinct replies.\n\n", r.N, r.Candidates)
	fmt.Fprintln(w, "| system | R@1 | R@5 | MRR | ROUGE-L | BLEU-4 | placeholder F1 | distinct-2 |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, row := range []struct {
		name string
		r    replies.Ranking
	}{{"BM25", r.Retrieval.BM25}, {"encoder", r.Retrieval.Encoder}, {fmt.Sprintf("hybrid (weight %.2f)", r.HybridWeight), r.Retrieval.Hybrid}} {
		fmt.Fprintf(w, "| %s | %.1f | %.1f | %.3f | | | | |\n", row.name, 100*row.r.R1, 100*row.r.R5, row.r.MRR)
	}
	for _, row := range []struct {
		name string
		g    replies.GenMetrics
	}{{"nearest neighbour", r.Generation.NearestNeighbour}, {fmt.Sprintf("seq2seq (beam %d)", r.Beam), r.Generation.Seq2seq},
		{"oracle: best reply for the gold intent", oracle}} {
		fmt.Fprintf(w, "| %s | | | | %.3f | %.3f | %.3f | %.3f |\n", row.name, row.g.RougeL, row.g.BLEU4, row.g.PlaceholderF1, row.g.Distinct2)
	}
	fmt.Fprintf(w, "\nRetrieval p95: %.2f ms among the split's replies, %.1f ms among %d candidates. Draft p95: %.0f ms. Training both models: %.0f s",
		r.LatencyMS.RetrieveP95, retrieveP95, candidates, r.LatencyMS.GenerateP95, r.TrainSeconds)
	if rssMiB > 0 {
		fmt.Fprintf(w, ", peak %d MiB resident", rssMiB)
	}
	fmt.Fprintln(w, ".")
	fmt.Fprintln(w)
	fmt.Fprintln(w, verdict(r))
	fmt.Fprintf(w, "\nThe oracle row knows each message's gold intent and gives the training reply of that intent whose placeholders match the intent's training replies best: Bitext picks placeholders at random within an intent, so its placeholder F1 of %.3f is about as far as a reply model that reads only the message can get.\n", oracle.PlaceholderF1)
	if len(r.Samples) > 0 {
		fmt.Fprintln(w, "\n| customer | gold reply | seq2seq draft |")
		fmt.Fprintln(w, "|---|---|---|")
		for _, s := range r.Samples {
			fmt.Fprintf(w, "| %s | %s | %s |\n", cell(s.Question), cell(s.Gold), cell(s.Seq2seq))
		}
	}
}

// verdict says whether seq2seq passes the bar for more than drafts: the
// nearest neighbour's ROUGE-L at least, and placeholder F1 of at least
// minPlaceholderF1 (a reply that names the wrong order or screen must not
// reach a customer).
func verdict(r replies.Report) string {
	s, nn := r.Generation.Seq2seq, r.Generation.NearestNeighbour
	figures := fmt.Sprintf("ROUGE-L %.3f against the nearest neighbour's %.3f, placeholder F1 %.3f against %.3f and the bar of %.2f",
		s.RougeL, nn.RougeL, s.PlaceholderF1, nn.PlaceholderF1, minPlaceholderF1)
	if s.RougeL >= nn.RougeL && s.PlaceholderF1 >= minPlaceholderF1 {
		return "seq2seq passes the bar for more than drafts (" + figures + ")."
	}
	return "seq2seq does not pass the bar for more than drafts (" + figures + "): its replies are drafts for agents only."
}

// minPlaceholderF1 is the placeholder F1 seq2seq needs before its replies
// could go to customers without a person.
const minPlaceholderF1 = 0.95

// cell is text as one Markdown table cell: one line, pipes escaped,
// shortened to 300 characters.
func cell(s string) string {
	s = strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "|", `\|`)
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}
