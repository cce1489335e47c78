package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/crm/postgres"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/dialog/jetstream"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/nlp"
)

// Keys of the shared store (crm.ChannelStateStore links) and of the
// cross-node locks (the PostgreSQL TurnLocker) that serve uses on a
// PostgreSQL store. A conversation id never has this shape.
const (
	tokenKeyLink = "parley:webchat-token-key" // hex of the visitor-token key
	seededLink   = "parley:demo-seeded"       // set once the database was seeded (or found with data)
	tokenKeyLock = "parley:lock:webchat-token-key"
	seedLock     = "parley:lock:demo-seed"
)

// storeFlags are serve's --store and --events, read from the command line
// or, after parsing, from the environment (so that "serve -h" never shows a
// database password).
type storeFlags struct {
	store, events *string
	f             *flag.FlagSet
}

func addStoreFlags(f *flag.FlagSet) storeFlags {
	return storeFlags{
		f: f,
		store: f.String("store", "",
			"`PATH|URL` of the CRM store (env PARLEY_STORE): empty, DATA-DIR/parley.db; a file path, a\n"+
				"bbolt file (one process only); or postgres://USER@HOST:PORT/DB (also postgresql://), a\n"+
				"PostgreSQL database that several serve nodes share. A new database is migrated and\n"+
				"seeded with the demo shop once, however many nodes start together"),
		events: f.String("events", "",
			"`URL` conversation events travel through (env PARLEY_EVENTS): empty, inside this process; or\n"+
				"nats://HOST:PORT (several separated by commas), a NATS JetStream server that every\n"+
				"node of a PostgreSQL store uses, so that a customer on one node sees what an agent\n"+
				"writes on another (stream PARLEY_EVENTS, subjects parley.events.*; env\n"+
				"PARLEY_EVENTS_STREAM and PARLEY_EVENTS_PREFIX change them for several deployments on\n"+
				"one server)"),
	}
}

// addStoreFlag adds --store alone, for the commands that read the store
// but publish no events (train-routing, train-satisfaction).
func addStoreFlag(f *flag.FlagSet) storeFlags {
	return storeFlags{f: f, store: f.String("store", "",
		"`PATH|URL` of the CRM store to read (env PARLEY_STORE): empty, DATA-DIR/parley.db; a bbolt\n"+
			"file path; or postgres://USER@HOST:PORT/DB, the database serve nodes share"),
		events: new(string)}
}

// storeSpec is what --store and --events name.
type storeSpec struct {
	boltPath    string // a bbolt file; "" with pgURL
	pgURL       string // postgres://...; "" for bbolt
	natsURL     string // "" for the in-process stream
	stream      string // JetStream stream name ("" the default)
	prefix      string // JetStream subject prefix ("" the default)
	defaultBolt bool   // the store is DATA-DIR/parley.db, as without the flag
}

// spec checks the flags; its errors name the flag and say what is wanted.
func (s storeFlags) spec(dataDir string) (storeSpec, error) {
	secretsFromEnv(s.f, []envString{{"store", "PARLEY_STORE", s.store}, {"events", "PARLEY_EVENTS", s.events}})
	sp := storeSpec{stream: os.Getenv("PARLEY_EVENTS_STREAM"), prefix: os.Getenv("PARLEY_EVENTS_PREFIX")}
	switch st := *s.store; {
	case st == "":
		sp.boltPath, sp.defaultBolt = filepath.Join(dataDir, storeFile), true
	case strings.HasPrefix(st, "postgres://") || strings.HasPrefix(st, "postgresql://"):
		if _, err := url.Parse(st); err != nil {
			return sp, fmt.Errorf("--store (PARLEY_STORE): not a valid PostgreSQL URL (%v); want postgres://USER@HOST:PORT/DB", redactErr(err))
		}
		sp.pgURL = st
	case strings.Contains(st, "://"):
		return sp, fmt.Errorf("--store (PARLEY_STORE) %s: want a bbolt file path or a postgres:// URL", redactURL(st))
	default:
		sp.boltPath = st
	}
	if ev := *s.events; ev != "" {
		for _, part := range strings.Split(ev, ",") {
			u, err := url.Parse(strings.TrimSpace(part))
			if err != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls" && u.Scheme != "ws" && u.Scheme != "wss") {
				return sp, fmt.Errorf("--events (PARLEY_EVENTS) %s: want a NATS URL such as nats://127.0.0.1:4222 (several separated by commas), or nothing for in-process events", redactURL(part))
			}
		}
		sp.natsURL = ev
	} else if sp.stream != "" || sp.prefix != "" {
		return sp, errors.New("PARLEY_EVENTS_STREAM and PARLEY_EVENTS_PREFIX need --events nats://... (or PARLEY_EVENTS)")
	}
	if strings.ContainsAny(sp.stream, ".*> \t\r\n/\\") {
		return sp, fmt.Errorf("PARLEY_EVENTS_STREAM %q: want a stream name without '.', '*', '>', '/', '\\' or white space", sp.stream)
	}
	if sp.prefix != "" {
		for _, tok := range strings.Split(sp.prefix, ".") {
			if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n") {
				return sp, fmt.Errorf("PARLEY_EVENTS_PREFIX %q: want dot-separated subject tokens without wildcards or white space, such as parley.events", sp.prefix)
			}
		}
	}
	return sp, nil
}

// redactURL hides a URL's password, for messages and the banner.
func redactURL(s string) string {
	if u, err := url.Parse(strings.TrimSpace(s)); err == nil {
		return u.Redacted()
	}
	return "(a malformed URL)"
}

// redactErr drops a url.Error's URL, which may hold a password.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// serveStore is the store "bot serve" runs on: a bbolt file or a
// PostgreSQL database. Exactly one of bolt and pg is set. Everything that
// talks to customers uses it as the crm.Store; the rest is what only one
// of the two can do (a bbolt backup, a shared turn lock).
type serveStore struct {
	crm.Store
	bolt   *boltdb.DB
	pg     *postgres.DB
	locker *postgres.TurnLocker // with pg: the turn lock shared by the nodes
	name   string               // for the banner
	closer sync.Once
	err    error // guarded by closer
}

// Close closes the turn lock and the store; later calls do nothing.
func (s *serveStore) Close() error {
	s.closer.Do(func() {
		if s.bolt != nil {
			s.err = s.bolt.Close()
			return
		}
		s.locker.Close()
		s.err = s.pg.Close()
	})
	return s.err
}

// locker is the engine's turn lock: nil (this process's own) with bbolt.
func (s *serveStore) turnLocker() dialog.Locker {
	if s.locker == nil {
		return nil
	}
	return s.locker
}

// ready is the store's part of /readyz: one small read, and with bbolt,
// that its last commit did not fail (a full disk, an I/O error).
func (s *serveStore) ready(ctx context.Context) error {
	if s.pg != nil {
		if err := s.pg.Ping(ctx); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		_, err := s.pg.SchemaVersion(ctx)
		return err
	}
	if _, err := s.bolt.SchemaVersion(ctx); err != nil {
		return err
	}
	return s.bolt.Writable(ctx)
}

// openServeModelAndStore is openModelAndStore for serve's --store: a bbolt
// file as "bot chat" opens it, or a PostgreSQL database, migrated by Open
// (refused before a model is trained when it does not answer) and seeded
// with the demo shop when new.
func openServeModelAndStore(ctx context.Context, m *Main, dataDir, modelDir string, sp storeSpec) (*nlp.Model, string, *serveStore, error) {
	if sp.pgURL == "" {
		model, dir, db, err := openModelAndStoreAt(ctx, m, dataDir, sp.boltPath, modelDir)
		if err != nil {
			return nil, "", nil, err
		}
		return model, dir, &serveStore{Store: db, bolt: db, name: "bbolt file " + db.Path()}, nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, "", nil, err
	}
	db, err := postgres.Open(ctx, sp.pgURL, nil)
	if err != nil {
		return nil, "", nil, fmt.Errorf("--store %s: %w", redactURL(sp.pgURL), err)
	}
	st := &serveStore{Store: db, pg: db, locker: db.TurnLocker(), name: "PostgreSQL " + redactURL(sp.pgURL)}
	model, dir, err := loadModel(ctx, m, modelDir, dataDir)
	if err == nil {
		err = seedShared(ctx, m, st)
	}
	if err != nil {
		st.Close()
		return nil, "", nil, err
	}
	return model, dir, st, nil
}

// createdStore is a PostgreSQL store as shop.EnsureSeeded sees it: seedShared
// has checked that the database was never seeded.
type createdStore struct{ *postgres.DB }

func (createdStore) Created() bool { return true }

// seedShared loads the demo shop into a PostgreSQL database the first time
// a node starts on it, as a new bbolt file is seeded. Nodes that start
// together take turns under a lock every node honours (an advisory lock):
// the first seeds and marks the database (a link, seededLink), the others
// find the mark. A database that already holds customers is marked and not
// seeded; a marked one stays as it is, also when every customer was erased.
func seedShared(ctx context.Context, m *Main, st *serveStore) error {
	unlock, err := st.locker.Lock(ctx, seedLock)
	if err != nil {
		return fmt.Errorf("seed store: %w", err)
	}
	defer unlock()
	if _, err := st.pg.Link(ctx, seededLink); err == nil {
		return nil
	} else if !errors.Is(err, crm.ErrNotFound) {
		return fmt.Errorf("seed store: %w", err)
	}
	seeded, err := shop.EnsureSeeded(ctx, createdStore{st.pg}, time.Now())
	if err != nil {
		return err
	}
	if err := st.pg.PutLink(ctx, seededLink, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("seed store: %w", err)
	}
	if seeded {
		if s, err := st.pg.Stats(ctx); err == nil {
			fmt.Fprintf(m.Stderr, "new store %s: loaded the demo shop (%d customers, %d orders, %d past conversations)\n", st.name, s.Customers, s.Orders, s.Conversations)
		}
	}
	return nil
}

// serveTokenKey is the key that signs web visitors' tokens: PARLEY_TOKEN_KEY
// (hex, at least 32 bytes) when set; with PostgreSQL the one every node
// shares, kept in the database; with bbolt DATA-DIR/webchat.key.
func serveTokenKey(ctx context.Context, st *serveStore, dataDir string) ([]byte, error) {
	if h := strings.TrimSpace(os.Getenv("PARLEY_TOKEN_KEY")); h != "" {
		key, err := hex.DecodeString(h)
		if err != nil || len(key) < 32 {
			return nil, errors.New("PARLEY_TOKEN_KEY: want at least 32 bytes in hex (64 hex digits), such as the output of openssl rand -hex 32")
		}
		return key, nil
	}
	if st.pg == nil {
		return loadTokenKey(filepath.Join(dataDir, tokenKeyFile))
	}
	return sharedTokenKey(ctx, st)
}

// sharedTokenKey reads the token key from the database, or creates it
// there: under a lock every node honours, so that of nodes starting
// together one creates it and the others read that one.
func sharedTokenKey(ctx context.Context, st *serveStore) ([]byte, error) {
	unlock, err := st.locker.Lock(ctx, tokenKeyLock)
	if err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	defer unlock()
	h, err := st.pg.Link(ctx, tokenKeyLink)
	switch {
	case err == nil:
		key, err := hex.DecodeString(h)
		if err != nil || len(key) < 32 {
			return nil, fmt.Errorf("token key in the store (link %s): not 32 bytes of hex; delete it to make a new one (visitors then start new conversations)", tokenKeyLink)
		}
		return key, nil
	case !errors.Is(err, crm.ErrNotFound):
		return nil, fmt.Errorf("token key: %w", err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	if err := st.pg.PutLink(ctx, tokenKeyLink, hex.EncodeToString(key)); err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	return key, nil
}

// serveEvents is the engine's event stream: in-process, or NATS JetStream.
type serveEvents struct {
	dialog.Events
	bus  *jetstream.Bus // nil in-process
	name string         // for the banner
}

func openServeEvents(ctx context.Context, sp storeSpec, opts jetstream.Options) (*serveEvents, error) {
	if sp.natsURL == "" {
		return &serveEvents{Events: dialog.NewBus(), name: "in this process"}, nil
	}
	opts.Stream, opts.SubjectPrefix = sp.stream, sp.prefix
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	bus, err := jetstream.New(sctx, sp.natsURL, opts)
	if err != nil {
		return nil, fmt.Errorf("--events %s: %w", redactURL(sp.natsURL), err)
	}
	stream, prefix := sp.stream, sp.prefix
	if stream == "" {
		stream = jetstream.DefaultStream
	}
	if prefix == "" {
		prefix = jetstream.DefaultSubjectPrefix
	}
	return &serveEvents{Events: bus, bus: bus,
		name: fmt.Sprintf("NATS JetStream %s, stream %s, subjects %s.*", redactURL(sp.natsURL), stream, prefix)}, nil
}

// Close ends the NATS connection (after everything that publishes has
// stopped); the in-process stream needs nothing.
func (e *serveEvents) Close() error {
	if e.bus == nil {
		return nil
	}
	return e.bus.Close()
}

// ready is the stream's part of /readyz.
func (e *serveEvents) ready(ctx context.Context) error {
	if e.bus == nil {
		return nil
	}
	return e.bus.Ping(ctx)
}

// errNotBolt is what the admin socket's backup (also used by bot check)
// answers on a PostgreSQL store.
func errNotBolt(name string) error {
	return fmt.Errorf("this server's store is %s: bot backup and bot check work on bbolt files only; "+
		"back a PostgreSQL store up with pg_dump (or the database's own backups) and check it with its own tools, such as pg_amcheck", name)
}
