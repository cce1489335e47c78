package web

import (
	"context"
	"net/http"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/internal/httpjson"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/nlp/kb"
	"github.com/parleyhq/parley/nlp/suggest"
)

// withSuggester serves suggestions mined from the fixture's seeded store.
func withSuggester(t testing.TB) fixtureOption {
	return func(c *Config) {
		k, err := kb.Load(shop.KB())
		if err != nil {
			t.Fatal(err)
		}
		ix, err := kb.NewIndex(k, nil)
		if err != nil {
			t.Fatal(err)
		}
		st := c.Store.(crm.Store)
		sg := suggest.New(st, &suggest.Options{KB: kb.NewSearcher(ix)})
		if _, err := sg.Rebuild(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.Suggester = sg
	}
}

func TestSuggestionsAPI(t *testing.T) {
	f := newAPIFixture(t, withSuggester(t))
	conv := f.startConversation(t, "c-003")
	for _, text := range []string{"hello", "my parcel never arrived and the courier lost it"} {
		if _, _, err := f.db.AppendMessage(context.Background(), crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	rec := f.api(t, http.MethodGet, "/api/v1/conversations/"+conv.ID+"/suggestions", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	got := decodeAs[suggestionList](t, rec).Suggestions
	if len(got) == 0 || len(got) > 3 {
		t.Fatalf("got %d suggestions, want 1 to 3: %s", len(got), rec.Body)
	}
	for i, s := range got {
		if s.ID == "" || s.Text == "" || s.Ref == "" || s.Score < suggest.MinScore || s.Score > 1 || (i > 0 && s.Score > got[i-1].Score) {
			t.Errorf("suggestion %d: %+v", i, s)
		}
		switch s.Source {
		case suggest.SourcePastReply, suggest.SourceCanned, suggest.SourceKB:
		default:
			t.Errorf("source %q", s.Source)
		}
	}

	// A conversation without a customer message: an empty list, not null.
	quiet := f.startConversation(t, "c-003")
	rec = f.api(t, http.MethodGet, "/api/v1/conversations/"+quiet.ID+"/suggestions", "")
	if rec.Code != http.StatusOK || rec.Body.String() != "{\"suggestions\":[]}\n" {
		t.Errorf("quiet conversation: %d %q", rec.Code, rec.Body)
	}

	wantError(t, f.api(t, http.MethodGet, "/api/v1/conversations/no-such-conv/suggestions", ""), http.StatusNotFound, httpjson.CodeNotFound)
	wantError(t, f.do(t, http.MethodGet, "/api/v1/conversations/"+conv.ID+"/suggestions", "", ""), http.StatusUnauthorized, httpjson.CodeUnauthorized)
	wantError(t, f.api(t, http.MethodPost, "/api/v1/conversations/"+conv.ID+"/suggestions", "{}"), http.StatusMethodNotAllowed, httpjson.CodeMethodNotAllowed)
}

func TestSuggestionsAPIDisabled(t *testing.T) {
	f := newAPIFixture(t)
	wantError(t, f.api(t, http.MethodGet, "/api/v1/conversations/conv-seed-1/suggestions", ""), http.StatusServiceUnavailable, httpjson.CodeUnavailable)
}

func TestSuggestionMetrics(t *testing.T) {
	f := newAPIFixture(t)
	u := suggest.NewUsage(nil)
	if err := f.metrics.Suggestions(u); err != nil {
		t.Fatal(err)
	}
	if err := f.metrics.Suggestions(u); err == nil {
		t.Error("a second registration did not fail")
	}
	for _, src := range suggest.Sources {
		for _, name := range []string{"parley_suggestions_shown_total", "parley_suggestions_used_total"} {
			if v, err := metricValue(f.scrape(t), name, `source="`+string(src)+`"`); err != nil || v != 0 {
				t.Errorf("%s{%s} = %v, %v; want 0 from the start", name, src, v, err)
			}
		}
	}
	s := suggest.Suggestion{ID: "kb:returns:1", Source: suggest.SourceKB}
	u.Shown("c1", []suggest.Suggestion{s})
	if _, _, err := u.Used("c1", s.ID); err != nil {
		t.Fatal(err)
	}
	exp := f.scrape(t)
	if v, err := metricValue(exp, "parley_suggestions_shown_total", `source="kb"`); err != nil || v != 1 {
		t.Errorf("shown = %v, %v; want 1", v, err)
	}
	if v, err := metricValue(exp, "parley_suggestions_used_total", `source="kb"`); err != nil || v != 1 {
		t.Errorf("used = %v, %v; want 1", v, err)
	}
}
