package main

import (
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"time"
)

// render writes the runs as one Markdown table, with the details of each
// run in notes below it.
func render(results []*result, cfg config) string {
	var b strings.Builder
	fmt.Fprintln(&b, "| nodes | customers × msg/s | sent | acked | reply p50 ms | reply p99 ms | reply max ms | lost | stored twice | out of order | text changed | unanswered | killed node: customers resumed, max / p99 s | claim races with 1 winner | node CPU ms/msg | node RSS MB |")
	fmt.Fprintln(&b, "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--|--|--:|--|")
	for _, r := range results {
		kill := "no kill"
		if r.killed >= 0 {
			kill = fmt.Sprintf("%d, %.2f / %.2f", len(r.resumes), sec(maxOf(r.resumes)), sec(percentile(r.resumes, 0.99)))
		}
		rss := make([]string, len(r.rss))
		for i, m := range r.rss {
			rss[i] = fmt.Sprintf("%.0f", m)
			if i == r.killed {
				rss[i] += " (killed)"
			}
		}
		fmt.Fprintf(&b, "| %d | %d × %g | %d | %d | %.1f | %.1f | %.1f | %d | %d | %d | %d | %d | %s | %d of %d | %.2f | %s |\n",
			r.nodes, r.conversations, cfg.rate, r.sent, r.acked,
			ms(percentile(r.latencies, 0.50)), ms(percentile(r.latencies, 0.99)), ms(maxOf(r.latencies)),
			r.v.lost, r.v.storedTwice+r.dupSeen, r.outOfOrder+r.v.badHistory+r.v.moved, r.v.changed, r.v.unanswered,
			kill, len(r.races)-r.racesTwoWin-r.racesNoWin, len(r.races), ms(r.cpuPerMessage()), strings.Join(rss, " / "))
	}
	fmt.Fprintf(&b, "\nRun %s on %s/%s, %d CPUs, %s: PostgreSQL, NATS, every node and the load generator share these CPUs. "+
		"%s of sending, then %s of grace before the checks; each customer sends its next message after the reply to the last.\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(),
		cfg.duration, cfg.grace)
	if most := slices.MaxFunc(results, func(a, b *result) int { return a.nodes - b.nodes }); most.nodes > 1 {
		fmt.Fprintf(&b, "With %d CPUs for everything, %d nodes cannot answer more than 1 node here (they compete for the same CPUs): "+
			"this run shows what the shared store and events cost per reply and that a node's death loses nothing; "+
			"throughput scaling needs nodes on machines of their own.\n", runtime.NumCPU(), most.nodes)
	}
	for _, r := range results {
		fmt.Fprintf(&b, "\n%d node(s):\n", r.nodes)
		notes(&b, r)
	}
	return b.String()
}

// notes writes the details of one run as a Markdown list.
func notes(b *strings.Builder, r *result) {
	fmt.Fprintf(b, "- %.1f customer messages/s acknowledged; replies slower than 1 s: %d, than 5 s: %d; %d round trips got no reply within %s "+
		"(looked for again at the end: unanswered %d; conversations the bot holds with answered seq behind: %d; "+
		"customer messages the bot answered twice over: %d). Load average at start / end: %s / %s.\n",
		float64(r.acked)/r.seconds, slower(r.latencies, time.Second), slower(r.latencies, 5*time.Second), r.noReply, replyTimeout,
		r.v.unanswered, r.v.engineBehind, r.v.answeredTwice, r.load[0], r.load[1])
	fmt.Fprintf(b, "- Checked against the stored history: %d acknowledged messages; lost %d, stored twice %d, at another seq than acked %d, "+
		"history not seqs 1..N %d, text or sender changed %d; on the sockets: out of order %d, duplicated seq %d, seqs never received %d, "+
		"messages that arrived after the ack of a later customer message %d (allowed: clients order by seq).\n",
		r.v.acked, r.v.lost, r.v.storedTwice, r.v.moved, r.v.badHistory, r.v.changed, r.outOfOrder, r.dupSeen, r.v.gaps, r.afterAck)
	if r.killed >= 0 {
		within := 0
		for _, d := range r.resumes {
			if d <= 5*time.Second {
				within++
			}
		}
		fmt.Fprintf(b, "- Killed node %d at %.1f s with %d customers on it; %d of %d resumed on another node within 5 s "+
			"(drop to welcome: p50 %.2f s, p99 %.2f s, max %.2f s). %d round trips crossed the drop (reply latency p50 %.0f ms, max %.0f ms). "+
			"Sockets that dropped on a live node: %d.\n",
			r.killed, r.killedAt.Seconds(), r.killedClients, within, len(r.resumes),
			sec(percentile(r.resumes, 0.5)), sec(percentile(r.resumes, 0.99)), sec(maxOf(r.resumes)),
			len(r.disrupted), ms(percentile(r.disrupted, 0.5)), ms(maxOf(r.disrupted)), r.otherResumes)
	}
	if c := r.cpuPerMessage(); c > 0 {
		fmt.Fprintf(b, "- The nodes used %.1f CPU seconds while the customers sent: %.2f ms a message, so one CPU core of node time answers "+
			"about %.0f messages/s (PostgreSQL and NATS not counted).\n", r.cpu.Seconds(), ms(c), float64(time.Second)/float64(c))
	}
	losers := map[string]int{}
	answered, resolved := 0, 0
	for _, rc := range r.races {
		for k := range 2 {
			if rc.codes[k] != http.StatusOK {
				losers[fmt.Sprintf("%d %s", rc.codes[k], rc.errs[k])]++
			}
		}
		answered += rc.answered
		if rc.resolved {
			resolved++
		}
	}
	var lost []string
	for k, n := range losers {
		lost = append(lost, fmt.Sprintf("%s ×%d", k, n))
	}
	slices.Sort(lost)
	fmt.Fprintf(b, "- Handoffs seen by customers: %d. Claim races (two agents at once, through different nodes when there are several): %d; exactly one winner %d, two winners %d, none %d; "+
		"the other claim got: %s. Stored claim events differing from the races won: %d conversations. "+
		"Winners posted %d answers (customers received %d live) and resolved %d.\n",
		r.handoffs, len(r.races), len(r.races)-r.racesTwoWin-r.racesNoWin, r.racesTwoWin, r.racesNoWin,
		orNone(strings.Join(lost, ", ")), r.claimMismatch, answered, r.agentMsgs, resolved)
	for _, c := range r.crashed {
		fmt.Fprintf(b, "- CRASHED: %s\n", c)
	}
	var kinds []string
	for k, n := range r.errs {
		kinds = append(kinds, fmt.Sprintf("%s ×%d", k, n))
	}
	slices.Sort(kinds)
	if len(kinds) > 10 {
		kinds = append(kinds[:10], fmt.Sprintf("and %d more kinds", len(kinds)-10))
	}
	if len(kinds) > 0 {
		fmt.Fprintf(b, "- Errors: %s\n", strings.Join(kinds, "; "))
	}
}

// slower counts the sorted durations above d.
func slower(sorted []time.Duration, d time.Duration) int {
	i, _ := slices.BinarySearch(sorted, d+1)
	return len(sorted) - i
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// percentile returns the p-th percentile of sorted durations (0 for none).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// maxOf returns the last of sorted durations (0 for none).
func maxOf(sorted []time.Duration) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[len(sorted)-1]
}

func ms(d time.Duration) float64  { return float64(d) / float64(time.Millisecond) }
func sec(d time.Duration) float64 { return d.Seconds() }
