// Package logonce keeps a repeated error from flooding the log. Its
// Handler wraps a slog.Handler: of the ERROR records with the same message
// and the same error text, it passes the first and holds back the repeats
// for a window (a minute by default); when the window has ended, it writes
// one summary record with their count. A disk that is full, or a store that
// cannot commit, then costs two lines a minute instead of one per attempt.
//
// Records below ERROR pass through untouched. Records are told apart by
// their message and the text of their first error attribute (an attribute
// whose value is an error, or one named "err" or "error"); other attributes
// (a conversation id, a remote address) may differ between the records a
// summary counts, and the summary carries only the error.
//
// Summaries are written by the next record that reaches the handler after
// the window ended, by Run (which wakes up for them), and by Flush.
package logonce
