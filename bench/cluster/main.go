// Command cluster is the fault test and benchmark of several "bot serve"
// nodes on one PostgreSQL database and one NATS JetStream stream, on
// loopback. It builds cmd/bot, trains the demo model once, starts the
// nodes as child processes and runs web chat customers against them (each
// (re)connect goes to the next node in turn, as a load balancer without
// sticky sessions sends it) and console agents that claim the customers
// who ask for a person through the REST API of random nodes, two agents
// racing for every claim through different nodes. Mid-run it kills the
// node holding the most sockets with SIGKILL. Then it reads every
// conversation back and checks: no acknowledged message lost, stored twice
// or moved; no seq out of order or twice on any socket; texts unchanged;
// every customer message answered; the killed node's customers resumed on
// another node; exactly one winner per claim. It prints one Markdown table:
// with -compare, one run with 1 node and one with -nodes.
//
//	go run ./bench/cluster -nodes 3 -conversations 200 -rate 1 -duration 60s -kill-after 20s -out /tmp/cluster.md
//
// With -appends it instead measures how many messages a second the
// PostgreSQL store appends (crm/postgres AppendMessage) from 8 and 32
// goroutines; with -capacity, how many messages a second 1 node and -nodes
// nodes answer, stepping up the rate with no kill.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parleyhq/parley/internal/shop"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(2)
	}
	if err := run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		stop()
		os.Exit(1)
	}
}

type config struct {
	postgres, nats string
	model, bot     string
	nodes          int
	conversations  int
	rate           float64 // messages a second per conversation
	duration       time.Duration
	killAfter      time.Duration
	agents         int
	handoff        float64 // fraction of customers who ask for a person
	grace          time.Duration
	compare        bool
	out            string
	keepLogs       string // copy the nodes' logs here (empty: do not)
	// -appends mode
	appends       bool
	appendTime    time.Duration
	appendConvs   int
	appendWorkers []int
	// -capacity mode
	capacity      bool
	capacitySteps []int
	capacityTime  time.Duration
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	cfg := config{}
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pg := os.Getenv("PARLEY_TEST_POSTGRES")
	if pg == "" {
		pg = "postgres://root@127.0.0.1:5432/test?sslmode=disable"
	}
	nc := os.Getenv("PARLEY_TEST_NATS")
	if nc == "" {
		nc = "nats://127.0.0.1:4222"
	}
	fs.StringVar(&cfg.postgres, "postgres", pg, "PostgreSQL `URL`; each run makes and drops a schema of its own (env PARLEY_TEST_POSTGRES)")
	fs.StringVar(&cfg.nats, "nats", nc, "NATS `URL` with JetStream; each run makes and deletes a stream of its own (env PARLEY_TEST_NATS)")
	fs.StringVar(&cfg.model, "model", "", "model `DIR` for every node (empty: train the demo model once, ~15 s)")
	fs.StringVar(&cfg.bot, "bot", "", "the bot `binary` (empty: go build ./cmd/bot)")
	fs.IntVar(&cfg.nodes, "nodes", 3, "nodes")
	fs.IntVar(&cfg.conversations, "conversations", 200, "concurrent web chat customers, one conversation each")
	fs.Float64Var(&cfg.rate, "rate", 1, "messages a second each customer sends (one at a time: the next after the reply)")
	fs.DurationVar(&cfg.duration, "duration", 60*time.Second, "how long the customers send")
	fs.DurationVar(&cfg.killAfter, "kill-after", 20*time.Second, "kill -9 the node with the most sockets this long after the start (0: no kill; never with 1 node)")
	fs.IntVar(&cfg.agents, "agents", 5, "console agents (at least 2: two race for every claim)")
	fs.Float64Var(&cfg.handoff, "handoff", 0.1, "fraction of the customers who ask for a person once")
	fs.DurationVar(&cfg.grace, "grace", 15*time.Second, "wait this long after the sending ends before the checks (the sweep answers what a dead node left)")
	fs.BoolVar(&cfg.compare, "compare", true, "run with 1 node first, then with -nodes")
	fs.StringVar(&cfg.out, "out", "", "also write the table to this `FILE`")
	fs.StringVar(&cfg.keepLogs, "keep-logs", "", "copy the nodes' logs to this `DIR` before their data is removed")
	fs.BoolVar(&cfg.appends, "appends", false, "measure PostgreSQL appends a second instead (crm/postgres AppendMessage)")
	fs.DurationVar(&cfg.appendTime, "append-time", 20*time.Second, "with -appends: how long each measurement runs")
	fs.IntVar(&cfg.appendConvs, "append-conversations", 1000, "with -appends: conversations the appends are spread over")
	workers := fs.String("append-workers", "8,32", "with -appends: comma-separated goroutine counts")
	fs.BoolVar(&cfg.capacity, "capacity", false, "measure per-node capacity instead: step -capacity-customers on 1 node and on -nodes, no kill")
	steps := fs.String("capacity-customers", "200,400,800", "with -capacity: comma-separated numbers of customers, each at -rate")
	fs.DurationVar(&cfg.capacityTime, "capacity-time", 15*time.Second, "with -capacity: how long each step sends")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for w := range strings.SplitSeq(*workers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 1 {
			return cfg, fmt.Errorf("-append-workers: %q is not a positive whole number", w)
		}
		cfg.appendWorkers = append(cfg.appendWorkers, n)
	}
	for c := range strings.SplitSeq(*steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			return cfg, fmt.Errorf("-capacity-customers: %q is not a positive whole number", c)
		}
		cfg.capacitySteps = append(cfg.capacitySteps, n)
	}
	switch {
	case cfg.appends && (cfg.appendTime <= 0 || cfg.appendConvs < 1):
		return cfg, errors.New("-append-time and -append-conversations must be positive")
	case cfg.appends:
	case cfg.capacity && cfg.capacityTime <= 0:
		return cfg, errors.New("-capacity-time must be positive")
	case cfg.nodes < 1 || cfg.conversations < 1 || cfg.rate <= 0 || cfg.duration <= 0:
		return cfg, errors.New("-nodes, -conversations, -rate and -duration must be positive")
	case cfg.agents < 2:
		return cfg, errors.New("-agents must be at least 2: two agents race for every claim")
	case cfg.handoff < 0 || cfg.handoff > 1:
		return cfg, errors.New("-handoff is a fraction from 0 to 1")
	case cfg.killAfter < 0 || cfg.killAfter >= cfg.duration && cfg.killAfter > 0:
		return cfg, errors.New("-kill-after must be 0 or within -duration")
	case cfg.grace < 0:
		return cfg, errors.New("-grace must not be negative")
	}
	return cfg, nil
}

func run(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if cfg.appends {
		return runAppends(ctx, cfg, stdout, stderr)
	}
	var table string
	err := prepared(ctx, cfg, stderr, func(cfg config, bin string) error {
		if cfg.capacity {
			rows, err := runCapacity(ctx, cfg, bin, stderr)
			if err != nil {
				return err
			}
			table = renderCapacity(rows, cfg)
			return nil
		}
		results, err := runAll(ctx, cfg, bin, stderr)
		if err != nil {
			return err
		}
		table = render(results, cfg)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, table)
	if cfg.out != "" {
		return os.WriteFile(cfg.out, []byte(table), 0o644)
	}
	return nil
}

// prepared builds the bot and trains the model when -bot and -model do not
// give them, and calls fn with them; they are removed after it returns.
func prepared(ctx context.Context, cfg config, stderr io.Writer, fn func(cfg config, bin string) error) error {
	tmp, err := os.MkdirTemp("", "parley-cluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := cfg.bot
	if bin == "" {
		bin = filepath.Join(tmp, "bot")
		fmt.Fprintln(stderr, "building cmd/bot")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/parleyhq/parley/cmd/bot")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("build bot (run inside the repository): %w\n%s", err, tailString(string(out), 2000))
		}
	}
	if cfg.model == "" {
		cfg.model = filepath.Join(tmp, "model")
		if err := trainDemo(ctx, bin, tmp, cfg.model, stderr); err != nil {
			return err
		}
	}
	return fn(cfg, bin)
}

// runAll runs the cluster with 1 node and with -nodes (-compare), or with
// -nodes only.
func runAll(ctx context.Context, cfg config, bin string, stderr io.Writer) ([]*result, error) {
	counts := []int{cfg.nodes}
	if cfg.compare && cfg.nodes > 1 {
		counts = []int{1, cfg.nodes}
	}
	var results []*result
	for _, n := range counts {
		res, err := runCluster(ctx, cfg, bin, n, stderr)
		if err != nil {
			return nil, fmt.Errorf("run with %d nodes: %w", n, err)
		}
		results = append(results, res)
	}
	return results, nil
}

// trainDemo trains the demo shop's model once with bot train, so that
// every node loads the same model instead of each training its own.
func trainDemo(ctx context.Context, bin, tmp, out string, stderr io.Writer) error {
	data := filepath.Join(tmp, "nlu.yml")
	if err := os.WriteFile(data, shop.NLU(), 0o600); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "training the demo model")
	train := exec.CommandContext(ctx, bin, "train", "--data", data, "--out", out, "--seed", "1", "--typos", strconv.Itoa(shop.Typos))
	if b, err := train.CombinedOutput(); err != nil {
		return fmt.Errorf("train the demo model: %w: %s", err, b)
	}
	return nil
}
