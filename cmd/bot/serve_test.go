package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyhq/parley/internal/shoptest"
	"github.com/parleyhq/parley/nlp/encoder"
)

// syncBuffer is a bytes.Buffer that the server and the test may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer // guarded by mu
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// served is one "bot serve" run in this process.
type served struct {
	base   string // http://127.0.0.1:PORT
	out    *syncBuffer
	errOut *syncBuffer
	cancel context.CancelFunc
	code   chan int
}

// startServe runs "bot serve" with args on a free port and returns once it
// listens. The demo help centre's encoder is copied into its data directory
// first (seedKBEncoder), so only TestServeKB pays for its training.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	seedKBEncoder(t, args)
	return startServeAsIs(t, args...)
}

// startServeAsIs is startServe without seeding the help centre's encoder:
// a fresh data directory trains it, as a newcomer's first start does.
func startServeAsIs(t *testing.T, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{out: &syncBuffer{}, errOut: &syncBuffer{}, cancel: cancel, code: make(chan int, 1)}
	m := NewMain(s.out, s.errOut)
	go func() { s.code <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)) }()
	t.Cleanup(func() { s.stop(t) })
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if line, ok := strings.CutPrefix(s.out.String(), "Parley is serving on "); ok {
			s.base, _, _ = strings.Cut(line, "\n")
			return s
		}
		select {
		case code := <-s.code:
			s.code <- code
			t.Fatalf("serve exited with %d before listening: %s %s", code, s.out, s.errOut)
		case <-tick.C:
		}
	}
}

// stop sends the equivalent of SIGINT and waits for a clean exit.
func (s *served) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	code := <-s.code
	s.code <- code
	if code != 0 {
		t.Errorf("serve exit %d: %s", code, s.out)
	}
}

func (s *served) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(s.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// wsFrame is the part of the web chat's frames the test reads.
type wsFrame struct {
	Type           string `json:"type"`
	Token          string `json:"token"`
	ConversationID string `json:"conversation_id"`
	Seq            uint64 `json:"seq"`
	Sender         string `json:"sender"`
	Text           string `json:"text"`
	ClientID       string `json:"client_id"`
}

func dialChat(t *testing.T, base, token string) (*websocket.Conn, wsFrame) {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", http.Header{"Origin": {base}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	send(t, conn, map[string]any{"v": 1, "type": "hello", "token": token})
	return conn, readUntil(t, conn, func(f wsFrame) bool { return f.Type == "welcome" })
}

func send(t *testing.T, conn *websocket.Conn, v any) {
	t.Helper()
	if err := conn.WriteJSON(v); err != nil {
		t.Fatal(err)
	}
}

// readUntil reads frames until one satisfies ok.
func readUntil(t *testing.T, conn *websocket.Conn, ok func(wsFrame) bool) wsFrame {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	for {
		var f wsFrame
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatalf("read frame: %v", err)
		}
		if ok(f) {
			return f
		}
	}
}

// TestServe runs the server as a newcomer would (with the demo model
// already trained, to save time), chats over the websocket, uses the API,
// stops it, starts it again on the same data directory and resumes the
// conversation.
func TestServe(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"--data-dir", data, "--model", shoptest.ModelDir(t), "--api-token", "s3cret-token"}
	s := startServe(t, args...)
	if log := s.errOut.String(); strings.Contains(log, "kb: training") || !strings.Contains(log, "kb: help centre ready") {
		t.Errorf("the seeded help-centre encoder was not loaded: %s", log)
	}
	for _, path := range []string{"/healthz", "/readyz", "/", "/widget.js"} {
		if code, body := s.get(t, path); code != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}

	req, _ := http.NewRequest("POST", s.base+"/api/v1/parse", strings.NewReader(`{"text": "where is my order 1042?"}`))
	req.Header.Set("Authorization", "Bearer s3cret-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct{ Intent string }
	err = json.NewDecoder(resp.Body).Decode(&parsed)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || parsed.Intent != "order_status" {
		t.Fatalf("parse API: %d, %+v, %v", resp.StatusCode, parsed, err)
	}

	conn, welcome := dialChat(t, s.base, "")
	send(t, conn, map[string]any{"v": 1, "type": "message", "client_id": "c1", "text": "where is my order 1042?"})
	ack := readUntil(t, conn, func(f wsFrame) bool { return f.Type == "ack" })
	reply := readUntil(t, conn, func(f wsFrame) bool { return f.Type == "message" && f.Sender == "bot" })
	if !strings.Contains(reply.Text, "1042") {
		t.Errorf("reply %q does not answer about order 1042", reply.Text)
	}
	conn.Close()
	s.stop(t)
	if !strings.Contains(s.out.String(), "Parley stopped.") {
		t.Errorf("no clean stop in %q", s.out)
	}
	if _, err := os.Stat(filepath.Join(data, tokenKeyFile)); err != nil {
		t.Fatal(err)
	}

	// A restart keeps the visitor's conversation: same token, same history.
	s = startServe(t, args...)
	conn, again := dialChat(t, s.base, welcome.Token)
	if again.ConversationID != welcome.ConversationID {
		t.Fatalf("after a restart the visitor got conversation %s, want %s", again.ConversationID, welcome.ConversationID)
	}
	first := readUntil(t, conn, func(f wsFrame) bool { return f.Type == "message" })
	if first.Seq != ack.Seq || first.ClientID != "c1" {
		t.Errorf("history starts with %+v, want the customer's message seq %d", first, ack.Seq)
	}
}

func TestServeBadConfig(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := run(t, "", "serve", "--data-dir", dir, "--log-level", "loud"); code != 2 || !strings.Contains(errOut, "log level") {
		t.Errorf("bad log level: exit %d, %q", code, errOut)
	}
	t.Setenv("PARLEY_IP_RATE", "lots")
	if code, _, errOut := run(t, "", "serve", "--data-dir", dir); code != 2 || !strings.Contains(errOut, "PARLEY_IP_RATE") {
		t.Errorf("bad PARLEY_IP_RATE: exit %d, %q", code, errOut)
	}
	if err := os.WriteFile(filepath.Join(dir, tokenKeyFile), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadTokenKey(filepath.Join(dir, tokenKeyFile)); err == nil || !strings.Contains(err.Error(), "want 32") {
		t.Errorf("short key: %v", err)
	}
}

// demoKBEncoder is a directory holding the demo help centre's encoder,
// trained once per test binary exactly as serve's first start trains it
// (encoder.OpenKB), so that serve starts in tests load it instead of
// training it again (long under -race). Tests must not change it.
var demoKBEncoder = sync.OnceValues(func() (string, error) {
	ix, err := buildKBIndex("")
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "parley-kb-encoder-")
	if err != nil {
		return "", err
	}
	if _, _, err := encoder.OpenKB(context.Background(), ix, dir, nil); err != nil {
		return "", err
	}
	return dir, nil
})

// seedKBEncoder copies demoKBEncoder into DATA-DIR/kb-encoder when serve's
// args name a data directory, use the demo help centre (no --kb) and the
// directory has no encoder yet. serve still checks the copy (encoder.OpenKB
// retrains one that does not fit its articles).
func seedKBEncoder(t *testing.T, args []string) {
	t.Helper()
	data := ""
	for i, a := range args {
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			continue
		}
		if !hasVal && i+1 < len(args) {
			val = args[i+1]
		}
		switch name {
		case "kb":
			return
		case "data-dir":
			data = val
		}
	}
	if data == "" || os.Getenv("PARLEY_KB") != "" {
		return
	}
	dst := filepath.Join(data, kbEncoderDir)
	if _, err := os.Stat(dst); err == nil {
		return
	}
	src, err := demoKBEncoder()
	if err != nil {
		t.Fatalf("train the demo help centre's encoder: %v", err)
	}
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatalf("seed the help centre's encoder: %v", err)
	}
}
