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

func TestCheckText(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		status     int
		code       string
	}{
		{"ok", "my order", 0, ""},
		{"at the limit", strings.Repeat("é", 5), 0, ""},
		{"blank", " \n\t", http.StatusBadRequest, CodeBadRequest},
		{"over the limit", strings.Repeat("a", 11), http.StatusRequestEntityTooLarge, CodeTooLarge},
		{"bad UTF-8", "caf\xe9", http.StatusBadRequest, CodeBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := CheckText(tc.text, 10)
			if tc.code == "" {
				if e != nil {
					t.Fatalf("CheckText(%q) = %v, want nil", tc.text, e)
				}
				return
			}
			if e == nil || e.Status != tc.status || e.Code != tc.code || e.Message == "" {
				t.Fatalf("CheckText(%q) = %+v, want %d %s", tc.text, e, tc.status, tc.code)
			}
		})
	}
}

func TestReadRequest(t *testing.T) {
	decode := func(body []byte) (string, *Error) {
		var v struct {
			Text string `json:"text"`
		}
		if e := Decode(body, &v); e != nil {
			return "", e
		}
		return v.Text, CheckText(v.Text, 10)
	}
	for _, tc := range []struct {
		name, body string
		want       string
		status     int // of the answer when refused
	}{
		{"ok", `{"text":"hi"}`, "hi", 0},
		{"over the body limit", `{"text":"` + strings.Repeat("a", 40) + `"}`, "", http.StatusRequestEntityTooLarge},
		{"not JSON", `hi`, "", http.StatusBadRequest},
		{"refused by decode", `{"text":""}`, "", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			got, ok := ReadRequest(rec, r, 32, decode)
			if ok != (tc.status == 0) || got != tc.want {
				t.Fatalf("ReadRequest(%q) = %q, %v", tc.body, got, ok)
			}
			if !ok && (rec.Code != tc.status || !strings.Contains(rec.Body.String(), `"error"`)) {
				t.Fatalf("refusal answered %d %s, want %d with an error body", rec.Code, rec.Body, tc.status)
			}
			if ok && rec.Body.Len() != 0 {
				t.Fatalf("accepted request answered %s", rec.Body)
			}
		})
	}
}

func TestRoute(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	mux.HandleFunc("DELETE /things/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	tests := []struct {
		name, method, path string
		status             int
		allow, message     string
	}{
		{"a route", http.MethodGet, "/things/1", http.StatusTeapot, "", ""},
		{"another method of it", http.MethodDelete, "/things/1", http.StatusNoContent, "", ""},
		{"a method it lacks", http.MethodPost, "/things/1", http.StatusMethodNotAllowed, "GET, DELETE, HEAD",
			"POST is not allowed on /things/1; allowed: GET, DELETE, HEAD"},
		{"no route", http.MethodGet, "/nothing", http.StatusNotFound, "", "no test route /nothing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Route(mux, "test", rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.status || rec.Header().Get("Allow") != tc.allow {
				t.Fatalf("%d Allow %q, want %d Allow %q", rec.Code, rec.Header().Get("Allow"), tc.status, tc.allow)
			}
			if tc.message != "" && !strings.Contains(rec.Body.String(), `"message":"`+tc.message+`"`) {
				t.Errorf("body %s, want message %q", rec.Body, tc.message)
			}
		})
	}
}
