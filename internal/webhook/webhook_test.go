package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/webhook"
)

const secret = "s3cret-for-tests"

var sent = time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)

func client() *webhook.Client {
	return &webhook.Client{
		Secret: func(name string) string {
			if name == "PARLEY_WEBHOOK_SECRET" {
				return secret
			}
			return ""
		},
		Now: func() time.Time { return sent },
	}
}

func hookFor(url string) dialog.Webhook {
	return dialog.Webhook{Name: "loyalty", URL: url, SecretEnv: "PARLEY_WEBHOOK_SECRET", Timeout: dialog.DefaultWebhookTimeout}
}

var request = dialog.WebhookRequest{
	ConversationID: "conv-1", Intent: "refund_status", Text: "where is my refund for 1044",
	Customer: &dialog.WebhookCustomer{ID: "c-002", Name: "Ben Carter", Email: "ben@example.com", Tier: "standard"},
	Slots:    map[string]string{"order_id": "1044"},
	Entities: []dialog.WebhookEntity{{Type: "order_id", Text: "1044", Value: "1044"}},
}

// The receiver checks the signature over the raw body, as a backend would.
func TestCallSuccess(t *testing.T) {
	var got dialog.WebhookRequest
	var sigOK bool
	var stamp, ctype string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sigOK = r.Method == http.MethodPost && webhook.Verify([]byte(secret), body, r.Header.Get(webhook.HeaderSignature))
		stamp, ctype = r.Header.Get(webhook.HeaderTimestamp), r.Header.Get("Content-Type")
		_ = json.Unmarshal(body, &got)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"text": "Your refund was sent on Monday.", "slots": {"refund_state": "sent"}}`)
	}))
	defer srv.Close()
	reply, err := client().Call(context.Background(), hookFor(srv.URL), request)
	if err != nil {
		t.Fatal(err)
	}
	if reply.Text != "Your refund was sent on Monday." || reply.Slots["refund_state"] != "sent" {
		t.Errorf("reply = %+v", reply)
	}
	if !sigOK {
		t.Error("receiver could not verify the signature")
	}
	if stamp != "1773135000" || ctype != "application/json" {
		t.Errorf("timestamp %q, content type %q", stamp, ctype)
	}
	if got.ConversationID != "conv-1" || got.Customer == nil || got.Customer.Email != "ben@example.com" || got.Slots["order_id"] != "1044" || len(got.Entities) != 1 {
		t.Errorf("receiver got %+v", got)
	}
}

func TestCallErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request, stop <-chan struct{})
		timeout time.Duration
		secret  string // env name the hook uses
		want    error
		says    string
	}{
		{"status 500", func(w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}, 0, "", webhook.ErrStatus, "500"},
		{"garbage body", func(w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
			io.WriteString(w, "<html>Service Unavailable</html>")
		}, 0, "", webhook.ErrBadReply, "want a JSON object"},
		{"wrong shape", func(w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
			io.WriteString(w, `{"text": 42}`)
		}, 0, "", webhook.ErrBadReply, "cannot unmarshal"},
		{"oversized body", func(w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
			io.WriteString(w, `{"text": "`+strings.Repeat("a", webhook.DefaultMaxReply)+`"}`)
		}, 0, "", webhook.ErrTooLarge, "65536"},
		{"redirect", func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		}, 0, "", webhook.ErrStatus, "307"},
		{"timeout", func(w http.ResponseWriter, r *http.Request, stop <-chan struct{}) {
			select { // a backend that hangs until the test ends
			case <-r.Context().Done():
			case <-stop:
			}
		}, time.Millisecond, "", context.DeadlineExceeded, "deadline exceeded"},
		{"no secret", func(w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
			io.WriteString(w, `{}`)
		}, 0, "OTHER_SECRET", webhook.ErrNoSecret, "set OTHER_SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stop := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tt.handler(w, r, stop) }))
			defer srv.Close()
			defer close(stop)
			hook := hookFor(srv.URL)
			if tt.timeout > 0 {
				hook.Timeout = tt.timeout
			}
			if tt.secret != "" {
				hook.SecretEnv = tt.secret
			}
			_, err := client().Call(context.Background(), hook, request)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("err = %v, want %v saying %q", err, tt.want, tt.says)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "webhook loyalty: ") {
				t.Errorf("err = %q, want it to name the hook", err)
			}
		})
	}
}

// statusTransport answers every request with a status line of the test's
// choosing (an httptest server cannot send its own reason phrase).
type statusTransport struct{ status string }

func (s statusTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{Status: s.status, StatusCode: http.StatusBadGateway, Header: http.Header{},
		Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
}

// TestErrorsRedacted: the engine logs Call's errors, so what they quote of
// the backend's answer carries no card number or one-time code.
func TestErrorsRedacted(t *testing.T) {
	secrets := []string{"4111111111111111", "4111 1111 1111 1111", "482913"}
	tests := []struct {
		name   string
		status string // status line of the answer; "" for a 200 with body
		body   string
		want   error
		says   string
	}{
		{"status line", "502 card 4111 1111 1111 1111, code 482913", "", webhook.ErrStatus, "502 card [card redacted], code [code redacted]"},
		{"slot name", "", `{"slots": {"Card_4111111111111111": "x"}}`, webhook.ErrBadReply, `"Card_[card redacted]"`},
		{"number where text goes", "", `{"text": 4111111111111111}`, webhook.ErrBadReply, "cannot unmarshal"},
		{"slot value not a string", "", `{"slots": {"card_4111111111111111": 482913}}`, webhook.ErrBadReply, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := client()
			url := "http://backend.invalid/hook"
			if tt.status != "" {
				c.HTTP = &http.Client{Transport: statusTransport{tt.status}}
			} else {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, tt.body) }))
				defer srv.Close()
				url = srv.URL
			}
			_, err := c.Call(context.Background(), hookFor(url), request)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err = %v, want %v saying %q", err, tt.want, tt.says)
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("err = %q quotes %q", err, s)
				}
			}
		})
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"conversation_id":"conv-1"}`)
	sig := webhook.Sign([]byte(secret), body)
	tests := []struct {
		name   string
		secret string
		body   string
		sig    string
		want   bool
	}{
		{"good", secret, string(body), sig, true},
		{"other secret", "guess", string(body), sig, false},
		{"changed body", secret, `{"conversation_id":"conv-2"}`, sig, false},
		{"no prefix", secret, string(body), strings.TrimPrefix(sig, "sha256="), false},
		{"not hex", secret, string(body), "sha256=zz", false},
		{"empty", secret, string(body), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := webhook.Verify([]byte(tt.secret), []byte(tt.body), tt.sig); got != tt.want {
				t.Errorf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

var replySeeds = []string{
	`{"text": "You have 120 loyalty points.", "slots": {"points": "120"}}`,
	`{"text": "Your refund of 59.90 EUR was sent on Monday."}`,
	`{"slots": {"refund_state": "on its way", "eta": "2 days"}}`,
	`{}`,
	`{"text": "ok", "extra": {"trace_id": "abc"}}`,
	`{"text": "ok"} {"text": "again"}`,
	`{"slots": {"_failures": "0"}}`,
	`[]`,
	`null`,
	`{"text": "\u00e9t\u00e9"}`,
	`{"text": 4111111111111111, "slots": {"Card_4111111111111111": "code 482913"}}`,
}

func TestDecodeReply(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // error text; "" for valid
	}{
		{"text and slots", replySeeds[0], ""},
		{"extra fields", replySeeds[4], ""},
		{"empty object", replySeeds[3], ""},
		{"two objects", replySeeds[5], "data after"},
		{"engine slot", replySeeds[6], "slot name"},
		{"array", replySeeds[7], "want a JSON object"},
		{"null", replySeeds[8], "want a JSON object"},
		{"slot not a string", `{"slots": {"points": 120}}`, "cannot unmarshal"},
		{"truncated", `{"text": "ok"`, "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webhook.DecodeReply([]byte(tt.in))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("DecodeReply = %v, want nil", err)
			case tt.want != "" && (!errors.Is(err, webhook.ErrBadReply) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("DecodeReply = %v, want ErrBadReply saying %q", err, tt.want)
			}
		})
	}
}

// FuzzDecodeReply: any input decodes to a valid reply or fails with
// ErrBadReply, never panics, and a decoded reply survives a round trip.
func FuzzDecodeReply(f *testing.F) {
	for _, s := range replySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := webhook.DecodeReply(data)
		if err != nil {
			if !errors.Is(err, webhook.ErrBadReply) {
				t.Fatalf("error %v does not wrap ErrBadReply", err)
			}
			if msg := err.Error(); crm.Redact(msg) != msg {
				t.Fatalf("error %q quotes what Redact replaces", msg)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("decoded reply invalid: %v", err)
		}
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := webhook.DecodeReply(again)
		if err != nil || r2.Text != r.Text || len(r2.Slots) != len(r.Slots) {
			t.Fatalf("round trip: %+v, %v; want %+v", r2, err, r)
		}
	})
}

func BenchmarkDecodeReply(b *testing.B) {
	data := []byte(replySeeds[0])
	for b.Loop() {
		if _, err := webhook.DecodeReply(data); err != nil {
			b.Fatal(err)
		}
	}
}
