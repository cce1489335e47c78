package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// capacityRow is one step of -capacity: a node count with one number of
// customers.
type capacityRow struct {
	res *result
}

// runCapacity steps the number of customers, each sending -rate messages a
// second (the web chat allows one a second per socket, bursts of 10), on 1
// node and on -nodes (-compare), without kills or handoffs. A customer
// sends its next message only after the reply to the last, so nodes that
// cannot keep up show as fewer messages a second than the target and a
// longer p99.
func runCapacity(ctx context.Context, cfg config, bin string, stderr io.Writer) ([]capacityRow, error) {
	counts := []int{cfg.nodes}
	if cfg.compare && cfg.nodes > 1 {
		counts = []int{1, cfg.nodes}
	}
	step := cfg
	step.killAfter, step.handoff, step.duration, step.grace = 0, 0, cfg.capacityTime, 5*time.Second
	var rows []capacityRow
	for _, n := range counts {
		for _, c := range cfg.capacitySteps {
			step.conversations = c
			fmt.Fprintf(stderr, "capacity: %d node(s), %d customers at %g messages/s\n", n, c, cfg.rate)
			res, err := runCluster(ctx, step, bin, n, stderr)
			if err != nil {
				return nil, fmt.Errorf("capacity with %d nodes and %d customers: %w", n, c, err)
			}
			rows = append(rows, capacityRow{res: res})
		}
	}
	return rows, nil
}

// renderCapacity writes the steps as a Markdown table and, per node count,
// the capacity: the most messages a second acknowledged and answered with
// a reply p99 under one second.
func renderCapacity(rows []capacityRow, cfg config) string {
	var b strings.Builder
	fmt.Fprintln(&b, "| nodes | customers | target msg/s | acked msg/s | reply p50 ms | reply p99 ms | no reply in 20 s | unanswered | lost | node CPU ms/msg | node RSS MB | load avg start / end |")
	fmt.Fprintln(&b, "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--|--|")
	best := map[int]float64{}
	var order []int
	for _, row := range rows {
		r := row.res
		got := float64(r.acked) / r.seconds
		rss := make([]string, len(r.rss))
		for i, m := range r.rss {
			rss[i] = fmt.Sprintf("%.0f", m)
		}
		fmt.Fprintf(&b, "| %d | %d | %.0f | %.1f | %.1f | %.1f | %d | %d | %d | %.2f | %s | %s / %s |\n", r.nodes, r.conversations, cfg.rate*float64(r.conversations), got,
			ms(percentile(r.latencies, 0.5)), ms(percentile(r.latencies, 0.99)), r.noReply, r.v.unanswered, r.v.lost, ms(r.cpuPerMessage()), strings.Join(rss, " / "), r.load[0], r.load[1])
		if _, ok := best[r.nodes]; !ok {
			order = append(order, r.nodes)
			best[r.nodes] = 0
		}
		if percentile(r.latencies, 0.99) < time.Second && r.v.unanswered == 0 && r.v.lost == 0 && got > best[r.nodes] {
			best[r.nodes] = got
		}
	}
	fmt.Fprintf(&b, "\nRun %s on %s/%s, %d CPUs, %s; %g messages/s per customer, %s a step, no kill, no handoffs; "+
		"PostgreSQL, NATS, the nodes and the load generator share the CPUs. "+
		"Each customer sends its next message only after the reply to the last, so the acknowledged rate falls behind the target once the reply takes longer than the interval.\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(),
		cfg.rate, cfg.capacityTime)
	for _, n := range order {
		fmt.Fprintf(&b, "Capacity with %d node(s) here: %.0f messages/s acknowledged and answered with reply p99 under 1 s.\n", n, best[n])
	}
	return b.String()
}
