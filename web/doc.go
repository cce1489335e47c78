// Package web is Parley's HTTP server: the demo shop page and the chat
// widget (embedded from static/) with its greeting and starter messages at
// /widget.json (the domain's welcome section, readable from any origin),
// the web chat endpoint at /ws (handed to a handler of the caller's, the
// channels/webchat one), the REST API under /api/v1 (see API.md), health
// and readiness probes, and the Prometheus metrics at /metrics.
//
// It owns the HTTP surface and nothing else: it reads conversations,
// messages and customers from a crm store, posts messages through the
// dialog engine, parses text with the NLU model it is given, and is the only
// package that imports the Prometheus client. Metrics owns a registry of its
// own (never the global one); it counts messages and handoffs from the
// engine's events (Metrics.Events) and times the parser and the store's
// writes with wrappers that make no calls of their own.
//
// Caveats:
//   - The REST API has one shared bearer token, compared in constant time.
//     With no token configured every API call answers 403 api_disabled: the
//     API is off rather than open.
//   - Every response carries the Content-Security-Policy in CSP; pages
//     (the demo page, the widget) must not rely on inline scripts.
//   - The server sets no timeouts of its own: the http.Server that serves
//     Handler should set ReadHeaderTimeout and IdleTimeout (not a
//     WriteTimeout, which would cut web chat connections).
//   - Request logs carry method, path (without the query), route, status,
//     size and duration; never bodies, queries or headers, so neither
//     message text nor tokens reach the log.
package web
