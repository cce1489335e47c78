package models

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// formatName marks a stream as a saved Parley model.
const formatName = "parley-model"

// The model kinds written into saved models.
const (
	kindLogReg = "logistic-regression"
	kindSVM    = "linear-svm"
	kindTree   = "decision-tree"
	kindKMeans = "kmeans"
	kindPCA    = "pca"
)

// maxModelBytes bounds what Load reads, so a wrong or hostile file cannot
// exhaust memory. A 300x300 PCA or a 100k-node tree is far below it.
const maxModelBytes = 256 << 20

// envelope is the saved form of every model: one JSON document whose header
// says what follows. JSON keeps float64 values exact (shortest round-trip
// formatting) and the files readable.
type envelope struct {
	Format  string          `json:"format"`
	Kind    string          `json:"kind"`
	Version int             `json:"version"`
	Model   json.RawMessage `json:"model"`
}

// save writes v as a model of the given kind and version.
func save(w io.Writer, kind string, version int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", kind, err)
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(envelope{Format: formatName, Kind: kind, Version: version, Model: body}); err != nil {
		return fmt.Errorf("write %s: %w", kind, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", kind, err)
	}
	return nil
}

// readEnvelope reads and checks the header of a saved model.
func readEnvelope(r io.Reader) (envelope, error) {
	var env envelope
	dec := json.NewDecoder(io.LimitReader(r, maxModelBytes))
	if err := dec.Decode(&env); err != nil {
		return env, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if env.Format != formatName {
		return env, fmt.Errorf("%w: format %q, want %q", ErrFormat, env.Format, formatName)
	}
	if len(env.Model) == 0 {
		return env, fmt.Errorf("%w: no model body", ErrFormat)
	}
	return env, nil
}

// open checks that env holds the wanted kind and version and decodes its
// body into v.
func (env envelope) open(kind string, version int, v any) error {
	if env.Kind != kind {
		return fmt.Errorf("%w: file holds %q, want %q", ErrKind, env.Kind, kind)
	}
	if env.Version != version {
		return fmt.Errorf("%w: %s version %d, this build reads version %d", ErrVersion, kind, env.Version, version)
	}
	if err := json.Unmarshal(env.Model, v); err != nil {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return nil
}

// LoadClassifier reads a classifier saved by the Save method of
// LogisticRegression, LinearSVM or DecisionTree, whichever kind the stream
// holds. It returns ErrFormat for a stream that is not a saved model or is
// corrupt, ErrKind for a model that is not a classifier (k-means, PCA) and
// ErrVersion for a format version this build cannot read.
func LoadClassifier(r io.Reader) (Classifier, error) {
	env, err := readEnvelope(r)
	if err != nil {
		return nil, fmt.Errorf("load classifier: %w", err)
	}
	var c interface {
		Classifier
		fromEnvelope(envelope) error
	}
	switch env.Kind {
	case kindLogReg:
		c = &LogisticRegression{}
	case kindSVM:
		c = &LinearSVM{}
	case kindTree:
		c = &DecisionTree{}
	default:
		return nil, fmt.Errorf("load classifier: %w: %q is not a classifier", ErrKind, env.Kind)
	}
	if err := c.fromEnvelope(env); err != nil {
		return nil, fmt.Errorf("load classifier: %w", err)
	}
	return c, nil
}
