// Package postgres is the PostgreSQL implementation of the crm.Store
// contract, for several Parley nodes sharing one database. It passes the
// same conformance suite (crm/crmtest) as the embedded bbolt store.
//
// Open connects with a pgx pool and applies the migrations embedded in
// the binary (migrations/NNN_name.sql, each in one transaction, recorded in
// schema_migrations) under an advisory lock, so that nodes starting
// together migrate one after the other; a database migrated by a newer
// Parley fails with crm.ErrSchemaNewer.
//
// Records are kept as the crm package's JSON documents (a json column, as
// the bbolt store keeps them) beside the columns queries select, order and
// index by; times the store orders by are Unix nanoseconds. What must hold across nodes holds in the database: a
// conversation's messages are numbered under a lock of its row, so
// concurrent appends from several nodes get consecutive sequence numbers;
// a resend with the same client id is found by a unique index; a claim is
// one conditional update, so exactly one of many wins. Texts are validated
// and redacted by the crm package before they are stored, as in bbolt.
//
// TurnLocker is the engine's turn lock shared by every node
// (dialog.Config.Locker): a PostgreSQL advisory lock per conversation, on
// connections of its own so that held locks cannot starve the store.
//
// CopyRecords writes records read from a bbolt store unchanged (ids, seqs,
// times, password hashes), one batch per transaction, skipping those
// already there and equal, refusing those that differ (migrate.go: "bot
// migrate").
//
// The tests use PARLEY_TEST_POSTGRES, or postgres://root@127.0.0.1:5432/test
// (the development machine's): each test works in a schema of its own,
// dropped at its end. Without a database they skip, except under CI=true,
// where they fail.
package postgres
