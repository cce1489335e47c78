package models

import "io"

// Classifier is what the supervised learners (LogisticRegression, LinearSVM,
// DecisionTree) have in common. Labels are class indices 0..k-1; features are
// rows of equal width.
//
// A fitted or loaded classifier is read-only: Predict, PredictProba and the
// other query methods may be called from many goroutines at once. Fit and
// Load must not run concurrently with anything else on the same value.
type Classifier interface {
	// Fit trains on X (n rows of d features) and y (n labels in 0..k-1,
	// every class present, k >= 2), replacing any earlier model.
	Fit(X [][]float64, y []int) error
	// Predict returns the most likely class of each row.
	Predict(X [][]float64) ([]int, error)
	// Dims returns the number of features and classes of the fitted model,
	// or zeros before Fit or Load.
	Dims() (features, classes int)
	// Save writes the fitted model; Load replaces the receiver with a saved
	// one of the same kind.
	Save(w io.Writer) error
	Load(r io.Reader) error
}

// ProbaClassifier is a Classifier that also gives class probabilities: one
// row of k values summing to 1 per sample.
type ProbaClassifier interface {
	Classifier
	PredictProba(X [][]float64) ([][]float64, error)
}

// Compile-time checks that the learners implement the interfaces.
var (
	_ ProbaClassifier = (*LogisticRegression)(nil)
	_ ProbaClassifier = (*DecisionTree)(nil)
	_ Classifier      = (*LinearSVM)(nil)
)
