package main

import (
	"context"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// needServices skips the test without PostgreSQL and NATS (their URLs as
// parseFlags reads them: PARLEY_TEST_POSTGRES, PARLEY_TEST_NATS), except
// under CI=true, where it fails, as the cmd/bot cluster tests do.
func needServices(t *testing.T, cfg config) {
	t.Helper()
	fail := t.Skipf
	if os.Getenv("CI") == "true" {
		fail = t.Fatalf
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, cfg.postgres)
	if err != nil {
		fail("no PostgreSQL (set PARLEY_TEST_POSTGRES): %v", err)
		return
	}
	conn.Close(ctx)
	u, err := url.Parse(strings.Split(cfg.nats, ",")[0])
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
	if err != nil {
		fail("no NATS server with JetStream at %s (set PARLEY_TEST_NATS): %v", cfg.nats, err)
		return
	}
	c.Close()
}

// TestClusterKill is the benchmark in small: 2 nodes, 5 customers for 5 s,
// one of them asking for a person, and the node with the most sockets
// killed after 2 s. Every check of the full run must pass.
func TestClusterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bot, trains a model and runs two nodes (~1 min)")
	}
	cfg, err := parseFlags([]string{"-nodes", "2", "-conversations", "5", "-duration", "5s", "-kill-after", "2s",
		"-grace", "12s", "-compare=false", "-handoff", "0.2"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	needServices(t, cfg)
	var results []*result
	err = prepared(context.Background(), cfg, io.Discard, func(cfg config, bin string) error {
		var err error
		results, err = runAll(context.Background(), cfg, bin, io.Discard)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 {
		t.Fatalf("%d results, want 1", len(results))
	}
	r := results[0]
	t.Log("\n" + render(results, cfg))
	if r.acked < 10 || len(r.latencies) == 0 {
		t.Errorf("acknowledged %d messages with %d replies timed; want a few a second from each customer", r.acked, len(r.latencies))
	}
	for _, c := range []struct {
		what string
		n    int
	}{
		{"lost", r.v.lost}, {"stored twice", r.v.storedTwice}, {"stored at another seq", r.v.moved},
		{"changed", r.v.changed}, {"history out of order", r.v.badHistory}, {"seqs never received", r.v.gaps},
		{"out of order on a socket", r.outOfOrder}, {"duplicated on a socket", r.dupSeen},
		{"unanswered", r.v.unanswered}, {"bot conversations answered behind", r.v.engineBehind},
		{"answered twice", r.v.answeredTwice},
		{"failed checks", r.checkErrors}, {"races with two winners", r.racesTwoWin},
		{"claim events differing from races won", r.claimMismatch}, {"crashed nodes", len(r.crashed)},
	} {
		if c.n != 0 {
			t.Errorf("%s: %d, want 0", c.what, c.n)
		}
	}
	if r.killed < 0 || r.killedClients == 0 {
		t.Errorf("killed node %d with %d customers on it; want a kill that drops customers", r.killed, r.killedClients)
	}
	if len(r.resumes) != r.killedClients {
		t.Errorf("%d resumes for %d customers on the killed node", len(r.resumes), r.killedClients)
	}
	// How fast they resumed is the benchmark's to report (within 5 s in
	// its runs), not a unit test's: timings on a shared machine vary.
	if len(r.races) == 0 || r.racesNoWin == len(r.races) {
		t.Errorf("%d claim races, %d without a winner; want the handoff claimed", len(r.races), r.racesNoWin)
	}
	if r.agentMsgs == 0 {
		t.Error("no customer received an agent's answer")
	}
}

// compare must notice every kind of damage to a conversation.
func TestCompareFindsDamage(t *testing.T) {
	msg := func(seq uint64, sender, text, clientID string) frame {
		return frame{Type: "message", Seq: seq, Sender: sender, Text: text, ClientID: clientID}
	}
	newCust := func() *customer {
		cu := &customer{sent: map[string]string{}, acked: map[string]uint64{}, seen: map[uint64]seenMsg{}, errs: map[string]int{}}
		for _, m := range []struct {
			seq  uint64
			id   string
			text string
		}{{1, "c1", "hi there"}, {3, "c2", "thanks!"}} {
			cu.sent[m.id], cu.acked[m.id] = m.text, m.seq
			cu.receive(m.seq, seenMsg{sender: "customer", text: m.text, clientID: m.id})
		}
		cu.receive(2, seenMsg{sender: "bot", text: "Hello!"})
		cu.receive(4, seenMsg{sender: "bot", text: "You're welcome."})
		return cu
	}
	good := []frame{msg(1, "customer", "hi there", "c1"), msg(2, "bot", "Hello!", ""),
		msg(3, "customer", "thanks!", "c2"), msg(4, "bot", "You're welcome.", "")}
	if v := newCust().compare(good); v != (verdict{acked: 2}) {
		t.Fatalf("an intact history: %+v", v)
	}
	for _, tc := range []struct {
		name string
		hist []frame
		want verdict
	}{
		{"lost", good[:2], verdict{acked: 2, lost: 1, changed: 2, unanswered: 0}},
		{"stored twice", append(append([]frame{}, good...), msg(5, "customer", "thanks!", "c2"), msg(6, "bot", "ok", "")),
			verdict{acked: 2, storedTwice: 1}},
		{"moved", []frame{good[0], good[1], msg(3, "bot", "You're welcome.", ""), msg(4, "customer", "thanks!", "c2")},
			verdict{acked: 2, moved: 1, changed: 2, unanswered: 1}},
		{"text changed", []frame{good[0], good[1], msg(3, "customer", "THANKS", "c2"), good[3]}, verdict{acked: 2, changed: 1}},
		{"out of order", []frame{good[0], good[2], good[1], good[3]}, verdict{acked: 2, badHistory: 2}},
		{"unanswered", good[:3], verdict{acked: 2, changed: 1, unanswered: 1}},
		{"answered twice", append(append([]frame{}, good...), msg(5, "bot", "You're welcome.", "")), verdict{acked: 2, answeredTwice: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := newCust().compare(tc.hist); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// A socket that delivers a seq twice, or a lower seq after a higher one,
// is counted; the customer resumes after the highest seq up to which it
// has every message.
func TestSocketOrder(t *testing.T) {
	cu := &customer{sent: map[string]string{}, acked: map[string]uint64{}, seen: map[uint64]seenMsg{}, errs: map[string]int{}}
	cu.sock = &sock{seen: map[uint64]bool{}}
	for _, seq := range []uint64{1, 2, 4, 4, 3} {
		cu.handle(frame{Type: "message", Seq: seq, Sender: "bot", Text: "x"})
	}
	if cu.duplicates != 1 || cu.outOfOrder != 1 {
		t.Errorf("duplicates %d, out of order %d; want 1 and 1", cu.duplicates, cu.outOfOrder)
	}
	if cu.contig != 4 {
		t.Errorf("resumes after seq %d, want 4", cu.contig)
	}
	cu.handle(frame{Type: "message", Seq: 6, Sender: "bot", Text: "x"})
	if cu.contig != 4 || cu.maxSeen != 6 {
		t.Errorf("after a gap: contig %d, max %d; want 4 and 6", cu.contig, cu.maxSeen)
	}
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-agents", "1"}, "-agents"},
		{[]string{"-kill-after", "90s"}, "-kill-after"},
		{[]string{"-handoff", "2"}, "-handoff"},
		{[]string{"-conversations", "0"}, "positive"},
		{[]string{"-append-workers", "8,x"}, "-append-workers"},
		{[]string{"-capacity-customers", "200,-1"}, "-capacity-customers"},
		{[]string{"extra"}, "unexpected"},
	} {
		if _, err := parseFlags(tc.args, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil || cfg.nodes != 3 || cfg.conversations != 200 || cfg.duration != time.Minute || cfg.killAfter != 20*time.Second || !cfg.compare {
		t.Errorf("defaults: %+v, %v", cfg, err)
	}
}

func TestPercentiles(t *testing.T) {
	ds := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 6}, {0.99, 10}, {0, 1}} {
		if got := percentile(ds, tc.p); got != tc.want {
			t.Errorf("p%.0f = %d, want %d", 100*tc.p, got, tc.want)
		}
	}
	if percentile(nil, 0.5) != 0 || maxOf(nil) != 0 || maxOf(ds) != 10 {
		t.Error("percentile or maxOf of nothing, or the maximum")
	}
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{{0, 10}, {5, 5}, {10, 0}, {11, 0}} {
		if got := slower(ds, tc.d); got != tc.want {
			t.Errorf("slower than %d: %d, want %d", tc.d, got, tc.want)
		}
	}
}

// cpu and rss read /proc for a node's process; this test reads them for
// its own process, which has used some CPU and memory by now.
func TestNodeCPUAndRSS(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc:", err)
	}
	p, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	n := &node{cmd: &exec.Cmd{Process: p}}
	for deadline := time.Now().Add(2 * time.Second); n.cpu() == 0 && time.Now().Before(deadline); {
		// Use some CPU: the counter moves in steps of clockTick.
	}
	if c, m := n.cpu(), n.rss(); c <= 0 || m <= 0 {
		t.Errorf("cpu %s, rss %.1f MB; want both above 0", c, m)
	}
	n.cpuDead = 42 * time.Second
	n.dead.Store(true)
	if n.cpu() != 42*time.Second {
		t.Errorf("a killed node's cpu is %s, want the time recorded at its death", n.cpu())
	}
}
