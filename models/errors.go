package models

import "errors"

// Errors returned by the learners, wrapped with the operation that failed
// (for example "logistic regression fit: empty data"). Test for them with
// errors.Is.
var (
	// ErrEmpty: no samples, or samples with no features.
	ErrEmpty = errors.New("empty data")
	// ErrNonFinite: a feature value is NaN or ±Inf.
	ErrNonFinite = errors.New("non-finite feature value")
	// ErrDimension: rows of different widths, as many labels as rows not
	// given, a row width that differs from the one the model was fitted on,
	// or names that do not match the number of features or classes.
	ErrDimension = errors.New("dimension mismatch")
	// ErrLabel: a label is negative, or some class in 0..k-1 (k = largest
	// label + 1) has no sample.
	ErrLabel = errors.New("label out of range")
	// ErrSingleClass: every training sample has the same label.
	ErrSingleClass = errors.New("only one class in the labels")
	// ErrTooFewSamples: fewer samples (or distinct points) than the learner
	// needs, such as fewer distinct points than k-means clusters.
	ErrTooFewSamples = errors.New("too few samples")
	// ErrParam: a hyperparameter is out of its valid range.
	ErrParam = errors.New("invalid parameter")
	// ErrNotFitted: the model was used before Fit or Load.
	ErrNotFitted = errors.New("model not fitted")
	// ErrFormat: the saved model is not a Parley model or is corrupt.
	ErrFormat = errors.New("malformed model file")
	// ErrKind: the saved model is of another kind than the one loading it.
	ErrKind = errors.New("wrong model kind")
	// ErrVersion: the saved model has a format version this build cannot read.
	ErrVersion = errors.New("unsupported model version")
)
