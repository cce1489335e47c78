package models

import "testing"

// Benchmarks on 5,000 x 50 dense features, 4 classes (go test -bench .).
// bench/models compares larger runs against scikit-learn.

func benchData(b *testing.B) ([][]float64, []int) {
	b.Helper()
	return synth(5000, 50, 4, 42)
}

func benchFit(b *testing.B, fit func(X [][]float64, y []int) error) {
	X, y := benchData(b)
	b.ResetTimer()
	for range b.N {
		if err := fit(X, y); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPredict(b *testing.B, c Classifier) {
	X, y := benchData(b)
	if err := c.Fit(X, y); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := c.Predict(X); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(X)), "ns/row")
}

func BenchmarkLogisticRegressionFit(b *testing.B) {
	benchFit(b, func(X [][]float64, y []int) error { return (&LogisticRegression{}).Fit(X, y) })
}

func BenchmarkLinearSVMFit(b *testing.B) {
	benchFit(b, func(X [][]float64, y []int) error { return (&LinearSVM{}).Fit(X, y) })
}

func BenchmarkDecisionTreeFit(b *testing.B) {
	benchFit(b, func(X [][]float64, y []int) error { return (&DecisionTree{MaxDepth: 10}).Fit(X, y) })
}

func BenchmarkKMeansFit(b *testing.B) {
	benchFit(b, func(X [][]float64, _ []int) error { return (&KMeans{K: 4, NInit: 3}).Fit(X) })
}

func BenchmarkPCAFit(b *testing.B) {
	benchFit(b, func(X [][]float64, _ []int) error { return (&PCA{NComponents: 10}).Fit(X) })
}

func BenchmarkLogisticRegressionPredict(b *testing.B) { benchPredict(b, &LogisticRegression{}) }
func BenchmarkLinearSVMPredict(b *testing.B)          { benchPredict(b, &LinearSVM{}) }
func BenchmarkDecisionTreePredict(b *testing.B)       { benchPredict(b, &DecisionTree{MaxDepth: 10}) }

// BenchmarkDecisionTreeExplain is the per-message path: one row, with the
// decision path for the agent console.
func BenchmarkDecisionTreeExplain(b *testing.B) {
	X, y := benchData(b)
	m := &DecisionTree{MaxDepth: 10}
	if err := m.Fit(X, y); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := m.Explain(X[i%len(X)]); err != nil {
			b.Fatal(err)
		}
	}
}
