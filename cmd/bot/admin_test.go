package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/internal/admin"
	"github.com/parleyhq/parley/internal/shoptest"
)

// dialAs opens a web chat signed in as the customer with the e-mail (the
// host page's identity, signed with secret) and sends one message, so that
// the conversation is stored and linked to the customer.
func dialAs(t *testing.T, base, secret, email string) (*websocket.Conn, wsFrame) {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", http.Header{"Origin": {base}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("u-1\n" + email))
	send(t, conn, map[string]any{"v": 1, "type": "hello", "identity": map[string]string{
		"user_id": "u-1", "email": email, "signature": hex.EncodeToString(mac.Sum(nil)),
	}})
	welcome := readUntil(t, conn, func(f wsFrame) bool { return f.Type == "welcome" })
	send(t, conn, map[string]any{"v": 1, "type": "message", "client_id": "c1", "text": "hello"})
	readUntil(t, conn, func(f wsFrame) bool { return f.Type == "ack" })
	return conn, welcome
}

// TestAdminWhileServing runs bot backup and bot customer export|erase
// against a data folder that a running "bot serve" holds: they go through
// its admin socket, and the erased customer's open chat is closed.
func TestAdminWhileServing(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	const secret = "identity-secret-for-tests"
	args := []string{"--data-dir", data, "--model", shoptest.ModelDir(t), "--identity-secret", secret}
	s := startServe(t, args...)
	sock := filepath.Join(data, adminSocket)
	fi, err := os.Lstat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("admin socket mode %v, want a socket with mode 0600", fi.Mode())
	}
	conn, welcome := dialAs(t, s.base, secret, "ana@example.com")

	// A second server on the same folder fails, and leaves the first alone.
	code, _, stderr := run(t, "", append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	if code != 1 || !strings.Contains(stderr, "is in use by another process") {
		t.Errorf("second serve: exit %d, stderr %q; want 1 and the store in use", code, stderr)
	}

	out := filepath.Join(t.TempDir(), "copy.db")
	code, stdout, stderr := run(t, "", "backup", "--data-dir", data, "--out", out)
	if code != 0 || !strings.Contains(stdout, "and checked it: 32 customers") {
		t.Fatalf("backup: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	cp, err := boltdb.Open(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.Check(ctx); err != nil {
		t.Errorf("the backup does not check: %v", err)
	}
	conv, err := cp.Conversation(ctx, welcome.ConversationID)
	if err != nil || conv.CustomerID != "c-001" {
		t.Errorf("the backup lacks the open chat of c-001: %+v, %v", conv, err)
	}
	cp.Close()

	code, stdout, stderr = run(t, "", "customer", "export", "--data-dir", data, "c-001")
	var ex crm.Export
	if code != 0 || json.Unmarshal([]byte(stdout), &ex) != nil || ex.Customer.Email != "ana@example.com" {
		t.Fatalf("export: exit %d, stderr %q, customer %+v", code, stderr, ex.Customer)
	}
	if !exportHas(ex, welcome.ConversationID) {
		t.Errorf("the export lacks the open chat %s", welcome.ConversationID)
	}

	code, stdout, stderr = run(t, "y\n", "customer", "erase", "--data-dir", data, "c-001")
	if code != 0 || !strings.Contains(stdout, "Erase customer c-001 (Ana Lopez <ana@example.com>)") ||
		!strings.Contains(stdout, "erased customer c-001: ") {
		t.Fatalf("erase: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != 4001 || ce.Text != "conversation erased" {
			t.Fatalf("the erased customer's chat ended with %v, want close 4001 \"conversation erased\"", err)
		}
		break
	}

	for _, args := range [][]string{
		{"customer", "export", "--data-dir", data, "c-001"},
		{"customer", "erase", "--data-dir", data, "--yes", "c-001"},
	} {
		if code, _, stderr := run(t, "", args...); code != 1 || !strings.Contains(stderr, "not found") {
			t.Errorf("%s after the erasure: exit %d, stderr %q", args[1], code, stderr)
		}
	}

	// Stopped, the server removes its socket, and the commands open the
	// store themselves.
	s.stop(t)
	if _, err := os.Lstat(sock); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket left after a clean stop: %v", err)
	}
	if code, stdout, stderr := run(t, "", "backup", "--data-dir", data, "--out", out); code != 0 || !strings.Contains(stdout, "31 customers") {
		t.Errorf("backup of the stopped server's store: exit %d, %q %q", code, stdout, stderr)
	}
}

func exportHas(ex crm.Export, convID string) bool {
	for _, c := range ex.Conversations {
		if c.ID == convID {
			return true
		}
	}
	return false
}

// TestAdminStaleSocket leaves the socket file of a server that died: the
// commands open the store beside it, and the next server replaces it.
func TestAdminStaleSocket(t *testing.T) {
	dir, id := seedStore(t)
	sock := filepath.Join(dir, adminSocket)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false) // as after SIGKILL
	ln.Close()
	if code, stdout, stderr := run(t, "", "customer", "export", "--data-dir", dir, id); code != 0 || !strings.Contains(stdout, `"ada@example.com"`) {
		t.Fatalf("export beside a stale socket: exit %d, %q %q", code, stdout, stderr)
	}

	startServe(t, "--data-dir", dir, "--model", shoptest.ModelDir(t))
	if _, err := admin.NewClient(sock).Ops(context.Background()); err != nil {
		t.Fatalf("the new server does not answer on %s: %v", sock, err)
	}
	if code, stdout, stderr := run(t, "", "customer", "export", "--data-dir", dir, id); code != 0 || !strings.Contains(stdout, `"ada@example.com"`) {
		t.Fatalf("export through the new server: exit %d, %q %q", code, stdout, stderr)
	}
}
