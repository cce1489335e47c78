package web_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/channels/webchat"
	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/internal/shoptest"
	"github.com/parleyhq/parley/nlp"
	"github.com/parleyhq/parley/web"
)

// stack is the whole of `bot serve` in the test process: the seeded demo
// store, the dialog engine with the trained shop model, the web chat handler
// and the web server on a real 127.0.0.1 port. Stop and start keep the port,
// the data directory and the token key, as a restarted server would.
type stack struct {
	t     *testing.T
	dir   string
	key   []byte
	model *nlp.Model
	// identitySecret signs host pages' identities (data-signature).
	identitySecret []byte

	// Set by start, cleared by stop.
	addr   string
	db     *boltdb.DB
	engine *dialog.Engine
	chat   *webchat.Handler
	srv    *http.Server
	served chan error
}

// startStack serves a fresh stack on a free port until the test ends.
func startStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{t: t, dir: t.TempDir(), key: make([]byte, 32), model: shoptest.Model(t),
		identitySecret: []byte("the host shop's identity secret")}
	rand.Read(s.key)
	s.start("127.0.0.1:0")
	t.Cleanup(s.stop)
	return s
}

// URL is the demo page's address.
func (s *stack) URL() string { return "http://" + s.addr + "/" }

func (s *stack) start(addr string) {
	t := s.t
	t.Helper()
	ctx := context.Background()
	db, err := boltdb.Open(filepath.Join(s.dir, "parley.db"), nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	if _, err := shop.EnsureSeeded(ctx, db, time.Now()); err != nil {
		db.Close()
		t.Fatalf("seed store: %v", err)
	}
	domain, err := dialog.ParseDomain("shop/domain.yml", shop.Domain(), s.model.Labels())
	if err != nil {
		db.Close()
		t.Fatalf("parse domain: %v", err)
	}
	engine, err := dialog.New(dialog.Config{Domain: domain, Parser: s.model, Store: db})
	if err != nil {
		db.Close()
		t.Fatalf("new engine: %v", err)
	}
	chat, err := webchat.New(webchat.Config{Engine: engine, Store: db, TokenKey: s.key, IdentitySecret: s.identitySecret})
	if err != nil {
		db.Close()
		t.Fatalf("new web chat: %v", err)
	}
	server, err := web.New(web.Config{Store: db, Engine: engine, Parser: s.model, Chat: chat, Welcome: domain.Welcome})
	if err != nil {
		db.Close()
		t.Fatalf("new web server: %v", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		db.Close()
		t.Fatalf("listen on %s: %v", addr, err)
	}
	s.addr = ln.Addr().String()
	s.db, s.engine, s.chat = db, engine, chat
	s.srv = &http.Server{Handler: server.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.served = make(chan error, 1)
	go func(srv *http.Server, done chan<- error) { done <- srv.Serve(ln) }(s.srv, s.served)
}

// stop shuts the stack down as `bot serve` does on SIGTERM: no new
// connections, the web chat sockets closed with 1001 once in-flight messages
// are done, then the store closed. Stopping a stopped stack does nothing.
func (s *stack) stop() {
	t := s.t
	t.Helper()
	if s.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		t.Errorf("shut down http server: %v", err)
	}
	if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("serve: %v", err)
	}
	if err := s.chat.Shutdown(ctx); err != nil {
		t.Errorf("shut down web chat: %v", err)
	}
	if err := s.db.Close(); err != nil {
		t.Errorf("close store: %v", err)
	}
	s.srv, s.db, s.engine, s.chat = nil, nil, nil, nil
}

// restart stops the stack and starts it again on the same port and data.
func (s *stack) restart() {
	s.t.Helper()
	addr := s.addr
	s.stop()
	s.start(addr)
}

// sign is what a host page's backend computes for data-signature.
func (s *stack) sign(userID, email string) string {
	m := hmac.New(sha256.New, s.identitySecret)
	m.Write([]byte(userID + "\n" + email))
	return hex.EncodeToString(m.Sum(nil))
}

// messages returns every stored message of a conversation.
func (s *stack) messages(conversationID string) []crm.Message {
	s.t.Helper()
	ms, err := s.db.MessagesAfter(context.Background(), conversationID, 0, 0)
	if err != nil {
		s.t.Fatalf("messages of %s: %v", conversationID, err)
	}
	return ms
}
