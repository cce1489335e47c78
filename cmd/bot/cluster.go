package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/parleyhq/parley/dialog/jetstream"
	"github.com/parleyhq/parley/web"
)

// heartbeatEvery is how often a node announces itself and its model on
// NATS; a node not heard from for three beats counts as gone.
const heartbeatEvery = 10 * time.Second

// nodeName names this node in heartbeats and logs: the host, the process
// and a random part, so a restarted node is a new one.
func nodeName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "node"
	}
	var b [3]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// cluster is this node's view of the others, from their heartbeats.
type cluster struct {
	bus  *jetstream.Bus
	self jetstream.Peer
	log  *slog.Logger
}

// peers returns the nodes heard from lately, this one included.
func (c *cluster) peers() []jetstream.Peer {
	return c.bus.Peers(time.Now().Add(-3 * heartbeatEvery))
}

// stats is the cluster's part of /metrics.
func (c *cluster) stats() web.ClusterStats {
	st := c.bus.Stats()
	s := web.ClusterStats{Published: st.Published, Duplicates: st.Duplicates, Dropped: st.Dropped,
		Delivered: st.Delivered, Invalid: st.Invalid, Redelivered: st.Redelivered}
	for _, p := range c.peers() {
		s.Nodes++
		if p.Model != c.self.Model {
			s.ModelMismatch++
		}
	}
	return s
}

// run announces this node until ctx ends, and warns once per node and
// model when another node runs another NLU model: the same message would
// get different answers depending on the node that takes it.
func (c *cluster) run(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := c.bus.Heartbeat(ctx, c.self, heartbeatEvery); err != nil && ctx.Err() == nil {
			c.log.Error("cluster heartbeat", "err", err)
		}
	}()
	defer func() { <-done }()
	warned := map[jetstream.Peer]bool{} // Seen zeroed
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, p := range c.peers() {
			p.Seen = time.Time{}
			if p.Model != c.self.Model && !warned[p] {
				warned[p] = true
				c.log.Warn("another node runs another NLU model: the same message may get different answers on different nodes; give every node the same --model",
					"node", p.Node, "its_model", p.Model, "this_node", c.self.Node, "this_model", c.self.Model)
			}
		}
	}
}
