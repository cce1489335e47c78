package web

import (
	"encoding/json"
	"fmt"
	"github.com/parleyhq/parley/internal/static"
	"net/http"

	"github.com/parleyhq/parley/dialog"
)

// welcomeBody is /widget.json: what the widget shows when it opens on a new
// conversation, from the domain's welcome section. Both fields are always
// present ("" and [] when the domain has none).
type welcomeBody struct {
	Greeting string   `json:"greeting"`
	Starters []string `json:"starters"`
}

// welcome serves w as /widget.json, encoded once. Any page may read it (the
// widget is embedded in other sites, and it holds nothing but the domain's
// public greeting), without cookies; the ETag lets a reload revalidate it.
func welcome(w dialog.Welcome) (http.Handler, error) {
	body := welcomeBody{Greeting: w.Greeting, Starters: w.Starters}
	if body.Starters == nil {
		body.Starters = []string{}
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode widget welcome: %w", err)
	}
	f := static.NewFile("widget.json", data, "application/json", static.NoCache)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Access-Control-Allow-Origin", "*")
		f.ServeHTTP(rw, r)
	}), nil
}
