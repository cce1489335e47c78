// Package dialog is Parley's conversation engine: per-conversation state, the
// domain (intents, responses, forms and slots, built-in actions), the policy
// that decides what to say, CRM-aware replies, clarification, handoff to a
// human queue with a priority, and the event stream to subscribers.
//
// The engine is pure logic over interfaces: a Parser (satisfied by
// *nlp.Model; results are nlp/nlu types; SwapParser is the one parser a
// server shares with its API and can replace while serving), a Store (the
// crm contract, satisfied by crm/boltdb, crm/inmem in tests) and Events (Bus
// is the in-process implementation). It links no HTTP, websocket, storage
// engine or Gorgonia package (deps_test.go enforces it).
//
// A turn has two phases. Engine.Receive stores the customer's message
// durably and returns it, and the channel acknowledges it from that;
// Engine.Answer then publishes it and, while the bot holds the
// conversation, parses the stored (redacted) text, reads the conversation's
// Situation in one store read (ReadSituation: the conversation, its latest
// messages with their parses, the customer, their latest orders, open
// tickets, past handoffs and last rating), runs the policy, and commits the
// replies, the change of state and the mark that the message is answered
// in one store write (crm.ConversationStore.CommitTurn). A message that was
// acknowledged but never answered (the process died in between) is answered
// on its resend, by AnswerPending when the server starts, or by Sweep on
// any node once it has waited Config.StallTimeout; once. The
// policy:
//
//   - an order number or an e-mail address from a visitor who is not
//     verified is taken as a claim, and a pair of them is checked (see
//     "Verified disclosure" below);
//   - a request for a person, or a complaint with frustration cues, hands off
//     (state waiting, the topic's queue, priority high for gold and platinum
//     customers, a last rating of 2 or less, or frustration; urgent when such
//     a customer is also frustrated);
//   - an active form takes the message as the answer to its slot, validated
//     against the CRM, and asks again with a helpful message when it does
//     not fit; "no" abandons a form (except at its confirmation);
//   - an answer to a clarifying question resumes the intent it was about,
//     and so does the proof of who the visitor is;
//   - a visitor who gives their name ("I'm Maria") is greeted by it, and
//     the name is kept in the slot "name" and in a customer record that
//     has none, never over one (name.go);
//   - "what other orders do I have?" (action list_orders) lists a verified
//     customer's latest orders;
//   - small talk whose words say goodbye (Policy.ClosingCues: "thanks, bye")
//     runs the domain's resolve intent, as "bye" does;
//   - out-of-scope messages are said to be so; two close intents get a
//     question with quick replies;
//   - otherwise the intent's action runs: a response, lookup_order,
//     create_ticket (which refers to an open ticket on the same topic instead
//     of opening a duplicate), cancel_order (only after an explicit yes),
//     handoff or a webhook.
//
// Webhooks call the company's own backend. The domain declares them under
// webhooks (name: url, secret_env naming the environment variable with the
// signing secret, timeout, default 3s), and an intent or a form names one
// as its action, "webhook:NAME". The engine sends a WebhookRequest (the
// conversation, the customer, the intent, slots, entities and text) through
// Config.Caller (internal/webhook signs and posts it), within the hook's
// timeout, and says the WebhookReply's text, or the intent's default
// response, keeping the reply's slots. A call that fails, times out or
// answers an invalid reply is logged, the customer hears the domain's
// webhook_failed message, and the conversation goes on in the bot's hands:
// no slot of the reply is kept and no failure is counted against the bot
// (a form whose action failed is not resumed; the customer asks again).
//
// With Config.Router set (dialog/triage trains one from the CRM history),
// a handoff takes its queue and priority from the model and stores the
// model's reason (the tree path or the top features) in the conversation's
// RoutingReason; without one, or when it fails, the rules above decide.
// With Config.Scorer set, every message the bot handles updates the
// conversation's SatisfactionRisk, and a risk at the model's threshold hands
// the conversation off early.
//
// Besides Receive and Answer (and Handle, which does both): Post stores an agent's, the system's or another system's
// message without an answer from the bot; Resolve closes a conversation (the
// resolve action does it after its reply, as the demo's goodbye does) and
// Rate stores the customer's rating of a resolved conversation, once; Erase
// erases a customer through the store and publishes EventErased for each of
// their conversations, so that the channels still attached end them.
//
// After Policy.MaxFailures failures in a row (not understood, out of scope,
// invalid answers, unknown orders) the bot hands off. In the agent state it
// stores messages and says nothing; in the waiting state too, with two
// exceptions below.
//
// The lifecycle (lifecycle.go, timeouts.go) is the one place where people
// take conversations from the bot and give them back; the console, the REST
// API and other channels call it. A conversation is held by the bot (state
// bot), waits in a queue (waiting, after a handoff), is held by an agent
// (agent, AssignedAgent set) or is resolved. Claim (an agent takes it),
// Assign (the system's auto-assignment, or an admin), Release (back to its
// queue), Transfer (to a queue or an agent), Return (back to the bot, with
// a system message to the customer and every message so far counted as
// answered) and Resolve are each one store Transition made under the
// conversation's lock, so they are serialised with the bot's turns in this
// process; the store's transaction decides again on the conversation as it
// then is, so a change by another process is never overwritten and exactly
// one of many simultaneous claims wins anywhere (the others get a
// *ClaimedError naming the winner). A claim that lands while another
// process's turn runs makes that turn's commit drop the bot's replies
// ("taken_over"). An agent's Post on a conversation nobody holds claims it
// first. Each change stores a crm.Event (who, when, the queue and assignee
// after it) and publishes EventState, then EventLifecycle; the bot's own
// changes (a handoff, with its routing reason; a goodbye that resolves) are
// stored with the turn (crm.Turn.Events). Note stores an agent's private
// note and publishes only EventLifecycle: customer channels ignore those,
// so a note never reaches the customer. Typing publishes who is typing.
//
// Sweep (RunSweeper calls it periodically) applies the timeouts: a
// conversation that waited Config.QueueTimeout (default 2 minutes; at once
// outside Config.Hours, a BusinessHours from ParseHours) hears once per
// handoff that nobody is free and that it may leave an e-mail address
// (message queue_timeout; event timeout; slot _queue_timeout) and stays in
// its queue; one whose agent has not written since taking it
// Config.AgentTimeout ago (default 5 minutes) goes back to its queue (event
// requeue). While waiting, after the timeout, a message with an e-mail
// address is answered (contact_saved), kept in slot contact_email (event
// contact) and, for a known customer, opens a ticket (topic email_reply) or
// adds to their open one; a message with a closing cue that the NLU reads
// as a goodbye takes the customer out of the queue (left_queue; event
// leave; resolved). Only those messages are parsed while waiting. Domains
// may word queue_timeout, contact_saved, left_queue and returned under
// messages; the engine has its own lines for those that do not.
//
// Verified disclosure (verify.go). Account data is shown and acted on only
// for a verified visitor: one whose conversation has a customer, set by the
// channel (a signed widget identity, the REST API's caller: the conversation
// starts with its CustomerID) or by the engine once the visitor gave an
// order number and the e-mail address on that order, in either order,
// across messages. Before that the bot says only whether an order number
// exists (order numbers are sequential, so that is public), greets no one
// by name, links nothing, and runs no action that reads or changes an
// account (lookup_order, create_ticket, cancel_order, forms about an order):
// it asks for what is missing, and the question waits until the pair
// matches. A pair that does not match is answered in the same words
// whichever part is wrong. Failed proofs are counted per conversation and
// per Inbound.Source (in memory, for an hour, at most 10,000 sources, per
// process); at Policy.MaxProofFailures (default 3) of either the bot stops
// checking and hands off. A webhook sees the customer only once verified.
//
// Caveats: a turn's lifecycle events are published after one extra read
// (Events), because CommitTurn does not return them with their ids; it
// happens only in turns that hand off, resolve or take a contact. While
// waiting, only the message an Answer is about is looked at, so of two
// messages answered at once only the newer may count. The sweeper's
// timeouts are measured from StateSince, which the store sets: clocks of
// several processes sharing a store should agree. Post claims for an agent
// before storing; a resend of an agent's message after another agent took
// the conversation fails with a *ClaimedError although the first send was
// stored. The engine's own bookkeeping (failures, pending questions, the
// intent a form serves, claims of identity) lives in the conversation's
// Slots under names that start with "_". (Conversations that an earlier
// version linked on a bare claim, slot _claimed, are unlinked by crm/boltdb
// when it migrates a store to schema version 4.) Messages answered by AnswerPending have no source, so only their
// conversation counts their failed proofs. Response variants are chosen by
// the message's sequence number, so a repeated question gets a differently
// worded answer and transcripts are reproducible.
package dialog
