package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// result is one run's numbers.
type result struct {
	nodes, conversations int
	seconds              float64 // the sending phase
	sent, acked          int
	latencies            []time.Duration // undisturbed round trips, sorted
	disrupted            []time.Duration // round trips across a dropped socket, sorted
	noReply              int
	outOfOrder, dupSeen  int
	afterAck             int
	v                    verdict // summed over the customers
	checkErrors          int
	// The kill: which node, when, how many customers were on it, and how
	// long each took from the drop to the welcome on another node.
	killed        int // node index, -1: none
	killedAt      time.Duration
	killedClients int
	resumes       []time.Duration // sorted
	otherResumes  int             // sockets that dropped on a node that lived
	handoffs      int
	agentMsgs     int
	races         []*race
	racesTwoWin   int       // races with two 200s
	racesNoWin    int       // races nobody won (a node died under both, or a conflict)
	claimMismatch int       // conversations whose stored claim events differ from the races won
	rss           []float64 // per node, MB; the killed one's before it died
	crashed       []string
	errs          map[string]int
	// load is the machine's 1-minute load average at the start and the
	// end of the sending: other work on a shared machine shows here.
	load [2]string
	// cpu is the CPU time all nodes used while the customers sent: unlike
	// latency, what a message costs does not depend on what else runs.
	cpu time.Duration
}

// cpuPerMessage is the nodes' CPU time per acknowledged message.
func (r *result) cpuPerMessage() time.Duration {
	if r.acked == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.acked)
}

// loadAverage reads the 1-minute load average from /proc (Linux); "?"
// where it cannot.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func (r *result) addError(kind string, n int) {
	if r.errs == nil {
		r.errs = map[string]int{}
	}
	r.errs[kind] += n
}

// runCluster runs one cluster of n nodes through the whole scenario and
// the checks.
func runCluster(ctx context.Context, cfg config, bin string, n int, stderr io.Writer) (*result, error) {
	logins := make([]string, cfg.agents)
	for i := range logins {
		logins[i] = fmt.Sprintf("agent%d@bench.example.com", i+1)
	}
	fmt.Fprintf(stderr, "%d node(s): starting\n", n)
	cl, err := startCluster(ctx, cfg, bin, n, logins, stderr)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := cl.Close(); err != nil {
			fmt.Fprintf(stderr, "  clean up: %v\n", err)
		}
	}()
	res := &result{nodes: n, conversations: cfg.conversations, killed: -1}
	res.load[0] = loadAverage()
	// Every goroutine below ends with ctx, and is waited for before the
	// nodes stop (the deferred calls run in reverse).
	ctx, cancel := context.WithCancel(ctx)
	var wg, sampled sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		sampled.Wait()
	}()

	// Two seconds to connect everyone, then the customers send for
	// -duration and wait -grace for the last replies and the agents.
	start := time.Now().Add(2 * time.Second)
	sendUntil := start.Add(cfg.duration)
	stopAt := sendUntil.Add(cfg.grace)
	interval := time.Duration(float64(time.Second) / cfg.rate)
	customers := make([]*customer, cfg.conversations)
	for i := range customers {
		customers[i] = newCustomer(i, cl, start, cfg)
	}
	agentCtx, stopAgents := context.WithCancel(ctx)
	defer stopAgents()
	ag := newAgents(cl, logins)
	var agentsDone sync.WaitGroup
	agentsDone.Go(func() { ag.run(agentCtx) })

	sem := make(chan struct{}, 32) // connections opened at once
	for _, cu := range customers {
		wg.Go(func() {
			sem <- struct{}{}
			first := make(chan struct{})
			go func() { <-first; <-sem }()
			cu.runFrom(ctx, first, start, sendUntil, stopAt, interval)
		})
	}
	fmt.Fprintf(stderr, "  %d customers, %.1f messages/s each for %s\n", cfg.conversations, cfg.rate, cfg.duration)
	sampled.Go(func() {
		var before time.Duration
		for _, at := range []time.Time{start, sendUntil} {
			select {
			case <-time.After(time.Until(at)):
			case <-ctx.Done():
				return
			}
			var sum time.Duration
			for _, nd := range cl.nodes {
				sum += nd.cpu()
			}
			res.cpu, before = sum-before, sum
		}
	})
	if n > 1 && cfg.killAfter > 0 {
		select {
		case <-time.After(time.Until(start.Add(cfg.killAfter))):
			victim := cl.busiest()
			res.killed, res.killedAt = victim.idx, time.Since(start)
			fmt.Fprintf(stderr, "  kill -9 node %d (%d sockets) at %.1fs\n", victim.idx, victim.sockets.Load(), res.killedAt.Seconds())
			if err := cl.kill(victim); err != nil {
				return nil, err
			}
		case <-ctx.Done():
		}
	}
	wg.Wait()
	sampled.Wait()
	res.load[1] = loadAverage()
	res.seconds = cfg.duration.Seconds()
	// Everyone waits the whole grace: a message a dead node acknowledged
	// and never answered is answered by another node's sweep, later.
	select {
	case <-time.After(time.Until(stopAt)):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	stopAgents()
	agentsDone.Wait()
	for _, nd := range cl.nodes {
		if nd.dead.Load() {
			res.rss = append(res.rss, nd.rssMB)
		} else {
			res.rss = append(res.rss, nd.rss())
		}
	}
	res.crashed = cl.crashed()

	fmt.Fprintf(stderr, "  checking %d conversations\n", len(customers))
	var mu sync.Mutex // guards res while the checks run
	for _, cu := range customers {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			v, err := cu.check(ctx, ag)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.checkErrors++
				res.addError("check: "+err.Error(), 1)
			}
			res.v.add(v)
		})
	}
	wg.Wait()
	res.collect(customers)
	res.checkClaims(ctx, ag)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	fmt.Fprintf(stderr, "  sent %d, acknowledged %d, lost %d, stored twice %d, out of order %d, unanswered %d\n",
		res.sent, res.acked, res.v.lost, res.v.storedTwice, res.outOfOrder, res.v.unanswered)
	return res, nil
}

// runFrom is run for a customer that signals first once its first
// connection is made (or failed), so that only so many connect at once.
func (cu *customer) runFrom(ctx context.Context, first chan struct{}, start, sendUntil, stopAt time.Time, interval time.Duration) {
	cu.onConnected = func() { close(first) }
	cu.run(ctx, start, sendUntil, stopAt, interval)
	if cu.onConnected != nil {
		close(first)
	}
}

func (v *verdict) add(o verdict) {
	v.acked += o.acked
	v.lost += o.lost
	v.storedTwice += o.storedTwice
	v.moved += o.moved
	v.changed += o.changed
	v.badHistory += o.badHistory
	v.gaps += o.gaps
	v.unanswered += o.unanswered
	v.engineBehind += o.engineBehind
	v.answeredTwice += o.answeredTwice
}

// collect sums what the customers measured.
func (r *result) collect(customers []*customer) {
	onKilled := 0
	for _, cu := range customers {
		r.sent += cu.k
		r.acked += len(cu.acked)
		r.latencies = append(r.latencies, cu.latencies...)
		r.disrupted = append(r.disrupted, cu.disrupted...)
		r.noReply += cu.noReply
		r.outOfOrder += cu.outOfOrder
		r.dupSeen += cu.duplicates
		r.afterAck += cu.afterAck
		r.handoffs += cu.handoffs
		r.agentMsgs += cu.agentMsgs
		killed := false
		for _, rs := range cu.resumes {
			if rs.killed {
				r.resumes = append(r.resumes, rs.took)
				killed = true
			} else {
				r.otherResumes++
			}
		}
		if killed {
			onKilled++
		}
		for k, n := range cu.errs {
			r.addError(k, n)
		}
	}
	r.killedClients = onKilled
	slices.Sort(r.latencies)
	slices.Sort(r.disrupted)
	slices.Sort(r.resumes)
}

// checkClaims counts the races that did not have exactly one winner, and
// compares each raced conversation's stored claim events with the races
// won.
func (r *result) checkClaims(ctx context.Context, ag *agents) {
	r.races = ag.races
	won := map[string]int{}
	for _, rc := range ag.races {
		switch {
		case rc.winners == 2:
			r.racesTwoWin++
		case rc.winners == 0:
			r.racesNoWin++
		}
		won[rc.conv] += min(rc.winners, 1)
	}
	for conv, n := range won {
		events, err := ag.claimEvents(ctx, conv)
		if err != nil {
			r.addError("claim events: "+err.Error(), 1)
			continue
		}
		if events != n {
			r.claimMismatch++
			r.addError(fmt.Sprintf("conversation %s: %d claim events for %d races won", conv, events, n), 1)
		}
	}
}
