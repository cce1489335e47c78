// Package suggest proposes replies to the agent who has a conversation
// open: up to three, drawn from what agents answered before in similar
// conversations, from the canned responses and from the help centre.
//
// It owns:
//
//   - mining (Mine): every resolved conversation of the store, read page by
//     page, gives (customer message, agent reply) pairs: each agent message
//     with the customer messages written since the previous agent message
//     (at most the last MaxCustomerTexts). Trivial replies (fewer than
//     MinReplyWords words, or greetings and thanks only) are skipped;
//     identical replies (compared case- and space-insensitively) are kept
//     once, with how often they were given (Count, their popularity). The
//     customer's name and the order numbers the customer wrote are turned
//     back into the {{customer.name}} and {{order.id}} variables, so that a
//     reply written for one customer is not suggested to another verbatim.
//   - ranking (Suggester.Suggest): the query is the customer messages
//     written since the last agent message (at most the last two). Past
//     customer messages are searched with BM25 (package kb's TextIndex, the
//     help centre's tokenizer); canned responses by their title and text;
//     help-centre passages by kb.Searcher.Ask. Every candidate gets one
//     score on one scale, 0..1 (see Score: relative BM25 times coverage;
//     for passages, the help centre's confidence times coverage), then a
//     fixed weight per source
//     (WeightPastReply, WeightCanned, WeightKB); candidates under MinScore are
//     dropped, identical texts kept once, and the best three returned.
//   - usage (Usage): which suggestions were shown and which the agent used,
//     counted per source since the process started and for the current
//     day, in memory: a restart starts the counts again. The store's event
//     types record who holds a conversation, and the store contract is not
//     changed for this, so the counts are per process: each node of a
//     cluster counts its own agents.
//
// The mined index is rebuilt by Rebuild (Run calls it at start and then
// periodically); until the first Rebuild only canned responses and the
// help centre are suggested. Caveats: the ranking only matches words (and
// one-letter typos), as the help centre's does; a paraphrase with none of
// the past message's words is missed.
package suggest
