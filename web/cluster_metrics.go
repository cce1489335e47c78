package web

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// ClusterStats is what a node knows of its cluster, for Metrics.Cluster:
// the nodes it hears and the counts of its NATS event stream.
type ClusterStats struct {
	Nodes         int // nodes heard from lately, this one included
	ModelMismatch int // of them, those whose NLU model is not this node's
	Published     uint64
	Duplicates    uint64
	Dropped       uint64
	Delivered     uint64
	Invalid       uint64
	Redelivered   uint64
}

// Cluster publishes f's figures at every scrape:
//
//	parley_cluster_nodes                  nodes heard from lately, this one included
//	parley_cluster_model_mismatch         nodes whose NLU model differs from this node's
//	parley_events_published_total         events the NATS stream acknowledged (duplicates included)
//	parley_events_duplicates_total        of them, duplicates the stream did not store again
//	parley_events_dropped_total           events never stored (queue full, stalled or closed connection)
//	parley_events_delivered_total         events this node received from the stream
//	parley_events_invalid_total           received messages that did not decode
//	parley_events_redelivered_total       received messages the server had delivered before
//
// f must be quick and safe for concurrent use. It fails when called a
// second time.
func (m *Metrics) Cluster(f func() ClusterStats) error {
	if m == nil {
		return nil
	}
	if err := m.reg.Register(clusterCollector(f)); err != nil {
		return fmt.Errorf("register cluster metrics: %w", err)
	}
	return nil
}

type clusterCollector func() ClusterStats

var clusterDescs = []struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(ClusterStats) float64
}{
	{prometheus.NewDesc("parley_cluster_nodes", "Nodes heard from lately (heartbeats over NATS), this one included.", nil, nil),
		prometheus.GaugeValue, func(s ClusterStats) float64 { return float64(s.Nodes) }},
	{prometheus.NewDesc("parley_cluster_model_mismatch", "Nodes heard from lately whose NLU model differs from this node's: they answer the same message differently.", nil, nil),
		prometheus.GaugeValue, func(s ClusterStats) float64 { return float64(s.ModelMismatch) }},
	{prometheus.NewDesc("parley_events_published_total", "Events the NATS stream acknowledged, duplicates included.", nil, nil),
		prometheus.CounterValue, func(s ClusterStats) float64 { return float64(s.Published) }},
	{prometheus.NewDesc("parley_events_duplicates_total", "Events the NATS stream acknowledged as duplicates and did not store again.", nil, nil),
		prometheus.CounterValue, func(s ClusterStats) float64 { return float64(s.Duplicates) }},
	{prometheus.NewDesc("parley_events_dropped_total", "Events never stored in the NATS stream: queue full, stalled server, failed publish or closed connection.", nil, nil),
		prometheus.CounterValue, func(s ClusterStats) float64 { return float64(s.Dropped) }},
	{prometheus.NewDesc("parley_events_delivered_total", "Events this node received from the NATS stream and handed to its subscribers.", nil, nil),
		prometheus.CounterValue, func(s ClusterStats) float64 { return float64(s.Delivered) }},
	{prometheus.NewDesc("parley_events_invalid_total", "Messages received from the NATS stream that did not decode.", nil, nil),
		prometheus.CounterValue, func(s ClusterStats) float64 { return float64(s.Invalid) }},
	{prometheus.NewDesc("parley_events_redelivered_total", "Messages received from the NATS stream that the server had delivered before.", nil, nil),
		prometheus.CounterValue, func(s ClusterStats) float64 { return float64(s.Redelivered) }},
}

func (c clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range clusterDescs {
		ch <- d.desc
	}
}

func (c clusterCollector) Collect(ch chan<- prometheus.Metric) {
	s := c()
	for _, d := range clusterDescs {
		ch <- prometheus.MustNewConstMetric(d.desc, d.kind, d.value(s))
	}
}
