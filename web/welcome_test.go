package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/parleyhq/parley/dialog"
)

func TestWidgetWelcome(t *testing.T) {
	shop := dialog.Welcome{Greeting: "Hi! How can I help?", Starters: []string{"Where is my order?", "How do I return something?"}}
	tests := []struct {
		name    string
		welcome dialog.Welcome
		want    welcomeBody
	}{
		{"the domain's", shop, welcomeBody{Greeting: shop.Greeting, Starters: shop.Starters}},
		{"none", dialog.Welcome{}, welcomeBody{Greeting: "", Starters: []string{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newAPIFixture(t, func(c *Config) { c.Welcome = tc.welcome })
			rec := f.do(t, http.MethodGet, "/widget.json", "", "")
			if rec.Code != http.StatusOK {
				t.Fatalf("GET /widget.json: %d %s", rec.Code, rec.Body)
			}
			h := rec.Header()
			if h.Get("Content-Type") != "application/json" || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("ETag") == "" {
				t.Errorf("headers %v: want JSON, readable from any origin, with an ETag", h)
			}
			// Both fields are always there, so the widget needs no checks.
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil || raw["greeting"] == nil || raw["starters"] == nil {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			var got welcomeBody
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Greeting != tc.want.Greeting || !slices.Equal(got.Starters, tc.want.Starters) || got.Starters == nil {
				t.Errorf("body %+v, want %+v", got, tc.want)
			}

			req := httptest.NewRequest(http.MethodGet, "/widget.json", nil)
			req.Header.Set("If-None-Match", h.Get("ETag"))
			again := httptest.NewRecorder()
			f.srv.Handler().ServeHTTP(again, req)
			if again.Code != http.StatusNotModified {
				t.Errorf("revalidation: %d, want 304", again.Code)
			}
			if post := f.do(t, http.MethodPost, "/widget.json", "", "{}"); post.Code == http.StatusOK {
				t.Errorf("POST /widget.json: %d, want it refused", post.Code)
			}
		})
	}
}
