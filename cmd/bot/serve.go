package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	slackchan "github.com/parleyhq/parley/channels/slack"
	"github.com/parleyhq/parley/channels/webchat"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/dialog/jetstream"
	"github.com/parleyhq/parley/dialog/triage"
	"github.com/parleyhq/parley/internal/atomicfile"
	"github.com/parleyhq/parley/internal/clientip"
	"github.com/parleyhq/parley/internal/logonce"
	"github.com/parleyhq/parley/internal/webhook"
	"github.com/parleyhq/parley/nlp/replies"
	"github.com/parleyhq/parley/nlp/suggest"
	"github.com/parleyhq/parley/web"
	"github.com/parleyhq/parley/web/console"
)

// tokenKeyFile holds the key that signs web visitors' tokens: kept in the
// data directory so that a restart does not forget every visitor.
const tokenKeyFile = "webchat.key"

// shutdownGrace is how long serve waits for in-flight messages on SIGINT or
// SIGTERM before it closes the store anyway.
const shutdownGrace = 15 * time.Second

// sweepEvery is how often the engine looks for conversations whose queue
// or agent timeout has passed, and for messages whose turn stalled (see
// dialog.Config.StallTimeout): these fire at most this late.
const sweepEvery = 5 * time.Second

// suggestEvery is how often the suggested replies are mined again from the
// store's past conversations.
const suggestEvery = 10 * time.Minute

func runServe(ctx context.Context, m *Main, args []string) error {
	f := m.flagSet("serve", "[flags]",
		"Serve the demo shop page with the chat widget, the web chat at /ws, the agent console at\n"+
			"/console, the REST API at /api/v1, /healthz, /readyz and /metrics, and answer bot backup,\n"+
			"bot customer and bot agent on the admin socket DATA-DIR/admin.sock (mode 0600). With no\n"+
			"flags it works out of the box: the store is DATA-DIR/parley.db (seeded with the demo shop\n"+
			"on first start) and the model is\n"+
			"DATA-DIR/model: when missing, it is trained from the embedded demo data\n"+
			"("+demoTrainTime+"), and so are the routing and satisfaction models, from\n"+
			"the store's history. Every flag can be set by the environment variable named in its\n"+
			"help. SIGINT or SIGTERM stops it cleanly: no new connections, messages being answered\n"+
			"are finished, the store is closed; messages a run acknowledged but did not answer are\n"+
			"answered at the next start. With --slack-bot-token it also talks to customers in Slack and\n"+
			"posts handoffs to a Slack channel for agents (the README's Slack section sets it up).\n"+
			"Several servers, one service: start each with --store postgres://... and --events\n"+
			"nats://... (the same for all) behind a load balancer, sticky sessions not needed; they\n"+
			"share the customers, the conversations and the key of visitors' tokens (PARLEY_TOKEN_KEY,\n"+
			"hex, sets that key instead), and a customer may reconnect to any of them.")
	dataDir := dataDirFlag(f)
	addr := f.String("addr", envOr("PARLEY_ADDR", "127.0.0.1:8080"), "listen on this `host:port` (env PARLEY_ADDR)")
	modelDir := f.String("model", os.Getenv("PARLEY_MODEL_DIR"), "model `directory` (env PARLEY_MODEL_DIR; default DATA-DIR/model)")
	domainFile := f.String("domain", os.Getenv("PARLEY_DOMAIN"), "domain `file` (env PARLEY_DOMAIN; default: the embedded demo shop)")
	origins := f.String("allowed-origins", os.Getenv("PARLEY_ALLOWED_ORIGINS"),
		"comma-separated `origins` of the sites whose pages may open the web chat, such as\n"+
			"https://shop.example.com (env PARLEY_ALLOWED_ORIGINS); besides them, this server's public\n"+
			"origins and pages on the visitor's own machine (http://localhost, 127.0.0.1, [::1]) may")
	publicOrigins := f.String("public-origin", os.Getenv("PARLEY_PUBLIC_ORIGIN"),
		"comma-separated `origins` browsers reach this server at, such as https://chat.example.com\n"+
			"behind a proxy (env PARLEY_PUBLIC_ORIGIN); its own pages there may open the web chat.\n"+
			"Default: http://ADDR when --addr names a host (not 0.0.0.0). The Host header is not trusted")
	apiToken := f.String("api-token", os.Getenv("PARLEY_API_TOKEN"),
		"bearer `token` for the REST API (env PARLEY_API_TOKEN, preferred: flags show in ps); empty: the API is off")
	identity := f.String("identity-secret", os.Getenv("PARLEY_IDENTITY_SECRET"),
		"`secret` the host site's backend signs signed-in users with (env PARLEY_IDENTITY_SECRET); empty: off")
	ipRate := f.Float64("ip-rate", 0,
		"messages per second one IP address may send over all its sockets; 0: the default (5),\n"+
			"-1: no limit (env PARLEY_IP_RATE; raise it when many customers share one address)")
	ipSocketRate := f.Float64("ip-socket-rate", 0,
		"new web chat sockets per second from one IP address (bursts of 10 seconds' worth, at least 50);\n"+
			"0: the default (5), -1: no limit (env PARLEY_IP_SOCKET_RATE); past it: HTTP 429")
	ipHelloRate := f.Float64("ip-hello-rate", 0,
		"web chat hellos (new and resumed conversations) per second from one IP address (bursts of\n"+
			"10 seconds' worth, at least 20); 0: the default (2), -1: no limit (env PARLEY_IP_HELLO_RATE)")
	ipMaxSockets := f.Int("ip-max-sockets", 0,
		"web chat sockets one IP address may hold open at once; 0: the default (100), -1: no limit\n"+
			"(env PARLEY_IP_MAX_SOCKETS; behind a proxy, see --trusted-proxies)")
	trustedProxies := f.String("trusted-proxies", os.Getenv("PARLEY_TRUSTED_PROXIES"),
		"comma-separated `addresses` or networks (10.0.0.0/8) of the load balancers in front of this\n"+
			"server (env PARLEY_TRUSTED_PROXIES): a request from one of them counts, for the ip- limits and\n"+
			"the console's login lockout, against the client its X-Forwarded-For names. Without it,\n"+
			"every visitor behind a proxy shares the proxy's address and its limits")
	logLevel := f.String("log-level", envOr("PARLEY_LOG_LEVEL", "info"), "`level` of the logs on stderr: debug, info, warn or error (env PARLEY_LOG_LEVEL)")
	logJSON := f.Bool("log-json", os.Getenv("PARLEY_LOG_JSON") == "1", "write the logs as JSON lines (env PARLEY_LOG_JSON=1)")
	queueTimeout := f.Duration("queue-timeout", dialog.DefaultQueueTimeout,
		"how long a handed-off conversation waits for an agent before the bot says nobody is free\n"+
			"and offers a reply by e-mail; outside --business-hours at once (env PARLEY_QUEUE_TIMEOUT)")
	agentTimeout := f.Duration("agent-timeout", dialog.DefaultAgentTimeout,
		"how long an agent may hold a conversation without writing to the customer before it goes\n"+
			"back to its queue (env PARLEY_AGENT_TIMEOUT)")
	businessHours := f.String("business-hours", os.Getenv("PARLEY_BUSINESS_HOURS"),
		"when agents answer, such as \"mon-fri 09:00-17:00, sat 10:00-14:00 Europe/Berlin\" (ranges\n"+
			"separated by \",\", then the IANA time zone; UTC when left out); empty: always (env PARLEY_BUSINESS_HOURS)")
	sla := f.Duration("sla", console.DefaultSLA, "waiting `time` after which the console shows a conversation in red (env PARLEY_SLA)")
	autoAssign := f.Bool("auto-assign", false,
		"give waiting conversations to online agents who serve their queue, fewest open first\n"+
			"(env PARLEY_AUTO_ASSIGN=1); otherwise agents claim them")
	sessionTTL := f.Duration("console-session-ttl", console.DefaultSessionTTL,
		"how long an unused console session lasts; sessions live in memory, so a restart signs\n"+
			"agents out (env PARLEY_CONSOLE_SESSION_TTL)")
	kbDir := f.String("kb", os.Getenv("PARLEY_KB"),
		"folder `DIR` of help-centre articles (*.md with front matter) the bot answers questions from\n"+
			"(env PARLEY_KB); default: the demo shop's. Its encoder is trained at the first start and\n"+
			"cached in DATA-DIR/"+kbEncoderDir)
	repliesDir := f.String("replies", os.Getenv("PARLEY_REPLIES"),
		"reply model `DIR` written by bot train-replies (env PARLEY_REPLIES): its seq2seq draft is\n"+
			"added to the console's suggested replies, for agents to check and edit; default: none")
	slackOpts := addSlackFlags(f)
	storeOpts := addStoreFlags(f)
	if err := parseFlags(f, args); err != nil {
		return err
	}
	spec, err := storeOpts.spec(*dataDir)
	if err != nil {
		fmt.Fprintln(f.Output(), err)
		return errUsage
	}
	for _, e := range []struct {
		flag, env string
		v         any
	}{
		{"ip-rate", "PARLEY_IP_RATE", ipRate}, {"ip-socket-rate", "PARLEY_IP_SOCKET_RATE", ipSocketRate},
		{"ip-hello-rate", "PARLEY_IP_HELLO_RATE", ipHelloRate}, {"ip-max-sockets", "PARLEY_IP_MAX_SOCKETS", ipMaxSockets},
		{"queue-timeout", "PARLEY_QUEUE_TIMEOUT", queueTimeout}, {"agent-timeout", "PARLEY_AGENT_TIMEOUT", agentTimeout},
		{"sla", "PARLEY_SLA", sla}, {"auto-assign", "PARLEY_AUTO_ASSIGN", autoAssign},
		{"console-session-ttl", "PARLEY_CONSOLE_SESSION_TTL", sessionTTL},
		{"slack-trust-email", "PARLEY_SLACK_TRUST_EMAIL", slackOpts.trustEmail},
	} {
		if err := numberFromEnv(f, e.flag, e.env, e.v); err != nil {
			fmt.Fprintln(f.Output(), err)
			return errUsage
		}
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"queue-timeout", *queueTimeout}, {"agent-timeout", *agentTimeout}, {"sla", *sla}, {"console-session-ttl", *sessionTTL}} {
		if d.v <= 0 {
			fmt.Fprintf(f.Output(), "--%s %v: want a positive duration such as 2m or 1h30m\n", d.flag, d.v)
			return errUsage
		}
	}
	slackCfg, err := slackOpts.config()
	if err != nil {
		fmt.Fprintln(f.Output(), err)
		return errUsage
	}
	var hours *dialog.BusinessHours
	if *businessHours != "" {
		h, err := dialog.ParseHours(*businessHours)
		if err != nil {
			fmt.Fprintf(f.Output(), "--business-hours: %v\n", err)
			return errUsage
		}
		hours = h
	}
	proxies, err := clientip.Parse(*trustedProxies)
	if err != nil {
		fmt.Fprintf(f.Output(), "--trusted-proxies: %v\n", err)
		return errUsage
	}
	logger, err := newLogger(m.Stderr, *logLevel, *logJSON)
	if err != nil {
		fmt.Fprintln(f.Output(), err)
		return errUsage
	}
	// A failing disk or store must not flood the log: the same error
	// repeated is written once, then once a minute with its count.
	dedup := logonce.New(logger.Handler(), nil)
	logger = slog.New(dedup)
	logCtx, stopLog := context.WithCancel(context.Background())
	logDone := make(chan struct{})
	go func() { defer close(logDone); dedup.Run(logCtx) }()
	defer func() { stopLog(); <-logDone }()

	model, dir, db, err := openServeModelAndStore(ctx, m, *dataDir, *modelDir, spec)
	if err != nil {
		return err
	}
	defer db.Close()
	domain, err := loadDomain(*domainFile, model.Labels())
	if err != nil {
		return err
	}
	key, err := serveTokenKey(ctx, db, *dataDir)
	if err != nil {
		return err
	}
	// The event stream closes after everything that publishes has stopped
	// (the deferred calls run in reverse), and before the store.
	events, err := openServeEvents(ctx, spec, jetstream.Options{Logger: logger})
	if err != nil {
		return err
	}
	defer events.Close()
	switch {
	case spec.pgURL != "" && spec.natsURL == "":
		logger.Warn("the store is shared (PostgreSQL) but the events stay in this process: with several nodes, give each --events nats://..., or a customer on one node does not hear an agent on another")
	case spec.pgURL == "" && spec.natsURL != "":
		logger.Warn("the events go through NATS but the store is a bbolt file only this process can use: other nodes cannot serve these conversations (use --store postgres://...)")
	}

	if *modelDir == "" {
		if err := ensureTriageModels(ctx, m, db, model, domain, dir); err != nil {
			return err
		}
	}
	router, scorer, err := triage.Load(dir)
	if err != nil {
		return err
	}
	if router == nil {
		logger.Info("no routing model: handoffs use the domain's queues and the built-in priority rules (train one with bot train-routing)")
	}
	helpCentre, err := openServeKB(ctx, *kbDir, *dataDir, logger)
	if err != nil {
		return err
	}
	metrics := web.NewMetrics()
	// One parser for the engine and the API, so that a model swapped in
	// while serving answers both.
	parser := metrics.Parser(dialog.NewSwapParser(model))
	engine, err := dialog.New(dialog.Config{
		Domain: domain, Parser: parser, Store: metrics.Store(db.Store), Events: metrics.Events(events.Events),
		Locker: db.turnLocker(), Router: router, Scorer: scorer, Caller: &webhook.Client{}, Logger: logger,
		QueueTimeout: *queueTimeout, AgentTimeout: *agentTimeout, Hours: hours, KB: kbAnswerer{helpCentre},
	})
	if err != nil {
		return err
	}
	// Messages the last run acknowledged but did not answer (it stopped in
	// between) are answered before anyone can send more.
	n, err := engine.AnswerPending(ctx)
	if err != nil {
		return err
	}
	switch {
	case n == 1:
		fmt.Fprintln(m.Stderr, "answered 1 conversation left unanswered by the last run")
	case n > 1:
		fmt.Fprintf(m.Stderr, "answered %d conversations left unanswered by the last run\n", n)
	}
	limits := webchat.Limits{IPRate: *ipRate, SocketRate: *ipSocketRate, HelloRate: *ipHelloRate, MaxIPSockets: *ipMaxSockets}
	if *ipRate > 0 {
		limits.IPBurst = max(30, int(6**ipRate))
	}
	if *ipSocketRate > 0 {
		limits.SocketBurst = max(50, int(10**ipSocketRate))
	}
	if *ipHelloRate > 0 {
		limits.HelloBurst = max(20, int(10**ipHelloRate))
	}
	public := splitList(*publicOrigins)
	if len(public) == 0 {
		public = ownOrigin(*addr)
		if public == nil {
			logger.Warn("no public origin: pages of this server reached by name or address may not open the web chat; set --public-origin", "addr", *addr)
		}
	}
	chat, err := webchat.New(webchat.Config{
		Engine: engine, Store: db.Store, TokenKey: key, IdentitySecret: []byte(*identity),
		AllowedOrigins: splitList(*origins), PublicOrigins: public, Limits: limits, Proxies: proxies, Logger: logger,
	})
	if err != nil {
		return err
	}
	if err := metrics.Connections(func() float64 { return float64(chat.Stats().Open) }); err != nil {
		return err
	}
	if hours != nil {
		logger.Info("business hours: outside them a handed-off conversation hears at once that nobody is free", "hours", hours.String())
	}
	cons, err := console.New(console.Config{
		Store: db.Store, Engine: engine, Queues: domainQueues(domain), SLA: *sla, SessionTTL: *sessionTTL,
		AutoAssign: *autoAssign, Proxies: proxies, Logger: logger,
	})
	if err != nil {
		return err
	}
	suggestOpts := &suggest.Options{KB: helpCentre, Logger: logger}
	if *repliesDir != "" {
		rm, err := replies.Load(*repliesDir)
		if err != nil {
			return fmt.Errorf("--replies: %w", err)
		}
		suggestOpts.Drafter = rm
		logger.Info("reply drafts for agents", "model", *repliesDir, "trained_on", rm.Meta().Source, "pairs", rm.Meta().TrainPairs)
	}
	suggester := suggest.New(db.Store, suggestOpts)
	usage := suggest.NewUsage(nil)
	if err := metrics.Suggestions(usage); err != nil {
		return err
	}
	var peers *cluster // nodes sharing the NATS stream
	if events.bus != nil {
		peers = &cluster{bus: events.bus, self: jetstream.Peer{Node: nodeName(), Model: model.Meta().Fingerprint()}, log: logger}
		if err := metrics.Cluster(peers.stats); err != nil {
			return err
		}
	}
	// The sweeper (queue and agent timeouts, stalled turns), the console's
	// hub and the cluster's heartbeat run while serving; they stop, and are
	// waited for, before the store closes.
	bgCtx, stopBG := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	bg.Go(func() { engine.RunSweeper(bgCtx, sweepEvery) })
	bg.Go(func() { cons.Run(bgCtx) })
	if peers != nil {
		bg.Go(func() { peers.run(bgCtx) })
	}
	// Suggested replies for agents: mined from the store's past
	// conversations at start and every suggestEvery, with the help centre.
	bg.Go(func() { suggester.Run(bgCtx, suggestEvery) })
	defer func() {
		cons.Close()
		stopBG()
		bg.Wait()
	}()
	// Slack: its workers, outbox and Socket Mode connection run with the
	// sweeper, and stop before the store closes.
	var slackHandler http.Handler
	if slackCfg != nil {
		slackCfg.Engine, slackCfg.Store, slackCfg.Logger = engine, db.Store, logger
		adapter, err := slackchan.New(*slackCfg)
		if err != nil {
			if errors.Is(err, slackchan.ErrConfig) {
				fmt.Fprintln(f.Output(), err)
				return errUsage
			}
			return err
		}
		slackHandler = adapter.Handler()
		bg.Go(func() { adapter.Run(bgCtx) })
	}
	srv, err := web.New(web.Config{
		Engine: engine, Store: db.Store, Parser: parser, Chat: chat, Console: cons.WithSuggestions(suggester, usage), Suggester: suggester, Slack: slackHandler, APIToken: *apiToken,
		Metrics: metrics, Logger: logger, Welcome: domain.Welcome,
		// The store answers (bbolt: and its last commit did not fail, as
		// on a full disk), and so does NATS when the events go through it.
		Ready: func(ctx context.Context) error {
			if err := db.ready(ctx); err != nil {
				return err
			}
			return events.ready(ctx)
		},
	})
	if err != nil {
		return err
	}

	// The admin socket: bot backup and bot customer reach the store through it.
	adm, err := startAdmin(*dataDir, db, engine, logger)
	if err != nil {
		return err
	}
	defer adm.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("%w\n(is another server on that address? choose one with --addr or PARLEY_ADDR)", err)
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(m.Stdout, "Parley is serving on %s\n", base)
	fmt.Fprintf(m.Stdout, "  demo shop with the chat widget  %s/\n", base)
	fmt.Fprintf(m.Stdout, "  widget for your own pages       <script src=\"%s/widget.js\" defer></script>\n", base)
	fmt.Fprintf(m.Stdout, "  agent console                   %s/console (add agents with bot agent add)\n", base)
	if *apiToken != "" {
		fmt.Fprintf(m.Stdout, "  REST API                        %s/api/v1/ (Authorization: Bearer <token>)\n", base)
	} else {
		fmt.Fprintf(m.Stdout, "  REST API                        off: set PARLEY_API_TOKEN to turn it on\n")
	}
	fmt.Fprintf(m.Stdout, "  health, readiness, metrics      %s/healthz  %s/readyz  %s/metrics\n", base, base, base)
	fmt.Fprintf(m.Stdout, "  store                           %s\n", db.name)
	fmt.Fprintf(m.Stdout, "  events                          %s\n", events.name)
	if slackCfg != nil {
		fmt.Fprintf(m.Stdout, "  Slack                           %s\n", slackBanner(*slackCfg, base))
	}
	fmt.Fprintf(m.Stdout, "Press Ctrl-C to stop.\n")

	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	select {
	case err := <-served:
		chat.Shutdown(context.Background())
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("stopping: finishing the messages in flight")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	// The chat first: http.Server.Shutdown does not wait for websockets.
	err = errors.Join(chat.Shutdown(sctx), hs.Shutdown(sctx), adm.Shutdown(sctx))
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		logger.Error("serve", "err", err)
	}
	// The console's sockets, hijacked, outlive hs.Shutdown: close them,
	// then stop the sweeper and the hub before the store closes.
	cons.Close()
	stopBG()
	bg.Wait()
	if cerr := events.Close(); cerr != nil {
		logger.Warn("close events", "err", cerr)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	fmt.Fprintln(m.Stdout, "Parley stopped.")
	return err
}

// loadTokenKey reads the visitor-token key, creating it on first start.
func loadTokenKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) < 32 {
			return nil, fmt.Errorf("token key %s: %d bytes, want 32 (delete it to make a new one; visitors then start new conversations)", path, len(key))
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key = make([]byte, 32)
	rand.Read(key)
	err = atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(key)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("write token key: %w", err)
	}
	return key, nil
}

func newLogger(w io.Writer, level string, asJSON bool) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	if asJSON {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// ownOrigin is the origin of a listening address that names a host
// (http://127.0.0.1:8080), and nil for one on every address (0.0.0.0:8080,
// :8080) or on a port chosen at start (port 0).
func ownOrigin(addr string) []string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || port == "0" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return nil
	}
	return []string{"http://" + net.JoinHostPort(host, port)}
}

// numberFromEnv sets *v (a *float64, *int, *time.Duration or *bool) from
// the environment variable env when the command line did not set the flag.
func numberFromEnv(f *flag.FlagSet, flagName, env string, v any) error {
	s := os.Getenv(env)
	if s == "" || isSet(f, flagName) {
		return nil
	}
	switch p := v.(type) {
	case *float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%s=%q: want a number", env, s)
		}
		*p = x
	case *int:
		x, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%s=%q: want a whole number", env, s)
		}
		*p = x
	case *time.Duration:
		x, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%s=%q: want a duration such as 2m or 1h30m", env, s)
		}
		*p = x
	case *bool:
		x, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%s=%q: want 1 or 0", env, s)
		}
		*p = x
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// envString is a string flag and the environment variable that sets it
// when the command line does not.
type envString struct {
	flag, env string
	v         *string
}

// secretsFromEnv sets each flag the command line did not set from its
// environment variable, trimmed. The flags have no defaults from the
// environment, so that "-h" never prints a token or a password.
func secretsFromEnv(f *flag.FlagSet, vars []envString) {
	for _, e := range vars {
		if !isSet(f, e.flag) {
			*e.v = os.Getenv(e.env)
		}
		*e.v = strings.TrimSpace(*e.v)
	}
}

// isSet reports whether the command line set the flag.
func isSet(f *flag.FlagSet, name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// domainQueues are the queues the domain routes handoffs to (its intents'
// and its default one), sorted: the console's transfer targets.
func domainQueues(d *dialog.Domain) []string {
	qs := []string{d.Policy.DefaultQueue}
	for _, it := range d.Intents {
		qs = append(qs, it.Queue)
	}
	qs = slices.DeleteFunc(qs, func(q string) bool { return q == "" })
	slices.Sort(qs)
	return slices.Compact(qs)
}

// slackFlags are serve's Slack flags, read from the command line or the
// environment.
type slackFlags struct {
	botToken, appToken, signingSecret, agentChannel, apiURL *string
	trustEmail                                              *bool
	f                                                       *flag.FlagSet
}

// addSlackFlags defines the Slack flags on f. Their environment variables
// are read after parsing (config), not as the flags' defaults, so that
// "serve -h" never prints a token.
func addSlackFlags(f *flag.FlagSet) slackFlags {
	return slackFlags{
		f: f,
		botToken: f.String("slack-bot-token", "",
			"Slack bot `token` (xoxb-..., the app's Bot User OAuth Token): set, it turns the Slack channel\n"+
				"on; it needs --slack-app-token or --slack-signing-secret (env PARLEY_SLACK_BOT_TOKEN,\n"+
				"preferred: flags show in ps)"),
		appToken: f.String("slack-app-token", "",
			"Slack app-level `token` (xapp-..., scope connections:write) for Socket Mode: this server\n"+
				"connects out to Slack, no public URL needed (env PARLEY_SLACK_APP_TOKEN, preferred)"),
		signingSecret: f.String("slack-signing-secret", "",
			"`secret` Slack signs its requests with, for the Events API: Slack posts to /slack/events\n"+
				"and /slack/interactions on this server, which it must reach (env PARLEY_SLACK_SIGNING_SECRET,\n"+
				"preferred)"),
		agentChannel: f.String("slack-agent-channel", "",
			"`id` of the Slack channel (C...) handed-off conversations are posted to, one card each, that\n"+
				"agents answer in its thread; invite the bot there (env PARLEY_SLACK_AGENT_CHANNEL); empty:\n"+
				"agents answer in the console only"),
		apiURL: f.String("slack-api-url", "",
			"base `URL` of Slack's Web API, for a proxy or a test double (env PARLEY_SLACK_API_URL;\n"+
				"default: Slack's own)"),
		trustEmail: f.Bool("slack-trust-email", false,
			"link Slack users to CRM customers by their Slack profile e-mail: only for a workspace whose\n"+
				"e-mail addresses the company controls (env PARLEY_SLACK_TRUST_EMAIL=1); otherwise Slack\n"+
				"customers are unverified visitors"),
	}
}

// slackChannelID is the shape of a Slack channel id: public (C...) or
// private (G...).
var slackChannelID = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)

// config checks the flags and returns the adapter's configuration, nil
// when Slack is off (no bot token). Its errors name the flag and say what
// is wanted; they never show a secret.
func (s slackFlags) config() (*slackchan.Config, error) {
	secretsFromEnv(s.f, []envString{
		{"slack-bot-token", "PARLEY_SLACK_BOT_TOKEN", s.botToken}, {"slack-app-token", "PARLEY_SLACK_APP_TOKEN", s.appToken},
		{"slack-signing-secret", "PARLEY_SLACK_SIGNING_SECRET", s.signingSecret},
		{"slack-agent-channel", "PARLEY_SLACK_AGENT_CHANNEL", s.agentChannel}, {"slack-api-url", "PARLEY_SLACK_API_URL", s.apiURL},
	})
	bot, app, secret := strings.TrimSpace(*s.botToken), strings.TrimSpace(*s.appToken), strings.TrimSpace(*s.signingSecret)
	channel, apiURL := strings.TrimSpace(*s.agentChannel), strings.TrimSpace(*s.apiURL)
	if bot == "" {
		for _, o := range []struct {
			flag string
			set  bool
		}{{"slack-app-token", app != ""}, {"slack-signing-secret", secret != ""}, {"slack-agent-channel", channel != ""},
			{"slack-api-url", apiURL != ""}, {"slack-trust-email", *s.trustEmail}} {
			if o.set {
				return nil, fmt.Errorf("--%s needs --slack-bot-token (or PARLEY_SLACK_BOT_TOKEN): Slack is on only with a bot token", o.flag)
			}
		}
		return nil, nil
	}
	switch {
	case !strings.HasPrefix(bot, "xoxb-"):
		return nil, errors.New("--slack-bot-token (PARLEY_SLACK_BOT_TOKEN): want a bot token, starting with xoxb- (the app's OAuth & Permissions page, Bot User OAuth Token)")
	case app != "" && !strings.HasPrefix(app, "xapp-"):
		return nil, errors.New("--slack-app-token (PARLEY_SLACK_APP_TOKEN): want an app-level token, starting with xapp- (the app's Basic Information page, App-Level Tokens)")
	case app == "" && secret == "":
		return nil, errors.New("--slack-bot-token needs a way to hear from Slack: --slack-app-token (Socket Mode, no public URL) or --slack-signing-secret (Events API at /slack/events)")
	case channel != "" && !slackChannelID.MatchString(channel):
		return nil, fmt.Errorf("--slack-agent-channel (PARLEY_SLACK_AGENT_CHANNEL) %q: want a channel id such as C0123456789 (in Slack: the channel's details, at the bottom), not its name", channel)
	}
	if apiURL != "" {
		if u, err := url.Parse(apiURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--slack-api-url (PARLEY_SLACK_API_URL) %q: want an http or https URL such as https://slack.example.com/api/", apiURL)
		}
	}
	return &slackchan.Config{BotToken: bot, AppToken: app, SigningSecret: secret, AgentChannel: channel, APIURL: apiURL, TrustEmail: *s.trustEmail}, nil
}

// slackBanner is serve's start-up line about Slack: how Slack reaches the
// server, and where handoffs go.
func slackBanner(c slackchan.Config, base string) string {
	var parts []string
	if c.AppToken != "" {
		parts = append(parts, "Socket Mode")
	}
	if c.SigningSecret != "" {
		parts = append(parts, fmt.Sprintf("events at %s/slack/events and %s/slack/interactions", base, base))
	}
	if c.AgentChannel != "" {
		parts = append(parts, "handoffs to channel "+c.AgentChannel)
	} else {
		parts = append(parts, "no agent channel: handoffs in the console only")
	}
	if c.TrustEmail {
		parts = append(parts, "customers linked by Slack e-mail")
	}
	return strings.Join(parts, "; ")
}
