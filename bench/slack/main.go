// Command slack is the load generator of the Slack channel: it starts a
// fake Slack Web API and "bot serve" with the Events API on (or uses a
// running server), sends signed direct messages from many Slack users to
// POST /slack/events at a fixed rate, delivers a share of them a second
// time as Slack's retries do, and prints one table: the time to the HTTP
// acknowledgement (Slack wants it within 3 s), and whether every event was
// answered exactly once (chat.postMessage calls per DM channel against the
// events sent there).
//
//	go run ./bench/slack -rate 200 -duration 30s -out /tmp/slack.md
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
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
	fs := flag.NewFlagSet("slack", flag.ContinueOnError)
	fs.StringVar(&cfg.model, "model", "", "model `DIR` for the started server (empty: it trains the demo model, ~10 s)")
	fs.IntVar(&cfg.users, "users", 400, "Slack users, each in a direct message with the bot")
	fs.Float64Var(&cfg.rate, "rate", 200, "events per second over all users")
	fs.DurationVar(&cfg.duration, "duration", 30*time.Second, "how long events are sent")
	fs.Float64Var(&cfg.retries, "retries", 0.1, "share of the events delivered a second time, with X-Slack-Retry-Num: 1")
	fs.StringVar(&cfg.out, "out", "", "also write the table to this `FILE`")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if err := run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "slack:", err)
		stop()
		os.Exit(1)
	}
}

type config struct {
	model    string
	users    int
	rate     float64
	duration time.Duration
	retries  float64
	out      string
}

func run(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if cfg.users <= 0 || cfg.rate <= 0 || cfg.duration <= 0 || cfg.retries < 0 || cfg.retries > 1 {
		return errors.New("-users, -rate and -duration must be positive, -retries between 0 and 1")
	}
	fake, err := startFakeSlack()
	if err != nil {
		return err
	}
	defer fake.close()
	secret := make([]byte, 16)
	rand.Read(secret)
	srv, err := startServer(ctx, cfg.model, fake.url, hex.EncodeToString(secret), stderr)
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Fprintf(stderr, "sending %.0f events/s for %s from %d users\n", cfg.rate, cfg.duration, cfg.users)
	res := send(ctx, srv.base+"/slack/events", srv.secret, cfg)
	fmt.Fprintf(stderr, "sent %d events (%d again as retries); waiting for the replies\n", res.events, res.resent)
	res.settle(ctx, fake)
	table := render(res, cfg)
	fmt.Fprint(stdout, table)
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(table), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// result is what a run measured.
type result struct {
	start, end time.Time
	events     int                    // distinct events sent
	resent     int                    // events delivered a second time
	acks       []time.Duration        // every request's time to its HTTP answer
	failed     map[string]int         // requests not answered 200, by status or error
	sentAt     map[string][]time.Time // when each distinct event of a channel was sent, in order

	replies, missing, duplicated int
	replyLatency                 []time.Duration // event sent -> its reply posted
	lastReply                    time.Time

	quiet, grace time.Duration // settle's waits: no reply for quiet ends it; grace for late doubles
}

// send posts cfg.rate events a second for cfg.duration, each from the next
// user in turn on a fixed schedule, and a share of them a second time.
func send(ctx context.Context, url, secret string, cfg config) *result {
	res := &result{failed: map[string]int{}, sentAt: map[string][]time.Time{}, quiet: 15 * time.Second, grace: 2 * time.Second}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512}}
	n := int(cfg.rate * cfg.duration.Seconds())
	every := time.Duration(float64(time.Second) / cfg.rate)
	var mu sync.Mutex
	var wg sync.WaitGroup
	post := func(body []byte, retry bool) {
		defer wg.Done()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		stamp := strconv.FormatInt(time.Now().Unix(), 10)
		mac := hmac.New(sha256.New, []byte(secret))
		fmt.Fprintf(mac, "v0:%s:%s", stamp, body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Slack-Request-Timestamp", stamp)
		req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
		if retry {
			req.Header.Set("X-Slack-Retry-Num", "1")
			req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		d := time.Since(t0)
		kind := ""
		switch {
		case err != nil:
			kind = "error: " + err.Error()
		default:
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				kind = "HTTP " + strconv.Itoa(resp.StatusCode)
			}
		}
		mu.Lock()
		res.acks = append(res.acks, d)
		if kind != "" {
			res.failed[kind]++
		}
		mu.Unlock()
	}
	res.start = time.Now()
	resendEvery := 0
	if cfg.retries > 0 {
		resendEvery = max(1, int(1/cfg.retries))
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		if wait := time.Until(res.start.Add(time.Duration(i) * every)); wait > 0 {
			time.Sleep(wait)
		}
		user := fmt.Sprintf("U%06d", i%cfg.users)
		channel := "D" + user[1:]
		ts := fmt.Sprintf("1700000000.%06d", i)
		body, _ := json.Marshal(map[string]any{
			"type": "event_callback", "team_id": "TBENCH", "api_app_id": "ABENCH", "event_id": fmt.Sprintf("Ev%08d", i),
			"event_time": time.Now().Unix(),
			"event": map[string]any{"type": "message", "channel_type": "im", "channel": channel, "user": user,
				"text": "hello there", "ts": ts, "event_ts": ts},
		})
		mu.Lock()
		res.sentAt[channel] = append(res.sentAt[channel], time.Now())
		mu.Unlock()
		res.events++
		wg.Add(1)
		go post(body, false)
		if resendEvery > 0 && i%resendEvery == 0 {
			res.resent++
			wg.Add(1)
			go func() {
				time.Sleep(20 * time.Millisecond)
				post(body, true)
			}()
		}
	}
	wg.Wait()
	res.end = time.Now()
	return res
}

// settle waits until every channel has as many replies as events were sent
// to it, or until no reply came for r.quiet, then counts what is missing
// and what came twice.
func (r *result) settle(ctx context.Context, fake *fakeSlack) {
	quiet := r.quiet
	for ctx.Err() == nil {
		posts, last := fake.snapshot()
		done := true
		for ch, sent := range r.sentAt {
			if len(posts[ch]) < len(sent) {
				done = false
				break
			}
		}
		if done || (!last.IsZero() && time.Since(last) > quiet) || (last.IsZero() && time.Since(r.end) > quiet) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(r.grace) // a reply posted twice comes late: give it time
	posts, last := fake.snapshot()
	r.lastReply = last
	for ch, sent := range r.sentAt {
		got := posts[ch]
		r.replies += len(got)
		r.missing += max(0, len(sent)-len(got))
		r.duplicated += max(0, len(got)-len(sent))
		for i := range min(len(sent), len(got)) {
			r.replyLatency = append(r.replyLatency, got[i].Sub(sent[i]))
		}
	}
}

func render(r *result, cfg config) string {
	slices.Sort(r.acks)
	slices.Sort(r.replyLatency)
	var b strings.Builder
	fmt.Fprintln(&b, "| events/s sent | events | retries sent | ack p50 ms | ack p99 ms | ack max ms | not 200 | replies | missing | duplicated | reply p50 ms | reply p99 ms |")
	fmt.Fprintln(&b, "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	failed := 0
	for _, n := range r.failed {
		failed += n
	}
	fmt.Fprintf(&b, "| %.1f | %d | %d | %.1f | %.1f | %.1f | %d | %d | %d | %d | %.0f | %.0f |\n",
		float64(r.events)/r.end.Sub(r.start).Seconds(), r.events, r.resent,
		ms(percentile(r.acks, 0.50)), ms(percentile(r.acks, 0.99)), ms(percentile(r.acks, 1)), failed,
		r.replies, r.missing, r.duplicated, ms(percentile(r.replyLatency, 0.50)), ms(percentile(r.replyLatency, 0.99)))
	fmt.Fprintf(&b, "\nRun %s on %s/%s, %d CPUs, %s: %d Slack users, target %.0f events/s for %s; each user's\n"+
		"replies are paced at 1 message/s per channel (burst 3) as Slack requires.\n",
		time.Now().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(),
		cfg.users, cfg.rate, cfg.duration)
	kinds := make([]string, 0, len(r.failed))
	for k, n := range r.failed {
		kinds = append(kinds, fmt.Sprintf("%s ×%d", k, n))
	}
	slices.Sort(kinds)
	if len(kinds) > 0 {
		fmt.Fprintf(&b, "Not 200: %s\n", strings.Join(kinds, "; "))
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
	base, secret string
	cmd          *exec.Cmd
	dir          string
}

// startServer builds bot and runs "bot serve" on a new data directory with
// the Events API on and the Web API pointed at apiURL.
func startServer(ctx context.Context, model, apiURL, secret string, stderr io.Writer) (*server, error) {
	dir, err := os.MkdirTemp("", "parley-slack-bench-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, secret: secret}
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, "bot"), "./cmd/bot")
	build.Stdout, build.Stderr = stderr, stderr
	if err := build.Run(); err != nil {
		s.stop()
		return nil, fmt.Errorf("build bot (run from the repository root): %w", err)
	}
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--log-level", "warn",
		"--slack-api-url", apiURL}
	if model != "" {
		args = append(args, "--model", model)
	}
	cmd := exec.Command(filepath.Join(dir, "bot"), args...)
	// The secrets go by the environment, as the help advises.
	cmd.Env = append(os.Environ(), "PARLEY_SLACK_BOT_TOKEN=xoxb-bench", "PARLEY_SLACK_SIGNING_SECRET="+secret)
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
			s.base = strings.TrimSpace(rest)
			break
		}
	}
	if s.base == "" {
		s.stop()
		return nil, errors.New("bot serve exited before it listened")
	}
	go io.Copy(io.Discard, out)
	fmt.Fprintf(stderr, "server %s (pid %d)\n", s.base, cmd.Process.Pid)
	return s, nil
}

// stop ends the server process and removes its directory.
func (s *server) stop() {
	if s.cmd != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		s.cmd.Wait()
		s.cmd = nil
	}
	os.RemoveAll(s.dir)
}
