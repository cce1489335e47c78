// Package crm is Parley's customer database contract: the records
// (customers, orders, conversations and their messages, tickets, feedback,
// agents), the Store interfaces the dialog engine and the web server use,
// the errors they return, and the rules every implementation applies.
//
// It holds no storage: implementations live in their own packages, one per
// storage library (crm/boltdb: one bbolt file, the default; an in-memory one
// for tests; a shared SQL database for several nodes), and all of them pass
// one conformance suite. Record types (types.go) are plain structs, so a
// caller never depends on an implementation.
//
// # What it owns
//
//   - The contract (store.go, history.go): what each method stores and
//     returns, and which errors (errors.go) mean what. Messages are durable
//     once AppendMessage returns, numbered 1, 2, 3, ... within their
//     conversation, and idempotent by (ConversationID, ClientID); CommitTurn
//     stores a dialog turn in one transaction and marks its message
//     answered exactly once (ErrAnswered); History is the one bounded read
//     the engine makes per customer message.
//   - The rules (validate.go): validation of every record
//     (ValidateCustomer, ValidateOrder, ...), the normal forms e-mail
//     addresses and phone numbers are compared in, defaults of new records,
//     ids (NewID), agent passwords (HashPassword, CheckPassword, bcrypt), and
//     PrepareMessage, which checks and redacts a message before it is stored.
//     Implementations call them, so they accept and reject the same records
//     with the same errors.
//   - Privacy (redact.go): every piece of customer text a store keeps is
//     passed through Redact (card numbers, one-time codes) before it is
//     stored: message text, conversation slots (names and values), ticket
//     subjects and history notes, and feedback comments (by PrepareMessage
//     and the Validate functions); an NLU result goes through RedactParse.
//     PrivacyStore erases and exports a customer.
//
// # Caveats
//
//   - Redact knows ASCII digits only, and the Parse field of a message is
//     redacted string by string: an NLU result that splits a card number into
//     entities is caught only when it carries the text and rune offsets
//     (RedactParse), so callers should parse Redact(text), not the raw text.
//   - Customer records (names, attributes) and orders are the shop's data,
//     not the customer's free text, and are stored as given.
//   - Update callbacks (UpdateCustomer, UpdateConversation, UpdateTicket,
//     Turn.Update) run inside the implementation's write transaction: they
//     must be quick, must not call the store, and may run more than once.
package crm
