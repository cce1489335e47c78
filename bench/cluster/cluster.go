package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
)

// agentPassword is the password of the benchmark's agents; they act through
// the REST API, so nobody ever types it.
const agentPassword = "bench-cluster-password"

// node is one "bot serve" child process.
type node struct {
	idx  int
	dir  string // its --data-dir; node.log holds its stderr
	base string // http://127.0.0.1:PORT
	cmd  *exec.Cmd
	// baseCh gets the address from the node's "serving" line.
	baseCh chan string
	// exited is closed when the process has ended and waitErr is set.
	exited  chan struct{}
	waitErr error
	dead    atomic.Bool   // killed by the benchmark
	sockets atomic.Int64  // client sockets open on it, as the clients count them
	rssMB   float64       // its resident memory when it was killed
	cpuDead time.Duration // its CPU time when it was killed
}

// clockTick is the unit of the CPU times in /proc/PID/stat: USER_HZ, 100
// on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// cpu reads the CPU time (user and system) the node has used from /proc
// (Linux); its time at death once killed, 0 when it cannot be read.
func (n *node) cpu() time.Duration {
	if n.dead.Load() {
		return n.cpuDead
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: the fields
	// counted here start after it, with the state (field 3 of proc(5)).
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	user, err1 := strconv.ParseInt(f[11], 10, 64)
	sys, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(user+sys) * clockTick
}

// wsURL is the node's web chat endpoint.
func (n *node) wsURL() string { return "ws" + strings.TrimPrefix(n.base, "http") + "/ws" }

// rss reads the node's resident memory in MB from /proc (Linux); 0 when the
// process is gone or /proc cannot be read.
func (n *node) rss() float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", n.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// cluster is N nodes on one PostgreSQL schema and one NATS stream of their
// own, so that runs never see each other's data.
type cluster struct {
	nodes    []*node
	apiToken string
	pgBase   string // the database URL without the schema
	schema   string
	pgURL    string // pgBase with search_path=schema
	natsURL  string
	stream   string
	dir      string        // holds the nodes' data directories
	next     atomic.Uint64 // the round-robin "load balancer"
	stderr   io.Writer
	// keepLogs, when set, is the folder the nodes' logs are copied to
	// before their data directories are removed.
	keepLogs string
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// startCluster makes a fresh schema and stream, starts n nodes at once (as
// nodes behind a load balancer start), waits until all listen, and adds the
// agents through node 0's admin socket. Close undoes all of it.
func startCluster(ctx context.Context, cfg config, bin string, n int, agents []string, stderr io.Writer) (*cluster, error) {
	id := randomHex(5)
	c := &cluster{apiToken: "bench-" + randomHex(12), pgBase: cfg.postgres,
		natsURL: cfg.nats, stream: "PARLEY_BENCH_" + strings.ToUpper(id), stderr: stderr, keepLogs: cfg.keepLogs}
	var err error
	if c.dir, err = os.MkdirTemp("", "parley-cluster-bench-"); err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	if c.schema, c.pgURL, err = newSchema(ctx, c.pgBase); err != nil {
		c.Close()
		return nil, err
	}
	env := append(os.Environ(), "PARLEY_EVENTS_STREAM="+c.stream, "PARLEY_EVENTS_PREFIX=parleybench."+id+".events",
		"PARLEY_API_TOKEN="+c.apiToken)
	for i := range n {
		nd := &node{idx: i, dir: filepath.Join(c.dir, fmt.Sprintf("node%d", i)), exited: make(chan struct{})}
		if err := os.MkdirAll(nd.dir, 0o700); err != nil {
			c.Close()
			return nil, fmt.Errorf("start cluster: %w", err)
		}
		c.nodes = append(c.nodes, nd)
		if err := c.startNode(nd, bin, cfg.model, env); err != nil {
			c.Close()
			return nil, err
		}
	}
	for _, nd := range c.nodes {
		if err := c.waitListening(ctx, nd); err != nil {
			c.Close()
			return nil, err
		}
		fmt.Fprintf(stderr, "  node %d: %s (pid %d)\n", nd.idx, nd.base, nd.cmd.Process.Pid)
	}
	for i, login := range agents {
		add := exec.CommandContext(ctx, bin, "agent", "add", login, "--name", fmt.Sprintf("Bench Agent %d", i+1),
			"--data-dir", c.nodes[0].dir)
		add.Stdin = strings.NewReader(agentPassword + "\n")
		if out, err := add.CombinedOutput(); err != nil {
			c.Close()
			return nil, fmt.Errorf("add agent %s: %w: %s", login, err, out)
		}
	}
	return c, nil
}

// startNode runs "bot serve" for nd without waiting for it to listen.
// Every client comes from 127.0.0.1, so the per-address limits are off, as
// behind a proxy that hides client addresses.
func (c *cluster) startNode(nd *node, bin, model string, env []string) error {
	logFile, err := os.Create(filepath.Join(nd.dir, "node.log"))
	if err != nil {
		return fmt.Errorf("start node %d: %w", nd.idx, err)
	}
	nd.cmd = exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", nd.dir, "--model", model,
		"--store", c.pgURL, "--events", c.natsURL, "--log-level", "warn",
		"--ip-rate", "-1", "--ip-socket-rate", "-1", "--ip-hello-rate", "-1", "--ip-max-sockets", "-1")
	nd.cmd.Env = env
	nd.cmd.Stderr = logFile
	out, err := nd.cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return fmt.Errorf("start node %d: %w", nd.idx, err)
	}
	if err := nd.cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start node %d: %w", nd.idx, err)
	}
	listening := make(chan string, 1)
	nd.baseCh = listening
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if rest, ok := strings.CutPrefix(lines.Text(), "Parley is serving on "); ok {
				listening <- strings.TrimSpace(rest)
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() {
		nd.waitErr = nd.cmd.Wait()
		logFile.Close()
		close(nd.exited)
	}()
	return nil
}

// waitListening waits for the node's "serving" line.
func (c *cluster) waitListening(ctx context.Context, nd *node) error {
	select {
	case nd.base = <-nd.baseCh:
		return nil
	case <-nd.exited:
		return fmt.Errorf("node %d exited before it listened (%v): %s", nd.idx, nd.waitErr, tail(filepath.Join(nd.dir, "node.log")))
	case <-time.After(3 * time.Minute):
		return fmt.Errorf("node %d does not listen after 3 minutes: %s", nd.idx, tail(filepath.Join(nd.dir, "node.log")))
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tail returns the end of a log file, for an error message.
func tail(path string) string {
	data, _ := os.ReadFile(path)
	return tailString(string(data), 2000)
}

// tailString returns at most the last n bytes of s, trimmed.
func tailString(s string, n int) string {
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}

// pick returns the next node in round-robin order, dead or alive: a load
// balancer without health checks sends a connection to a dead node, which
// refuses it, and the client tries again.
func (c *cluster) pick() *node {
	return c.nodes[int(c.next.Add(1)-1)%len(c.nodes)]
}

// live returns the nodes the benchmark has not killed.
func (c *cluster) live() []*node {
	var out []*node
	for _, n := range c.nodes {
		if !n.dead.Load() {
			out = append(out, n)
		}
	}
	return out
}

// busiest returns the live node with the most client sockets open.
func (c *cluster) busiest() *node {
	var best *node
	for _, n := range c.live() {
		if best == nil || n.sockets.Load() > best.sockets.Load() {
			best = n
		}
	}
	return best
}

// kill sends SIGKILL to the node and waits until it is gone; it records the
// node's memory just before.
func (c *cluster) kill(nd *node) error {
	nd.rssMB, nd.cpuDead = nd.rss(), nd.cpu()
	nd.dead.Store(true)
	if err := nd.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill node %d: %w", nd.idx, err)
	}
	<-nd.exited
	return nil
}

// crashed lists the nodes that ended although nobody killed them.
func (c *cluster) crashed() []string {
	var out []string
	for _, n := range c.nodes {
		select {
		case <-n.exited:
			if !n.dead.Load() {
				out = append(out, fmt.Sprintf("node %d exited (%v): %s", n.idx, n.waitErr, tail(filepath.Join(n.dir, "node.log"))))
			}
		default:
		}
	}
	return out
}

// Close stops the nodes (SIGTERM, then SIGKILL after 20 s), drops the
// schema, deletes the stream and removes the data directories. It reports
// the first failure to clean up.
func (c *cluster) Close() error {
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		if n.cmd == nil || n.cmd.Process == nil {
			continue
		}
		wg.Go(func() {
			n.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-n.exited:
			case <-time.After(20 * time.Second):
				n.cmd.Process.Kill()
				<-n.exited
			}
		})
	}
	wg.Wait()
	var errs []error
	if c.pgURL != "" {
		errs = append(errs, dropSchema(c.pgBase, c.schema))
	}
	errs = append(errs, c.deleteStream())
	if c.dir != "" {
		if c.keepLogs != "" {
			errs = append(errs, c.saveLogs())
		}
		errs = append(errs, os.RemoveAll(c.dir))
	}
	return errors.Join(errs...)
}

// saveLogs copies each node's log to keepLogs as STREAM-nodeN.log.
func (c *cluster) saveLogs() error {
	if err := os.MkdirAll(c.keepLogs, 0o755); err != nil {
		return fmt.Errorf("keep logs: %w", err)
	}
	for _, n := range c.nodes {
		data, err := os.ReadFile(filepath.Join(n.dir, "node.log"))
		if err != nil {
			return fmt.Errorf("keep logs: %w", err)
		}
		name := fmt.Sprintf("%s-%dnodes-node%d.log", strings.ToLower(c.stream), len(c.nodes), n.idx)
		if err := os.WriteFile(filepath.Join(c.keepLogs, name), data, 0o644); err != nil {
			return fmt.Errorf("keep logs: %w", err)
		}
	}
	return nil
}

func (c *cluster) deleteStream() error {
	nc, err := nats.Connect(c.natsURL, nats.Timeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("delete stream %s: %w", c.stream, err)
	}
	defer nc.Close()
	js, err := natsjs.New(nc)
	if err != nil {
		return fmt.Errorf("delete stream %s: %w", c.stream, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := js.DeleteStream(ctx, c.stream); err != nil && !errors.Is(err, natsjs.ErrStreamNotFound) {
		return fmt.Errorf("delete stream %s: %w", c.stream, err)
	}
	return nil
}
