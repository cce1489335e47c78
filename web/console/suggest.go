package console

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"

	"github.com/parleyhq/parley/internal/httpjson"
	"github.com/parleyhq/parley/nlp/suggest"
)

// Suggester suggests replies for a conversation, the variables of its
// texts filled for the conversation's customer and for agentName. It fails
// with an error wrapping crm.ErrNotFound for an unknown conversation.
// *suggest.Suggester implements it.
type Suggester interface {
	ForConversation(ctx context.Context, id, agentName string) ([]suggest.Suggestion, error)
}

var _ Suggester = (*suggest.Suggester)(nil)

// WithSuggestions returns the console's handler (Handler) with suggested
// replies added to its API:
//
//	GET  /console/api/conversations/{id}/suggestions      {"suggestions": [...]}, counted as shown
//	POST /console/api/conversations/{id}/suggestions/used {"id": "<suggestion id>"}: the agent sent it
//	GET  /console/api/suggestions/today                   {"shown", "used", "used_pct"} since local midnight
//
// The same sessions, CSRF and queue rules hold as for the rest of the
// API. Shown and used counts go to u (which must not be nil), in memory:
// see suggest.Usage. Without it (plain Handler) these paths answer 404,
// and the page shows no suggestions.
func (c *Console) WithSuggestions(sg Suggester, u *suggest.Usage) http.Handler {
	x := &suggestions{c: c, sg: sg, u: u}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /console/api/conversations/{id}/suggestions", c.reading(x.list))
	mux.HandleFunc("POST /console/api/conversations/{id}/suggestions/used", c.changing(x.used))
	mux.HandleFunc("GET /console/api/suggestions/today", c.reading(x.today))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, p := mux.Handler(r); p != "" || suggestionPath(r.URL.Path) {
			httpjson.Route(mux, "console API", w, r) // 405 with Allow for the wrong method
			return
		}
		c.handler.ServeHTTP(w, r)
	})
}

// suggestionPath reports whether path is one of WithSuggestions' routes.
func suggestionPath(path string) bool {
	if path == "/console/api/suggestions/today" {
		return true
	}
	rest, ok := strings.CutPrefix(path, "/console/api/conversations/")
	if !ok {
		return false
	}
	id, tail, _ := strings.Cut(rest, "/")
	return id != "" && (tail == "suggestions" || tail == "suggestions/used")
}

type suggestions struct {
	c  *Console
	sg Suggester
	u  *suggest.Usage
}

// suggestionsAnswer is the answer of GET .../suggestions.
type suggestionsAnswer struct {
	Suggestions []suggest.Suggestion `json:"suggestions"`
}

func (x *suggestions) list(w http.ResponseWriter, r *http.Request, s session) {
	conv, ok := x.c.visibleConversation(w, r, s)
	if !ok {
		return
	}
	list, err := x.sg.ForConversation(r.Context(), conv.ID, s.agent.Name)
	if err != nil {
		x.c.fail(w, r, "conversation", err)
		return
	}
	if list == nil {
		list = []suggest.Suggestion{}
	}
	x.u.Shown(conv.ID, list)
	httpjson.Write(w, http.StatusOK, suggestionsAnswer{list})
}

// usedRequest is the body of POST .../suggestions/used.
type usedRequest struct {
	ID string `json:"id"`
}

// maxSuggestionID bounds a suggestion id: source, ref and hash.
const maxSuggestionID = 400

func decodeUsed(body []byte) (usedRequest, *httpjson.Error) {
	var req usedRequest
	if e := httpjson.Decode(body, &req); e != nil {
		return req, e
	}
	if req.ID == "" || len(req.ID) > maxSuggestionID {
		return req, httpjson.BadRequest(`"id" must be the id of a suggestion shown (1 to 400 bytes)`)
	}
	return req, nil
}

// usedAnswer is the answer of POST .../suggestions/used: the suggestion's
// source, and whether this call counted it (false: it was counted before).
type usedAnswer struct {
	Source  suggest.Source `json:"source"`
	Counted bool           `json:"counted"`
}

// used counts a suggestion the agent sent: 400 for one not shown in that
// conversation today (by this process).
func (x *suggestions) used(w http.ResponseWriter, r *http.Request, s session) {
	req, ok := httpjson.ReadRequest(w, r, maxBodyBytes, decodeUsed)
	if !ok {
		return
	}
	conv, ok := x.c.visibleConversation(w, r, s)
	if !ok {
		return
	}
	src, fresh, err := x.u.Used(conv.ID, req.ID)
	if errors.Is(err, suggest.ErrNotShown) {
		httpjson.WriteError(w, http.StatusBadRequest, httpjson.CodeBadRequest, "that suggestion was not shown in this conversation today")
		return
	}
	if err != nil {
		x.c.fail(w, r, "suggestion", err)
		return
	}
	httpjson.Write(w, http.StatusOK, usedAnswer{Source: src, Counted: fresh})
}

// usageToday is the answer of GET /console/api/suggestions/today.
type usageToday struct {
	Shown   int     `json:"shown"`
	Used    int     `json:"used"`
	UsedPct float64 `json:"used_pct"` // 0 to 100, one decimal; 0 when none were shown
}

func (x *suggestions) today(w http.ResponseWriter, r *http.Request, s session) {
	shown, used := x.u.Today()
	v := usageToday{Shown: shown, Used: used}
	if shown > 0 {
		v.UsedPct = math.Round(1000*float64(used)/float64(shown)) / 10
	}
	httpjson.Write(w, http.StatusOK, v)
}
