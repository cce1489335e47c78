//go:build linux

package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/shoptest"
)

// TestServeStoreThatCannotWrite makes the store's file unwritable under a
// running server (a read-only descriptor in place of its own, as a full
// disk or a failing device would): /readyz turns 503 and says why, the
// same error of every message is logged once, and once the file is
// writable again /readyz turns 200 by itself.
func TestServeStoreThatCannotWrite(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	s := startServe(t, "--data-dir", data, "--model", shoptest.ModelDir(t))
	conn, _ := dialChat(t, s.base, "")
	send(t, conn, map[string]any{"v": 1, "type": "message", "client_id": "c0", "text": "hello"})
	// The bot's reply, not the ack: its turn must be committed before the
	// store turns read-only, or it fails too and adds to the count below.
	readUntil(t, conn, func(f wsFrame) bool { return f.Type == "message" && f.Sender == "bot" })

	path := filepath.Join(data, "parley.db")
	fd := fileDescriptor(t, path)
	swap := func(flag int) {
		f, err := os.OpenFile(path, flag, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := syscall.Dup3(int(f.Fd()), fd, 0); err != nil {
			t.Fatal(err)
		}
	}
	swap(os.O_RDONLY)
	restored := false
	defer func() {
		if !restored {
			swap(os.O_RDWR)
		}
	}()

	for i := range 5 {
		send(t, conn, map[string]any{"v": 1, "type": "message", "client_id": "c" + string(rune('1'+i)), "text": "are you there?"})
		readUntil(t, conn, func(f wsFrame) bool { return f.Type == "error" })
	}
	code, body := s.get(t, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "cannot write") {
		t.Errorf("GET /readyz with an unwritable store: %d %s", code, body)
	}
	if n := strings.Count(s.errOut.String(), "webchat receive message"); n != 1 {
		t.Errorf("the failed message was logged %d times, want once (the rest counted):\n%s", n, s.errOut)
	}

	swap(os.O_RDWR)
	restored = true
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := s.get(t, "/readyz")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /readyz after the store became writable: %d %s", code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	send(t, conn, map[string]any{"v": 1, "type": "message", "client_id": "c9", "text": "hello again"})
	readUntil(t, conn, func(f wsFrame) bool { return f.Type == "ack" })
	conn.Close()
	s.stop(t)
	if !strings.Contains(s.errOut.String(), "repeated=4") {
		t.Errorf("no summary of the 4 repeats in the log:\n%s", s.errOut)
	}
}

// fileDescriptor finds this process's one descriptor of path.
func fileDescriptor(t *testing.T, path string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	found := -1
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err != nil || target != path {
			continue
		}
		if found >= 0 {
			t.Fatalf("two descriptors of %s", path)
		}
		fd := 0
		for _, r := range e.Name() {
			fd = fd*10 + int(r-'0')
		}
		found = fd
	}
	if found < 0 {
		t.Fatalf("no descriptor of %s", path)
	}
	return found
}
