package crm

import "errors"

// Errors returned by the store, wrapped with the operation that failed: test
// for them with errors.Is.
var (
	// ErrNotFound means the record asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a record with the same id, or the same unique e-mail,
	// phone number or channel identity, already exists.
	ErrConflict = errors.New("already exists")
	// ErrInvalid means a record or argument broke a rule of the store (a missing
	// or malformed field, a reference to nothing, invalid UTF-8).
	ErrInvalid = errors.New("invalid")
	// ErrTooLarge means a message text is longer than the store's limit
	// (DefaultMaxMessageBytes unless configured), or an NLU result longer
	// than MaxParseBytes.
	ErrTooLarge = errors.New("message too large")
	// ErrUnauthorized means an agent login and password did not match.
	ErrUnauthorized = errors.New("wrong login or password")
	// ErrInUse means another process holds the store file open (stores on
	// one file, such as crm/boltdb).
	ErrInUse = errors.New("store in use by another process")
	// ErrSchemaNewer means the file was written by a newer Parley whose schema
	// this program does not know.
	ErrSchemaNewer = errors.New("store schema is newer than this program")
	// ErrAnswered means CommitTurn was given a turn for a customer message
	// that already had one: the message was answered before.
	ErrAnswered = errors.New("message already answered")
	// ErrClosed means the store has been closed.
	ErrClosed = errors.New("store closed")
)
