// Package clientip finds the address a request comes from, for the limits
// and lockouts that count per client: the connection's peer, or, behind
// proxies the operator trusts, the client they recorded in X-Forwarded-For.
//
// Only the trusted proxies' own entries are believed. X-Forwarded-For is
// read from the right (the entry the nearest proxy appended) and the first
// address that is not a trusted proxy is the client: a client that sends
// its own X-Forwarded-For can add entries on the left, which are never
// reached, but cannot replace the one its proxy appended.
package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds a request's client address. The zero Resolver (and a nil
// one) trusts no proxy: the client is the connection's peer.
type Resolver struct {
	trusted []netip.Prefix
}

// Parse reads a comma-separated list of trusted proxies, each an address
// (10.0.0.5, ::1) or a network (10.0.0.0/8, fd00::/8); white space around
// items is ignored and an empty list trusts none. The error names the
// first item that is neither.
func Parse(list string) (*Resolver, error) {
	r := &Resolver{}
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			a, aerr := netip.ParseAddr(item)
			if aerr != nil {
				return nil, fmt.Errorf("trusted proxy %q: want an IP address or a network such as 10.0.0.0/8", item)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		r.trusted = append(r.trusted, p.Masked())
	}
	return r, nil
}

// Trusts reports whether any proxy is trusted.
func (r *Resolver) Trusts() bool { return r != nil && len(r.trusted) > 0 }

// IP returns the client address of req: its peer (RemoteAddr without the
// port), unless the peer is a trusted proxy, in which case it is the
// rightmost X-Forwarded-For entry that is not a trusted proxy (the
// leftmost entry when all are; the peer when the header is missing or has
// an entry that is not an address, which a trusted proxy never writes).
func (r *Resolver) IP(req *http.Request) string {
	peer := req.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	if !r.Trusts() || !r.trust(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(req.Header.Values("X-Forwarded-For"), ","), ",")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		a, err := netip.ParseAddr(hop)
		if err != nil {
			return peer
		}
		client = a.Unmap().String()
		if !r.trust(client) {
			break
		}
	}
	return client
}

func (r *Resolver) trust(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
