package console

import (
	"context"
	"net/http"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/internal/httpjson"
	"github.com/parleyhq/parley/nlp/suggest"
)

func TestSuggestions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.store.PutCanned(ctx, crm.CannedResponse{Shortcut: "person", Title: "A person is here",
		Text: "Hi {{customer.name}}, a person is here now. Is this about order {{order.id}}?"}); err != nil {
		t.Fatal(err)
	}
	u := suggest.NewUsage(f.clock.Now)
	f.handler = f.console.WithSuggestions(suggest.New(f.store, nil), u)
	conv := f.handedOff(t, "h1", "c-1") // "hello", "I want a person": waiting in general
	bob := f.login(t, bob)
	base := "/console/api/conversations/" + conv.ID + "/suggestions"

	got := ok[suggestionsAnswer](t, bob, http.StatusOK, http.MethodGet, base, "").Suggestions
	if len(got) != 1 || got[0].Source != suggest.SourceCanned || got[0].Ref != "person" ||
		got[0].Text != "Hi Ana, a person is here now. Is this about order 1042?" {
		t.Fatalf("suggestions %+v; want the canned response filled for Ana and her latest order", got)
	}
	ok[suggestionsAnswer](t, bob, http.StatusOK, http.MethodGet, base, "") // asked again: shown once
	if shown, _ := u.Today(); shown != 1 {
		t.Errorf("shown %d after asking twice, want 1", shown)
	}

	// Carol serves returns only; unknown conversations are 404.
	carol := f.login(t, carol)
	wantError(t, carol.do(t, http.MethodGet, base, ""), http.StatusForbidden, httpjson.CodeForbidden)
	wantError(t, bob.do(t, http.MethodGet, "/console/api/conversations/nope/suggestions", ""), http.StatusNotFound, httpjson.CodeNotFound)

	// Recording a use: the id must be one shown there; CSRF is checked.
	wantError(t, bob.do(t, http.MethodPost, base+"/used", `{"id":"canned:other:1"}`), http.StatusBadRequest, httpjson.CodeBadRequest)
	wantError(t, bob.do(t, http.MethodPost, base+"/used", `{}`), http.StatusBadRequest, httpjson.CodeBadRequest)
	noCSRF := request(http.MethodPost, base+"/used", `{"id":"`+got[0].ID+`"}`)
	noCSRF.AddCookie(bob.cookie)
	wantError(t, f.serve(noCSRF), http.StatusForbidden, codeCSRF)
	used := ok[usedAnswer](t, bob, http.StatusOK, http.MethodPost, base+"/used", `{"id":"`+got[0].ID+`"}`)
	if used.Source != suggest.SourceCanned || !used.Counted {
		t.Errorf("used %+v", used)
	}
	if again := ok[usedAnswer](t, bob, http.StatusOK, http.MethodPost, base+"/used", `{"id":"`+got[0].ID+`"}`); again.Counted {
		t.Error("a second use of the same suggestion counted again")
	}

	today := ok[usageToday](t, bob, http.StatusOK, http.MethodGet, "/console/api/suggestions/today", "")
	if today != (usageToday{Shown: 1, Used: 1, UsedPct: 100}) {
		t.Errorf("today %+v", today)
	}
	if tot := u.Totals()[suggest.SourceCanned]; tot != (suggest.Counts{Shown: 1, Used: 1}) {
		t.Errorf("totals %+v", tot)
	}

	// The wrong method is 405; the rest of the console is still served,
	// and sessions are still required.
	wantError(t, bob.do(t, http.MethodPut, base, "{}"), http.StatusMethodNotAllowed, httpjson.CodeMethodNotAllowed)
	if rec := bob.do(t, http.MethodGet, "/console/api/me", ""); rec.Code != http.StatusOK {
		t.Errorf("GET me through WithSuggestions: %d %s", rec.Code, rec.Body)
	}
	wantError(t, f.serve(request(http.MethodGet, base, "")), http.StatusUnauthorized, httpjson.CodeUnauthorized)
}

func TestSuggestionPath(t *testing.T) {
	for path, want := range map[string]bool{
		"/console/api/conversations/c1/suggestions":      true,
		"/console/api/conversations/c1/suggestions/used": true,
		"/console/api/suggestions/today":                 true,
		"/console/api/conversations//suggestions":        false,
		"/console/api/conversations/c1/messages":         false,
		"/console/api/today":                             false,
	} {
		if got := suggestionPath(path); got != want {
			t.Errorf("suggestionPath(%q) = %v, want %v", path, got, want)
		}
	}
}
