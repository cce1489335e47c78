// Package slack is Parley's Slack channel, on both sides of a conversation:
// customers (or a company's own staff, for an internal help desk) talk to
// the bot in direct messages and mentions, and support agents take
// handed-off conversations in a channel, answering in a thread. It is the
// only package that imports slack-go.
//
// # Transports
//
// One Adapter takes events from either transport, or both:
//
//   - Socket Mode, when Config.AppToken (xapp-...) is set: Run connects to
//     Slack, acknowledges every request at once, then processes it; a lost
//     connection is retried with backoff for as long as Run runs.
//   - The Events API over HTTP, when Config.SigningSecret is set: Handler
//     serves POST /slack/events and POST /slack/interactions. Each request's
//     X-Slack-Signature (v0 HMAC-SHA256 of "v0:{timestamp}:{body}") is
//     checked, with a 5-minute window, before anything else is read: an
//     unsigned, forged or stale request gets 401. url_verification is
//     answered with its challenge.
//
// # Exactly once
//
// Slack delivers an event again when it does not get a 2xx within 3 s, and
// with several nodes on Socket Mode each event reaches one of them at
// random. Before an event is acknowledged (accept), the adapter records its
// event_id in the store (crm.ChannelStateStore.MarkSeen, kept a day), so a
// retry, or the same event on another node, is dropped; a customer's
// message is stored then too, with the Slack message's ts as its client id,
// so that a copy of it (a message event and an app_mention event of the
// same message) is stored once and answered once, and a message
// acknowledged before a crash is answered at the next start. What is sent
// to Slack goes through per-conversation cursors kept in the store: after a
// restart, or when the engine's event stream dropped the adapter, it sends
// what Slack has not been sent yet.
//
// # Customers
//
// A direct message to the bot, or a mention of it in a channel, is a
// customer message of a conversation on channel "slack": one per Slack
// channel and user (in a channel the bot answers in a thread, and the user
// may go on in that thread without mentioning it). The engine answers as on
// the web; quick replies become buttons, and a resolved conversation asks
// for a rating with buttons 1 to 5. A Slack user is an unverified customer
// unless Config.TrustEmail links them to the CRM customer with their Slack
// profile e-mail (for a workspace whose addresses the company controls).
//
// # Agents
//
// With Config.AgentChannel set, every handed-off conversation, from any
// channel, is posted there as a card (customer, queue, priority, reason,
// last turns, satisfaction risk) with the buttons Take, Return to bot and
// Resolve, and everything said in the conversation afterwards is mirrored
// into the card's thread. An agent's reply in the thread goes to the
// customer as that agent (claiming the conversation first, as in the
// console); a reply starting with "note:" is a private note. Slack users
// are matched to Parley agents by their Slack profile e-mail, which is the
// agent's login; anyone else is refused with a message only they see.
//
// # Delivery
//
// Messages to Slack go out in order per channel, at most Config.Rate per
// second with bursts of Config.Burst (Slack allows about one a second per
// channel). A 429 waits the Retry-After it names and tries again; other
// failures are retried with backoff, and a message that still fails is
// logged and noted on the conversation, so the console shows it. Nothing
// here blocks the engine: a Slack outage leaves the web chat untouched.
// Every text from a customer or an agent is escaped for Slack's mrkdwn, so
// that "<!channel>", "<@U...>" and links in it cannot ping or unfurl.
package slack
