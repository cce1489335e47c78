package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// FuzzRequest reads arbitrary bytes as an HTTP request on the socket and
// serves it: the parser never panics, accepts only a POST of a known
// operation with one JSON object of at most MaxRequestBytes, and every
// refusal is a JSON error whose code has the status sent.
func FuzzRequest(f *testing.F) {
	ctx := context.Background()
	// The requests the commands send (cmd/bot: backup, customer ...), as the
	// client writes them.
	for _, r := range []struct {
		op   string
		args any
	}{
		{"ops", nil},
		{"backup", nil},
		{"customer.get", map[string]string{"id": "cus_ada"}},
		{"customer.export", map[string]string{"id": "cus_ada"}},
		{"customer.erase", map[string]string{"id": "cus_0f3kq1m2n3p4r5s6"}},
		{"echo", echoArgs{Text: "héllo"}},
		{"echo", map[string]string{"text": "x", "mode": "loud"}},
	} {
		req, err := newRequest(ctx, r.op, r.args)
		if err != nil {
			f.Fatal(err)
		}
		var b bytes.Buffer
		if err := req.Write(&b); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	for _, raw := range []string{
		"GET /v1/ops HTTP/1.1\r\nHost: admin\r\n\r\n",
		"POST /v1/echo HTTP/1.1\r\nHost: admin\r\nContent-Length: 7\r\n\r\n[\"x\"]  ",
		"POST /v1/echo HTTP/1.1\r\nHost: admin\r\nTransfer-Encoding: chunked\r\n\r\nd\r\n{\"text\":\"hi\"}\r\n0\r\n\r\n",
		"POST /v1/Echo?x=1 HTTP/1.1\r\nHost: admin\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}",
		"POST /v1/../ops HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n",
	} {
		f.Add([]byte(raw))
	}
	ops := slices.DeleteFunc(testOps(nil), func(op Op) bool { return op.Name == "slow" })
	s, err := NewServer(nil, ops...)
	if err != nil {
		f.Fatal(err)
	}
	known := func(name string) bool { _, ok := s.ops[name]; return ok }
	f.Fuzz(func(t *testing.T, data []byte) {
		read := func() *http.Request {
			req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
			if err != nil {
				t.Skip()
			}
			return req
		}
		req := read()
		parsed, e := parseRequest(req, known)
		if e == nil {
			if req.Method != http.MethodPost || !validName(parsed.op) || !known(parsed.op) {
				t.Fatalf("accepted %s %s", req.Method, req.URL)
			}
			if len(parsed.args) > MaxRequestBytes || parsed.args[0] != '{' || !json.Valid(parsed.args) {
				t.Fatalf("accepted arguments %q", parsed.args)
			}
		} else if e.status() == http.StatusInternalServerError || e.Message == "" {
			t.Fatalf("refusal %+v", e)
		}

		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, read())
		if rec.Code == http.StatusOK {
			if e != nil {
				t.Fatalf("served a request the parser refused (%+v)", e)
			}
			return
		}
		var eb errorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error == nil {
			t.Fatalf("status %d with body %q", rec.Code, rec.Body)
		}
		if eb.Error.status() != rec.Code {
			t.Fatalf("code %s with status %d", eb.Error.Code, rec.Code)
		}
	})
}
