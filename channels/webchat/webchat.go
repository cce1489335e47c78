package webchat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/clientip"
)

// Engine is the part of the dialog engine the web chat uses.
// *dialog.Engine implements it.
type Engine interface {
	Receive(ctx context.Context, in dialog.Inbound) (dialog.Received, error)
	Answer(ctx context.Context, r dialog.Received) (dialog.Outcome, error)
	Subscribe(conversationID string, buffer int) (<-chan dialog.Event, func())
	Rate(ctx context.Context, conversationID string, score int, comment string) (crm.Feedback, error)
	Rated(ctx context.Context, conversationID string) (bool, error)
	// Typing tells the agents that the customer started or stopped typing.
	Typing(conversationID string, sender crm.Sender, agent string, typing bool)
}

// Store is the part of the CRM the web chat reads and writes besides the
// engine: conversations and their messages for resuming, and customers for
// linking a verified identity. Every crm.Store and dialog.Store implements it.
type Store interface {
	Conversation(ctx context.Context, id string) (crm.Conversation, error)
	UpdateConversation(ctx context.Context, id string, fn func(*crm.Conversation) error) (crm.Conversation, error)
	MessagesAfter(ctx context.Context, conversationID string, afterSeq uint64, limit int) ([]crm.Message, error)
	Customer(ctx context.Context, id string) (crm.Customer, error)
	CustomerByEmail(ctx context.Context, email string) (crm.Customer, error)
	CustomerByIdentity(ctx context.Context, id crm.Identity) (crm.Customer, error)
	CreateCustomer(ctx context.Context, c crm.Customer) (crm.Customer, error)
	UpdateCustomer(ctx context.Context, id string, fn func(*crm.Customer) error) (crm.Customer, error)
}

// ErrConfig means Config lacks the engine, the store or a token key of at
// least 32 bytes, or holds a malformed allowed origin or limit.
var ErrConfig = errors.New("invalid webchat config")

// Config is what New needs. Engine, Store and TokenKey are required.
type Config struct {
	Engine Engine
	Store  Store
	// TokenKey signs visitor tokens (at least 32 bytes). Keep it across
	// restarts, or every visitor starts a new conversation.
	TokenKey []byte
	// IdentitySecret checks the host page's signed identities; empty: a
	// hello with an identity is refused (invalid_identity).
	IdentitySecret []byte
	// AllowedOrigins are the sites' pages that may open the socket:
	// "https://shop.example.com", "http://localhost:*" (any port),
	// "https://*.example.com" (any subdomain).
	AllowedOrigins []string
	// PublicOrigins are the server's own origins, the addresses browsers
	// reach it at ("https://chat.example.com"), whose pages (the demo page)
	// may open the socket too; same syntax as AllowedOrigins. The request's
	// Host header is never trusted for this: any host name can point at
	// the server. Pages on the visitor's own machine (http://localhost:*,
	// http://127.0.0.1:*, http://[::1]:*) are always allowed.
	PublicOrigins []string
	Limits        Limits // zero fields: defaults
	// Proxies are the proxies (load balancers) whose X-Forwarded-For
	// names the client the per-address limits count against; nil: none,
	// the client is the connection's peer.
	Proxies *clientip.Resolver
	// Now is the clock of the rate limiters and of new conversations'
	// tokens; nil: time.Now.
	Now    func() time.Time
	Logger *slog.Logger // nil: discard
}

// Limits bound what one client may cost. A zero field takes the default in
// its comment; a negative rate switches that limit off.
type Limits struct {
	ReadLimit int64 // largest frame read, in bytes (16 KiB); larger closes the socket with 1009
	// A message text or CSAT comment may have at most MaxText characters
	// (Unicode code points, 2000) and MaxTextBytes bytes in UTF-8 (4096,
	// crm.DefaultMaxMessageBytes, the store's limit): too_large otherwise,
	// before anything reaches the store.
	MaxText      int
	MaxTextBytes int
	HelloTimeout time.Duration // time to say hello before close 4000 (5 s)
	PingInterval time.Duration // time between pings (30 s)
	PongTimeout  time.Duration // silence (no pong, no frame) before the socket is closed (60 s)
	WriteTimeout time.Duration // longest a write, or a wait for room in the send queue, may block (10 s)
	SendQueue    int           // frames queued for the writer (32)
	Backlog      int           // messages read from the store per page on resume (200)
	// NewTokenTTL is how long the token of a new conversation (issued by
	// hello, nothing stored yet) resumes it while it is still not stored
	// (10 minutes); after that such a token gets invalid_token, like the
	// token of an erased conversation (PROTOCOL.md).
	NewTokenTTL time.Duration

	// Rates are messages (and CSAT answers) a second, bursts the most at
	// once. A negative rate switches the limit off, for example IPRate for
	// a load test from one address or behind a proxy that hides client
	// addresses.
	ConnRate  float64 // per socket (1)
	ConnBurst int     // (10)
	IPRate    float64 // per client IP address, all its sockets together (5)
	IPBurst   int     // (30)

	// Per client IP address, for anonymous clients: new sockets a second
	// (refused with HTTP 429 before the upgrade), hellos a second (refused
	// with rate_limited and close 1013), and sockets open at once (HTTP 429).
	// A negative value switches that limit off.
	SocketRate   float64 // (5)
	SocketBurst  int     // (50)
	HelloRate    float64 // (2)
	HelloBurst   int     // (20)
	MaxIPSockets int     // (100)
}

func (l Limits) withDefaults() Limits {
	def(&l.ReadLimit, 16<<10)
	def(&l.MaxText, 2000)
	def(&l.MaxTextBytes, crm.DefaultMaxMessageBytes)
	def(&l.NewTokenTTL, 10*time.Minute)
	def(&l.HelloTimeout, 5*time.Second)
	def(&l.PingInterval, 30*time.Second)
	def(&l.PongTimeout, 60*time.Second)
	def(&l.WriteTimeout, 10*time.Second)
	def(&l.SendQueue, 32)
	def(&l.Backlog, 200)
	def(&l.ConnRate, 1)
	def(&l.ConnBurst, 10)
	def(&l.IPRate, 5)
	def(&l.IPBurst, 30)
	def(&l.SocketRate, 5)
	def(&l.SocketBurst, 50)
	def(&l.HelloRate, 2)
	def(&l.HelloBurst, 20)
	def(&l.MaxIPSockets, 100)
	return l
}

// def sets *v to d when it is zero.
func def[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

func (l Limits) check() error {
	switch {
	case l.ReadLimit < 0, l.MaxText < 0, l.MaxTextBytes < 0, l.SendQueue < 0, l.Backlog < 0, l.ConnBurst < 0, l.IPBurst < 0,
		l.SocketBurst < 0, l.HelloBurst < 0:
		return fmt.Errorf("negative limit: %w", ErrConfig)
	case l.HelloTimeout < 0, l.PingInterval < 0, l.PongTimeout < 0, l.WriteTimeout < 0, l.NewTokenTTL < 0:
		return fmt.Errorf("negative timeout: %w", ErrConfig)
	}
	return nil
}

// Stats counts what the handler did since New, for metrics.
type Stats struct {
	Open     int64  // sockets open now
	Accepted uint64 // sockets upgraded
	Rejected uint64 // upgrades refused (origin, shutting down, bad handshake, the per-IP limits below)
	// Refusals of the per-IP limits on anonymous clients: upgrades over the
	// socket rate and over the open-socket cap (both counted in Rejected
	// too), and hellos over the hello rate.
	SocketsLimited uint64
	SocketsCapped  uint64
	HellosLimited  uint64
	FramesIn       uint64 // frames read
	// FramesOut counts frames queued for writing; frames of a socket that is
	// dropped before they go out are counted too.
	FramesOut uint64
	Dropped   uint64            // sockets dropped as too slow (queue full, write timed out, events lost)
	Errors    map[string]uint64 // error frames sent, by code
}

type counters struct {
	open      atomic.Int64
	accepted  atomic.Uint64
	rejected  atomic.Uint64
	limited   atomic.Uint64 // sockets over the per-IP socket rate
	capped    atomic.Uint64 // sockets over the per-IP cap
	hellos    atomic.Uint64 // hellos over the per-IP hello rate
	framesIn  atomic.Uint64
	framesOut atomic.Uint64
	dropped   atomic.Uint64
	errors    [len(codes)]atomic.Uint64
}

// Handler serves the web chat websocket (PROTOCOL.md). It is safe for
// concurrent use.
type Handler struct {
	engine   Engine
	store    Store
	key      []byte
	idSecret []byte
	origins  []originPattern
	limits   Limits
	proxies  *clientip.Resolver // whose X-Forwarded-For is believed; nil: none
	now      func() time.Time
	log      *slog.Logger
	upgrader websocket.Upgrader
	ips      *ipLimiter // messages per IP; nil: off
	sockets  *ipLimiter // new sockets per IP; nil: off
	hellos   *ipLimiter // hellos per IP; nil: off
	stats    counters

	// work is the context of engine and store calls; Shutdown cancels it
	// when its own context ends first.
	work       context.Context
	cancelWork context.CancelFunc

	mu      sync.Mutex
	closing bool               // guarded by mu; set by Shutdown
	conns   map[*conn]struct{} // guarded by mu
	perIP   map[string]int     // guarded by mu: sockets open (or upgrading) per client IP
	wg      sync.WaitGroup     // one per served socket; Add under mu while !closing
}

// New returns a handler, or an error wrapping ErrConfig when cfg lacks the
// engine, the store or a token key of at least 32 bytes, or has a malformed
// origin or a negative limit.
func New(cfg Config) (*Handler, error) {
	if cfg.Engine == nil || cfg.Store == nil {
		return nil, fmt.Errorf("new webchat: engine and store are required: %w", ErrConfig)
	}
	if len(cfg.TokenKey) < 32 {
		return nil, fmt.Errorf("new webchat: token key shorter than 32 bytes: %w", ErrConfig)
	}
	if err := cfg.Limits.check(); err != nil {
		return nil, fmt.Errorf("new webchat: %w", err)
	}
	origins, err := parseOrigins(cfg.AllowedOrigins, cfg.PublicOrigins)
	if err != nil {
		return nil, fmt.Errorf("new webchat: %w", err)
	}
	h := &Handler{
		engine: cfg.Engine, store: cfg.Store, origins: origins, limits: cfg.Limits.withDefaults(),
		key: append([]byte(nil), cfg.TokenKey...), idSecret: append([]byte(nil), cfg.IdentitySecret...),
		now: cfg.Now, log: cfg.Logger, conns: make(map[*conn]struct{}), perIP: make(map[string]int), proxies: cfg.Proxies,
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.limits.IPRate > 0 {
		h.ips = newIPLimiter(h.limits.IPRate, h.limits.IPBurst)
	}
	if h.limits.SocketRate > 0 {
		h.sockets = newIPLimiter(h.limits.SocketRate, h.limits.SocketBurst)
	}
	if h.limits.HelloRate > 0 {
		h.hellos = newIPLimiter(h.limits.HelloRate, h.limits.HelloBurst)
	}
	h.work, h.cancelWork = context.WithCancel(context.Background())
	h.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		// Small read buffers and pooled write buffers: most sockets are
		// idle most of the time, and 10,000 of them must fit in little
		// memory. Frames larger than a buffer are read in several calls.
		ReadBufferSize:  1024,
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		// ServeHTTP has checked the origin already; this repeats it so the
		// upgrader can never fall back to gorilla's own rule.
		CheckOrigin: func(r *http.Request) bool { return originAllowed(r, h.origins) },
	}
	return h, nil
}

// ServeHTTP upgrades the request to a websocket and serves it, in the
// background, until it closes (Shutdown waits for it). Before any upgrade,
// a cross-origin request gets 403, a request after Shutdown began 503, and
// one from an address over its socket rate or its cap of open sockets 429
// with Retry-After.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !originAllowed(r, h.origins) {
		h.stats.rejected.Add(1)
		h.log.Debug("webchat origin refused", "origin", r.Header.Get("Origin"), "remote", r.RemoteAddr)
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		h.stats.rejected.Add(1)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	ip := h.proxies.IP(r)
	if refusal, retry := h.admit(ip); refusal != "" {
		h.mu.Unlock()
		h.stats.rejected.Add(1)
		h.log.Debug("webchat socket refused", "remote", ip, "why", refusal)
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		http.Error(w, refusal, http.StatusTooManyRequests)
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()

	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// The upgrader has answered the request with an HTTP error.
		h.release(ip)
		h.wg.Done()
		h.stats.rejected.Add(1)
		h.log.Debug("webchat upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	c := newConn(h, ws, ip)
	h.mu.Lock()
	if h.closing {
		// Shutdown began during the handshake: say so the polite way.
		h.mu.Unlock()
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		_ = ws.Close()
		h.release(ip)
		h.wg.Done()
		return
	}
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	h.stats.accepted.Add(1)
	h.stats.open.Add(1)
	h.log.Debug("webchat open", "remote", c.ip)

	// The socket is served from a goroutine of its own so that this one, and
	// with it the HTTP server's buffers for the request, is freed: an idle
	// socket must cost little.
	go func() {
		defer h.wg.Done()
		c.serve()
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
		h.release(ip)
		h.stats.open.Add(-1)
		h.log.Debug("webchat close", "remote", c.ip, "conversation", c.convID, "reason", c.reason())
	}()
}

// admit counts a new socket of ip, or says why it is refused and when to
// retry. Called with mu held.
func (h *Handler) admit(ip string) (refusal string, retry time.Duration) {
	if n := h.limits.MaxIPSockets; n > 0 && h.perIP[ip] >= n {
		h.stats.capped.Add(1)
		return fmt.Sprintf("too many chat sockets open from this address (at most %d)", n), 5 * time.Second
	}
	if ok, wait := h.sockets.take(ip, h.now()); !ok {
		h.stats.limited.Add(1)
		return "too many new chat sockets from this address; retry later", wait
	}
	h.perIP[ip]++
	return "", 0
}

// release forgets a socket of ip that admit counted.
func (h *Handler) release(ip string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.perIP[ip]--; h.perIP[ip] <= 0 {
		delete(h.perIP, ip)
	}
}

// Shutdown stops accepting sockets (new upgrades get 503), lets the messages
// already taken from each socket finish (their acks and replies are
// written), then closes every socket with close code 1001 and waits for all
// of their goroutines. When ctx ends first, it cancels the engine calls
// still running, closes the remaining sockets at once, waits for their
// goroutines and returns ctx's error. Calling it again waits again.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.drain()
	}
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		h.cancelWork()
		return nil
	case <-ctx.Done():
	}
	h.cancelWork()
	h.mu.Lock()
	for c := range h.conns {
		c.kill("shutdown deadline")
	}
	h.mu.Unlock()
	<-done
	return fmt.Errorf("webchat shutdown: %w", ctx.Err())
}

// Stats returns the counters; it is cheap and safe to call at any time.
func (h *Handler) Stats() Stats {
	s := Stats{
		Open: h.stats.open.Load(), Accepted: h.stats.accepted.Load(), Rejected: h.stats.rejected.Load(),
		SocketsLimited: h.stats.limited.Load(), SocketsCapped: h.stats.capped.Load(), HellosLimited: h.stats.hellos.Load(),
		FramesIn: h.stats.framesIn.Load(), FramesOut: h.stats.framesOut.Load(), Dropped: h.stats.dropped.Load(),
		Errors: make(map[string]uint64, len(codes)),
	}
	for i, c := range codes {
		if n := h.stats.errors[i].Load(); n > 0 {
			s.Errors[c] = n
		}
	}
	return s
}
