package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/channels/webchat"
	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/nlu"
	"github.com/parleyhq/parley/web"
	"github.com/parleyhq/parley/web/console"
)

// stubParser understands the handoff phrase as a request for a person and
// everything else as a greeting, so that the bot answers every other
// message.
type stubParser struct{}

func (stubParser) Parse(_ context.Context, text string) (*nlu.Result, error) {
	intent := "greet"
	if text == handoffPhrase {
		intent = "human_agent"
	}
	return &nlu.Result{Text: text, Intent: intent, Confidence: 0.99, InScope: true,
		Ranking: []nlu.IntentScore{{Intent: intent, Confidence: 0.99}}}, nil
}

// consoleServer serves the web chat and the console of a real engine and
// store in-process, with agents who may log in, and returns its base URL.
func consoleServer(t *testing.T, agents int) (string, []cred) {
	t.Helper()
	ctx := context.Background()
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "parley.db"), &boltdb.Options{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	seed, err := shop.Seed(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	creds := make([]cred, agents)
	for i := range creds {
		creds[i] = cred{fmt.Sprintf("agent%d@bench.example", i), agentPassword}
		seed.Agents = append(seed.Agents, crm.SeedAgent{
			Agent:    crm.Agent{Login: creds[i].email, Name: fmt.Sprintf("Agent %d", i), Role: crm.RoleAgent},
			Password: agentPassword,
		})
	}
	if err := db.Import(ctx, seed); err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.Parse("shop/nlu.yml", shop.NLU(), dataset.FormatParley)
	if err != nil {
		t.Fatal(err)
	}
	domain, err := dialog.ParseDomain("shop/domain.yml", shop.Domain(), ds.Intents())
	if err != nil {
		t.Fatal(err)
	}
	engine, err := dialog.New(dialog.Config{Domain: domain, Parser: stubParser{}, Store: db})
	if err != nil {
		t.Fatal(err)
	}
	chat, err := webchat.New(webchat.Config{Engine: engine, Store: db, TokenKey: []byte(strings.Repeat("k", 32)),
		Limits: webchat.Limits{IPRate: -1, ConnRate: -1, SocketRate: -1, HelloRate: -1, MaxIPSockets: -1}})
	if err != nil {
		t.Fatal(err)
	}
	con, err := console.New(console.Config{Store: db, Engine: engine})
	if err != nil {
		t.Fatal(err)
	}
	hubCtx, stopHub := context.WithCancel(ctx)
	var hub sync.WaitGroup
	hub.Go(func() { con.Run(hubCtx) })
	srv, err := web.New(web.Config{Store: db, Engine: engine, Chat: chat, Console: con.Handler()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		chat.Shutdown(context.Background())
		con.Close()
		stopHub()
		hub.Wait()
		ts.Close()
	})
	return ts.URL, creds
}

// TestMeasureTiny runs the whole benchmark small: every acknowledged
// message reaches every agent once, and every handoff alerts every agent.
func TestMeasureTiny(t *testing.T) {
	base, creds := consoleServer(t, 3)
	cfg := config{agents: 3, customers: 6, rate: 12, handoff: 0.5, duration: 2 * time.Second}
	res, err := measure(context.Background(), base, creds, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.agents != 3 || res.sent == 0 || res.acked != res.sent || res.errors != 0 {
		t.Fatalf("agents %d, sent %d, acked %d, errors %v", res.agents, res.sent, res.acked, res.errorKinds)
	}
	if res.lost != 0 || res.duplicated != 0 || res.lostAlerts != 0 || res.dupAlerts != 0 || res.seqErrors != 0 || res.resets != 0 {
		t.Fatalf("lost %d, duplicated %d, alerts lost %d duplicated %d, seq errors %d, resets %d",
			res.lost, res.duplicated, res.lostAlerts, res.dupAlerts, res.seqErrors, res.resets)
	}
	if len(res.consoleLatencies) != 3*res.acked {
		t.Errorf("%d console latencies for %d messages to 3 agents", len(res.consoleLatencies), res.acked)
	}
	// Customers 0, 2 and 4 ask for a person.
	if res.handoffs != 3 || len(res.alertLatencies) != 3*3 {
		t.Errorf("%d handoffs, %d alert latencies; want 3 and 9", res.handoffs, len(res.alertLatencies))
	}
	for _, d := range append(res.consoleLatencies, res.alertLatencies...) {
		if d <= 0 || d > 10*time.Second {
			t.Fatalf("latency %s", d)
		}
	}
	table := render(res, cfg)
	t.Log("\n" + table)
	for _, want := range []string{"| 3 agents, 6 customers", "message frames lost / duplicated | 0 / 0 |", "handoffs (each alerts every agent) | 3 |"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

// account must see a message an agent missed, one it got twice, a lost
// alert and a repeated one.
func TestAccountFindsLossAndDuplicates(t *testing.T) {
	t0 := time.Now()
	full := &agent{seen: map[string]int{"a": 1, "b": 1}, alerts: map[string][]time.Time{"conv-1": {t0.Add(time.Second)}},
		latencies: []time.Duration{time.Millisecond, 2 * time.Millisecond}}
	flawed := &agent{seen: map[string]int{"a": 2}, alerts: map[string][]time.Time{"conv-9": {t0}}}
	twice := &agent{seen: map[string]int{"a": 1, "b": 1}, alerts: map[string][]time.Time{"conv-1": {t0.Add(time.Second), t0.Add(2 * time.Second)}}}
	var res result
	account(&res, []*agent{full, flawed, twice}, []string{"a", "b"}, map[string]time.Time{"conv-1": t0})
	if res.lost != 1 || res.duplicated != 1 {
		t.Errorf("lost %d, duplicated %d; want 1 and 1", res.lost, res.duplicated)
	}
	if res.lostAlerts != 1 || res.dupAlerts != 1 || res.otherAlerts != 1 {
		t.Errorf("alerts lost %d, duplicated %d, other %d; want 1, 1, 1", res.lostAlerts, res.dupAlerts, res.otherAlerts)
	}
	if len(res.alertLatencies) != 2 || res.alertLatencies[0] != time.Second || len(res.consoleLatencies) != 2 {
		t.Errorf("alert latencies %v, console latencies %v", res.alertLatencies, res.consoleLatencies)
	}
}

func TestAgentSeqAndResets(t *testing.T) {
	var sends sync.Map
	sends.Store("m0-0", time.Now().Add(-time.Millisecond))
	a := &agent{sends: &sends, seen: map[string]int{}, alerts: map[string][]time.Time{}, lastSeq: 10}
	msg := func(seq uint64) consoleFrame {
		f := consoleFrame{Type: "event", Seq: seq, Kind: "message"}
		f.Message = &struct {
			ID       string `json:"id"`
			Sender   string `json:"sender"`
			ClientID string `json:"client_id"`
		}{"msg-1", "customer", "m0-0"}
		return f
	}
	now := time.Now()
	a.take(msg(11), now)
	a.take(msg(11), now) // the same frame again: a seq error and a duplicate
	a.take(consoleFrame{Type: "reset"}, now)
	a.take(consoleFrame{Type: "event", Seq: 12, Kind: "alert", Reason: "handoff", ConversationID: "c"}, now)
	if a.frames != 3 || a.seqErrors != 1 || a.resets != 1 || a.seen["m0-0"] != 2 || len(a.latencies) != 1 || len(a.alerts["c"]) != 1 {
		t.Errorf("frames %d, seq errors %d, resets %d, seen %v, latencies %v, alerts %v",
			a.frames, a.seqErrors, a.resets, a.seen, a.latencies, a.alerts)
	}
}

func TestPercentile(t *testing.T) {
	ds := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 6}, {0.95, 10}, {0, 1}} {
		if got := percentile(ds, tt.p); got != tt.want {
			t.Errorf("p%.0f = %d, want %d", 100*tt.p, got, tt.want)
		}
	}
}
