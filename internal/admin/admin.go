package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/parleyhq/parley/crm"
)

// Errors of the package. Errors that come from the server are *Error values,
// which also match these (and the crm sentinels) with errors.Is.
var (
	// ErrNoServer means nothing answers on the socket: there is no socket
	// file, or its server is gone.
	ErrNoServer = errors.New("no server answers")
	// ErrServerRunning means Listen found a server answering on the socket.
	ErrServerRunning = errors.New("another server answers on the admin socket")
	// ErrUnknownOp means the server has no operation of that name (it may be
	// older than the client).
	ErrUnknownOp = errors.New("unknown operation")
	// ErrBadRequest means the server could not read the request, or an
	// operation's arguments are malformed or missing.
	ErrBadRequest = errors.New("bad request")
	// ErrTooLarge means the request's body is over MaxRequestBytes.
	ErrTooLarge = errors.New("request too large")
	// ErrUnavailable means the server is stopping.
	ErrUnavailable = errors.New("server unavailable")
)

// Limits of a request.
const (
	// MaxRequestBytes bounds the body of a request (the arguments).
	MaxRequestBytes = 64 << 10
	// MaxNameBytes bounds an operation's name.
	MaxNameBytes = 64
	// maxErrorBytes bounds an error body the client reads.
	maxErrorBytes = 64 << 10
)

// Error codes of the protocol, with their HTTP status and the error they
// match.
const (
	CodeBadRequest  = "bad_request"       // 400, ErrBadRequest
	CodeTooLarge    = "too_large"         // 413, ErrTooLarge
	CodeUnknownOp   = "unknown_operation" // 404, ErrUnknownOp
	CodeInvalid     = "invalid"           // 400, crm.ErrInvalid
	CodeNotFound    = "not_found"         // 404, crm.ErrNotFound
	CodeConflict    = "conflict"          // 409, crm.ErrConflict
	CodeUnavailable = "unavailable"       // 503, ErrUnavailable (also crm.ErrClosed on the server)
	CodeInternal    = "internal"          // 500, anything else
)

// codes maps errors to codes, first match first.
var codes = []struct {
	code   string
	status int
	err    error
}{
	{CodeBadRequest, http.StatusBadRequest, ErrBadRequest},
	{CodeTooLarge, http.StatusRequestEntityTooLarge, ErrTooLarge},
	{CodeUnknownOp, http.StatusNotFound, ErrUnknownOp},
	{CodeInvalid, http.StatusBadRequest, crm.ErrInvalid},
	{CodeNotFound, http.StatusNotFound, crm.ErrNotFound},
	{CodeConflict, http.StatusConflict, crm.ErrConflict},
	{CodeUnavailable, http.StatusServiceUnavailable, ErrUnavailable},
	{CodeUnavailable, http.StatusServiceUnavailable, crm.ErrClosed},
}

// Error is a failure the server reported. Message is the server's error
// text, such as "export customer: not found".
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Is matches the error of e's code (see the Code constants).
func (e *Error) Is(target error) bool {
	for _, c := range codes {
		if c.code == e.Code && c.err == target {
			return true
		}
	}
	return false
}

// status is the HTTP status of e's code.
func (e *Error) status() int {
	for _, c := range codes {
		if c.code == e.Code {
			return c.status
		}
	}
	return http.StatusInternalServerError
}

// toError turns an operation's error into what the client is told.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return &Error{Code: c.code, Message: err.Error()}
		}
	}
	if errors.Is(err, context.Canceled) { // the server is stopping (or the client left)
		return &Error{Code: CodeUnavailable, Message: err.Error()}
	}
	return &Error{Code: CodeInternal, Message: err.Error()}
}

// errorBody is the JSON of a failure, in a body or the Admin-Error trailer.
type errorBody struct {
	Error *Error `json:"error"`
}

// An Op is one named operation of the admin channel.
type Op struct {
	// Name is what a request asks for: 1 to MaxNameBytes lower-case ASCII
	// letters, digits, '.', '-' and '_', starting with a letter, such as
	// "customer.export".
	Name string
	// Run does the operation. args is the request's JSON object, at most
	// MaxRequestBytes. Run writes its output to w and, where it can, fails
	// before writing anything: then the client gets the error alone. An error
	// wrapping crm.ErrNotFound, crm.ErrInvalid, crm.ErrConflict or
	// ErrBadRequest reaches the client with its code; ctx ends when the
	// client goes away or the server stops.
	Run func(ctx context.Context, args json.RawMessage, w io.Writer) error
}

// Validator is implemented by arguments that check themselves: NewOp calls
// Validate after decoding, and refuses the request with its error.
type Validator interface {
	Validate() error
}

// NewOp returns an Op whose arguments are decoded into an A: strictly (an
// unknown field is refused), and checked by A's Validate method when it has
// one. Decoding and validation errors reach the client as bad_request.
func NewOp[A any](name string, run func(ctx context.Context, args A, w io.Writer) error) Op {
	return Op{Name: name, Run: func(ctx context.Context, raw json.RawMessage, w io.Writer) error {
		var a A
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			return fmt.Errorf("%s: arguments: %v: %w", name, err, ErrBadRequest)
		}
		if v, ok := any(&a).(Validator); ok {
			if err := v.Validate(); err != nil {
				return fmt.Errorf("%s: %v: %w", name, err, ErrBadRequest)
			}
		}
		return run(ctx, a, w)
	}}
}

// validName reports whether s may name an operation.
func validName(s string) bool {
	if s == "" || len(s) > MaxNameBytes || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
