package web

import (
	"sync/atomic"
	"testing"
)

// The cluster's series show what the function says at each scrape.
func TestClusterMetrics(t *testing.T) {
	m := NewMetrics()
	var mismatch atomic.Int64
	if err := m.Cluster(func() ClusterStats {
		return ClusterStats{Nodes: 3, ModelMismatch: int(mismatch.Load()), Published: 10, Duplicates: 1, Dropped: 2,
			Delivered: 9, Invalid: 4, Redelivered: 5}
	}); err != nil {
		t.Fatal(err)
	}
	if err := m.Cluster(func() ClusterStats { return ClusterStats{} }); err == nil {
		t.Error("a second set of cluster series was registered")
	}
	want := map[string]float64{
		"parley_cluster_nodes": 3, "parley_cluster_model_mismatch": 0, "parley_events_published_total": 10,
		"parley_events_duplicates_total": 1, "parley_events_dropped_total": 2, "parley_events_delivered_total": 9,
		"parley_events_invalid_total": 4, "parley_events_redelivered_total": 5,
	}
	got := scrapeMetrics(t, m)
	for name, v := range want {
		if g := mustMetric(t, got, name, ""); g != v {
			t.Errorf("%s = %v, want %v", name, g, v)
		}
	}
	mismatch.Store(1)
	if g := mustMetric(t, scrapeMetrics(t, m), "parley_cluster_model_mismatch", ""); g != 1 {
		t.Errorf("parley_cluster_model_mismatch = %v after a node with another model, want 1", g)
	}
}
