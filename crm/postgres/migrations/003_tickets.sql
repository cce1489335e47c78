-- Tickets and satisfaction ratings, kept as 002 keeps conversations: the
-- crm JSON document (json, which keeps the text as written and accepts the
-- \u0000 escape free text may hold) beside the columns queries select,
-- order and index by; times in Unix nanoseconds, the exact instants the
-- documents hold; ids collate "C", so that ties order bytewise as in bbolt.

create table tickets (
	id          text collate "C" primary key,
	customer_id text collate "C" not null references customers (id), -- erasure deletes tickets first
	topic       text collate "C" not null default '', -- '' when none
	status      text not null,
	created_ns  bigint not null,
	updated_ns  bigint not null,
	doc         json not null
);
-- A customer's tickets, most recently updated first (History at a past
-- moment, export, erasure); and their open and pending ones by topic
-- (OpenTickets, OpenTicketByTopic, History now).
create index tickets_customer on tickets (customer_id, updated_ns desc, id desc);
create index tickets_open on tickets (customer_id, topic, updated_ns desc, id desc)
	where status in ('open', 'pending');

-- A rating has a conversation, a customer, or both (null for none).
-- Erasure deletes ratings before conversations and customers.
create table feedback (
	id              text collate "C" primary key,
	conversation_id text collate "C" references conversations (id),
	customer_id     text collate "C" references customers (id),
	created_ns      bigint not null,
	doc             json not null
);
create index feedback_customer on feedback (customer_id, created_ns desc, id desc) where customer_id is not null;
create index feedback_conversation on feedback (conversation_id, created_ns desc, id desc) where conversation_id is not null;
