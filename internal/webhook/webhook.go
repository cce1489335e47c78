package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// Headers of a webhook request.
const (
	HeaderSignature = "X-Parley-Signature"
	HeaderTimestamp = "X-Parley-Timestamp"
)

// DefaultMaxReply bounds a reply body when Client.MaxReply is 0.
const DefaultMaxReply = 64 << 10

// Errors of Call, wrapped with the hook's name and the details.
var (
	// ErrNoSecret means the environment variable the hook names is empty.
	ErrNoSecret = errors.New("webhook secret not set")
	// ErrStatus means the backend answered with a status outside 2xx.
	ErrStatus = errors.New("webhook answered with an error status")
	// ErrTooLarge means the reply body is larger than Client.MaxReply.
	ErrTooLarge = errors.New("webhook reply too large")
	// ErrBadReply means the reply body is not a valid dialog.WebhookReply.
	ErrBadReply = errors.New("invalid webhook reply")
)

var _ dialog.Caller = (*Client)(nil)

// Client is the HTTP dialog.Caller. The zero value is ready to use; a
// Client is safe for concurrent use once in use.
type Client struct {
	// HTTP sends the requests; nil means a client of its own that does not
	// follow redirects. Each call is bounded by the hook's timeout.
	HTTP *http.Client
	// Secret returns the value of an environment variable; nil: os.Getenv.
	Secret func(name string) string
	// Now is the clock for X-Parley-Timestamp; nil: time.Now.
	Now func() time.Time
	// MaxReply bounds a reply body in bytes; 0: DefaultMaxReply.
	MaxReply int64
}

var defaultHTTP = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Call posts req to hook.URL, signed, within hook.Timeout (and ctx), and
// returns the backend's reply. Errors wrap ErrNoSecret, ErrStatus,
// ErrTooLarge, ErrBadReply, or the transport's error (context.DeadlineExceeded
// on a timeout).
func (c *Client) Call(ctx context.Context, hook dialog.Webhook, req dialog.WebhookRequest) (dialog.WebhookReply, error) {
	var zero dialog.WebhookReply
	getenv := c.Secret
	if getenv == nil {
		getenv = os.Getenv
	}
	secret := getenv(hook.SecretEnv)
	if secret == "" {
		return zero, fmt.Errorf("webhook %s: %w: set %s", hook.Name, ErrNoSecret, hook.SecretEnv)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return zero, fmt.Errorf("webhook %s: encode request: %w", hook.Name, err)
	}
	if hook.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, hook.Timeout)
		defer cancel()
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return zero, fmt.Errorf("webhook %s: %w", hook.Name, err)
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("User-Agent", "Parley-Webhook/1")
	hr.Header.Set(HeaderTimestamp, strconv.FormatInt(now().Unix(), 10))
	hr.Header.Set(HeaderSignature, Sign([]byte(secret), body))
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return zero, fmt.Errorf("webhook %s: %w", hook.Name, err)
	}
	defer resp.Body.Close()
	limit := c.MaxReply
	if limit <= 0 {
		limit = DefaultMaxReply
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return zero, fmt.Errorf("webhook %s: read reply: %w", hook.Name, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// The status line is the backend's text, and the engine logs it.
		return zero, fmt.Errorf("webhook %s: %w: %s", hook.Name, ErrStatus, crm.Redact(resp.Status))
	}
	if int64(len(data)) > limit {
		return zero, fmt.Errorf("webhook %s: %w: more than %d bytes", hook.Name, ErrTooLarge, limit)
	}
	reply, err := DecodeReply(data)
	if err != nil {
		return zero, fmt.Errorf("webhook %s: %w", hook.Name, err)
	}
	return reply, nil
}

// Sign returns the X-Parley-Signature value for body: "sha256=" and the hex
// HMAC-SHA256 of body keyed with secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature (an X-Parley-Signature value) is body's
// signature with secret, in constant time. It is what a receiver written in
// Go runs on the raw request body.
func Verify(secret, body []byte, signature string) bool {
	got, ok := strings.CutPrefix(signature, "sha256=")
	if !ok {
		return false
	}
	mac, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(mac, m.Sum(nil))
}

// DecodeReply parses a reply body: one JSON object whose "text" is a string
// and whose "slots" is an object of strings (both optional; other fields are
// ignored), valid by dialog.WebhookReply.Validate. Errors wrap ErrBadReply;
// what they quote of the body (a slot name, say) is redacted (crm.Redact),
// since the engine logs them.
func DecodeReply(data []byte) (dialog.WebhookReply, error) {
	var r dialog.WebhookReply
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		return r, fmt.Errorf("%w: want a JSON object", ErrBadReply)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return dialog.WebhookReply{}, badReply(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return dialog.WebhookReply{}, fmt.Errorf("%w: data after the JSON object", ErrBadReply)
	}
	if err := r.Validate(); err != nil {
		return dialog.WebhookReply{}, badReply(err)
	}
	return r, nil
}

// badReply wraps ErrBadReply with err's text, redacted.
func badReply(err error) error {
	return fmt.Errorf("%w: %s", ErrBadReply, crm.Redact(err.Error()))
}
