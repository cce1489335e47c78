-- Conversations, their messages and their events. As in 001, each record is
-- its crm JSON document beside the columns queries select, order and index
-- by. Documents are json, not jsonb: json keeps the text as written (a
-- message's parse is returned as stored) and, unlike jsonb, accepts the
-- \u0000 escape that free text may hold.
--
-- Times are Unix nanoseconds (bigint), not timestamptz, which keeps only
-- microseconds: the store's clock gives nanoseconds, and the listings
-- compare and order by the exact instants the records hold. Ids sort
-- bytewise (collate "C"), as the bbolt store's keys do.

create table conversations (
	id          text collate "C" primary key,
	customer_id text collate "C" references customers (id), -- null while the customer is unknown
	state       text not null,
	queue       text collate "C" not null default '', -- '' when none
	urgency     smallint not null,                    -- crm.Priority.Rank: 3 urgent, 2 high, 1 normal, 0 low
	unanswered  boolean not null,                     -- crm.Conversation.Unanswered
	created_ns  bigint not null,                      -- CreatedAt
	closed_ns   bigint,                               -- ClosedAt while resolved, else null
	doc         json not null
);
-- OpenConversations, in its order: most urgent first, then oldest, then by id.
create index conversations_open on conversations (urgency desc, created_ns, id) where state <> 'resolved';
-- ConversationsByCustomer (newest first), History, export and erasure.
create index conversations_customer on conversations (customer_id, created_ns desc, id desc)
	where customer_id is not null;
-- CreatedBetween and ResolvedBetween.
create index conversations_created on conversations (created_ns, id);
create index conversations_closed on conversations (closed_ns desc, id desc) where closed_ns is not null;

-- Messages, numbered 1, 2, 3, ... within their conversation (Seq). An
-- append locks its conversation's row (for no key update) and takes
-- LastSeq + 1 from its document, so that concurrent appends get distinct
-- seqs without gaps.
create table messages (
	conversation_id text collate "C" not null references conversations (id) on delete cascade,
	seq             bigint not null,
	client_id       text collate "C", -- null when none
	sender          text not null,
	created_ns      bigint not null,
	doc             json not null,
	primary key (conversation_id, seq),
	unique (conversation_id, client_id)
);

-- Events (Transition, CommitTurn), numbered 1, 2, 3, ... within their
-- conversation apart from its messages; written under the conversation's
-- row lock like messages.
create table events (
	conversation_id text collate "C" not null references conversations (id) on delete cascade,
	seq             bigint not null,
	type            text not null,
	at_ns           bigint not null,
	doc             json not null,
	primary key (conversation_id, seq)
);
