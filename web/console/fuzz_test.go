package console

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/crm"
)

// FuzzLoginBody feeds login bodies to the decoder and to the handler: a
// body the decoder accepts has a trimmed e-mail and a password within
// their bounds, and the handler answers every body with JSON and never
// with a 500.
func FuzzLoginBody(f *testing.F) {
	for _, seed := range []string{
		loginBody(bob, password),
		loginBody(bob, "wrong"),
		`{"email":"  bob@example.com ","password":"x"}`,
		`{"email":"bob@example.com"}`,
		`{"email":"","password":""}`,
		`{"email":"a","password":"b","remember":true}`,
		`{"email":1,"password":2}`,
		`{"email":"\u0000","password":"\ud800"}`,
		`{"email":"a"} {"email":"b"}`,
		`[]`, `null`, ``, `{`,
	} {
		f.Add(seed)
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, body string) {
		req, e := decodeLogin([]byte(body))
		if e == nil {
			if req.Email == "" || req.Email != strings.TrimSpace(req.Email) || len(req.Email) > maxEmailBytes {
				t.Fatalf("accepted e-mail %q", req.Email)
			}
			if req.Password == "" || len(req.Password) > maxPasswordBytes {
				t.Fatalf("accepted a password of %d bytes", len(req.Password))
			}
		} else if e.Status != http.StatusBadRequest && e.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("refused with %d", e.Status)
		}
		rec := fx.serve(request(http.MethodPost, "/console/api/login", body))
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("login %q: %d %s", body, rec.Code, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("login %q: Content-Type %q", body, ct)
		}
	})
}

// consoleActions are the requests FuzzActionBodies sends a body to.
var consoleActions = []struct{ method, target string }{
	{http.MethodPost, convPath("fz", "claim")},
	{http.MethodPost, convPath("fz", "release")},
	{http.MethodPost, convPath("fz", "return")},
	{http.MethodPost, convPath("fz", "resolve")},
	{http.MethodPost, convPath("fz", "transfer")},
	{http.MethodPost, convPath("fz", "messages")},
	{http.MethodPost, convPath("fz", "notes")},
	{http.MethodPut, "/console/api/canned/fz"},
}

// FuzzActionBodies feeds the bodies of the console's actions to their
// decoders and to the handlers: what a decoder accepts keeps its rules,
// and the handlers answer every body with JSON (or 204) and never with a
// 500.
func FuzzActionBodies(f *testing.F) {
	for i, seed := range []string{
		``, `{}`, ` {} `, `{"force":true}`,
		`{"queue":"returns"}`, `{"agent_id":"dave@example.com"}`, `{"queue":"orders","agent_id":"x"}`,
		`{"queue":"billing"}`, `{"queue":""}`,
		`{"text":"Hi Ana, I'm on it","client_id":"m-1"}`, `{"text":"   "}`, `{"text":"<img src=x onerror=alert(1)>"}`,
		`{"text":"caf\u00e9 \ud83d\ude00"}`, `{"text":"\ud800"}`,
		`{"title":"Refund sent","text":"Hi {{customer.name}}, {{order.id}} is refunded."}`,
		`{"title":1}`, `{"text":"a"}{"text":"b"}`, `null`, `[]`,
	} {
		f.Add(uint8(i), seed)
	}
	fx := newFixture(f)
	fx.handedOff(f, "fz", "c-1")
	a := fx.login(f, admin)
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		checkDecoders(t, []byte(body))
		act := consoleActions[int(which)%len(consoleActions)]
		rec := a.do(t, act.method, act.target, body)
		switch {
		case rec.Code == http.StatusNoContent:
		case rec.Code >= 500:
			t.Fatalf("%s %s %q: %d %s", act.method, act.target, body, rec.Code, rec.Body)
		case rec.Header().Get("Content-Type") != "application/json":
			t.Fatalf("%s %s %q: %d with Content-Type %q", act.method, act.target, body, rec.Code, rec.Header().Get("Content-Type"))
		}
	})
}

// checkDecoders checks what each action decoder makes of body.
func checkDecoders(t *testing.T, body []byte) {
	t.Helper()
	if e := decodeAction(body); e == nil {
		if s := strings.TrimSpace(string(body)); s != "" && !strings.HasPrefix(s, "{") {
			t.Fatalf("action body %q accepted", body)
		}
	}
	if req, e := decodeTransfer(body); e == nil {
		if (req.Queue == "") == (req.AgentID == "") || len(req.Queue) > maxIDBytes || len(req.AgentID) > maxIDBytes {
			t.Fatalf("transfer %+v accepted", req)
		}
	}
	if req, e := decodeMessage(body); e == nil {
		checkAcceptedText(t, req.Text, maxTextBytes)
		if len(req.ClientID) > maxIDBytes {
			t.Fatalf("client id of %d bytes accepted", len(req.ClientID))
		}
	}
	if req, e := decodeNote(body); e == nil {
		checkAcceptedText(t, req.Text, crm.MaxEventText)
	}
	if _, e := decodeCanned(body); e == nil && !utf8.Valid(body) {
		t.Fatalf("canned body of invalid UTF-8 accepted")
	}
}

func checkAcceptedText(t *testing.T, text string, max int) {
	t.Helper()
	if strings.TrimSpace(text) == "" || len(text) > max || !utf8.ValidString(text) {
		t.Fatalf("text %q accepted", text)
	}
}
