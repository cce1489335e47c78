package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/web"
)

// ExampleNew shows the wiring of a server: the metrics wrap the engine's
// store and parser, so that every message, handoff, commit and parse is
// measured, and the same parser answers /api/v1/parse.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "parley-example-")
	defer os.RemoveAll(dir)
	db, err := crm.Open(filepath.Join(dir, "parley.db"), nil)
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
	engine, err := dialog.New(dialog.Config{Domain: domain, Parser: metrics.Parser(model), Store: metrics.Store(db), Logger: log})
	if err != nil {
		return // this sketch has no domain or model
	}
	// metrics.Connections(func() float64 { return float64(chatHandler.Stats().Open) })
	srv, err := web.New(web.Config{
		Store: db, Engine: engine, Parser: metrics.Parser(model), Chat: chat,
		APIToken: os.Getenv("PARLEY_API_TOKEN"), Metrics: metrics, Logger: log,
		Ready: func(ctx context.Context) error { _, err := db.Stats(ctx); return err },
	})
	if err != nil {
		return
	}
	hs := &http.Server{Addr: "127.0.0.1:8080", Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	_ = hs // hs.ListenAndServe(), and hs.Shutdown(ctx) on SIGTERM
}
