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
	"syscall"
)

// Client calls the operations of the server on one socket. It is safe for
// concurrent use.
type Client struct {
	path string
	hc   *http.Client
}

// NewClient returns a client of the server on the socket at path. It does
// not connect: a Call does.
func NewClient(path string) *Client {
	var d net.Dialer
	return &Client{path: path, hc: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		},
		MaxResponseHeaderBytes: 64 << 10,
		DisableCompression:     true,
		// A command makes a call or two: no idle connection outlives it.
		DisableKeepAlives: true,
	}}}
}

// Path is the socket the client calls.
func (c *Client) Path() string { return c.path }

// newRequest is the request of a call: the one form the server accepts.
func newRequest(ctx context.Context, op string, args any) (*http.Request, error) {
	if !validName(op) {
		return nil, fmt.Errorf("admin operation %q: invalid name", op)
	}
	body := []byte("{}")
	if args != nil {
		var err error
		if body, err = json.Marshal(args); err != nil {
			return nil, fmt.Errorf("admin operation %s: arguments: %w", op, err)
		}
	}
	if len(body) > MaxRequestBytes {
		return nil, fmt.Errorf("admin operation %s: %w", op, ErrTooLarge)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://admin/v1/"+op, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// Call runs operation op with args (marshalled to a JSON object; nil is {})
// and copies its output to out. It returns the bytes copied and, on a
// failure, an error: wrapping ErrNoServer when nothing answers on the
// socket, an *Error for a failure the server reported (also one that cut
// the output short: out may hold part of it then), or the error of reading
// the output or writing out.
func (c *Client) Call(ctx context.Context, op string, args any, out io.Writer) (int64, error) {
	req, err := newRequest(ctx, op, args)
	if err != nil {
		return 0, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("%w on %s", ErrNoServer, c.path)
		}
		return 0, fmt.Errorf("admin socket %s: %w", c.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, readError(resp)
	}
	n, err := io.Copy(out, resp.Body)
	if err != nil {
		return n, fmt.Errorf("admin operation %s: %w", op, err)
	}
	if t := resp.Trailer.Get(trailerError); t != "" {
		var eb errorBody
		if json.Unmarshal([]byte(t), &eb) != nil || eb.Error == nil {
			return n, &Error{Code: CodeInternal, Message: fmt.Sprintf("admin operation %s failed: %s", op, t)}
		}
		return n, eb.Error
	}
	return n, nil
}

// CallJSON runs op with args and decodes its output, JSON, into result:
// for operations that answer with a small document. Errors as Call's.
func (c *Client) CallJSON(ctx context.Context, op string, args, result any) error {
	var b bytes.Buffer
	if _, err := c.Call(ctx, op, args, &b); err != nil {
		return err
	}
	if err := json.Unmarshal(b.Bytes(), result); err != nil {
		return fmt.Errorf("admin operation %s: decode the answer: %w", op, err)
	}
	return nil
}

// Ops returns the names of the server's operations; it fails wrapping
// ErrNoServer when nothing answers on the socket.
func (c *Client) Ops(ctx context.Context) ([]string, error) {
	var r struct {
		Ops []string `json:"ops"`
	}
	if err := c.CallJSON(ctx, opsName, nil, &r); err != nil {
		return nil, err
	}
	return r.Ops, nil
}

// readError reads the *Error of a failed call.
func readError(resp *http.Response) error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	if err != nil {
		return fmt.Errorf("admin server answered %s: %w", resp.Status, err)
	}
	var eb errorBody
	if json.Unmarshal(b, &eb) != nil || eb.Error == nil || eb.Error.Code == "" {
		return &Error{Code: CodeInternal, Message: fmt.Sprintf("admin server answered %s", resp.Status)}
	}
	return eb.Error
}
