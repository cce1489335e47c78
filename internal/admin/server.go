package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// opsName is the operation every server answers: the names of its
// operations, as {"ops": [...]}. Clients call it to see whether a server
// answers at all.
const opsName = "ops"

// trailerError is the trailer that carries a failure after the output began.
const trailerError = "Admin-Error"

// Server answers the admin protocol (see the package documentation) for a
// set of operations. It is safe for concurrent use.
type Server struct {
	ops map[string]Op
	log *slog.Logger

	ctx    context.Context // ends when Shutdown gives up waiting: requests stop
	cancel context.CancelFunc

	mu      sync.Mutex
	closed  bool           // guarded by mu: no request starts any more
	active  sync.WaitGroup // requests under way; Add only under mu while !closed
	hs      *http.Server   // guarded by mu; nil until Listen
	path    string         // guarded by mu: the socket Listen created
	sock    os.FileInfo    // guarded by mu: the socket file, to remove only ours
	served  chan error     // the result of http.Server.Serve
	stopped sync.Once
	stopErr error // set once by stop
}

// NewServer returns a server of ops (and of the built-in "ops"). It fails
// when a name is invalid or given twice. logger may be nil (discard).
func NewServer(logger *slog.Logger, ops ...Op) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{ops: make(map[string]Op, len(ops)+1), log: logger}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for _, op := range append(ops, Op{Name: opsName, Run: s.listOps}) {
		switch _, dup := s.ops[op.Name]; {
		case !validName(op.Name):
			return nil, fmt.Errorf("admin operation %q: invalid name", op.Name)
		case dup:
			return nil, fmt.Errorf("admin operation %q: given twice", op.Name)
		case op.Run == nil:
			return nil, fmt.Errorf("admin operation %q: no function", op.Name)
		}
		s.ops[op.Name] = op
	}
	return s, nil
}

// names lists the operations in order.
func (s *Server) names() []string {
	names := make([]string, 0, len(s.ops))
	for n := range s.ops {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (s *Server) listOps(_ context.Context, _ json.RawMessage, w io.Writer) error {
	return json.NewEncoder(w).Encode(map[string][]string{"ops": s.names()})
}

// request is a request the parser accepted.
type request struct {
	op   string
	args json.RawMessage // a JSON object
}

// parseRequest checks r against the protocol and reads its arguments; it
// reads at most MaxRequestBytes of the body. known says whether an
// operation exists.
func parseRequest(r *http.Request, known func(string) bool) (request, *Error) {
	if r.Method != http.MethodPost {
		return request{}, &Error{Code: CodeBadRequest, Message: fmt.Sprintf("method %s: want POST", r.Method)}
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	switch {
	case !ok:
		return request{}, &Error{Code: CodeBadRequest, Message: fmt.Sprintf("path %q: want /v1/OPERATION", truncate(r.URL.Path))}
	case !validName(name):
		return request{}, &Error{Code: CodeBadRequest, Message: fmt.Sprintf("operation name %q: want 1 to %d of a-z, 0-9, '.', '-', '_', starting with a letter", truncate(name), MaxNameBytes)}
	case r.URL.RawQuery != "":
		return request{}, &Error{Code: CodeBadRequest, Message: "a query string: the arguments go in the body"}
	case !known(name):
		return request{}, &Error{Code: CodeUnknownOp, Message: fmt.Sprintf("unknown operation %q", name)}
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return request{}, &Error{Code: CodeBadRequest, Message: fmt.Sprintf("content type %q: want application/json", truncate(ct))}
		}
	}
	if r.ContentLength > MaxRequestBytes {
		return request{}, tooLarge()
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBytes+1))
	switch {
	case err != nil:
		return request{}, &Error{Code: CodeBadRequest, Message: fmt.Sprintf("read body: %v", err)}
	case len(body) > MaxRequestBytes:
		return request{}, tooLarge()
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if body[0] != '{' || !json.Valid(body) {
		return request{}, &Error{Code: CodeBadRequest, Message: "the body is not a JSON object"}
	}
	return request{op: name, args: body}, nil
}

func tooLarge() *Error {
	return &Error{Code: CodeTooLarge, Message: fmt.Sprintf("request body over %d bytes", MaxRequestBytes)}
}

// truncate keeps what a message quotes of a request short.
func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// ServeHTTP implements the protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeError(w, &Error{Code: CodeUnavailable, Message: "the server is stopping"})
		return
	}
	s.active.Add(1)
	s.mu.Unlock()
	defer s.active.Done()

	start := time.Now()
	req, e := parseRequest(r, func(name string) bool { _, ok := s.ops[name]; return ok })
	if e != nil {
		if e.Code == CodeUnknownOp {
			e.Message += " (this server knows: " + strings.Join(s.names(), ", ") + ")"
		}
		s.log.Warn("admin request refused", "code", e.Code, "err", e.Message)
		writeError(w, e)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.ctx, cancel)()

	w.Header().Set("Trailer", trailerError)
	w.Header().Set("Content-Type", "application/octet-stream")
	ow := &outputWriter{w: w}
	err := s.run(ctx, req, ow)
	if err == nil {
		s.log.Info("admin request", "op", req.op, "bytes", ow.n, "duration", time.Since(start))
		return
	}
	e = toError(err)
	s.log.Warn("admin request failed", "op", req.op, "code", e.Code, "err", err)
	if ow.n == 0 {
		w.Header().Del("Trailer")
		writeError(w, e)
		return
	}
	b, _ := json.Marshal(errorBody{Error: e})
	w.Header().Set(trailerError, string(b))
}

// run runs an operation, turning a panic into an error for this request.
func (s *Server) run(ctx context.Context, req request, w io.Writer) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("admin operation %s: panic: %v", req.op, p)
		}
	}()
	return s.ops[req.op].Run(ctx, req.args, w)
}

// outputWriter counts what an operation wrote.
type outputWriter struct {
	w http.ResponseWriter
	n int64
}

func (o *outputWriter) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	o.n += int64(n)
	return n, err
}

func writeError(w http.ResponseWriter, e *Error) {
	b, _ := json.Marshal(errorBody{Error: e})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.status())
	w.Write(append(b, '\n'))
}

// Listen creates the socket at path with mode 0600 and serves on it in the
// background until Shutdown or Close. An existing socket file is removed
// first when no server answers on it (a server that stopped without
// cleaning up); Listen fails with ErrServerRunning when one answers, and
// with an error that says what to do when path is something else.
func (s *Server) Listen(path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hs != nil || s.closed {
		return errors.New("admin server: Listen called twice, or after Close")
	}
	ln, fi, err := listenSocket(path)
	if err != nil {
		return err
	}
	s.path, s.sock = path, fi
	s.hs = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	s.served = make(chan error, 1)
	go func() { s.served <- s.hs.Serve(ln) }()
	return nil
}

// listenSocket binds a Unix socket at path that only its owner can use:
// bound in a new private folder, given mode 0600, then renamed into place,
// so that it is never reachable with a wider mode.
func listenSocket(path string) (net.Listener, os.FileInfo, error) {
	if err := removeStale(path); err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp(filepath.Dir(path), ".admin")
	if err != nil {
		return nil, nil, fmt.Errorf("admin socket: %w", err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "s")
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		if errors.Is(err, syscall.EINVAL) {
			return nil, nil, fmt.Errorf("admin socket %s: %w (the path is probably longer than the system allows for a socket, about 100 bytes: use a shorter --data-dir)", path, err)
		}
		return nil, nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false) // renamed: Close removes it
	fail := func(err error) (net.Listener, os.FileInfo, error) {
		ln.Close()
		return nil, nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fail(err)
	}
	return ln, fi, nil
}

// removeStale removes a socket file at path that no server answers on.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("admin socket: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("admin socket %s: the path exists and is not a socket: move it away", path)
	}
	conn, err := net.DialTimeout("unix", path, 2*time.Second)
	switch {
	case err == nil:
		conn.Close()
		return fmt.Errorf("%w: %s (stop that server first)", ErrServerRunning, path)
	case errors.Is(err, syscall.ECONNREFUSED):
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("admin socket: remove the stale socket: %w", err)
		}
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return nil
	}
	return fmt.Errorf("admin socket %s: %w", path, err)
}

// Shutdown stops accepting requests and waits for those under way until ctx
// ends; then it cancels the rest (an operation's ctx ends) and waits for
// them to return, so that the caller may close what they use. It removes the
// socket file and returns ctx's error when it had to cancel. Later calls
// return the first call's result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopped.Do(func() { s.stopErr = s.stop(ctx) })
	return s.stopErr
}

// Close is Shutdown without waiting: requests under way are cancelled.
func (s *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Shutdown(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func (s *Server) stop(ctx context.Context) error {
	s.mu.Lock()
	hs := s.hs
	s.mu.Unlock()
	var err error
	if hs != nil {
		err = hs.Shutdown(ctx)
		if err != nil {
			s.cancel()
			hs.Close()
		}
		if serr := <-s.served; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
	}
	s.cancel()
	s.mu.Lock()
	s.closed = true
	path, sock := s.path, s.sock
	s.mu.Unlock()
	s.active.Wait()
	if path != "" {
		if fi, lerr := os.Lstat(path); lerr == nil && os.SameFile(fi, sock) {
			if rerr := os.Remove(path); rerr != nil {
				err = errors.Join(err, fmt.Errorf("remove admin socket: %w", rerr))
			}
		}
	}
	return err
}
