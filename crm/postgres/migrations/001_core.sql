-- Parley's CRM on PostgreSQL. Records are kept as JSON documents (the crm
-- package's JSON encoding, as the bbolt store keeps them) with the columns
-- that queries select, order and index by beside them.
--
-- Documents are json, not jsonb: json keeps the text as written and
-- accepts the \u0000 escape that texts may hold. Times are Unix nanoseconds
-- (bigint): timestamptz keeps only microseconds, and the store's order and
-- "before" tests compare exact times, as bbolt does.
--
-- Keys are collate "C" so that "in id order" is byte order, as in bbolt and
-- in Go, whatever the database's default collation.

create table customers (
	id         text collate "C" primary key,
	email      text collate "C" unique, -- crm.NormalizeEmail of the customer's e-mail; null when none
	phone      text collate "C" unique, -- crm.NormalizePhone; null when none
	created_ns bigint not null,
	doc        json not null
);

create table customer_identities (
	channel     text collate "C" not null,
	external_id text collate "C" not null,
	customer_id text collate "C" not null references customers (id) on delete cascade,
	primary key (channel, external_id)
);
create index customer_identities_customer on customer_identities (customer_id);

-- An order's customer must exist: erasing a customer deletes their orders
-- first.
create table orders (
	id          text collate "C" primary key,
	customer_id text collate "C" not null references customers (id),
	placed_ns   bigint not null,
	doc         json not null
);
-- Newest first, and on a tie the greater id first, as bbolt's index reads.
create index orders_customer on orders (customer_id, placed_ns desc, id desc);

create table agents (
	login text collate "C" primary key, -- as given (crm.ValidateAgent)
	doc   json not null
);

create table canned (
	shortcut text collate "C" primary key,
	doc      json not null
);

-- Channel state (crm.ChannelStateStore): outside events taken, and links.
create table channel_seen (
	key text collate "C" primary key,
	at  timestamptz not null
);
create index channel_seen_at on channel_seen (at);

create table channel_links (
	key   text collate "C" primary key,
	value text not null
);
