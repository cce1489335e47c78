// Command webchat is the load generator of the web chat: it starts
// "bot serve" (or uses a running one), opens many concurrent websocket
// clients that converse, then many idle ones, and prints one table: messages
// per second, reply latency, errors, lost and duplicated messages, and the
// server's memory (resident set, read from /proc). The idle phase runs after
// a restart of the server process.
//
//	go run ./bench/webchat -clients 1000 -rate 500 -duration 30s -idle 10000 -out /tmp/webchat.md
//
// Every customer message is checked at the end: each client reconnects,
// reads its whole conversation back, and counts the messages it sent that
// are missing (lost) or stored more than once (duplicated), and any sequence
// number a socket received twice.
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
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := config{}
	fs := flag.NewFlagSet("webchat", flag.ContinueOnError)
	fs.StringVar(&cfg.url, "server", "", "websocket `URL` of a running server (ws://host:port/ws); empty: build and start bot serve")
	fs.StringVar(&cfg.model, "model", "", "model `DIR` for the started server (empty: it trains the demo model, ~10 s)")
	fs.IntVar(&cfg.clients, "clients", 1000, "concurrent conversing clients")
	fs.Float64Var(&cfg.rate, "rate", 500, "customer messages per second over all clients")
	fs.DurationVar(&cfg.duration, "duration", 30*time.Second, "how long the clients converse")
	fs.IntVar(&cfg.idle, "idle", 10000, "idle connections to hold in the second phase (0: skip)")
	fs.StringVar(&cfg.out, "out", "", "also write the table to this `FILE`")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if err := run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "webchat:", err)
		stop()
		os.Exit(1)
	}
}

type config struct {
	url      string
	model    string
	clients  int
	rate     float64
	duration time.Duration
	idle     int
	out      string
}

func run(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if cfg.clients <= 0 || cfg.rate <= 0 || cfg.duration <= 0 {
		return errors.New("-clients, -rate and -duration must be positive")
	}
	srv := &server{url: cfg.url}
	if cfg.url == "" {
		var err error
		if srv, err = startServer(ctx, cfg.model, stderr); err != nil {
			return err
		}
		defer srv.stop()
	}

	fmt.Fprintf(stderr, "phase 1: %d clients, %.0f messages/s for %s\n", cfg.clients, cfg.rate, cfg.duration)
	active, err := converse(ctx, srv.url, srv.origin(), cfg, stderr)
	if err != nil {
		return err
	}
	active.mem = srv.memory()

	rows := []result{active}
	if cfg.idle > 0 {
		// The idle phase restarts the server, so that its memory is that of
		// the idle sockets and not what the first phase (or training the
		// models on the first start) left on the heap.
		if srv.cmd != nil {
			if err := srv.restart(stderr); err != nil {
				return err
			}
		}
		fmt.Fprintf(stderr, "phase 2: %d idle connections (server RSS %s MB before)\n", cfg.idle, srv.memory())
		idle := holdIdle(ctx, srv.url, srv.origin(), cfg.idle, srv, stderr)
		rows = append(rows, idle)
	}
	table := render(rows, cfg)
	fmt.Fprint(stdout, table)
	if cfg.out != "" {
		return os.WriteFile(cfg.out, []byte(table), 0o644)
	}
	return nil
}

// phrases are what the simulated customers say: in scope, answered by the
// bot, and never a request for a person. A customer who keeps asking may
// still be handed off by the satisfaction model; that client then stops, as
// its conversation is with a person (the table's notes count them).
// "%s" is one of orderIDs, so that the clients are spread over the demo's
// customers as real visitors would be.
var phrases = []string{
	"hi there",
	"where is my order %s?",
	"how long does shipping take?",
	"what is your return policy?",
	"which payment methods do you accept?",
	"do you ship abroad?",
	"how do I reset my password?",
	"thanks!",
}

// orderIDs are orders of 20 different customers of the demo shop.
var orderIDs = []string{"1001", "1003", "1004", "1006", "1008", "1011", "1013", "1014", "1017", "1020",
	"1021", "1023", "1026", "1028", "1029", "1032", "1035", "1036", "1039", "1041"}

type result struct {
	name             string
	clients          int
	sent, replies    int
	seconds          float64
	latencies        []time.Duration
	errors           int
	errorKinds       map[string]int
	lost, duplicated int
	mem              mem
}

func (r *result) addError(kind string) {
	r.errors++
	if r.errorKinds == nil {
		r.errorKinds = make(map[string]int)
	}
	r.errorKinds[kind]++
}

// converse runs the clients: each sends its share of the rate on a fixed
// schedule (with a random phase), waits for the ack and the bot's first
// reply, and measures the time from send to reply.
func converse(ctx context.Context, url, origin string, cfg config, stderr io.Writer) (result, error) {
	res := result{name: "conversing", clients: cfg.clients}
	var mu sync.Mutex // guards res
	clients := make([]*client, cfg.clients)
	if err := dialAll(ctx, url, origin, clients, &res, &mu, stderr); err != nil {
		return res, err
	}
	interval := time.Duration(float64(time.Second) * float64(cfg.clients) / cfg.rate)
	start := time.Now()
	deadline := start.Add(cfg.duration)
	sentIDs := make([][]string, cfg.clients)
	var wg sync.WaitGroup
	for i, c := range clients {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			next := start.Add(time.Duration(rng.Int64N(int64(interval))))
			for k := 0; ; k++ {
				if next.After(deadline) {
					return
				}
				time.Sleep(time.Until(next))
				next = next.Add(interval)
				id := fmt.Sprintf("b%d-%d", i, k)
				text := phrases[rng.IntN(len(phrases))]
				if strings.Contains(text, "%s") {
					text = fmt.Sprintf(text, orderIDs[i%len(orderIDs)])
				}
				lat, err := c.roundTrip(ctx, id, text)
				mu.Lock()
				res.sent++
				sentIDs[i] = append(sentIDs[i], id)
				if err != nil {
					res.addError(err.Error())
				} else {
					res.replies++
					res.latencies = append(res.latencies, lat)
				}
				mu.Unlock()
				if err != nil && (ctx.Err() != nil || errors.Is(err, errHandedOff)) {
					return
				}
			}
		}()
	}
	wg.Wait()
	res.seconds = time.Since(start).Seconds()
	fmt.Fprintf(stderr, "  sent %d, replies %d, errors %d; checking every conversation\n", res.sent, res.replies, res.errors)
	sem := make(chan struct{}, 64)
	for i, c := range clients {
		if c == nil {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c.close()
			lost, dup, err := verify(ctx, url, origin, c.token, sentIDs[i])
			mu.Lock()
			defer mu.Unlock()
			res.duplicated += c.duplicates() + dup
			res.lost += lost
			if err != nil {
				res.addError("verify: " + err.Error())
			}
		}()
	}
	wg.Wait()
	return res, ctx.Err()
}

// errHandedOff ends a client's conversation: it is with a person now.
var errHandedOff = errKind("handed off to a person")

// errKind turns an error into a short kind for the table's notes.
type errKind string

func (e errKind) Error() string { return string(e) }

// roundTrip sends one message and waits for its ack and the bot's first
// reply after it.
func (c *client) roundTrip(ctx context.Context, id, text string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sent := time.Now()
	if err := c.send(frame{V: 1, Type: "message", ClientID: id, Text: text}); err != nil {
		return 0, errKind("send failed")
	}
	var acked uint64
	for {
		f, err := c.next(ctx)
		if err != nil {
			if acked == 0 {
				return 0, errKind("no ack")
			}
			return 0, errKind("no reply")
		}
		switch {
		case f.Type == "ack" && f.ClientID == id:
			acked = f.Seq
		case f.Type == "message" && f.Sender == "bot" && acked > 0 && f.Seq > acked:
			return time.Since(sent), nil
		case f.Type == "state" && (f.State == "waiting" || f.State == "agent"):
			// The bot handed the conversation to a person (the satisfaction
			// model can, when a customer keeps asking): no bot replies
			// follow, and a real visitor would wait for the agent.
			return 0, errHandedOff
		case f.Type == "error":
			return 0, errKind("error " + f.Code)
		}
	}
}

// verify reads the conversation back on a new socket and counts the sent
// messages that are missing or stored twice.
func verify(ctx context.Context, url, origin, token string, sent []string) (lost, dup int, err error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := dial(ctx, url, origin, token, 0)
	if err != nil {
		return len(sent), 0, err
	}
	defer c.close()
	stored := map[string]int{}
	for seq := uint64(0); seq < c.last; {
		f, err := c.next(ctx)
		if err != nil {
			return len(sent), 0, fmt.Errorf("read back: %w", err)
		}
		if f.Type != "message" {
			continue
		}
		seq = f.Seq
		if f.Sender == "customer" {
			stored[f.ClientID]++
		}
	}
	for _, id := range sent {
		switch n := stored[id]; {
		case n == 0:
			lost++
		case n > 1:
			dup += n - 1
		}
	}
	return lost, dup, nil
}

// dialAll connects every client, a bounded number at a time.
func dialAll(ctx context.Context, url, origin string, clients []*client, res *result, mu *sync.Mutex, stderr io.Writer) error {
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var done atomic.Int64
	for i := range clients {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dial(ctx, url, origin, "", 0)
			if err != nil {
				mu.Lock()
				res.addError("connect: " + err.Error())
				mu.Unlock()
				return
			}
			clients[i] = c
			if n := done.Add(1); n%1000 == 0 {
				fmt.Fprintf(stderr, "  %d connected\n", n)
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// holdIdle opens n connections that only say hello, keeps them for a while,
// and measures the server's memory while they are open.
func holdIdle(ctx context.Context, url, origin string, n int, srv *server, stderr io.Writer) result {
	res := result{name: "idle", clients: n}
	var mu sync.Mutex
	clients := make([]*client, n)
	if err := dialAll(ctx, url, origin, clients, &res, &mu, stderr); err != nil {
		res.addError(err.Error())
	}
	select {
	case <-time.After(10 * time.Second):
	case <-ctx.Done():
	}
	res.mem = srv.memory()
	open := 0
	for _, c := range clients {
		if c == nil {
			continue
		}
		select {
		case <-c.done:
			res.addError("closed by the server while idle")
		default:
			open++
		}
	}
	fmt.Fprintf(stderr, "  %d of %d idle connections open after 10 s, server RSS %s MB\n", open, n, res.mem)
	for _, c := range clients {
		if c != nil {
			c.close()
		}
	}
	return res
}

func render(rows []result, cfg config) string {
	var b strings.Builder
	fmt.Fprintln(&b, "| phase | clients | messages/s | reply p50 ms | reply p99 ms | errors | lost | duplicated | server RSS MB |")
	fmt.Fprintln(&b, "|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rows {
		if r.name == "idle" {
			fmt.Fprintf(&b, "| idle: %d sockets held 10 s (server restarted) | %d | – | – | – | %d | – | – | %s |\n", r.clients, r.clients, r.errors, r.mem)
			continue
		}
		slices.Sort(r.latencies)
		fmt.Fprintf(&b, "| conversing, target %.0f msg/s for %s | %d | %.1f | %.1f | %.1f | %d | %d | %d | %s |\n",
			cfg.rate, cfg.duration, r.clients, float64(r.replies)/r.seconds,
			ms(percentile(r.latencies, 0.50)), ms(percentile(r.latencies, 0.99)), r.errors, r.lost, r.duplicated, r.mem)
	}
	fmt.Fprintf(&b, "\nRun %s on %s/%s, %d CPUs, %s; messages/s counts customer messages answered by the bot.\n",
		time.Now().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	for _, r := range rows {
		kinds := make([]string, 0, len(r.errorKinds))
		for k, n := range r.errorKinds {
			kinds = append(kinds, fmt.Sprintf("%s ×%d", k, n))
		}
		slices.Sort(kinds)
		if len(kinds) > 0 {
			fmt.Fprintf(&b, "Errors (%s): %s\n", r.name, strings.Join(kinds, "; "))
		}
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

// server is the bot serve process under test.
type server struct {
	url   string
	cmd   *exec.Cmd // nil for a server the benchmark did not start
	dir   string    // the binary and the data directory
	model string    // --model, or empty
}

// origin is the page origin the clients claim: the server's own.
func (s *server) origin() string {
	return "http://" + strings.TrimSuffix(strings.TrimPrefix(s.url, "ws://"), "/ws")
}

// startServer builds cmd/bot and runs "bot serve" on a free port with a new
// data directory and the per-IP rate limit off (every client is on
// 127.0.0.1).
func startServer(ctx context.Context, model string, stderr io.Writer) (*server, error) {
	dir, err := os.MkdirTemp("", "parley-webchat-bench-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, model: model}
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, "bot"), "./cmd/bot")
	build.Stdout, build.Stderr = stderr, stderr
	if err := build.Run(); err != nil {
		s.stop()
		return nil, fmt.Errorf("build bot (run from the repository root): %w", err)
	}
	if err := s.start(stderr); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// start runs the server process on the server's data directory.
func (s *server) start(stderr io.Writer) error {
	// Every client comes from 127.0.0.1: the per-address limits are off.
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(s.dir, "data"), "--ip-rate", "-1",
		"--ip-socket-rate", "-1", "--ip-hello-rate", "-1", "--ip-max-sockets", "-1", "--log-level", "warn"}
	if s.model != "" {
		args = append(args, "--model", s.model)
	}
	cmd := exec.Command(filepath.Join(s.dir, "bot"), args...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd, s.url = cmd, ""
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "Parley is serving on http://"); ok {
			s.url = "ws://" + strings.TrimSpace(rest) + "/ws"
			break
		}
	}
	if s.url == "" {
		cmd.Process.Kill()
		cmd.Wait()
		s.cmd = nil
		return errors.New("bot serve exited before it listened")
	}
	go io.Copy(io.Discard, out)
	fmt.Fprintf(stderr, "server %s (pid %d)\n", s.url, cmd.Process.Pid)
	return nil
}

// restart stops the server process and starts it again on the same data
// directory: the models it trained on its first start are loaded, not
// trained again.
func (s *server) restart(stderr io.Writer) error {
	s.halt()
	return s.start(stderr)
}

// halt ends the server process, if it runs, and waits for it.
func (s *server) halt() {
	if s.cmd != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		s.cmd.Wait()
		s.cmd = nil
	}
}

// memory reads the server's resident memory from /proc (Linux): all of it,
// and the part that is pages of mapped files (the store, mapped by bbolt),
// which the kernel may drop under pressure. Zeros when the benchmark did not
// start the server.
func (s *server) memory() mem {
	var m mem
	if s.cmd == nil {
		return m
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(data), "\n") {
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

// mem is a process's resident memory in MB.
type mem struct{ rssMB, fileMB float64 }

func (m mem) String() string { return fmt.Sprintf("%.0f (%.0f mapped file)", m.rssMB, m.fileMB) }

// stop ends the server and removes its data; calling it again does nothing.
func (s *server) stop() {
	s.halt()
	if s.dir != "" {
		os.RemoveAll(s.dir)
		s.dir = ""
	}
}
