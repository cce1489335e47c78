package models

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// supportTree fits a small tree on the support-ticket reference data with
// readable names.
func supportTree(t *testing.T) (*DecisionTree, split) {
	t.Helper()
	_, sets := loadReference(t)
	s := sets["support"]
	m := &DecisionTree{MaxDepth: 3, MinSamplesLeaf: 5, FeatureNames: s.names, ClassNames: []string{"normal", "high", "urgent"}}
	if err := m.Fit(s.xTrain, s.yTrain); err != nil {
		t.Fatal(err)
	}
	return m, s
}

func TestTreeRulesGolden(t *testing.T) {
	m, _ := supportTree(t)
	got := strings.Join(m.Rules(), "\n") + "\n"
	path := filepath.Join("testdata", "support_rules.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("rules changed (go test -update to accept):\n%s\nwant:\n%s", got, want)
	}
}

func TestTreeRulesCoverEveryLeaf(t *testing.T) {
	m, s := supportTree(t)
	rules := m.Rules()
	if len(rules) != m.LeafCount() {
		t.Fatalf("%d rules for %d leaves", len(rules), m.LeafCount())
	}
	total := 0
	for _, r := range rules {
		var n int
		var pct float64
		i := strings.LastIndex(r, "(")
		if _, err := fmt.Sscanf(r[i:], "(%d samples, %f%%)", &n, &pct); err != nil {
			t.Fatalf("rule %q: %v", r, err)
		}
		total += n
		if !strings.HasPrefix(r, "if ") {
			t.Errorf("rule %q does not start with if", r)
		}
		if strings.Contains(r, "x[") {
			t.Errorf("rule %q uses an index despite FeatureNames", r)
		}
	}
	if total != len(s.yTrain) {
		t.Fatalf("leaves hold %d samples, trained on %d", total, len(s.yTrain))
	}
}

func TestTreeExplainMatchesPredict(t *testing.T) {
	m, s := supportTree(t)
	pred, err := m.Predict(s.xTest)
	if err != nil {
		t.Fatal(err)
	}
	proba, err := m.PredictProba(s.xTest)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range s.xTest {
		p, err := m.Explain(x)
		if err != nil {
			t.Fatal(err)
		}
		if p.Class != pred[i] {
			t.Fatalf("row %d: Explain says class %d, Predict %d", i, p.Class, pred[i])
		}
		if len(p.Steps) == 0 || len(p.Steps) > m.Depth() {
			t.Fatalf("row %d: %d steps in a tree of depth %d", i, len(p.Steps), m.Depth())
		}
		for j, st := range p.Steps {
			if st.Left != (x[st.Feature] <= st.Threshold) {
				t.Fatalf("row %d step %d: %v inconsistent with value %v", i, j, st, x[st.Feature])
			}
		}
		for c := range proba[i] {
			if p.Proba[c] != proba[i][c] {
				t.Fatalf("row %d: Explain proba %v, PredictProba %v", i, p.Proba, proba[i])
			}
		}
		if !strings.Contains(p.String(), "-> "+p.ClassName+" (") {
			t.Fatalf("path %q lacks its class", p.String())
		}
	}
}

func TestStepString(t *testing.T) {
	cases := []struct {
		name string
		step Step
		want string
	}{
		{"binary right", Step{Name: "tier=gold", Threshold: 0.5, Value: 1, binary: true}, "tier=gold"},
		{"binary left", Step{Name: "tier=gold", Threshold: 0.5, Value: 0, Left: true, binary: true}, "not tier=gold"},
		{"binary feature, odd value", Step{Name: "tier=gold", Threshold: 0.5, Value: 0.7, binary: true}, "tier=gold > 0.5 (is 0.7)"},
		{"continuous left", Step{Name: "tenure", Threshold: 2.04167, Value: 1.5, Left: true}, "tenure <= 2.04167 (is 1.5)"},
		{"continuous right", Step{Name: "sentiment", Threshold: -0.45, Value: 0.3}, "sentiment > -0.45 (is 0.3)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.step.String(); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestTreeRulesMergeRanges(t *testing.T) {
	// One feature splits twice on a path: the rule shows one range.
	X := [][]float64{{1}, {2}, {3}, {4}, {5}, {6}}
	y := []int{0, 0, 1, 1, 0, 0}
	m := &DecisionTree{FeatureNames: []string{"age"}, ClassNames: []string{"no", "yes"}}
	if err := m.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	rules := strings.Join(m.Rules(), "\n")
	if !strings.Contains(rules, "if 2.5 < age <= 4.5 -> yes (2 samples, 100%)") {
		t.Fatalf("no merged range in:\n%s", rules)
	}
}

func TestTreeStumpAndNoNames(t *testing.T) {
	// Identical rows with different labels cannot be split: a single leaf.
	X := [][]float64{{1, 1}, {1, 1}, {1, 1}}
	m := &DecisionTree{}
	if err := m.Fit(X, []int{0, 1, 1}); err != nil {
		t.Fatal(err)
	}
	if m.NodeCount() != 1 || m.Depth() != 0 {
		t.Fatalf("%d nodes, depth %d; want a single leaf", m.NodeCount(), m.Depth())
	}
	if got, want := m.Rules(), "always -> class 1 (3 samples, 67%)"; len(got) != 1 || got[0] != want {
		t.Fatalf("rules %q, want %q", got, want)
	}
	for _, v := range m.FeatureImportances() {
		if v != 0 {
			t.Fatalf("stump importances %v, want zeros", m.FeatureImportances())
		}
	}
}

func TestTreeLimits(t *testing.T) {
	X, y := synth(300, 5, 3, 2)
	cases := []struct {
		name  string
		tree  DecisionTree
		check func(t *testing.T, m *DecisionTree)
	}{
		{"max depth", DecisionTree{MaxDepth: 2}, func(t *testing.T, m *DecisionTree) {
			if m.Depth() != 2 || m.LeafCount() > 4 {
				t.Fatalf("depth %d, leaves %d", m.Depth(), m.LeafCount())
			}
		}},
		{"min samples leaf", DecisionTree{MinSamplesLeaf: 20}, func(t *testing.T, m *DecisionTree) {
			for _, nd := range m.nodes {
				if nd.Feature < 0 && nd.samples < 20 {
					t.Fatalf("leaf with %d samples", nd.samples)
				}
			}
		}},
		{"min samples split", DecisionTree{MinSamplesSplit: 50}, func(t *testing.T, m *DecisionTree) {
			for _, nd := range m.nodes {
				if nd.Feature >= 0 && nd.samples < 50 {
					t.Fatalf("split node with %d samples", nd.samples)
				}
			}
		}},
		{"full tree fits training data", DecisionTree{Criterion: Entropy}, func(t *testing.T, m *DecisionTree) {
			pred, _ := m.Predict(X)
			if acc := accuracy(pred, y); acc != 1 {
				t.Fatalf("training accuracy %v, want 1 (distinct rows)", acc)
			}
			var s float64
			for _, v := range m.FeatureImportances() {
				s += v
			}
			if math.Abs(s-1) > 1e-12 {
				t.Fatalf("importances sum to %v", s)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := c.tree
			if err := m.Fit(X, y); err != nil {
				t.Fatal(err)
			}
			c.check(t, &m)
		})
	}
}
