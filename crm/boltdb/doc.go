// Package boltdb is the embedded implementation of the crm.Store contract:
// one bbolt file (go.etcd.io/bbolt, imported by this package only), one
// process. *DB implements crm.Store and crm.Backuper; Open opens it.
//
// # What it owns
//
//   - Durable messages: AppendMessage returns only after the message is
//     committed with fsync, so a message acknowledged to its sender survives a
//     crash. Each message gets a random server id and the next sequence number
//     of its conversation (1, 2, 3, ...); a reconnecting client asks for
//     MessagesAfter(last seq it saw). A resend with the same ClientID returns
//     the stored message instead of storing a copy. Concurrent appends, turns
//     (CommitTurn), and the other small writes of conversations, parses,
//     ratings and tickets, share commits (commit.go: one goroutine commits
//     every call waiting, without waiting for more), so many writers pay for
//     about one fsync per group.
//   - Validation, defaults and redaction are crm's (crm.ValidateCustomer,
//     crm.PrepareMessage, ...), so this store accepts and rejects what every
//     other implementation does.
//   - Schema: a version number in the meta bucket and a list of migration
//     steps run by Open. A file from a newer Parley is refused
//     (crm.ErrSchemaNewer).
//   - Backup: Backup copies the file consistently while it is in use; Check
//     verifies the file and the store's invariants; CheckFile runs Check on
//     a file without opening it for writing; ReadAll walks every record
//     as stored, in one read transaction (walk.go: what "bot migrate"
//     copies into PostgreSQL).
//   - A damaged file is refused, never written to: before bbolt maps an
//     existing file, Open reads its structure with plain reads (verify.go:
//     the meta pages, that the file holds every page they name, the B+tree
//     of every bucket up to openCheckPages pages, about 1.3 ms for the demo
//     store's 483), then checks the schema's buckets. An empty, truncated or
//     garbled file fails with ErrDamaged and a message that says what to do.
//     Created reports a store this Open made, the only one to seed.
//   - Every read and write recovers a panic of bbolt, and a memory fault
//     on a page the file no longer holds (which would be SIGBUS), into an
//     error wrapping ErrDamaged for that one call, logged with its stack.
//
// # Bucket layout (schema version 5)
//
// Values are JSON. Keys join their parts with a 0 byte, which no id, client
// id, queue or topic may contain; "seq" and "time" are 8-byte big-endian
// numbers (time: Unix nanoseconds with the sign bit flipped), so keys sort in
// numeric and time order.
//
//	meta                       schema_version -> uint64
//	customers                  id -> Customer
//	orders                     id -> Order
//	conversations              id -> Conversation
//	messages                   conversation id, seq -> Message
//	tickets                    id -> Ticket
//	feedback                   id -> Feedback
//	agents                     login -> Agent
//	events                     conversation id, seq -> Event (version 5)
//	canned                     shortcut -> CannedResponse (version 5)
//	idx_customer_email         lower-case e-mail -> customer id
//	idx_customer_phone         "+" and digits -> customer id
//	idx_customer_identity      channel, external id -> customer id
//	idx_order_customer         customer id, placed time, order id -> (empty)
//	idx_conversation_customer  customer id, created time, conversation id -> (empty)
//	idx_conversation_open      urgency, created time, conversation id -> unanswered, state, queue; unresolved only (version 3)
//	idx_message_client         conversation id, client id -> seq
//	idx_ticket_customer        customer id, ticket id -> (empty)
//	idx_ticket_open            customer id, topic, ticket id -> (empty); open and pending only
//	idx_feedback_customer      customer id, created time, feedback id -> (empty)
//	idx_feedback_conversation  conversation id, created time, feedback id -> (empty); version 2
//	idx_conversation_created   created time, conversation id -> (empty); version 5
//	idx_conversation_closed    closed time, conversation id -> (empty); resolved only (version 5)
//
// Version 4 changed no layout: it unlinked the conversations that Parley
// before verified disclosure had linked to a customer on a visitor's
// unverified claim (slot "_claimed").
//
// Version 5 is the agent console's: events (lifecycle.go: who claimed,
// released, transferred or resolved a conversation, and agents' notes),
// stored by Transition and CommitTurn in the transaction of the change they
// record, numbered per conversation apart from its messages and erased and
// exported with it; canned responses (canned.go); and the two time indexes
// CreatedBetween and ResolvedBetween read. The created entry is written
// once, when a conversation is created or imported; the closed entry when
// it is resolved, and removed when it reopens (an update, or a customer's
// message: AppendMessage removes it in its own transaction, so the hot
// path costs no extra transaction) or is erased. The migration builds both
// indexes from the conversations there are and gives each conversation
// without StateSince its UpdatedAt.
//
// Every write keeps its records and their index entries in step in one
// transaction; Check proves it. History reads the customer indexes in
// reverse from its AsOf time and stops at its bounds. OpenConversations
// reads idx_conversation_open in key order, which is its listing's order,
// skips entries by their values (state, queue, unanswered) and decodes
// only the conversations it returns, stopping at the limit: listing 20 of
// 100,000 open conversations costs what listing 20 of 1,000 does (a filter
// that matches few of them still reads every entry, not every record).
//
// Writable reports a store whose last commit failed (the file could not be
// written or synced) until a commit succeeds again; cmd/bot's /readyz uses
// it.
//
// Conversation.StateSince and LastAgentAt are kept by the store: StateSince
// by crm.UpdatedConversation (and by AppendMessage when a customer message
// reopens a conversation), LastAgentAt by AppendMessage of an agent
// message, in the write-back it makes anyway.
//
// Conversation.LastCustomerSeq and AnsweredSeq are new fields of the
// conversation record, not a new schema version: a conversation written
// before they existed reads with both zero, so it owes no answer
// (Unanswered is false), and its first new customer message sets
// LastCustomerSeq. No migration is needed; Check accepts a zero
// LastCustomerSeq for that reason.
//
// # Caveats
//
//   - One process per file: bbolt locks the file (flock). A second Open, from
//     another process or the same one, waits Options.Timeout and fails with
//     crm.ErrInUse. Tools that need the data of a running server (backup,
//     export) must go through that server.
//   - The file never shrinks: deleted records free pages for reuse, but the
//     file keeps its size. Erased data stays in those free pages, and so in
//     a Backup copy, until bbolt overwrites them; compacting the file into a
//     new one (bbolt's compact) removes it for good.
//   - Read transactions are short on purpose (records are copied out before
//     a transaction ends). Backup and Check are the exceptions: a long read
//     transaction keeps freed pages from being reused and holds up a writer
//     that needs to grow the file.
//   - Update* callbacks, Transition's fn and CommitTurn's Turn.Update run
//     inside the write transaction: they must be quick and must not call
//     the store. They may run twice when a commit they share with other
//     writers fails.
package boltdb
