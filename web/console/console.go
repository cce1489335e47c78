package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/clientip"
	"github.com/parleyhq/parley/internal/httpjson"
	"github.com/parleyhq/parley/internal/static"
)

//go:embed static
var embedded embed.FS

// Engine is the part of the dialog engine the console uses: the lifecycle
// of a conversation (who holds it), agents' messages and notes, typing, and
// the stream of events the hub fans out. *dialog.Engine implements it.
type Engine interface {
	Claim(ctx context.Context, id string, by dialog.Actor) (crm.Conversation, error)
	Assign(ctx context.Context, id, agent string, by dialog.Actor) (crm.Conversation, error)
	Release(ctx context.Context, id string, by dialog.Actor) (crm.Conversation, error)
	Transfer(ctx context.Context, id string, to dialog.Target, by dialog.Actor) (crm.Conversation, error)
	Return(ctx context.Context, id string, by dialog.Actor) (crm.Conversation, error)
	Resolve(ctx context.Context, id string, by dialog.Actor) (crm.Conversation, error)
	Note(ctx context.Context, id string, by dialog.Actor, text string) (crm.Event, error)
	Post(ctx context.Context, o dialog.Outbound) (crm.Message, bool, error)
	Typing(id string, sender crm.Sender, agent string, typing bool)
	Subscribe(conversationID string, buffer int) (<-chan dialog.Event, func())
}

var _ Engine = (*dialog.Engine)(nil)

// ErrConfig means Config lacks its Store or its Engine.
var ErrConfig = errors.New("incomplete console config")

// Defaults of Config.
const (
	DefaultSLA        = 5 * time.Minute
	DefaultSessionTTL = 12 * time.Hour
)

// Config is what a Console needs. Store and Engine are required.
type Config struct {
	Store  crm.Store // required
	Engine Engine    // required
	// Queues are the queues agents can transfer to: the domain's routing
	// queues and its default one. A transfer to any other queue is 400
	// unknown_queue.
	Queues []string
	// SLA is the waiting time after which a row turns red; 0: DefaultSLA.
	SLA time.Duration
	// SessionTTL is how long a session lasts unused (each use starts it
	// again); 0: DefaultSessionTTL.
	SessionTTL time.Duration
	// AutoAssign gives waiting conversations to the online agents who
	// serve their queue, the one with the fewest open conversations first.
	AutoAssign bool
	// Proxies are the proxies (load balancers) whose X-Forwarded-For
	// names the client that failed logins count against; nil: none, the
	// client is the connection's peer.
	Proxies *clientip.Resolver
	// Now is the clock; nil: time.Now. Its location is the one "today"
	// (the Resolved view, the Today page) is counted in.
	Now    func() time.Time
	Logger *slog.Logger // nil: discard
}

// Console serves the agent console: its pages, its JSON API under
// /console/api/ and its websocket at /console/ws. It is safe for
// concurrent use.
type Console struct {
	cfg     Config // defaults filled in
	log     *slog.Logger
	hub     *hub
	auth    *auth
	static  *static.Files // the page, under /console/
	today   todayCache
	handler http.Handler
}

// New returns a console for cfg. It fails with an error wrapping ErrConfig
// when cfg lacks its Store or Engine, and when the embedded files are
// broken (which the package's tests rule out).
func New(cfg Config) (*Console, error) {
	if cfg.Store == nil || cfg.Engine == nil {
		return nil, fmt.Errorf("new console: %w", ErrConfig)
	}
	if cfg.SLA <= 0 {
		cfg.SLA = DefaultSLA
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Queues = slices.Clone(cfg.Queues)
	sub, err := fs.Sub(embedded, "static")
	if err != nil {
		return nil, fmt.Errorf("new console: %w", err)
	}
	// Every file is revalidated on each load (cheap with the ETag), so
	// that agents get a new version of the console at once, all files
	// together.
	files, err := static.Load(sub, "/console/", func(string) string { return static.NoCache })
	if err != nil {
		return nil, fmt.Errorf("new console: %w", err)
	}
	if files.File("index.html") == nil {
		return nil, fmt.Errorf("new console: no static/index.html: %w", ErrConfig)
	}
	c := &Console{cfg: cfg, log: cfg.Logger, static: files, auth: newAuth()}
	c.hub = newHub(c)
	c.handler = c.routes()
	return c, nil
}

// Handler returns the console's routes, for the paths /console and
// /console/... (web mounts it there).
func (c *Console) Handler() http.Handler { return c.handler }

// Run runs the hub: it follows every event of the engine, fans them out to
// the agents' sockets and, with AutoAssign, gives waiting conversations to
// online agents. It returns when ctx ends.
func (c *Console) Run(ctx context.Context) { c.hub.run(ctx) }

// Close closes the agents' sockets. It always returns nil.
func (c *Console) Close() error {
	c.hub.close()
	return nil
}

func (c *Console) routes() http.Handler {
	index := c.static.File("index.html")
	mux := http.NewServeMux()
	mux.Handle("GET /console", index)
	mux.Handle("GET /console/{$}", index)
	mux.Handle("/console/", c.static) // any method: 405 for all but GET and HEAD
	mux.HandleFunc("GET /console/ws", c.serveWS)
	mux.Handle("/console/api/", c.api())
	return mux
}

// serveWS checks the request's origin and session, then hands it to the
// hub to upgrade: 403 cross_origin or 401 unauthorized before any upgrade.
// A websocket request must carry an Origin (browsers always send one).
func (c *Console) serveWS(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") == "" {
		httpjson.WriteError(w, http.StatusForbidden, codeCrossOrigin, "a console socket needs the Origin of this server")
		return
	}
	if e := checkOrigin(r); e != nil {
		e.Write(w)
		return
	}
	s, e := c.session(w, r)
	if e != nil {
		e.Write(w)
		return
	}
	c.hub.serveWS(w, r, s)
}
