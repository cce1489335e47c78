package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/nlp"
)

// Error codes of the API's JSON errors, {"error":{"code":...,"message":...}}.
// API.md lists them with their HTTP statuses.
const (
	codeBadRequest       = "bad_request"
	codeInvalidJSON      = "invalid_json"
	codeUnauthorized     = "unauthorized"
	codeAPIDisabled      = "api_disabled"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeTooLarge         = "too_large"
	codeModelNotLoaded   = "model_not_loaded"
	codeNotReady         = "not_ready"
	codeUnavailable      = "unavailable"
	codeInternal         = "internal"
)

// maxBodyBytes bounds an API request body. The texts it carries are at most
// maxTextBytes; the rest is room for JSON escapes (\u00e9 is six bytes for
// two) and the other fields.
const maxBodyBytes = 64 << 10

// maxTextBytes bounds the text of a parse request or a posted message: the
// smaller of the store's default limit for a message and the most the NLU
// reads (4096 today, as API.md says).
const maxTextBytes = min(crm.DefaultMaxMessageBytes, nlp.MaxTextBytes)

// apiError is an error answer: its HTTP status, code and message.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeJSON writes v as the response body. Responses are small and built
// from values that always encode, so an encoding error can only come from
// the connection, which is gone by then.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		json.NewEncoder(&buf).Encode(errorBody{errorDetail{codeInternal, "encode response"}})
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, errorBody{errorDetail{code, message}})
}

func (e *apiError) write(w http.ResponseWriter) { writeError(w, e.status, e.code, e.message) }

// readBody reads a request body of at most maxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, &apiError{http.StatusRequestEntityTooLarge, codeTooLarge,
				fmt.Sprintf("request body over %d bytes", maxBodyBytes)}
		}
		return nil, &apiError{http.StatusBadRequest, codeBadRequest, "read request body: " + err.Error()}
	}
	return body, nil
}

// decodeJSON decodes one JSON object from body into v. Unknown fields,
// trailing data, and a body that is not valid UTF-8 (which encoding/json
// would quietly turn into U+FFFD) are errors.
func decodeJSON(body []byte, v any) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		return &apiError{http.StatusBadRequest, codeInvalidJSON, "empty request body: expected a JSON object"}
	}
	if !utf8.Valid(body) {
		return &apiError{http.StatusBadRequest, codeInvalidJSON, "request body is not valid UTF-8"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &apiError{http.StatusBadRequest, codeInvalidJSON, jsonProblem(err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &apiError{http.StatusBadRequest, codeInvalidJSON, "unexpected data after the JSON object"}
	}
	return nil
}

// jsonProblem says what is wrong with a body in words for the caller.
func jsonProblem(err error) string {
	if e, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("malformed JSON at byte %d: %s", e.Offset, e.Error())
	}
	if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if e.Field != "" {
			return fmt.Sprintf("field %q must be a JSON %s", e.Field, jsonKind(e.Type.Kind().String()))
		}
		return "expected a JSON object"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "malformed JSON: unexpected end of body"
	}
	// "json: unknown field \"x\"" and the like.
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonKind(goKind string) string {
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

// checkText validates the text of a parse request or a posted message.
func checkText(text string) *apiError {
	switch {
	case strings.TrimSpace(text) == "":
		return &apiError{http.StatusBadRequest, codeBadRequest, `"text" is empty`}
	case len(text) > maxTextBytes:
		return &apiError{http.StatusRequestEntityTooLarge, codeTooLarge,
			fmt.Sprintf(`"text" is %d bytes, at most %d`, len(text), maxTextBytes)}
	case !utf8.ValidString(text):
		return &apiError{http.StatusBadRequest, codeBadRequest, `"text" is not valid UTF-8`}
	}
	return nil
}
