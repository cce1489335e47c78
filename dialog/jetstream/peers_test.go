package jetstream_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/dialog/jetstream"
)

// Two nodes hear each other's heartbeats, and each its own, with the
// model each announced; a node whose heartbeat stopped is forgotten; a
// node of another cluster (another subject prefix) is never heard.
func TestHeartbeatPeers(t *testing.T) {
	c := newCluster(t)
	a, b := c.node(t), c.node(t)
	other := newCluster(t).node(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	ctxB, stopB := context.WithCancel(ctx)
	for _, n := range []struct {
		bus  *jetstream.Bus
		ctx  context.Context
		self jetstream.Peer
	}{
		{a, ctx, jetstream.Peer{Node: "a", Model: "m1"}},
		{b, ctxB, jetstream.Peer{Node: "b", Model: "m2"}},
		{other, ctx, jetstream.Peer{Node: "x", Model: "m1"}},
	} {
		wg.Go(func() {
			if err := n.bus.Heartbeat(n.ctx, n.self, 20*time.Millisecond); err != context.Canceled {
				t.Errorf("heartbeat of %s: %v", n.self.Node, err)
			}
		})
	}
	peersOf := func(bus *jetstream.Bus, since time.Time) string {
		s := ""
		for _, p := range bus.Peers(since) {
			s += p.Node + "=" + p.Model + " "
		}
		return s
	}
	eventually(t, func() bool { return peersOf(a, time.Time{}) == "a=m1 b=m2 " && peersOf(b, time.Time{}) == "a=m1 b=m2 " })
	for _, n := range []*jetstream.Bus{a, b} {
		if got := peersOf(n, time.Time{}); got != "a=m1 b=m2 " {
			t.Errorf("a node hears %q, want a=m1 b=m2", got)
		}
	}
	if got := peersOf(other, time.Time{}); got != "x=m1 " {
		t.Errorf("the other cluster's node hears %q, want only itself", got)
	}
	stopB()
	time.Sleep(100 * time.Millisecond) // b's last beat is delivered
	cut := time.Now()
	eventually(t, func() bool { return peersOf(a, cut) == "a=m1 " })
	if got := peersOf(a, cut); got != "a=m1 " {
		t.Errorf("after b stopped, a hears %q, want only itself", got)
	}
}
