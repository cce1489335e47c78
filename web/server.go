package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/httpjson"
)

//go:embed static
var embedded embed.FS

// Engine is what the API asks of the dialog engine: posting a message into
// a conversation without the bot answering it, and the changes of who holds
// a conversation. *dialog.Engine implements it.
type Engine interface {
	Post(ctx context.Context, o dialog.Outbound) (crm.Message, bool, error)
	Claim(ctx context.Context, id string, by dialog.Actor) (crm.Conversation, error)
	Release(ctx context.Context, id string, by dialog.Actor) (crm.Conversation, error)
	Transfer(ctx context.Context, id string, to dialog.Target, by dialog.Actor) (crm.Conversation, error)
	Return(ctx context.Context, id string, by dialog.Actor) (crm.Conversation, error)
	Resolve(ctx context.Context, id string, by dialog.Actor) (crm.Conversation, error)
	Note(ctx context.Context, id string, by dialog.Actor, text string) (crm.Event, error)
}

// Store is the part of the CRM the API reads (agents are looked up to act
// as them). Every crm.Store implements it.
type Store interface {
	Conversation(ctx context.Context, id string) (crm.Conversation, error)
	OpenConversations(ctx context.Context, f crm.ConversationFilter) ([]crm.Conversation, error)
	ConversationsByCustomer(ctx context.Context, customerID string, limit int) ([]crm.Conversation, error)
	MessagesAfter(ctx context.Context, conversationID string, afterSeq uint64, limit int) ([]crm.Message, error)
	Customer(ctx context.Context, id string) (crm.Customer, error)
	Events(ctx context.Context, conversationID string, afterSeq uint64, limit int) ([]crm.Event, error)
	Agent(ctx context.Context, login string) (crm.Agent, error)
}

var (
	_ Engine = (*dialog.Engine)(nil)
	_ Store  = crm.Store(nil)
)

// ErrConfig means Config lacks its Store.
var ErrConfig = errors.New("incomplete web config")

// Config is what a Server needs. Only Store is required; every other nil
// field turns its feature off as described.
type Config struct {
	// Store is read by the API. Required.
	Store Store
	// Engine posts API messages into conversations and changes who holds
	// them; nil: POST /api/v1/conversations/{id}/messages and the lifecycle
	// routes (claim, release, ...) answer 503 unavailable.
	Engine Engine
	// Parser answers POST /api/v1/parse: the one the engine parses with (a
	// *dialog.SwapParser when the model may be swapped while serving). nil,
	// or a parser that fails with dialog.ErrNoParser: 503 model_not_loaded.
	Parser dialog.Parser
	// Chat serves /ws (the web chat handler); nil: /ws answers 503.
	Chat http.Handler
	// Console serves the agent console at /console and /console/...
	// (console.Console's Handler); nil: those paths answer 404.
	Console http.Handler
	// Suggester answers GET /api/v1/conversations/{id}/suggestions; nil:
	// that route answers 503 unavailable.
	Suggester Suggester
	// Slack serves POST /slack/events and /slack/interactions (the Slack
	// adapter's Handler), which check Slack's request signature themselves;
	// nil: the paths under /slack/ answer 404.
	Slack http.Handler
	// Welcome is the greeting and starter messages the widget shows on a
	// new conversation (the domain's), served at /widget.json; zero: none.
	Welcome dialog.Welcome
	// APIToken is the bearer token of the REST API. Empty: every API call
	// answers 403 api_disabled.
	APIToken string
	// Metrics is served at /metrics; nil: /metrics answers 404.
	Metrics *Metrics
	// Ready says whether the server can do its work (model loaded, store
	// open and able to commit); /readyz answers 503 with its error. Its ctx
	// ends after 2 seconds, so that a check stuck on a failing disk
	// answers too. nil: always ready.
	Ready func(ctx context.Context) error
	// Logger receives one line per request and the panics recovered; nil:
	// discard.
	Logger *slog.Logger
}

// Server is Parley's HTTP handler. It is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	token   tokenChecker
	handler http.Handler
}

// New returns a server for cfg. It fails with an error wrapping ErrConfig
// when cfg.Store is nil, and when the embedded static files are broken
// (which the package's tests rule out).
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("new web server: no store: %w", ErrConfig)
	}
	static, err := fs.Sub(embedded, "static")
	if err != nil {
		return nil, fmt.Errorf("new web server: %w", err)
	}
	return newServer(cfg, static)
}

// newServer is New with the static files given, so tests can serve their own.
func newServer(cfg Config, static fs.FS) (*Server, error) {
	if cfg.Parser == nil {
		cfg.Parser = dialog.NewSwapParser(nil) // answers dialog.ErrNoParser
	}
	s := &Server{cfg: cfg, log: cfg.Logger, token: newTokenChecker(cfg.APIToken)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	files, err := loadStatic(static)
	if err != nil {
		return nil, fmt.Errorf("new web server: %w", err)
	}

	greeting, err := welcome(cfg.Welcome)
	if err != nil {
		return nil, fmt.Errorf("new web server: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", files.File("index.html"))
	mux.Handle("/", files) // any method, so that "/ws" and "/api/" can take them all
	mux.Handle("/ws", s.chat())
	mux.Handle("GET /widget.json", greeting)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metrics())
	mux.Handle("/api/", s.api())
	if cfg.Console != nil {
		mux.Handle("/console", cfg.Console)
		mux.Handle("/console/", cfg.Console)
	}
	if cfg.Slack != nil {
		mux.Handle("/slack/", cfg.Slack)
	}
	s.handler = s.logRequests(recoverPanics(s.log, securityHeaders(mux)))
	return s, nil
}

// Handler returns the server's routes with logging, panic recovery and
// security headers around them.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) chat() http.Handler {
	if s.cfg.Chat != nil {
		return s.cfg.Chat
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpjson.WriteError(w, http.StatusServiceUnavailable, httpjson.CodeUnavailable, "web chat is not enabled on this server")
	})
}

func (s *Server) metrics() http.Handler {
	if s.cfg.Metrics != nil {
		return s.cfg.Metrics.Handler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpjson.WriteError(w, http.StatusNotFound, httpjson.CodeNotFound, "metrics are not enabled on this server")
	})
}

// healthz answers as long as the process serves: it checks nothing else.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintln(w, "ok")
}

// readyTimeout bounds a readiness check (Config.Ready).
const readyTimeout = 2 * time.Second

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			httpjson.WriteError(w, http.StatusServiceUnavailable, codeNotReady, err.Error())
			return
		}
	}
	httpjson.Write(w, http.StatusOK, map[string]string{"status": "ready"})
}
