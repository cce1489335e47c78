package webchat

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestOriginAllowed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		allowed []string // nil: none
		host    string   // the request's Host
		origin  string
		want    bool
	}{
		{"no origin", nil, "chat.example.com", "", true},
		{"origin equal to the Host is not enough", nil, "chat.example.com", "https://chat.example.com", false},
		{"any host name pointed at the server", nil, "evil.example:8080", "http://evil.example:8080", false},
		{"same host other port", []string{"https://x.example"}, "chat.example.com:8443", "https://chat.example.com:9443", false},
		{"localhost any port", nil, "chat.example.com", "http://localhost:3000", true},
		{"localhost no port", nil, "chat.example.com", "http://localhost", true},
		{"127.0.0.1", nil, "chat.example.com", "http://127.0.0.1:5500", true},
		{"::1", nil, "chat.example.com", "http://[::1]:5500", true},
		{"loopback is http only", nil, "chat.example.com", "https://localhost:3000", false},
		{"other loopback address", nil, "127.0.0.2", "http://127.0.0.2", false},
		{"other site", nil, "chat.example.com", "https://evil.example", false},
		{"configured exact", []string{"https://shop.example.com"}, "chat.example.com", "https://shop.example.com", true},
		{"configured default port", []string{"https://shop.example.com"}, "chat.example.com", "https://shop.example.com:443", true},
		{"configured other port", []string{"https://shop.example.com"}, "chat.example.com", "https://shop.example.com:8443", false},
		{"configured keeps localhost", []string{"https://shop.example.com"}, "chat.example.com", "http://localhost:3000", true},
		{"case-insensitive host", []string{"https://Shop.Example.com"}, "chat.example.com", "https://SHOP.example.com", true},
		{"subdomain wildcard", []string{"https://*.example.com"}, "chat.example.com", "https://a.b.example.com", true},
		{"subdomain wildcard not the bare domain", []string{"https://*.example.com"}, "chat.example.com", "https://example.com", false},
		{"subdomain wildcard not a lookalike", []string{"https://*.example.com"}, "chat.example.com", "https://evilexample.com", false},
		{"ipv6 pattern", []string{"http://[::1]:*"}, "chat.example.com", "http://[::1]:8080", true},
		{"null", nil, "chat.example.com", "null", false},
		{"file", nil, "chat.example.com", "file://", false},
		{"origin with a path", nil, "chat.example.com", "https://chat.example.com/x", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pats, err := parseOrigins(tc.allowed, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/ws", nil)
			r.Host = tc.host
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if got := originAllowed(r, pats); got != tc.want {
				t.Errorf("allowed = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseOriginsRefusesMalformed(t *testing.T) {
	for _, s := range []string{"shop.example.com", "ftp://x", "https://", "https://a.example/path", "https://*", "https://a.*.example", "https://a.example:", "*"} {
		if _, err := parseOrigins([]string{s}, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("parseOrigins(%q, nil) = %v, want ErrConfig", s, err)
		}
		if _, err := parseOrigins(nil, []string{s}); !errors.Is(err, ErrConfig) {
			t.Errorf("parseOrigins(nil, %q) = %v, want ErrConfig", s, err)
		}
	}
}

func TestToken(t *testing.T) {
	tok := signToken(testKey, "conv-1")
	if again := signToken(testKey, "conv-1"); again != tok {
		t.Errorf("token not stable: %q, %q", tok, again)
	}
	for _, tc := range []struct {
		name  string
		token string
		ok    bool
	}{
		{"issued", tok, true},
		{"empty", "", false},
		{"no dot", strings.ReplaceAll(tok, ".", ""), false},
		{"other key", signToken([]byte(strings.Repeat("z", 32)), "conv-1"), false},
		{"mac of another conversation", tok[:strings.Index(tok, ".")] + signToken(testKey, "conv-2")[strings.Index(signToken(testKey, "conv-2"), "."):], false},
		{"truncated mac", tok[:len(tok)-2], false},
		{"bad base64", "!!!." + tok[strings.Index(tok, ".")+1:], false},
		{"huge", strings.Repeat("a", 600) + "." + "b", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, issued, ok := verifyToken(testKey, tc.token)
			if ok != tc.ok || (ok && (id != "conv-1" || !issued.IsZero())) {
				t.Errorf("verify = %q, %v, %v; want ok %v", id, issued, ok, tc.ok)
			}
		})
	}
}

func TestVerifyIdentity(t *testing.T) {
	secret := []byte("s3cret")
	good := &identity{UserID: "u-1", Email: "a@example.com", Signature: IdentitySignature(secret, "u-1", "a@example.com")}
	upper := *good
	upper.Signature = strings.ToUpper(good.Signature)
	for _, tc := range []struct {
		name   string
		secret []byte
		id     *identity
		want   bool
	}{
		{"valid", secret, good, true},
		{"hex in upper case", secret, &upper, true},
		{"no secret configured", nil, good, false},
		{"other e-mail", secret, &identity{UserID: "u-1", Email: "b@example.com", Signature: good.Signature}, false},
		{"not hex", secret, &identity{UserID: "u-1", Email: "a@example.com", Signature: "zz"}, false},
		{"user id and e-mail run together", secret, &identity{UserID: "u-1\na@example.com", Signature: IdentitySignature(secret, "u-1", "a@example.com")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := verifyIdentity(tc.secret, tc.id); got != tc.want {
				t.Errorf("verify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := newBucket(2, 3, t0)
	for i := range 3 {
		if ok, _ := b.take(t0); !ok {
			t.Fatalf("take %d refused within the burst", i)
		}
	}
	if ok, wait := b.take(t0); ok || wait != 500*time.Millisecond {
		t.Errorf("take past the burst = %v, %v; want refused for 500ms", ok, wait)
	}
	if ok, _ := b.take(t0.Add(500 * time.Millisecond)); !ok {
		t.Error("no token after 500ms at 2/s")
	}
	if ok, wait := b.take(t0.Add(600 * time.Millisecond)); ok || wait != 400*time.Millisecond {
		t.Errorf("take = %v, %v; want refused for 400ms", ok, wait)
	}
	if !b.full(t0.Add(10 * time.Second)) {
		t.Error("bucket not full after 10s")
	}
	off := newBucket(-1, 0, t0)
	for range 100 {
		if ok, _ := off.take(t0); !ok {
			t.Fatal("switched-off bucket refused")
		}
	}
}

func TestIPLimiterForgetsIdleAddresses(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := newIPLimiter(1, 2)
	l.take("10.0.0.1", t0)
	l.take("10.0.0.2", t0)
	if ok, _ := l.take("10.0.0.1", t0); !ok {
		t.Fatal("second message of the burst refused")
	}
	if ok, _ := l.take("10.0.0.1", t0); ok {
		t.Fatal("third message within a second allowed")
	}
	l.take("10.0.0.3", t0.Add(2*time.Minute))
	if n := l.size(); n != 1 {
		t.Errorf("holds %d addresses after they went idle, want 1", n)
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	s := newStack(t)
	base := Config{Engine: s.engine, Store: s.db, TokenKey: testKey}
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"no engine", func(c *Config) { c.Engine = nil }},
		{"no store", func(c *Config) { c.Store = nil }},
		{"short key", func(c *Config) { c.TokenKey = testKey[:31] }},
		{"bad origin", func(c *Config) { c.AllowedOrigins = []string{"example.com"} }},
		{"negative limit", func(c *Config) { c.Limits.ReadLimit = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.edit(&cfg)
			if _, err := New(cfg); !errors.Is(err, ErrConfig) {
				t.Errorf("New = %v, want ErrConfig", err)
			}
		})
	}
	if _, err := New(base); err != nil {
		t.Errorf("New with a complete config: %v", err)
	}
}

func TestLimitsDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Limits
		want Limits
	}{
		{"zero takes every default", Limits{}, Limits{
			ReadLimit: 16 << 10, MaxText: 2000, MaxTextBytes: 4096, HelloTimeout: 5 * time.Second, PingInterval: 30 * time.Second,
			PongTimeout: 60 * time.Second, WriteTimeout: 10 * time.Second, SendQueue: 32, Backlog: 200, NewTokenTTL: 10 * time.Minute,
			ConnRate: 1, ConnBurst: 10, IPRate: 5, IPBurst: 30,
			SocketRate: 5, SocketBurst: 50, HelloRate: 2, HelloBurst: 20, MaxIPSockets: 100,
		}},
		{"set fields and negative rates are kept", Limits{MaxText: 10, WriteTimeout: time.Second, ConnRate: -1, IPRate: -1,
			SocketRate: -1, HelloRate: -1, MaxIPSockets: -1}, Limits{
			ReadLimit: 16 << 10, MaxText: 10, MaxTextBytes: 4096, HelloTimeout: 5 * time.Second, PingInterval: 30 * time.Second,
			PongTimeout: 60 * time.Second, WriteTimeout: time.Second, SendQueue: 32, Backlog: 200, NewTokenTTL: 10 * time.Minute,
			ConnRate: -1, ConnBurst: 10, IPRate: -1, IPBurst: 30,
			SocketRate: -1, SocketBurst: 50, HelloRate: -1, HelloBurst: 20, MaxIPSockets: -1,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.withDefaults(); got != tc.want {
				t.Errorf("withDefaults = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// size counts the addresses held.
func (l *ipLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
