package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
)

type echoArgs struct {
	Text string `json:"text"`
}

func (a echoArgs) Validate() error {
	if a.Text == "" {
		return errors.New("text missing")
	}
	return nil
}

// testOps are operations that show each path of the protocol. slow waits
// for its context, signalling entered first (when not nil).
func testOps(entered chan<- struct{}) []Op {
	return []Op{
		NewOp("echo", func(_ context.Context, a echoArgs, w io.Writer) error {
			_, err := io.WriteString(w, a.Text)
			return err
		}),
		NewOp("big", func(_ context.Context, _ struct{}, w io.Writer) error {
			_, err := w.Write(bytes.Repeat([]byte("0123456789abcdef"), 1<<16)) // 1 MiB
			return err
		}),
		NewOp("missing", func(_ context.Context, _ struct{}, _ io.Writer) error {
			return fmt.Errorf("find customer: %w", crm.ErrNotFound)
		}),
		NewOp("cut", func(_ context.Context, _ struct{}, w io.Writer) error {
			io.WriteString(w, "partial")
			return errors.New("disk on fire")
		}),
		NewOp("panics", func(_ context.Context, _ struct{}, _ io.Writer) error {
			panic("bug")
		}),
		NewOp("slow", func(ctx context.Context, _ struct{}, w io.Writer) error {
			if entered != nil {
				entered <- struct{}{}
			}
			<-ctx.Done()
			return ctx.Err()
		}),
	}
}

// listen starts a server of testOps on a socket in a new folder.
func listen(t *testing.T, entered chan<- struct{}) (*Server, string) {
	t.Helper()
	s, err := NewServer(nil, testOps(entered)...)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "admin.sock")
	if err := s.Listen(path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestCall(t *testing.T) {
	ctx := context.Background()
	_, path := listen(t, nil)
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("the folder holds %d entries, want the socket alone", len(entries))
	}
	c := NewClient(path)

	ops, err := c.Ops(ctx)
	if err != nil || strings.Join(ops, " ") != "big cut echo missing ops panics slow" {
		t.Fatalf("ops %v, %v", ops, err)
	}
	var out bytes.Buffer
	if n, err := c.Call(ctx, "echo", echoArgs{Text: "héllo"}, &out); err != nil || n != 6 || out.String() != "héllo" {
		t.Fatalf("echo: %d %q %v", n, out.String(), err)
	}
	out.Reset()
	if n, err := c.Call(ctx, "big", nil, &out); err != nil || n != 1<<20 || out.Len() != 1<<20 {
		t.Fatalf("big: %d bytes, %v", n, err)
	}

	for _, tt := range []struct {
		name    string
		op      string
		args    any
		want    error
		code    string
		message string
		output  string
	}{
		{"unknown operation", "agent.add", nil, ErrUnknownOp, CodeUnknownOp, `unknown operation "agent.add" (this server knows: big, cut, echo, missing, ops, panics, slow)`, ""},
		{"invalid arguments", "echo", echoArgs{}, ErrBadRequest, CodeBadRequest, "echo: text missing", ""},
		{"unknown argument", "echo", map[string]string{"text": "x", "mode": "loud"}, ErrBadRequest, CodeBadRequest, `unknown field "mode"`, ""},
		{"wrong argument type", "echo", map[string]int{"text": 3}, ErrBadRequest, CodeBadRequest, "cannot unmarshal number", ""},
		{"store error", "missing", nil, crm.ErrNotFound, CodeNotFound, "find customer: not found", ""},
		{"failure after output", "cut", nil, nil, CodeInternal, "disk on fire", "partial"},
		{"panic", "panics", nil, nil, CodeInternal, "panic: bug", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := c.Call(ctx, tt.op, tt.args, &out)
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.code || !strings.Contains(e.Message, tt.message) {
				t.Fatalf("err %#v, want code %s with %q", err, tt.code, tt.message)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err %v does not match %v", err, tt.want)
			}
			if out.String() != tt.output {
				t.Errorf("output %q, want %q", out.String(), tt.output)
			}
		})
	}
	if _, err := c.Call(ctx, "echo", echoArgs{Text: strings.Repeat("x", MaxRequestBytes)}, io.Discard); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large arguments: %v", err)
	}
	if _, err := c.Call(ctx, "Echo", nil, io.Discard); err == nil || !strings.Contains(err.Error(), "invalid name") {
		t.Errorf("invalid name: %v", err)
	}

	// What the client would not send, sent by hand.
	hc := c.hc
	for _, tt := range []struct {
		name, method, target, ctype, body string
		status                            int
		code                              string
	}{
		{"GET", "GET", "/v1/echo", "", "", 400, CodeBadRequest},
		{"no version", "POST", "/echo", "", "", 400, CodeBadRequest},
		{"query string", "POST", "/v1/echo?text=x", "", "", 400, CodeBadRequest},
		{"form body", "POST", "/v1/echo", "application/x-www-form-urlencoded", "text=x", 400, CodeBadRequest},
		{"array body", "POST", "/v1/echo", "application/json", `["x"]`, 400, CodeBadRequest},
		{"trailing garbage", "POST", "/v1/echo", "", `{"text":"x"} {}`, 400, CodeBadRequest},
		{"huge body", "POST", "/v1/echo", "", `{"text":"` + strings.Repeat("x", MaxRequestBytes) + `"}`, 413, CodeTooLarge},
		{"empty body is {}", "POST", "/v1/echo", "", "", 400, CodeBadRequest}, // echo needs text
		{"ok", "POST", "/v1/echo", "application/json; charset=utf-8", ` {"text":"x"} `, 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, "http://admin"+tt.target, strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.code == "" {
				return
			}
			var eb errorBody
			if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil || eb.Error == nil || eb.Error.Code != tt.code {
				t.Errorf("body %+v, %v, want code %s", eb.Error, err, tt.code)
			}
		})
	}
}

func TestNewServerRefuses(t *testing.T) {
	run := func(context.Context, json.RawMessage, io.Writer) error { return nil }
	for _, tt := range []struct {
		name string
		ops  []Op
		want string
	}{
		{"upper case", []Op{{Name: "Backup", Run: run}}, "invalid name"},
		{"empty", []Op{{Name: "", Run: run}}, "invalid name"},
		{"slash", []Op{{Name: "a/b", Run: run}}, "invalid name"},
		{"twice", []Op{{Name: "backup", Run: run}, {Name: "backup", Run: run}}, "given twice"},
		{"built-in", []Op{{Name: "ops", Run: run}}, "given twice"},
		{"no function", []Op{{Name: "backup"}}, "no function"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewServer(nil, tt.ops...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNoServer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := NewClient(filepath.Join(dir, "admin.sock"))
	if _, err := c.Ops(ctx); !errors.Is(err, ErrNoServer) {
		t.Errorf("no socket file: %v, want ErrNoServer", err)
	}
	staleSocket(t, filepath.Join(dir, "admin.sock"))
	if _, err := c.Ops(ctx); !errors.Is(err, ErrNoServer) {
		t.Errorf("stale socket: %v, want ErrNoServer", err)
	}
}

// staleSocket leaves a socket file at path that nothing listens on, as a
// server killed with SIGKILL does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatal(err)
	}
}

func TestListen(t *testing.T) {
	t.Run("stale socket is replaced", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "admin.sock")
		staleSocket(t, path)
		s, err := NewServer(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Listen(path); err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := NewClient(path).Ops(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a live server is kept", func(t *testing.T) {
		_, path := listen(t, nil)
		s, err := NewServer(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Listen(path); !errors.Is(err, ErrServerRunning) {
			t.Fatalf("second Listen: %v, want ErrServerRunning", err)
		}
		s.Close()
		if _, err := NewClient(path).Ops(context.Background()); err != nil {
			t.Fatalf("the first server stopped answering: %v", err)
		}
	})
	t.Run("not a socket", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "admin.sock")
		if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
			t.Fatal(err)
		}
		s, _ := NewServer(nil)
		if err := s.Listen(path); err == nil || !strings.Contains(err.Error(), "is not a socket: move it away") {
			t.Fatalf("err %v", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "precious" {
			t.Error("the file was touched")
		}
	})
	t.Run("path too long", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), strings.Repeat("d", 120))
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		s, _ := NewServer(nil)
		if err := s.Listen(filepath.Join(dir, "admin.sock")); err == nil || !strings.Contains(err.Error(), "shorter --data-dir") {
			t.Fatalf("err %v", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("left %d entries behind", len(entries))
		}
	})
}

func TestShutdown(t *testing.T) {
	ctx := context.Background()

	// Shutdown waits for a request under way until its context ends, then
	// cancels it, and returns only once the operation returned.
	entered := make(chan struct{}, 1)
	s, path := listen(t, entered)
	c := NewClient(path)
	called := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, "slow", nil, io.Discard)
		called <- err
	}()
	<-entered
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("shutdown with a request under way: %v, want DeadlineExceeded", err)
	}
	if err := <-called; err == nil {
		t.Error("the cancelled request succeeded")
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket left behind: %v", err)
	}
	if _, err := c.Ops(ctx); !errors.Is(err, ErrNoServer) {
		t.Errorf("after shutdown: %v, want ErrNoServer", err)
	}
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second shutdown: %v, want the first one's result", err)
	}

	// An idle server shuts down at once and cleanly.
	s, path = listen(t, nil)
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("idle shutdown: %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket left behind: %v", err)
	}
}
