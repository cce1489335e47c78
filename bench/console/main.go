// Command console is the load generator of the agent console: it starts
// "bot serve" (or uses a running one), adds agents and logs them in to the
// console websocket, then runs web chat customers as bench/webchat does,
// some of whom ask for a person, and prints one table: how long a customer
// message takes to reach every agent's console, how long a handoff takes to
// alert them, and whether any console frame was lost or duplicated.
//
//	go run ./bench/console -agents 50 -customers 1000 -rate 500 -duration 30s -out /tmp/console.md
//
// The agents are added with "bot agent add" through the server's admin
// socket, so -server needs that server's -data-dir; -bot runs a built
// binary where there is no Go toolchain. The table's last line gives the
// machine's load average: the load generator shares the CPUs with the
// server, and with anything else running.
//
// Every agent serves every queue, so that each customer message reaches
// every console: the most the hub fans out. A message is lost when an
// agent never got the message frame of a customer message the server
// acknowledged, and duplicated when an agent got it twice; a handoff alert
// is lost when an online agent never got it.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := config{}
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.StringVar(&cfg.url, "server", "", "`URL` of a running server (http://host:port); empty: build and start bot serve")
	fs.StringVar(&cfg.dataDir, "data-dir", "", "data `DIR` of the running -server, where the agents are added (bot agent add)")
	fs.StringVar(&cfg.bot, "bot", "", "the bot `BINARY` to run (empty: go build ./cmd/bot)")
	fs.StringVar(&cfg.model, "model", "", "model `DIR` for the started server (empty: it trains the demo model, ~10 s)")
	fs.IntVar(&cfg.agents, "agents", 50, "agents logged in to the console")
	fs.IntVar(&cfg.customers, "customers", 1000, "concurrent web chat customers")
	fs.Float64Var(&cfg.rate, "rate", 500, "customer messages per second over all customers")
	fs.Float64Var(&cfg.handoff, "handoff", 0.02, "share of the customers who ask for a person")
	fs.DurationVar(&cfg.duration, "duration", 30*time.Second, "how long the customers write")
	fs.StringVar(&cfg.out, "out", "", "also write the table to this `FILE`")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if err := run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "console:", err)
		stop()
		os.Exit(1)
	}
}

type config struct {
	url, dataDir, model string
	bot                 string
	agents, customers   int
	rate, handoff       float64
	duration            time.Duration
	out                 string
}

// agentPassword is the password of the agents the benchmark adds.
const agentPassword = "bench-password-0123"

func run(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if cfg.agents <= 0 || cfg.customers <= 0 || cfg.rate <= 0 || cfg.duration <= 0 || cfg.handoff < 0 || cfg.handoff > 1 {
		return errors.New("-agents, -customers, -rate and -duration must be positive, -handoff from 0 to 1")
	}
	if cfg.url != "" && cfg.dataDir == "" {
		return errors.New("-server needs the -data-dir of that server, to add the agents")
	}
	srv, err := prepareServer(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer srv.stop()

	// Logins unique to this run, so that a running server's agents are left alone.
	runID := strconv.FormatInt(time.Now().UnixMilli(), 36)
	creds := make([]cred, cfg.agents)
	for i := range creds {
		creds[i] = cred{fmt.Sprintf("agent%02d-%s@bench.example", i+1, runID), agentPassword}
	}
	fmt.Fprintf(stderr, "adding %d agents\n", len(creds))
	if err := srv.addAgents(ctx, creds); err != nil {
		return err
	}
	res, err := measure(ctx, srv.url, creds, cfg, stderr)
	if err != nil {
		return err
	}
	res.mem = srv.memory()
	res.load = loadAverage()
	table := render(res, cfg)
	fmt.Fprint(stdout, table)
	if cfg.out != "" {
		return os.WriteFile(cfg.out, []byte(table), 0o644)
	}
	return nil
}

// phrases are what the customers say to the bot, as in bench/webchat; "%s"
// is one of orderIDs.
var phrases = []string{
	"hi there",
	"where is my order %s?",
	"how long does shipping take?",
	"what is your return policy?",
	"which payment methods do you accept?",
	"do you ship abroad?",
	"how do I reset my password?",
}

// handoffPhrase is what the customers who ask for a person say once.
const handoffPhrase = "let me talk to a real person"

// orderIDs are orders of 20 different customers of the demo shop.
var orderIDs = []string{"1001", "1003", "1004", "1006", "1008", "1011", "1013", "1014", "1017", "1020",
	"1021", "1023", "1026", "1028", "1029", "1032", "1035", "1036", "1039", "1041"}

type result struct {
	agents, customers int
	sent, acked       int
	replyLatencies    []time.Duration // customer message -> the bot's reply, on the customer's socket
	seconds           float64

	consoleLatencies []time.Duration // customer message -> each agent's message frame
	frames           int             // event frames all agents received
	handoffs         int             // conversations handed off (each alerts every agent)
	alertLatencies   []time.Duration // the message that got a handoff -> each agent's alert
	otherAlerts      int             // alerts for other reasons, or for conversations not handed off by this run
	lost, duplicated int             // customer message frames
	lostAlerts       int
	dupAlerts        int
	seqErrors        int // event frames whose seq did not increase on a socket
	resets           int
	errors           int
	errorKinds       map[string]int
	mem              mem
	load             string // ", load average N" at the end of the run, when known
}

func (r *result) addError(kind string) {
	r.errors++
	if r.errorKinds == nil {
		r.errorKinds = make(map[string]int)
	}
	r.errorKinds[kind]++
}

// measure logs the agents in, runs the customers, waits for the consoles
// to catch up and counts.
func measure(ctx context.Context, base string, creds []cred, cfg config, stderr io.Writer) (result, error) {
	res := result{agents: len(creds), customers: cfg.customers}
	var mu sync.Mutex // guards res while goroutines run
	var sends sync.Map

	// One login at a time: the console counts a login in progress as a
	// failure until it succeeds, and locks an address with 5 of them.
	var agents []*agent
	for _, c := range creds {
		a, err := dialAgent(ctx, base, c, &sends)
		if err != nil {
			res.addError("agent: " + err.Error())
			continue
		}
		agents = append(agents, a)
	}
	if len(agents) == 0 {
		return res, fmt.Errorf("no agent could log in to the console: %v", res.errorKinds)
	}
	res.agents = len(agents)
	fmt.Fprintf(stderr, "%d agents online; connecting %d customers\n", len(agents), cfg.customers)

	var wg sync.WaitGroup
	chatURL := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	customers := dialCustomers(ctx, chatURL, base, cfg.customers, &res, &mu)

	interval := time.Duration(float64(time.Second) * float64(cfg.customers) / cfg.rate)
	perCustomer := max(1, int(cfg.duration/interval))
	every := 0 // every how many customers one asks for a person
	if cfg.handoff > 0 {
		every = max(1, int(1/cfg.handoff+0.5))
	}
	fmt.Fprintf(stderr, "customers write %.0f messages/s for %s\n", cfg.rate, cfg.duration)
	start := time.Now()
	deadline := start.Add(cfg.duration)
	ackedIDs := make([][]string, len(customers))
	for i, c := range customers {
		if c == nil {
			continue
		}
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 11))
			askAt := -1
			if every > 0 && i%every == 0 {
				askAt = rng.IntN(max(1, perCustomer*6/10))
			}
			next := start.Add(time.Duration(rng.Int64N(int64(interval))))
			for k := 0; ; k++ {
				if next.After(deadline) {
					return
				}
				time.Sleep(time.Until(next))
				next = next.Add(interval)
				id := fmt.Sprintf("m%d-%d", i, k)
				text := phrases[rng.IntN(len(phrases))]
				if strings.Contains(text, "%s") {
					text = fmt.Sprintf(text, orderIDs[i%len(orderIDs)])
				}
				if k == askAt {
					text = handoffPhrase
				}
				sent := time.Now()
				sends.Store(id, sent)
				lat, err := c.exchange(ctx, id, text, sent)
				mu.Lock()
				res.sent++
				if err == nil || errors.Is(err, errKind("no reply")) {
					res.acked++
					ackedIDs[i] = append(ackedIDs[i], id)
				}
				if err != nil {
					res.addError(err.Error())
				} else if lat > 0 {
					res.replyLatencies = append(res.replyLatencies, lat)
				}
				mu.Unlock()
				if ctx.Err() != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	res.seconds = time.Since(start).Seconds()
	fmt.Fprintf(stderr, "sent %d, acknowledged %d; waiting for the consoles\n", res.sent, res.acked)

	handoffs := map[string]time.Time{} // conversation -> when the message that got it handed off was sent
	for _, c := range customers {
		if c == nil {
			continue
		}
		wg.Go(func() { c.drain(ctx, time.Second) })
	}
	wg.Wait()
	for _, c := range customers {
		if c == nil {
			continue
		}
		if !c.handoffAt.IsZero() {
			handoffs[c.conv] = c.handoffAt
		}
		c.close()
	}
	// The consoles may still be working through the last frames.
	want := int64(res.acked)
	for wait := time.Now().Add(10 * time.Second); time.Now().Before(wait) && ctx.Err() == nil; time.Sleep(100 * time.Millisecond) {
		behind := slices.ContainsFunc(agents, func(a *agent) bool { return a.progress.Load() < want && !a.closedEarly() })
		if !behind {
			break
		}
	}
	time.Sleep(500 * time.Millisecond) // alerts and duplicates that trail
	for _, a := range agents {
		if a.closedEarly() {
			res.addError(fmt.Sprintf("console socket closed by the server: %v", a.err))
		}
		a.close()
	}
	account(&res, agents, slices.Concat(ackedIDs...), handoffs)
	return res, ctx.Err()
}

// account counts what the agents got against what they should have: every
// acknowledged customer message once, and one handoff alert for every
// conversation handed off.
func account(res *result, agents []*agent, acked []string, handoffs map[string]time.Time) {
	res.handoffs = len(handoffs)
	for _, a := range agents {
		res.frames += a.frames
		res.resets += a.resets
		res.seqErrors += a.seqErrors
		res.otherAlerts += a.other
		res.consoleLatencies = append(res.consoleLatencies, a.latencies...)
		for _, id := range acked {
			switch n := a.seen[id]; {
			case n == 0:
				res.lost++
			case n > 1:
				res.duplicated += n - 1
			}
		}
		for conv, at := range handoffs {
			got := a.alerts[conv]
			if len(got) == 0 {
				res.lostAlerts++
				continue
			}
			res.alertLatencies = append(res.alertLatencies, got[0].Sub(at))
			res.dupAlerts += len(got) - 1
		}
		for conv, got := range a.alerts {
			if _, ok := handoffs[conv]; !ok {
				res.otherAlerts += len(got)
			}
		}
		if a.errFrames > 0 {
			res.addError(fmt.Sprintf("console error frames ×%d", a.errFrames))
		}
	}
}

func render(r result, cfg config) string {
	slices.Sort(r.consoleLatencies)
	slices.Sort(r.alertLatencies)
	slices.Sort(r.replyLatencies)
	pct := func(ds []time.Duration) string {
		if len(ds) == 0 {
			return "–"
		}
		return fmt.Sprintf("%.0f / %.0f / %.0f", ms(percentile(ds, 0.50)), ms(percentile(ds, 0.95)), ms(percentile(ds, 0.99)))
	}
	alertMax := "–"
	if len(r.alertLatencies) > 0 {
		alertMax = fmt.Sprintf("%.0f", ms(r.alertLatencies[len(r.alertLatencies)-1]))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| %d agents, %d customers, target %.0f msg/s for %s | |\n", r.agents, r.customers, cfg.rate, cfg.duration)
	fmt.Fprintln(&b, "|---|--:|")
	rows := [][2]string{
		{"customer messages sent / acknowledged", fmt.Sprintf("%d / %d", r.sent, r.acked)},
		{"customer messages per second", fmt.Sprintf("%.1f", float64(r.acked)/r.seconds)},
		{"message → every agent's console, p50 / p95 / p99 ms", pct(r.consoleLatencies)},
		{"message → bot reply on the customer's socket, p50 / p95 / p99 ms", pct(r.replyLatencies)},
		{"console frames received per second (all agents)", fmt.Sprintf("%.0f", float64(r.frames)/r.seconds)},
		{"handoffs (each alerts every agent)", strconv.Itoa(r.handoffs)},
		{"handoff → alert, p50 / p95 / p99 ms", pct(r.alertLatencies)},
		{"handoff → alert, max ms", alertMax},
		{"message frames lost / duplicated", fmt.Sprintf("%d / %d", r.lost, r.duplicated)},
		{"handoff alerts lost / duplicated", fmt.Sprintf("%d / %d", r.lostAlerts, r.dupAlerts)},
		{"seq out of order, resets", fmt.Sprintf("%d, %d", r.seqErrors, r.resets)},
		{"errors", strconv.Itoa(r.errors)},
		{"server RSS MB", r.mem.String()},
	}
	for _, row := range rows {
		fmt.Fprintf(&b, "| %s | %s |\n", row[0], row[1])
	}
	fmt.Fprintf(&b, "\nRun %s on %s/%s, %d CPUs, %s; the load generator runs on the same machine%s.\n",
		time.Now().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), r.load)
	if r.otherAlerts > 0 {
		fmt.Fprintf(&b, "Other alerts (not a handoff of this run): %d\n", r.otherAlerts)
	}
	kinds := make([]string, 0, len(r.errorKinds))
	for k, n := range r.errorKinds {
		kinds = append(kinds, fmt.Sprintf("%s ×%d", k, n))
	}
	slices.Sort(kinds)
	if len(kinds) > 0 {
		fmt.Fprintf(&b, "Errors: %s\n", strings.Join(kinds, "; "))
	}
	return b.String()
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// server is the bot serve process under test, or a running one.
type server struct {
	url     string    // http://host:port
	cmd     *exec.Cmd // nil for a server the benchmark did not start
	bot     string    // the bot binary
	dir     string    // temporary: the binary, and the data of a started server
	dataDir string
}

// prepareServer builds cmd/bot unless cfg names a binary (the agents are
// added with it) and starts
// "bot serve" on a free port with a new data directory, unless cfg names a
// running server.
func prepareServer(ctx context.Context, cfg config, stderr io.Writer) (*server, error) {
	dir, err := os.MkdirTemp("", "parley-console-bench-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, bot: cfg.bot, url: strings.TrimSuffix(cfg.url, "/"), dataDir: cfg.dataDir}
	if s.bot == "" {
		s.bot = filepath.Join(dir, "bot")
		build := exec.CommandContext(ctx, "go", "build", "-o", s.bot, "./cmd/bot")
		build.Stdout, build.Stderr = stderr, stderr
		if err := build.Run(); err != nil {
			s.stop()
			return nil, fmt.Errorf("build bot (run from the repository root): %w", err)
		}
	}
	if s.url != "" {
		return s, nil
	}
	s.dataDir = filepath.Join(dir, "data")
	// Every client comes from 127.0.0.1: the per-address limits are off.
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", s.dataDir, "--ip-rate", "-1",
		"--ip-socket-rate", "-1", "--ip-hello-rate", "-1", "--ip-max-sockets", "-1", "--log-level", "warn"}
	if cfg.model != "" {
		args = append(args, "--model", cfg.model)
	}
	cmd := exec.Command(s.bot, args...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		s.stop()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		s.stop()
		return nil, err
	}
	s.cmd = cmd
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "Parley is serving on "); ok {
			s.url = strings.TrimSuffix(strings.TrimSpace(rest), "/")
			break
		}
	}
	if s.url == "" {
		s.stop()
		return nil, errors.New("bot serve exited before it listened")
	}
	go io.Copy(io.Discard, out)
	fmt.Fprintf(stderr, "server %s (pid %d)\n", s.url, cmd.Process.Pid)
	return s, nil
}

// addAgents adds the agents with "bot agent add", which reaches the
// serving process through its admin socket, a few at a time.
func (s *server) addAgents(ctx context.Context, creds []cred) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, 4)
	for i, c := range creds {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			cmd := exec.CommandContext(ctx, s.bot, "agent", "add", c.email, "--name", fmt.Sprintf("Bench Agent %d", i+1), "--data-dir", s.dataDir)
			cmd.Stdin = strings.NewReader(c.password + "\n")
			if out, err := cmd.CombinedOutput(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("bot agent add %s: %w: %s", c.email, err, strings.TrimSpace(string(out))))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// memory reads the started server's resident memory from /proc (Linux);
// zeros for a server the benchmark did not start.
func (s *server) memory() mem {
	var m mem
	if s.cmd == nil {
		return m
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return m
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		switch name {
		case "VmRSS":
			m.rssMB = kb / 1024
		case "RssFile":
			m.fileMB = kb / 1024
		}
	}
	return m
}

// loadAverage reads the one-minute load average (Linux), which says how
// busy the machine was besides: ", load average 3.2", or "".
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return ""
	}
	return ", load average " + f[0]
}

// mem is a process's resident memory in MB.
type mem struct{ rssMB, fileMB float64 }

func (m mem) String() string {
	if m.rssMB == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f (%.0f mapped file)", m.rssMB, m.fileMB)
}

// stop ends a started server and removes the temporary directory; calling
// it again does nothing.
func (s *server) stop() {
	if s.cmd != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		s.cmd.Wait()
		s.cmd = nil
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
		s.dir = ""
	}
}
