package jetstream

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Peer is a node of the cluster as its heartbeats describe it.
type Peer struct {
	Node  string `json:"node"`  // the node's name, unique in the cluster
	Model string `json:"model"` // its NLU model's fingerprint
	// Seen is when this node last heard the peer (its own clock); not
	// sent.
	Seen time.Time `json:"-"`
}

// peers is what the heartbeats said, by node.
type peers struct {
	mu sync.Mutex
	m  map[string]Peer // guarded by mu
}

// heartbeatSubject is where nodes announce themselves: beside the
// stream's subjects, not in them, so heartbeats are never stored.
func (b *Bus) heartbeatSubject() string { return b.opts.SubjectPrefix + "_nodes" }

// Heartbeat announces self on the cluster's heartbeat subject (plain NATS,
// not the stream) at once and then every interval, and records the
// heartbeats of every node, this one included, for Peers, until ctx ends.
// It returns ctx's error then, or the subscription's when it could not
// start.
func (b *Bus) Heartbeat(ctx context.Context, self Peer, every time.Duration) error {
	beat, err := json.Marshal(self)
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	sub, err := b.nc.Subscribe(b.heartbeatSubject(), func(m *nats.Msg) {
		var p Peer
		if json.Unmarshal(m.Data, &p) != nil || p.Node == "" {
			return
		}
		p.Seen = time.Now()
		b.peers.mu.Lock()
		defer b.peers.mu.Unlock()
		if b.peers.m == nil {
			b.peers.m = make(map[string]Peer)
		}
		b.peers.m[p.Node] = p
	})
	if err != nil {
		return fmt.Errorf("heartbeat: subscribe: %w", err)
	}
	defer sub.Unsubscribe()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		// A failed publish (a disconnection) is only a missed beat: the
		// connection reconnects on its own.
		_ = b.nc.Publish(b.heartbeatSubject(), beat)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Peers returns the nodes heard from since since (this one included, once
// its Heartbeat runs), by name; nodes not heard from since are forgotten.
func (b *Bus) Peers(since time.Time) []Peer {
	b.peers.mu.Lock()
	defer b.peers.mu.Unlock()
	var out []Peer
	for name, p := range b.peers.m {
		if p.Seen.Before(since) {
			delete(b.peers.m, name)
			continue
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Peer) int { return strings.Compare(a.Node, b.Node) })
	return out
}
