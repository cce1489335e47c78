package insight

import "errors"

// Errors returned by Analyze, wrapped with details ("analyze: conversation
// c-1 message 4: non-finite embedding value"). Test for them with errors.Is.
var (
	// ErrTooFewMessages: Options.K is larger than the number of distinct
	// messages to analyse.
	ErrTooFewMessages = errors.New("too few messages for the clusters asked")
	// ErrNonFinite: an embedding holds NaN or ±Inf.
	ErrNonFinite = errors.New("non-finite embedding value")
	// ErrDimension: embeddings of different sizes, which come from different
	// models (parse again with Options.Reparse), or an empty embedding from
	// the Parser.
	ErrDimension = errors.New("embeddings of different sizes")
	// ErrOption: an option is out of its range.
	ErrOption = errors.New("invalid option")
)
