// Package webchat serves Parley's web chat: the websocket at /ws that the
// widget (web/static/widget.js) and the load generator talk to. The protocol
// is PROTOCOL.md in this directory; it is the contract between the three.
//
// The package owns the socket side only. It turns frames into calls of the
// dialog engine (Receive and Answer, Rate) and the engine's events of one
// conversation into frames; the engine and the CRM own everything stored.
// Its own state is per socket and in memory: a reconnecting client resumes
// with its visitor token (the conversation id signed with HMAC-SHA256 over
// Config.TokenKey) and the highest seq it has, and gets the messages it
// lacks from the store.
//
// Anonymous clients write only within bounds: hello stores nothing (it
// picks the conversation's id and issues a token that carries its issue
// time; the first message stores the conversation, through Receive with
// Inbound.Start), and per client address new sockets, hellos and messages
// are rate-limited and open sockets capped (Limits).
//
// Each socket has a reader, a writer (the only goroutine that writes to
// it), after hello a pump that forwards the conversation's events, and from
// the first message (or CSAT answer) on a worker that calls the engine one
// frame at a time. The worker hands each message Receive stored to the pump,
// which acks it, before it calls Answer: the ack goes out before the
// replies, and the message's own event is not sent back. The send queue
// is bounded: a client that does not read is dropped when a write blocks
// past Limits.WriteTimeout or the queue stays full that long, and the pump
// keeps draining the engine's subscription meanwhile, so neither other
// clients nor the engine wait for it. A socket whose subscription the
// engine dropped is closed with 1013 and resumes.
//
// Caveats:
//   - The per-IP limits count the connection's peer address; behind a
//     reverse proxy every client shares the proxy's address (forwarded
//     headers are not trusted). Switch them off with negative
//     Limits.IPRate, SocketRate, HelloRate and MaxIPSockets there, and for
//     load tests from one machine.
//   - The token of a new conversation resumes it, empty, while nothing is
//     stored, the token is recent (Limits.NewTokenTTL) and the client has
//     seen no message. A client that sent a first message, never saw its
//     ack and comes back within that time after its conversation was
//     erased resumes an empty conversation under the same id: nothing
//     erased comes back (hello in session.go).
//   - A request without an Origin header (not a browser) is allowed; the
//     origin check protects browsers' users from other sites, it is not
//     authentication.
//   - The customer's typing reaches the agents (Engine.Typing) as changes
//     only, a start at most once a second; an agent's typing reaches the
//     widget as a typing frame with sender "agent". Lifecycle events
//     (claims, agents' private notes) are never forwarded.
//   - Agent messages carry the agent's login in "agent", not a display
//     name.
//   - Shutdown finishes the messages already read from a socket; a message
//     read after it began is dropped unacknowledged, and the client resends
//     it after reconnecting.
package webchat
