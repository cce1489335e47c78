// Package httpjson holds the JSON request and response rules shared by
// Parley's HTTP APIs (the REST API in package web and the agent console in
// web/console): one error shape, {"error":{"code":...,"message":...}},
// bounded bodies, and strict decoding (unknown fields, trailing data and
// invalid UTF-8 are errors).
package httpjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// Error codes that both APIs answer; each API documents the statuses that
// go with them and adds codes of its own.
const (
	CodeBadRequest       = "bad_request"
	CodeInvalidJSON      = "invalid_json"
	CodeTooLarge         = "too_large"
	CodeInternal         = "internal"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	CodeAlreadyClaimed   = "already_claimed"
	CodeUnknownAgent     = "unknown_agent"
	CodeUnavailable      = "unavailable"
)

// Error is an error answer: its HTTP status, code and message. The message
// is for the caller to read: it never says anything about the server's
// inside.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Write answers the error.
func (e *Error) Write(w http.ResponseWriter) { WriteError(w, e.Status, e.Code, e.Message) }

// ErrorBody is the JSON of an error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the "error" member of an error answer.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Write writes v as the response body, not to be cached. Responses are
// built from values that always encode, so an encoding error can only come
// from the connection, which is gone by then; a value that does not encode
// answers 500.
func Write(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		json.NewEncoder(&buf).Encode(ErrorBody{ErrorDetail{CodeInternal, "encode response"}})
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// WriteError answers {"error":{"code":code,"message":message}}.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	Write(w, status, ErrorBody{ErrorDetail{code, message}})
}

// ReadBody reads a request body of at most max bytes: 413 too_large over
// that, 400 bad_request when the read fails.
func ReadBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, *Error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, &Error{http.StatusRequestEntityTooLarge, CodeTooLarge,
				fmt.Sprintf("request body over %d bytes", max)}
		}
		return nil, &Error{http.StatusBadRequest, CodeBadRequest, "read request body: " + err.Error()}
	}
	return body, nil
}

// ReadRequest reads a request body of at most max bytes and decodes it
// with decode, which checks it too. When either fails it answers the error
// (as ReadBody and decode say) and returns false.
func ReadRequest[T any](w http.ResponseWriter, r *http.Request, max int64, decode func([]byte) (T, *Error)) (T, bool) {
	var req T
	body, e := ReadBody(w, r, max)
	if e == nil {
		req, e = decode(body)
	}
	if e != nil {
		e.Write(w)
		return req, false
	}
	return req, true
}

// BadRequest is a 400 bad_request answer saying message.
func BadRequest(message string) *Error {
	return &Error{http.StatusBadRequest, CodeBadRequest, message}
}

// CheckText checks the "text" field of a request (a message, a note, a
// text to parse): 400 bad_request when blank or not valid UTF-8, 413
// too_large over max bytes.
func CheckText(text string, max int) *Error {
	switch {
	case strings.TrimSpace(text) == "":
		return BadRequest(`"text" is empty`)
	case len(text) > max:
		return &Error{http.StatusRequestEntityTooLarge, CodeTooLarge,
			fmt.Sprintf(`"text" is %d bytes, at most %d`, len(text), max)}
	case !utf8.ValidString(text):
		return BadRequest(`"text" is not valid UTF-8`)
	}
	return nil
}

// Decode decodes one JSON object from body into v. Anything but an object
// (null, an array), unknown fields, trailing data, and a body that is not
// valid UTF-8 (which encoding/json
// would quietly turn into U+FFFD) are 400 invalid_json.
func Decode(body []byte, v any) *Error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return &Error{http.StatusBadRequest, CodeInvalidJSON, "empty request body: expected a JSON object"}
	}
	if trimmed[0] != '{' {
		// null would decode into v as nothing at all.
		return &Error{http.StatusBadRequest, CodeInvalidJSON, "expected a JSON object"}
	}
	if !utf8.Valid(body) {
		return &Error{http.StatusBadRequest, CodeInvalidJSON, "request body is not valid UTF-8"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &Error{http.StatusBadRequest, CodeInvalidJSON, problem(err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &Error{http.StatusBadRequest, CodeInvalidJSON, "unexpected data after the JSON object"}
	}
	return nil
}

// problem says what is wrong with a body in words for the caller.
func problem(err error) string {
	if e, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("malformed JSON at byte %d: %s", e.Offset, e.Error())
	}
	if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if e.Field != "" {
			return fmt.Sprintf("field %q must be a JSON %s", e.Field, kind(e.Type.Kind().String()))
		}
		return "expected a JSON object"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "malformed JSON: unexpected end of body"
	}
	// "json: unknown field \"x\"" and the like.
	return strings.TrimPrefix(err.Error(), "json: ")
}

func kind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "int64", "uint64", "float64":
		return "number"
	case "bool":
		return "boolean"
	}
	return goKind
}

// routeMethods are the methods tried when a path matches no route, to tell
// 405 (with Allow) from 404.
var routeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// Route serves r with mux and answers in JSON when no route matches: 405
// method_not_allowed with Allow when the path has routes for other methods
// (HEAD counts with GET), else 404 not_found "no <what> route <path>".
func Route(mux *http.ServeMux, what string, w http.ResponseWriter, r *http.Request) {
	if _, pattern := mux.Handler(r); pattern != "" {
		mux.ServeHTTP(w, r)
		return
	}
	var allow []string
	for _, m := range routeMethods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := mux.Handler(probe); p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		WriteError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no %s route %s", what, r.URL.Path))
		return
	}
	if slices.Contains(allow, http.MethodGet) {
		allow = append(allow, http.MethodHead)
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	WriteError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed,
		fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, strings.Join(allow, ", ")))
}
