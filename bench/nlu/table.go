package main

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// result is one row of the table: one system on one dataset's test split.
type result struct {
	Dataset string
	System  string
	N       int // test items, OOS included
	Err     error

	Accuracy float64 // closed set, in-scope items only
	MacroF1  float64
	OOS      *oosMetrics // nil for data without OOS items

	TrainSeconds float64
	LatencyP50   float64 // microseconds
	LatencyP99   float64
	LatencyBatch bool // batch time / N (fastText CLI), not per-message percentiles
	ModelBytes   int64
}

// renderTable writes results as one Markdown table, then notes: Parley's
// training time relative to fastText per dataset, and the run's setting.
func renderTable(w io.Writer, results []result, notes []string) error {
	var b strings.Builder
	b.WriteString("| dataset | system | test n | accuracy % | macro-F1 % | in-scope acc % @thr | OOS recall % | OOS precision % | threshold | train s | latency p50 µs | latency p99 µs | model MB |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(&b, "| %s | %s | failed: %s |||||||||||\n", r.Dataset, r.System, cell(r.Err.Error()))
			continue
		}
		oos := []string{"–", "–", "–", "–"}
		if r.OOS != nil {
			oos = []string{pct(r.OOS.InScopeAccuracy), pct(r.OOS.Recall), pct(r.OOS.Precision), fmt.Sprintf("%.4g", r.OOS.Threshold)}
		}
		p50, p99 := fmt.Sprintf("%.0f", r.LatencyP50), fmt.Sprintf("%.0f", r.LatencyP99)
		if r.LatencyBatch {
			p50, p99 = fmt.Sprintf("%.0f (batch/N)", r.LatencyP50), "–"
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %.1f | %s | %s | %.1f |\n",
			r.Dataset, r.System, r.N, pct(r.Accuracy), pct(r.MacroF1),
			oos[0], oos[1], oos[2], oos[3],
			r.TrainSeconds, p50, p99, float64(r.ModelBytes)/1e6)
	}
	if ratios := trainRatios(results); len(ratios) > 0 || len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range append(ratios, notes...) {
			b.WriteString("- " + n + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// trainRatios says, per dataset, how Parley's training time compares with
// fastText's in the same run.
func trainRatios(results []result) []string {
	var out []string
	for _, p := range results {
		if p.Err != nil || !strings.HasPrefix(p.System, "Parley") {
			continue
		}
		for _, f := range results {
			if f.Err == nil && f.Dataset == p.Dataset && f.System == "fastText" && f.TrainSeconds > 0 {
				out = append(out, fmt.Sprintf("%s on %s: training took %.2f× fastText's time (%.1f s vs %.1f s); model directory %.1f MB.",
					p.System, p.Dataset, p.TrainSeconds/f.TrainSeconds, p.TrainSeconds, f.TrainSeconds, float64(p.ModelBytes)/1e6))
			}
		}
	}
	return out
}

// pct formats a fraction as a percentage with one decimal; "–" for NaN.
func pct(f float64) string {
	if math.IsNaN(f) {
		return "–"
	}
	return fmt.Sprintf("%.1f", 100*f)
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}
