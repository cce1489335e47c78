package models_test

import (
	"bytes"
	"fmt"

	"github.com/parleyhq/parley/models"
)

// A routing tree over one-hot CRM features, printed as rules and used to
// explain one decision.
func ExampleDecisionTree_Rules() {
	// Features: tier=gold, intent=complaint (0/1), open tickets.
	X := [][]float64{
		{1, 1, 0}, {1, 1, 2}, {1, 1, 1}, {1, 0, 0},
		{0, 1, 3}, {0, 1, 0}, {0, 0, 1}, {0, 0, 0},
		{1, 0, 4}, {0, 1, 4},
	}
	y := []int{2, 2, 2, 0, 1, 1, 0, 0, 0, 1} // 0 normal, 1 high, 2 urgent
	tree := &models.DecisionTree{
		MaxDepth:     2,
		FeatureNames: []string{"tier=gold", "intent=complaint", "open_tickets"},
		ClassNames:   []string{"normal", "high", "urgent"},
	}
	if err := tree.Fit(X, y); err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range tree.Rules() {
		fmt.Println(r)
	}
	path, err := tree.Explain([]float64{1, 1, 5})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("explain:", path)
	// Output:
	// if not intent=complaint -> normal (4 samples, 100%)
	// if intent=complaint and not tier=gold -> high (3 samples, 100%)
	// if intent=complaint and tier=gold -> urgent (3 samples, 100%)
	// explain: if intent=complaint and tier=gold -> urgent (3 samples, 100%)
}

// Save a model and load it back without knowing its kind.
func ExampleLoadClassifier() {
	X := [][]float64{{0, 0}, {0, 1}, {1, 0}, {1, 1}, {2, 2}, {2, 3}}
	y := []int{0, 0, 0, 1, 1, 1}
	lr := &models.LogisticRegression{C: 10}
	if err := lr.Fit(X, y); err != nil {
		fmt.Println(err)
		return
	}
	var buf bytes.Buffer
	if err := lr.Save(&buf); err != nil {
		fmt.Println(err)
		return
	}
	c, err := models.LoadClassifier(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	pred, err := c.Predict([][]float64{{0, 0}, {3, 3}})
	fmt.Printf("%T %v %v\n", c, pred, err)
	// Output: *models.LogisticRegression [0 1] <nil>
}
