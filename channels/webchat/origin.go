package webchat

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// loopbackOrigins are always allowed: pages served from the visitor's own
// machine (a developer's, most often), on any port.
var loopbackOrigins = []string{"http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"}

// originPattern is one allowed origin: scheme://host[:port], where the port
// may be "*" (any port, or none) and the host may start with "*." (any
// subdomain, not the bare domain).
type originPattern struct {
	scheme, host, port string
}

// parseOrigins checks and parses the allowed origins, the server's own
// public origins, and adds the loopback ones; errors wrap ErrConfig.
func parseOrigins(allowed, public []string) ([]originPattern, error) {
	list := append(append(append([]string(nil), allowed...), public...), loopbackOrigins...)
	out := make([]originPattern, 0, len(list))
	for _, s := range list {
		p, err := parseOriginPattern(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("allowed origin %q: %w: %w", s, err, ErrConfig)
		}
		out = append(out, p)
	}
	return out, nil
}

func parseOriginPattern(s string) (originPattern, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return originPattern{}, fmt.Errorf("want http://host[:port] or https://host[:port]")
	}
	if rest == "" || strings.ContainsAny(rest, "/?#@") {
		return originPattern{}, fmt.Errorf("want only a scheme, a host and a port")
	}
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		host, port = rest[:i], rest[i+1:]
		if port == "" {
			return originPattern{}, fmt.Errorf("empty port")
		}
	}
	if host == "" || strings.Contains(strings.TrimPrefix(host, "*."), "*") {
		return originPattern{}, fmt.Errorf("a host may only start with \"*.\"")
	}
	if port != "*" {
		port = defaultPort(scheme, port)
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]") // url.Hostname drops the brackets too
	return originPattern{scheme: scheme, host: strings.ToLower(host), port: port}, nil
}

func defaultPort(scheme, port string) string {
	if port != "" {
		return port
	}
	if scheme == "https" {
		return "443"
	}
	return "80"
}

func (p originPattern) match(scheme, host, port string) bool {
	if p.scheme != scheme || (p.port != "*" && p.port != port) {
		return false
	}
	if sub, ok := strings.CutPrefix(p.host, "*."); ok {
		return strings.HasSuffix(host, "."+sub)
	}
	return p.host == host
}

// originAllowed reports whether the request may be upgraded: it has no
// Origin header (not a browser), or its origin matches an allowed pattern.
// An origin equal to the request's Host is not allowed for that: a page of
// any site whose name points at this server (DNS rebinding, a stray
// virtual host) would pass.
func originAllowed(r *http.Request, allowed []originPattern) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.Path != "" || u.User != nil {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return false
	}
	host, port := strings.ToLower(u.Hostname()), defaultPort(scheme, u.Port())
	for _, p := range allowed {
		if p.match(scheme, host, port) {
			return true
		}
	}
	return false
}
