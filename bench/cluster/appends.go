package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/postgres"
)

// newSchema makes a schema of its own in the database at base and returns
// its name and base's URL with search_path set to it.
func newSchema(ctx context.Context, base string) (schema, schemaURL string, err error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", "", fmt.Errorf("-postgres: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connURL(base))
	if err != nil {
		return "", "", fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	schema = "bench_" + randomHex(5)
	if _, err := conn.Exec(ctx, "create schema "+schema); err != nil {
		return "", "", fmt.Errorf("create schema: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return schema, u.String(), nil
}

// connURL is base without the pool_ parameters, which configure pgxpool
// (the nodes' store) and are not settings a single connection may send.
func connURL(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// dropSchema drops a schema newSchema made, with everything in it.
func dropSchema(base, schema string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connURL(base))
	if err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "drop schema "+schema+" cascade"); err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	return nil
}

// appendResult is one measurement of -appends.
type appendResult struct {
	workers, pool int // pool 0: pgxpool's default
	appends       int
	seconds       float64
	latencies     []time.Duration // sorted
	errors        int
	firstErr      error
}

// runAppends measures AppendMessage of the real PostgreSQL store: for each
// goroutine count, once with the connection pool a node gets by default and
// once with a connection per goroutine, each goroutine appending customer
// messages to random conversations for -append-time.
func runAppends(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	schema, pgURL, err := newSchema(ctx, cfg.postgres)
	if err != nil {
		return err
	}
	defer func() {
		if err := dropSchema(cfg.postgres, schema); err != nil {
			fmt.Fprintln(stderr, "clean up:", err)
		}
	}()
	db, err := postgres.Open(ctx, pgURL, nil)
	if err != nil {
		return err
	}
	convs := make([]string, cfg.appendConvs)
	for i := range convs {
		c, err := db.CreateConversation(ctx, crm.Conversation{Channel: "web"})
		if err != nil {
			db.Close()
			return fmt.Errorf("create conversations: %w", err)
		}
		convs[i] = c.ID
	}
	db.Close()
	fmt.Fprintf(stderr, "appends: %d conversations in schema %s\n", len(convs), schema)
	var results []appendResult
	for _, w := range cfg.appendWorkers {
		for _, pool := range []int{0, w} {
			r, err := measureAppends(ctx, pgURL, convs, w, pool, cfg.appendTime)
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "  %d goroutines, pool %s: %.0f appends/s\n", w, poolName(pool), float64(r.appends)/r.seconds)
			results = append(results, r)
		}
	}
	var b strings.Builder
	fmt.Fprintln(&b, "| goroutines | pool connections | appends/s | p50 ms | p99 ms | max ms | errors |")
	fmt.Fprintln(&b, "|--:|--|--:|--:|--:|--:|--:|")
	for _, r := range results {
		fmt.Fprintf(&b, "| %d | %s | %.0f | %.2f | %.2f | %.2f | %d |\n", r.workers, poolName(r.pool), float64(r.appends)/r.seconds,
			ms(percentile(r.latencies, 0.5)), ms(percentile(r.latencies, 0.99)), ms(maxOf(r.latencies)), r.errors)
	}
	fmt.Fprintf(&b, "\nRun %s on %s/%s, %d CPUs, %s: crm/postgres AppendMessage (one transaction, conversation row lock, "+
		"commit) of customer messages to %d conversations, %s per row, PostgreSQL %s on the same machine.\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(),
		len(convs), cfg.appendTime, pgSettings(ctx, cfg.postgres))
	for _, r := range results {
		if r.firstErr != nil {
			fmt.Fprintf(&b, "First error (%d goroutines, pool %s): %v\n", r.workers, poolName(r.pool), r.firstErr)
		}
	}
	fmt.Fprint(stdout, b.String())
	if cfg.out != "" {
		return os.WriteFile(cfg.out, []byte(b.String()), 0o644)
	}
	return nil
}

// pgSettings names the server's version and the settings that decide what
// a commit costs, for the table's note.
func pgSettings(ctx context.Context, base string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connURL(base))
	if err != nil {
		return "(settings unknown: " + err.Error() + ")"
	}
	defer conn.Close(ctx)
	var version, fsync, syncCommit string
	err = conn.QueryRow(ctx, "select current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit')").
		Scan(&version, &fsync, &syncCommit)
	if err != nil {
		return "(settings unknown: " + err.Error() + ")"
	}
	return fmt.Sprintf("%s (fsync %s, synchronous_commit %s)", version, fsync, syncCommit)
}

func poolName(n int) string {
	if n == 0 {
		return "default (" + strconv.Itoa(max(4, runtime.NumCPU())) + ")"
	}
	return strconv.Itoa(n)
}

// measureAppends runs workers goroutines appending for d on a store whose
// pool has pool connections (0: the default).
func measureAppends(ctx context.Context, pgURL string, convs []string, workers, pool int, d time.Duration) (appendResult, error) {
	r := appendResult{workers: workers, pool: pool}
	u := pgURL
	if pool > 0 {
		p, _ := url.Parse(pgURL)
		q := p.Query()
		q.Set("pool_max_conns", strconv.Itoa(pool))
		p.RawQuery = q.Encode()
		u = p.String()
	}
	db, err := postgres.Open(ctx, u, nil)
	if err != nil {
		return r, err
	}
	defer db.Close()
	var mu sync.Mutex // guards r
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	run := randomHex(3)
	for g := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), uint64(workers)))
			var lat []time.Duration
			errs := 0
			var first error
			for k := 0; time.Now().Before(deadline) && ctx.Err() == nil; k++ {
				m := crm.Message{ConversationID: convs[rng.IntN(len(convs))], Sender: crm.SenderCustomer,
					Text: "where is my order 1042?", ClientID: fmt.Sprintf("a%s-%d-%d", run, g, k)}
				t := time.Now()
				if _, _, err := db.AppendMessage(ctx, m); err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				lat = append(lat, time.Since(t))
			}
			mu.Lock()
			defer mu.Unlock()
			r.latencies = append(r.latencies, lat...)
			r.appends += len(lat)
			r.errors += errs
			if r.firstErr == nil {
				r.firstErr = first
			}
		})
	}
	wg.Wait()
	r.seconds = time.Since(start).Seconds()
	slices.Sort(r.latencies)
	return r, ctx.Err()
}
