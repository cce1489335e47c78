package triage

import "errors"

// Errors of training and loading, wrapped with the operation that failed
// ("train routing: ..."). Test for them with errors.Is. The learners' own
// errors (models.ErrNonFinite, models.ErrDimension, models.ErrLabel) come
// through wrapped as well.
var (
	// ErrNoData: the store holds nothing to learn from (no handed-off
	// conversations for routing, no rated ones for satisfaction), or too
	// few for the folds asked for.
	ErrNoData = errors.New("not enough training data")
	// ErrOneClass: every example has the same label (one queue, one
	// priority, or only low or only good ratings), so there is nothing to
	// learn.
	ErrOneClass = errors.New("only one class in the training data")
	// ErrOption: a bad option, such as an unknown learner, fewer than two
	// folds or no domain.
	ErrOption = errors.New("invalid option")
	// ErrFormat: a model file that is not one, is corrupt or inconsistent.
	ErrFormat = errors.New("malformed triage model")
	// ErrVersion: a model file of a format version this build cannot read.
	ErrVersion = errors.New("unsupported triage model version")
)
