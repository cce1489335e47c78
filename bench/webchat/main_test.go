package main

import (
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/channels/webchat"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/nlu"
)

// greeter understands every message as a greeting: the bot answers each one
// and never hands off.
type greeter struct{}

func (greeter) Parse(_ context.Context, text string) (*nlu.Result, error) {
	return &nlu.Result{Text: text, Intent: "greet", Confidence: 0.99, InScope: true,
		Ranking: []nlu.IntentScore{{Intent: "greet", Confidence: 0.99}}}, nil
}

// chatServer serves the web chat of a real engine and store in-process.
func chatServer(t *testing.T) (url, origin string) {
	t.Helper()
	ctx := context.Background()
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "parley.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	seed, err := shop.Seed(time.Now())
	if err != nil {
		t.Fatal(err)
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
	engine, err := dialog.New(dialog.Config{Domain: domain, Parser: greeter{}, Store: db})
	if err != nil {
		t.Fatal(err)
	}
	chat, err := webchat.New(webchat.Config{Engine: engine, Store: db, TokenKey: []byte(strings.Repeat("k", 32)),
		Limits: webchat.Limits{IPRate: -1, ConnRate: -1, SocketRate: -1, HelloRate: -1, MaxIPSockets: -1}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(chat)
	t.Cleanup(func() {
		chat.Shutdown(context.Background())
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/", srv.URL
}

func TestConverseCountsEveryMessage(t *testing.T) {
	url, origin := chatServer(t)
	res, err := converse(context.Background(), url, origin, config{clients: 4, rate: 20, duration: time.Second}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.sent == 0 || res.replies != res.sent || res.errors != 0 {
		t.Fatalf("sent %d, replies %d, errors %d %v", res.sent, res.replies, res.errors, res.errorKinds)
	}
	if res.lost != 0 || res.duplicated != 0 {
		t.Errorf("lost %d, duplicated %d on a server that loses nothing", res.lost, res.duplicated)
	}
	if len(res.latencies) != res.replies {
		t.Errorf("%d latencies for %d replies", len(res.latencies), res.replies)
	}
}

// verify must notice a message that never reached the store.
func TestVerifyFindsLostMessages(t *testing.T) {
	ctx := context.Background()
	url, origin := chatServer(t)
	c, err := dial(ctx, url, origin, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.roundTrip(ctx, "m1", "hello"); err != nil {
		t.Fatal(err)
	}
	c.close()
	lost, dup, err := verify(ctx, url, origin, c.token, []string{"m1", "never-sent"})
	if err != nil || lost != 1 || dup != 0 {
		t.Errorf("verify: lost %d, duplicated %d, %v; want 1 lost", lost, dup, err)
	}
}

func TestPercentile(t *testing.T) {
	ds := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 6}, {0.99, 10}, {0, 1}} {
		if got := percentile(ds, tt.p); got != tt.want {
			t.Errorf("p%.0f = %d, want %d", 100*tt.p, got, tt.want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("percentile of nothing")
	}
}
