package webchat

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzVerifyToken checks that a token verifies only in the one form the
// server writes it in: whatever verifies is what signing its id (and issue
// time) gives again.
func FuzzVerifyToken(f *testing.F) {
	f.Add(signToken(testKey, "conv_abc"))
	f.Add(signNewToken(testKey, "conv_abc", now))
	f.Add("Y29udi0x.1773135000.wMItOfFadgOvxBIiW8-jLdPrgN0L3ZH4-y3BMNfmOQU")
	f.Add("Y29udi0x.01773135000.abc")
	f.Add("Y29udi0x.-1.abc")
	f.Add("..")
	f.Add("not-a-token")
	f.Fuzz(func(t *testing.T, token string) {
		id, issued, ok := verifyToken(testKey, token)
		if !ok {
			return
		}
		again := signToken(testKey, id)
		if !issued.IsZero() {
			again = signNewToken(testKey, id, issued)
		}
		if again != token {
			t.Fatalf("token %q verified as %q issued %v, which signs as %q", token, id, issued, again)
		}
	})
}

// FuzzOriginAllowed checks that no Origin and Host header pair opens the
// socket for a page that is not on an allowed or loopback origin.
func FuzzOriginAllowed(f *testing.F) {
	f.Add("https://shop.example.com", "chat.example.com")
	f.Add("https://chat.example.com", "chat.example.com")
	f.Add("http://evil.example:8080", "evil.example:8080")
	f.Add("http://localhost:3000", "chat.example.com")
	f.Add("http://[::1]:80", "[::1]:80")
	f.Add("null", "chat.example.com")
	f.Add("HTTPS://SHOP.EXAMPLE.COM:443", "x")
	pats, err := parseOrigins([]string{"https://shop.example.com"}, []string{"https://chat.example.com"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, origin, host string) {
		r := httptest.NewRequest("GET", "/ws", nil)
		r.Host = host
		r.Header.Set("Origin", origin)
		if !originAllowed(r, pats) || origin == "" {
			return
		}
		u, err := url.Parse(origin)
		if err != nil {
			t.Fatalf("allowed %q, which does not parse: %v", origin, err)
		}
		switch h := strings.ToLower(u.Hostname()); h {
		case "shop.example.com", "chat.example.com", "localhost", "127.0.0.1", "::1":
		default:
			t.Fatalf("allowed origin %q (host %q, Host header %q)", origin, h, host)
		}
	})
}
