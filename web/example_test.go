package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/web"
)

// ExampleNew shows the wiring of a server: the metrics count the engine's
// events (messages, handoffs) and time its parser and store writes, and the
// same parser, swappable while serving, answers /api/v1/parse.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "parley-example-")
	defer os.RemoveAll(dir)
	db, err := boltdb.Open(filepath.Join(dir, "parley.db"), nil)
	if err != nil {
		return
	}
	defer db.Close()
	var (
		domain *dialog.Domain // dialog.ParseDomain(...)
		model  dialog.Parser  // the loaded *nlp.Model
		chat   http.Handler   // the channels/webchat handler
	)
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	metrics := web.NewMetrics()
	parser := metrics.Parser(dialog.NewSwapParser(model)) // Swap a retrained model in while serving
	engine, err := dialog.New(dialog.Config{
		Domain: domain, Parser: parser, Store: metrics.Store(db), Events: metrics.Events(dialog.NewBus()), Logger: log,
	})
	if err != nil {
		return // this sketch has no domain or model
	}
	// Answer what the last run acknowledged but did not answer, before serving.
	if _, err := engine.AnswerPending(context.Background()); err != nil {
		return
	}
	// metrics.Connections(func() float64 { return float64(chatHandler.Stats().Open) })
	srv, err := web.New(web.Config{
		Store: db, Engine: engine, Parser: parser, Chat: chat,
		APIToken: os.Getenv("PARLEY_API_TOKEN"), Metrics: metrics, Logger: log,
		Ready: func(ctx context.Context) error { _, err := db.Stats(ctx); return err },
	})
	if err != nil {
		return
	}
	hs := &http.Server{Addr: "127.0.0.1:8080", Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	_ = hs // hs.ListenAndServe(), and hs.Shutdown(ctx) on SIGTERM
}
