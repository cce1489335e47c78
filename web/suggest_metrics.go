package web

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleyhq/parley/nlp/suggest"
)

// Suggestions publishes u's counts at every scrape:
//
//	parley_suggestions_shown_total{source}  suggested replies shown to agents in the console (once per conversation)
//	parley_suggestions_used_total{source}   of them, those an agent sent (edited or not)
//
// with source past_reply, canned, kb or draft, each present from the start. The
// counts are this process's since it started (see suggest.Usage). It
// fails when called a second time.
func (m *Metrics) Suggestions(u *suggest.Usage) error {
	if m == nil || u == nil {
		return nil
	}
	if err := m.reg.Register(usageCollector{u}); err != nil {
		return fmt.Errorf("register suggestion metrics: %w", err)
	}
	return nil
}

var (
	suggestionsShownDesc = prometheus.NewDesc("parley_suggestions_shown_total",
		"Suggested replies shown to agents in the console, once per conversation, by source (past_reply, canned, kb, draft).", []string{"source"}, nil)
	suggestionsUsedDesc = prometheus.NewDesc("parley_suggestions_used_total",
		"Suggested replies agents sent (as suggested or edited), by source.", []string{"source"}, nil)
)

type usageCollector struct{ u *suggest.Usage }

func (c usageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- suggestionsShownDesc
	ch <- suggestionsUsedDesc
}

func (c usageCollector) Collect(ch chan<- prometheus.Metric) {
	for src, n := range c.u.Totals() {
		ch <- prometheus.MustNewConstMetric(suggestionsShownDesc, prometheus.CounterValue, float64(n.Shown), string(src))
		ch <- prometheus.MustNewConstMetric(suggestionsUsedDesc, prometheus.CounterValue, float64(n.Used), string(src))
	}
}
