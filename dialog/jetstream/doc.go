// Package jetstream carries the dialog engine's event stream over NATS
// JetStream, so that several `bot serve` nodes behind one load balancer see
// each other's events: a customer's socket on node A hears the reply an
// agent wrote through node B.
//
// It is the only package that imports github.com/nats-io/nats.go. A Bus
// implements dialog.Events:
//
//   - Publish encodes the event (see Encode: JSON, "v":1) and publishes it
//     asynchronously on the subject PREFIX.<conversation>, where the
//     conversation id is base64url-encoded (no padding) so that any id,
//     dots and spaces included, is one subject token. Publish never
//     blocks: events wait in a bounded queue for one publishing goroutine,
//     and an event that finds the queue full, the connection closed or the
//     server too slow to acknowledge is dropped and counted (Stats), with a
//     log line at most once a minute. Subscribers lose nothing for good:
//     they resubscribe and catch up from the store, as the socket protocol
//     does after any gap.
//   - Stored events carry a Nats-Msg-Id header (message events
//     "msg:"+message id, lifecycle events "ev:"+conversation+":"+seq, state
//     events a digest of the new state, erasures "erased:"+conversation;
//     typing events none), so a publish repeated within the stream's
//     duplicates window (2 minutes) is stored, and delivered, once. Ids
//     and conversation ids appear base64url-encoded in these headers.
//   - Each process runs one ordered, ephemeral consumer over the stream
//     that starts with new messages (DeliverNew) and hands every event to a
//     dialog.Bus inside: local subscribers get exactly the buffering and
//     dropping rules of the in-process stream, and a node's own events
//     reach its subscribers once, through NATS, not at Publish time.
//
// Caveats: events published before a node's consumer starts, or while it
// is cut off from the server for longer than the ordered consumer's
// recovery, are not replayed to that node: its clients fill gaps from the
// store. Order is kept per publishing node (one connection, one publishing
// goroutine); two nodes publishing in one conversation at once are ordered
// by the server's arrival order, and the engine's per-conversation turn
// lock is what orders their turns.
package jetstream
