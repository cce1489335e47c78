package web

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/internal/httpjson"
)

// panicStore is the API's store, panicking on the next Conversation call
// once armed (a damaged store file did that to a request).
type panicStore struct {
	Store
	armed atomic.Bool
}

func (s *panicStore) Conversation(ctx context.Context, id string) (crm.Conversation, error) {
	if s.armed.CompareAndSwap(true, false) {
		panic("store exploded")
	}
	return s.Store.Conversation(ctx, id)
}

// TestStorePanicFailsOneRequest: a panic of the store in an API handler is
// that request's 500 (logged once, with its stack); the next request is
// served. The same holds for /ws up to the upgrade; after it, the web
// chat's goroutines recover their own panics (channels/webchat).
func TestStorePanicFailsOneRequest(t *testing.T) {
	ps := &panicStore{}
	chatPanics := atomic.Bool{}
	f := newAPIFixture(t, func(c *Config) {
		ps.Store = c.Store
		c.Store = ps
		c.Chat = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if chatPanics.CompareAndSwap(true, false) {
				panic("chat exploded before the upgrade")
			}
			http.Error(w, "no upgrade here", http.StatusBadRequest)
		})
	})
	conv := f.startConversation(t, "c-001")
	target := "/api/v1/conversations/" + conv.ID

	ps.armed.Store(true)
	wantError(t, f.api(t, http.MethodGet, target, ""), http.StatusInternalServerError, httpjson.CodeInternal)
	if rec := f.api(t, http.MethodGet, target, ""); rec.Code != http.StatusOK {
		t.Fatalf("the request after the panic: %d %s", rec.Code, rec.Body)
	}

	chatPanics.Store(true)
	wantError(t, f.do(t, http.MethodGet, "/ws", "", ""), http.StatusInternalServerError, httpjson.CodeInternal)
	if rec := f.do(t, http.MethodGet, "/ws", "", ""); rec.Code != http.StatusBadRequest {
		t.Fatalf("the /ws request after the panic: %d %s", rec.Code, rec.Body)
	}

	logs := f.logs.String()
	if n := strings.Count(logs, `"msg":"handler panic"`); n != 2 {
		t.Errorf("%d panic log lines, want 2:\n%s", n, logs)
	}
	for _, want := range []string{"store exploded", "chat exploded before the upgrade", `"stack":"goroutine `} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
}
