package models

import (
	"errors"
	"math"
	"testing"
)

// learner adapts every model to one shape for the input-validation tables.
type learner struct {
	name       string
	supervised bool
	fit        func(X [][]float64, y []int) error
	predict    func(X [][]float64) error
}

func learners() []learner {
	lr, svm, tree := &LogisticRegression{}, &LinearSVM{}, &DecisionTree{}
	km, pca := &KMeans{K: 2, NInit: 1}, &PCA{}
	pred := func(c Classifier) func([][]float64) error {
		return func(X [][]float64) error { _, err := c.Predict(X); return err }
	}
	return []learner{
		{"logistic regression", true, lr.Fit, pred(lr)},
		{"linear svm", true, svm.Fit, pred(svm)},
		{"decision tree", true, tree.Fit, pred(tree)},
		{"kmeans", false, func(X [][]float64, _ []int) error { return km.Fit(X) },
			func(X [][]float64) error { _, err := km.Predict(X); return err }},
		{"pca", false, func(X [][]float64, _ []int) error { return pca.Fit(X) },
			func(X [][]float64) error { _, err := pca.Transform(X); return err }},
	}
}

func TestFitRejectsBadInput(t *testing.T) {
	good := [][]float64{{0, 1}, {1, 0}, {2, 2}, {3, 1}}
	cases := []struct {
		name       string
		X          [][]float64
		y          []int
		want       error
		supervised bool // only for learners with labels
	}{
		{"no rows", nil, nil, ErrEmpty, false},
		{"no features", [][]float64{{}, {}}, []int{0, 1}, ErrEmpty, false},
		{"ragged rows", [][]float64{{0, 1}, {1}, {2, 2}}, []int{0, 1, 0}, ErrDimension, false},
		{"NaN", [][]float64{{0, 1}, {math.NaN(), 0}, {2, 2}}, []int{0, 1, 0}, ErrNonFinite, false},
		{"+Inf", [][]float64{{0, math.Inf(1)}, {1, 0}, {2, 2}}, []int{0, 1, 0}, ErrNonFinite, false},
		{"-Inf", [][]float64{{0, 1}, {1, 0}, {math.Inf(-1), 2}}, []int{0, 1, 0}, ErrNonFinite, false},
		{"fewer labels than rows", good, []int{0, 1, 0}, ErrDimension, true},
		{"more labels than rows", good, []int{0, 1, 0, 1, 1}, ErrDimension, true},
		{"negative label", good, []int{0, 1, -1, 1}, ErrLabel, true},
		{"class without samples", good, []int{0, 2, 0, 2}, ErrLabel, true},
		{"label beyond rows", good, []int{0, 1, 0, 9}, ErrLabel, true},
		{"single class", good, []int{1, 1, 1, 1}, ErrSingleClass, true},
		{"single class zero", good, []int{0, 0, 0, 0}, ErrSingleClass, true},
	}
	for _, l := range learners() {
		for _, c := range cases {
			if c.supervised && !l.supervised {
				continue
			}
			t.Run(l.name+"/"+c.name, func(t *testing.T) {
				err := l.fit(c.X, c.y)
				if !errors.Is(err, c.want) {
					t.Fatalf("Fit error %v, want %v", err, c.want)
				}
			})
		}
	}
}

func TestPredictRejectsBadInput(t *testing.T) {
	X := [][]float64{{0, 1, 0}, {1, 0, 1}, {2, 2, 0}, {3, 1, 1}, {0, 0, 0}, {4, 4, 1}}
	y := []int{0, 1, 0, 1, 0, 1}
	cases := []struct {
		name string
		X    [][]float64
		want error
	}{
		{"no rows", nil, ErrEmpty},
		{"too narrow", [][]float64{{1, 2}}, ErrDimension},
		{"too wide", [][]float64{{1, 2, 3, 4}}, ErrDimension},
		{"second row wrong", [][]float64{{1, 2, 3}, {1}}, ErrDimension},
		{"NaN", [][]float64{{1, math.NaN(), 3}}, ErrNonFinite},
		{"Inf", [][]float64{{1, 2, math.Inf(1)}}, ErrNonFinite},
	}
	for _, l := range learners() {
		t.Run(l.name+"/not fitted", func(t *testing.T) {
			if err := l.predict([][]float64{{1, 2, 3}}); !errors.Is(err, ErrNotFitted) {
				t.Fatalf("error %v, want ErrNotFitted", err)
			}
		})
		if err := l.fit(X, y); err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		for _, c := range cases {
			t.Run(l.name+"/"+c.name, func(t *testing.T) {
				if err := l.predict(c.X); !errors.Is(err, c.want) {
					t.Fatalf("error %v, want %v", err, c.want)
				}
			})
		}
	}
}

func TestBadParameters(t *testing.T) {
	X, y := synth(20, 3, 2, 1)
	cases := []struct {
		name string
		fit  func() error
		want error
	}{
		{"logreg negative C", func() error { return (&LogisticRegression{C: -1}).Fit(X, y) }, ErrParam},
		{"logreg NaN C", func() error { return (&LogisticRegression{C: math.NaN()}).Fit(X, y) }, ErrParam},
		{"logreg negative tol", func() error { return (&LogisticRegression{Tol: -1}).Fit(X, y) }, ErrParam},
		{"svm negative C", func() error { return (&LinearSVM{C: -2}).Fit(X, y) }, ErrParam},
		{"svm unknown loss", func() error { return (&LinearSVM{Loss: 7}).Fit(X, y) }, ErrParam},
		{"tree unknown criterion", func() error { return (&DecisionTree{Criterion: 5}).Fit(X, y) }, ErrParam},
		{"tree negative depth", func() error { return (&DecisionTree{MaxDepth: -1}).Fit(X, y) }, ErrParam},
		{"tree min split 1", func() error { return (&DecisionTree{MinSamplesSplit: 1}).Fit(X, y) }, ErrParam},
		{"tree feature names", func() error { return (&DecisionTree{FeatureNames: []string{"a"}}).Fit(X, y) }, ErrDimension},
		{"tree class names", func() error { return (&DecisionTree{ClassNames: []string{"a", "b", "c"}}).Fit(X, y) }, ErrDimension},
		{"kmeans K 0", func() error { return (&KMeans{}).Fit(X) }, ErrParam},
		{"kmeans K above n", func() error { return (&KMeans{K: 21}).Fit(X) }, ErrTooFewSamples},
		{"kmeans duplicates", func() error {
			return (&KMeans{K: 3}).Fit([][]float64{{1, 1}, {1, 1}, {2, 2}, {2, 2}})
		}, ErrTooFewSamples},
		{"pca too many components", func() error { return (&PCA{NComponents: 4}).Fit(X) }, ErrParam},
		{"pca negative components", func() error { return (&PCA{NComponents: -1}).Fit(X) }, ErrParam},
		{"pca one sample", func() error { return (&PCA{}).Fit(X[:1]) }, ErrTooFewSamples},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.fit(); !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
		})
	}
}
