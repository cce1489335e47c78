package replies

import "errors"

// Errors Load and Train return; test with errors.Is.
var (
	// ErrNoModel: the directory holds no replies model (no replies.json).
	ErrNoModel = errors.New("no replies model")
	// ErrFormat: the model was written by a build with another format
	// version, or its replies.json is not one.
	ErrFormat = errors.New("replies model of another format")
	// ErrCorrupt: a file does not match its checksum or cannot be decoded.
	ErrCorrupt = errors.New("replies model corrupt")
	// ErrNoData: too few pairs in a split to train or evaluate.
	ErrNoData = errors.New("not enough reply pairs")
)
