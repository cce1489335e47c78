package clientip

import (
	"net"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestIP(t *testing.T) {
	for _, tc := range []struct {
		name, trusted, remote string
		xff                   []string
		want                  string
	}{
		{"no proxy trusted: the peer, header ignored", "", "203.0.113.7:5123", []string{"198.51.100.1"}, "203.0.113.7"},
		{"untrusted peer: the header is the client's own", "10.0.0.0/8", "203.0.113.7:5123", []string{"198.51.100.1"}, "203.0.113.7"},
		{"trusted proxy: the client it recorded", "10.0.0.0/8", "10.0.0.2:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a forged entry on the left is not reached", "10.0.0.0/8", "10.0.0.2:4000", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"two trusted hops", "10.0.0.0/8, 192.168.1.1", "10.0.0.2:4000", []string{"198.51.100.1, 192.168.1.1"}, "198.51.100.1"},
		{"header split over two lines", "10.0.0.2", "10.0.0.2:4000", []string{"1.2.3.4", "198.51.100.1"}, "198.51.100.1"},
		{"all hops trusted: the leftmost", "10.0.0.0/8", "10.0.0.2:4000", []string{"10.1.1.1, 10.2.2.2"}, "10.1.1.1"},
		{"no header: the proxy itself", "10.0.0.0/8", "10.0.0.2:4000", nil, "10.0.0.2"},
		{"garbage in the header: the proxy", "10.0.0.0/8", "10.0.0.2:4000", []string{"198.51.100.1, not-an-ip"}, "10.0.0.2"},
		{"IPv6 proxy and client", "::1", "[::1]:4000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"IPv4-mapped peer matches an IPv4 network", "127.0.0.0/8", "[::ffff:127.0.0.1]:4000", []string{"198.51.100.9"}, "198.51.100.9"},
		{"remote without a port", "", "203.0.113.7", nil, "203.0.113.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse(tc.trusted)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/ws", nil)
			req.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if got := r.IP(req); got != tc.want {
				t.Errorf("IP = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNilResolverIsThePeer(t *testing.T) {
	var r *Resolver
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "10.0.0.2:1"
	req.Header.Set("X-Forwarded-For", "198.51.100.1")
	if got := r.IP(req); got != "10.0.0.2" || r.Trusts() {
		t.Errorf("nil resolver: IP %q, trusts %v", got, r.Trusts())
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "proxy.internal", "10.0.0.1, nope", "10.0.0.1/"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) took it", bad)
		}
	}
	r, err := Parse(" 10.0.0.1 , ,fd00::/8 ")
	if err != nil || len(r.trusted) != 2 {
		t.Errorf("Parse with spaces and an empty item: %v, %v", r, err)
	}
}

// FuzzIP: whatever the list, the peer and the header say, IP does not
// panic, and returns the peer's host when the peer is not trusted, and
// otherwise the peer's host or a valid address taken from the header.
func FuzzIP(f *testing.F) {
	f.Add("10.0.0.0/8", "10.0.0.2:4000", "1.2.3.4, 198.51.100.1")
	f.Add("::1", "[::1]:4000", "2001:db8::5")
	f.Add("", "203.0.113.7:5123", "")
	f.Add("127.0.0.0/8", "[::ffff:127.0.0.1]:4000", "198.51.100.9, , x")
	f.Fuzz(func(t *testing.T, trusted, remote, xff string) {
		r, err := Parse(trusted)
		if err != nil {
			return
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = remote
		req.Header.Set("X-Forwarded-For", xff)
		got := r.IP(req)
		peer := remote
		if host, _, err := net.SplitHostPort(remote); err == nil {
			peer = host
		}
		if !r.trust(peer) {
			if got != peer {
				t.Fatalf("untrusted peer %q: IP %q", remote, got)
			}
			return
		}
		if got == peer {
			return
		}
		a, err := netip.ParseAddr(got)
		if err != nil {
			t.Fatalf("IP %q is neither the peer %q nor an address", got, peer)
		}
		found := false
		for hop := range strings.SplitSeq(xff, ",") {
			if h, err := netip.ParseAddr(strings.TrimSpace(hop)); err == nil && h.Unmap() == a {
				found = true
			}
		}
		if !found {
			t.Fatalf("IP %q is not in the header %q", got, xff)
		}
	})
}
