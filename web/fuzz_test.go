package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/internal/httpjson"
)

// Team-written request bodies: what API clients send, right and wrong.
var parseSeeds = []string{
	`{"text":"where is my order 1042?"}`,
	`{"text":"Hi, I'd like to return the speaker from order 1045"}`,
	`{"text":"Wo ist meine Bestellung? 😕"}`,
	`{"text":"caf\u00e9 \ud83d\ude00 \u0000"}`,
	`{"text":"\ud800"}`,
	`{"text":""}`,
	`{"text":"   "}`,
	`{"text":null}`,
	`{"text":"hi","extra":1}`,
	`{"TEXT":"case-insensitive field names"}`,
	`{"text":"hi"} trailing`,
	`{"text":"hi"}{"text":"again"}`,
	`[{"text":"hi"}]`,
	`"text"`,
	`{"text":`,
	"{\"text\":\"caf\xe9\"}",
	"",
}

var postSeeds = []string{
	`{"text":"Your refund was sent today.","sender":"system","client_id":"crm-4711"}`,
	`{"text":"Hi Ana, Sam here.","sender":"agent","agent_id":"sam"}`,
	`{"text":"Your parcel left the warehouse.","sender":"bot","client_id":"ship-1042-1"}`,
	`{"text":"hi","sender":"customer"}`,
	`{"text":"hi","sender":"agent"}`,
	`{"text":"hi","sender":"bot","agent_id":"sam"}`,
	`{"text":"<img src=x onerror=alert(1)>","sender":"system"}`,
	`{"text":"hi","sender":"system","client_id":12}`,
	`{"text":"hi","sender":"system","priority":"high"}`,
	`{"sender":"system"}`,
	`{}`,
}

// Lifecycle bodies: claim, release/return/resolve, transfer and notes, as
// integrations and the console's operators send them, right and wrong.
var actorSeeds = []string{
	`{"agent_id":"sam"}`,
	`{"agent_id":"admin-ada"}`,
	`{}`,
	``,
	"  \n",
	`{"agent_id":""}`,
	`{"agent_id":null}`,
	`{"agent_id":42}`,
	`{"agent_id":"sam","force":true}`,
	`{"AGENT_ID":"sam"}`,
	`{"agent_id":"sam"}{"agent_id":"kim"}`,
	`["sam"]`,
	`{"agent_id":"` + strings.Repeat("a", maxIDBytes+1) + `"}`,
	"{\"agent_id\":\"s\xe4m\"}",
}

var transferSeeds = []string{
	`{"queue":"billing"}`,
	`{"queue":"returns","by":"sam"}`,
	`{"agent_id":"kim","by":"admin-ada"}`,
	`{"agent_id":"kim"}`,
	`{"queue":"billing","agent_id":"kim"}`,
	`{}`,
	`{"by":"sam"}`,
	`{"queue":" billing "}`,
	`{"queue":""}`,
	`{"queue":"` + strings.Repeat("q", maxQueueBytes+1) + `"}`,
	`{"queue":["billing"]}`,
	`{"queue":"billing","priority":"high"}`,
	`{"queue":"caf\u00e9 \ud83d\ude00"}`,
}

var noteSeeds = []string{
	`{"text":"Customer prefers e-mail.","agent_id":"sam"}`,
	`{"text":"Refund approved by finance, ticket T-88.","agent_id":"admin-ada"}`,
	`{"text":"<script>alert(1)</script>","agent_id":"kim"}`,
	`{"text":"","agent_id":"sam"}`,
	`{"text":"  ","agent_id":"sam"}`,
	`{"text":"hm"}`,
	`{"agent_id":"sam"}`,
	`{"text":"hm","agent_id":"sam","private":false}`,
	`{"text":"\ud800","agent_id":"sam"}`,
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, e := decodeParseRequest(body)
		if e != nil {
			checkRefusal(t, body, e)
			return
		}
		checkAcceptedText(t, body, req.Text)
		// What was accepted is what a client meant: re-encoding the text
		// and decoding it again gives it back.
		again, e := decodeParseRequest(mustJSON(t, parseRequest{req.Text}))
		if e != nil || again != req {
			t.Fatalf("round trip of %q: %+v, %v", req.Text, again, e)
		}
	})
}

func FuzzPostMessage(f *testing.F) {
	for _, s := range postSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, e := decodePostMessage(body)
		if e != nil {
			checkRefusal(t, body, e)
			return
		}
		checkAcceptedText(t, body, req.Text)
		switch req.Sender {
		case crm.SenderAgent:
			if req.AgentID == "" {
				t.Fatalf("agent message without agent id accepted: %q", body)
			}
		case crm.SenderSystem, crm.SenderBot:
			if req.AgentID != "" {
				t.Fatalf("agent id on a %s message accepted: %q", req.Sender, body)
			}
		default:
			t.Fatalf("sender %q accepted: %q", req.Sender, body)
		}
		if len(req.ClientID) > maxIDBytes || len(req.AgentID) > maxIDBytes {
			t.Fatalf("overlong id accepted: %q", body)
		}
		again, e := decodePostMessage(mustJSON(t, req))
		if e != nil || again != req {
			t.Fatalf("round trip of %+v: %+v, %v", req, again, e)
		}
	})
}

func FuzzClaimRequest(f *testing.F) {
	for _, s := range actorSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, e := decodeClaim(body)
		if e != nil {
			checkRefusal(t, body, e)
			return
		}
		if !utf8.Valid(body) || req.AgentID == "" || len(req.AgentID) > maxIDBytes {
			t.Fatalf("claim %q accepted as %+v", body, req)
		}
		// What a claim accepts, the other actor routes accept too.
		if other, e := decodeActorRequest(body); e != nil || other != req {
			t.Fatalf("claim %q accepted, actor request %+v, %v", body, other, e)
		}
		again, e := decodeClaim(mustJSON(t, req))
		if e != nil || again != req {
			t.Fatalf("round trip of %+v: %+v, %v", req, again, e)
		}
	})
}

func FuzzActorRequest(f *testing.F) {
	for _, s := range actorSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, e := decodeActorRequest(body)
		if e != nil {
			checkRefusal(t, body, e)
			return
		}
		if len(req.AgentID) > maxIDBytes {
			t.Fatalf("overlong agent id accepted: %q", body)
		}
		if strings.TrimSpace(string(body)) != "" && !utf8.Valid(body) {
			t.Fatalf("body with invalid UTF-8 accepted: %q", body)
		}
		again, e := decodeActorRequest(mustJSON(t, req))
		if e != nil || again != req {
			t.Fatalf("round trip of %+v: %+v, %v", req, again, e)
		}
	})
}

func FuzzTransferRequest(f *testing.F) {
	for _, s := range transferSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, e := decodeTransfer(body)
		if e != nil {
			checkRefusal(t, body, e)
			return
		}
		if !utf8.Valid(body) {
			t.Fatalf("body with invalid UTF-8 accepted: %q", body)
		}
		if (req.Queue == "") == (req.AgentID == "") {
			t.Fatalf("transfer %q accepted with queue %q and agent %q", body, req.Queue, req.AgentID)
		}
		if len(req.Queue) > maxQueueBytes || strings.TrimSpace(req.Queue) != req.Queue ||
			len(req.AgentID) > maxIDBytes || len(req.By) > maxIDBytes {
			t.Fatalf("transfer %q accepted as %+v", body, req)
		}
		again, e := decodeTransfer(mustJSON(t, req))
		if e != nil || again != req {
			t.Fatalf("round trip of %+v: %+v, %v", req, again, e)
		}
	})
}

func FuzzNoteRequest(f *testing.F) {
	for _, s := range noteSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, e := decodeNote(body)
		if e != nil {
			checkRefusal(t, body, e)
			return
		}
		checkAcceptedText(t, body, req.Text)
		if req.AgentID == "" || len(req.AgentID) > maxIDBytes {
			t.Fatalf("note %q accepted with agent %q", body, req.AgentID)
		}
		again, e := decodeNote(mustJSON(t, req))
		if e != nil || again != req {
			t.Fatalf("round trip of %+v: %+v, %v", req, again, e)
		}
	})
}

// checkRefusal checks that a refused body got a client error with a code
// from the documented set.
func checkRefusal(t *testing.T, body []byte, e *httpjson.Error) {
	t.Helper()
	switch {
	case e.Status == http.StatusBadRequest && (e.Code == httpjson.CodeInvalidJSON || e.Code == httpjson.CodeBadRequest):
	case e.Status == http.StatusRequestEntityTooLarge && e.Code == httpjson.CodeTooLarge:
	default:
		t.Fatalf("body %q refused with %d %s", body, e.Status, e.Code)
	}
	if e.Message == "" {
		t.Fatalf("body %q refused without a message", body)
	}
	if !utf8.ValidString(e.Message) {
		t.Fatalf("message %q is not UTF-8", e.Message)
	}
}

func checkAcceptedText(t *testing.T, body []byte, text string) {
	t.Helper()
	if !utf8.Valid(body) {
		t.Fatalf("body with invalid UTF-8 accepted: %q", body)
	}
	if strings.TrimSpace(text) == "" || len(text) > maxTextBytes || !utf8.ValidString(text) {
		t.Fatalf("text %q accepted", text)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
