package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// BenchmarkParseAPI measures the server's own cost around a parse (auth,
// body, JSON both ways, logging, headers) with a parser that costs nothing.
func BenchmarkParseAPI(b *testing.B) {
	benchAPI(b, http.MethodPost, "/api/v1/parse", `{"text":"where is my order 1042?"}`)
}

// BenchmarkListMessages reads a page of a seeded conversation through the
// API.
func BenchmarkListMessages(b *testing.B) {
	benchAPI(b, http.MethodGet, "/api/v1/conversations/conv-seed-1/messages?limit=50", "")
}

// benchAPI sends one authenticated API request per iteration; each must
// answer 200.
func benchAPI(b *testing.B, method, target, body string) {
	h := newAPIFixture(b).srv.Handler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkAppendMessage compares a store append with and without the
// metrics wrapper, which only times it.
func BenchmarkAppendMessage(b *testing.B) {
	for _, bc := range []struct {
		name    string
		measure bool
	}{{"plain", false}, {"timed", true}} {
		b.Run(bc.name, func(b *testing.B) {
			f := newAPIFixture(b)
			var s dialog.Store = f.db
			if bc.measure {
				s = f.metrics.Store(f.db)
			}
			c := f.startConversation(b, "")
			ctx := context.Background()
			i := 0
			for b.Loop() {
				i++
				if _, _, err := s.AppendMessage(ctx, crm.Message{
					ConversationID: c.ID, Sender: crm.SenderBot, Text: "Your order shipped yesterday.",
					ClientID: "bench-" + strconv.Itoa(i),
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPublish compares publishing a message event to one subscriber
// with and without the metrics wrapper, which counts it.
func BenchmarkPublish(b *testing.B) {
	for _, bc := range []struct {
		name  string
		count bool
	}{{"plain", false}, {"counted", true}} {
		b.Run(bc.name, func(b *testing.B) {
			bus := dialog.NewBus()
			defer bus.Close()
			var ev dialog.Events = bus
			if bc.count {
				ev = NewMetrics().Events(bus)
			}
			sub, cancel := ev.Subscribe("conv-1", 1)
			defer cancel()
			m := &crm.Message{ID: "m", ConversationID: "conv-1", Seq: 1, Sender: crm.SenderBot, Text: "Your order shipped yesterday."}
			b.ReportAllocs()
			for b.Loop() {
				ev.Publish(dialog.Event{Type: dialog.EventMessage, ConversationID: "conv-1", Message: m})
				<-sub
			}
		})
	}
}
