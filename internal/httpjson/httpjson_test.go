package httpjson

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	type body struct {
		Text string `json:"text"`
		N    int    `json:"n"`
	}
	for _, tc := range []struct {
		name, in string
		ok       bool
		msg      string // part of the message when refused
	}{
		{"object", `{"text":"hi","n":2}`, true, ""},
		{"spaces", " \n{\"text\":\"hi\"} \n", true, ""},
		{"empty", "  ", false, "empty request body"},
		{"null", "null", false, "expected a JSON object"},
		{"array", "[1]", false, "expected a JSON object"},
		{"unknown field", `{"text":"hi","x":1}`, false, `unknown field "x"`},
		{"wrong type", `{"n":"2"}`, false, `field "n" must be a JSON number`},
		{"trailing", `{"text":"a"} {"text":"b"}`, false, "unexpected data"},
		{"truncated", `{"text":"a`, false, "unexpected end"},
		{"syntax", `{"text" "a"}`, false, "malformed JSON at byte"},
		{"bad UTF-8", "{\"text\":\"\xff\"}", false, "not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b body
			e := Decode([]byte(tc.in), &b)
			if tc.ok != (e == nil) {
				t.Fatalf("Decode(%q) = %v, want ok %v", tc.in, e, tc.ok)
			}
			if e != nil && (e.Status != http.StatusBadRequest || e.Code != CodeInvalidJSON || !strings.Contains(e.Message, tc.msg)) {
				t.Fatalf("Decode(%q) = %+v, want 400 invalid_json saying %q", tc.in, e, tc.msg)
			}
		})
	}
}

func TestReadBodyLimit(t *testing.T) {
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("a", 11)))
	if _, e := ReadBody(rec, r, 10); e == nil || e.Status != http.StatusRequestEntityTooLarge || e.Code != CodeTooLarge {
		t.Fatalf("11 bytes with a limit of 10: %v", e)
	}
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader("0123456789"))
	if b, e := ReadBody(rec, r, 10); e != nil || string(b) != "0123456789" {
		t.Fatalf("10 bytes: %q %v", b, e)
	}
}

func TestWriteError(t *testing.T) {
	rec := httptest.NewRecorder()
	(&Error{Status: http.StatusConflict, Code: "conflict", Message: "<b>no</b>"}).Write(rec)
	if rec.Code != http.StatusConflict || rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	var got ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.Error.Code != "conflict" || got.Error.Message != "<b>no</b>" {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	if strings.Contains(rec.Body.String(), "<b>") {
		t.Fatalf("markup not escaped in JSON: %s", rec.Body)
	}
	// A value that does not encode is a 500 with the error shape.
	rec = httptest.NewRecorder()
	Write(rec, http.StatusOK, map[string]any{"f": func() {}})
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), CodeInternal) {
		t.Fatalf("unencodable value: %d %s", rec.Code, rec.Body)
	}
}
