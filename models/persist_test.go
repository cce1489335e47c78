package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// saveLoader is what every model offers for persistence.
type saveLoader interface {
	Save(w io.Writer) error
	Load(r io.Reader) error
}

// fitted returns one small fitted model of each kind, a fresh value to load
// into, and a function giving its outputs on X for comparison.
func fitted(t *testing.T) []struct {
	name   string
	model  saveLoader
	fresh  func() saveLoader
	output func(m saveLoader, X [][]float64) any
} {
	t.Helper()
	X, y := synth(120, 4, 3, 7)
	lr := &LogisticRegression{C: 0.7}
	svm := &LinearSVM{Loss: Hinge, Seed: 3}
	tree := &DecisionTree{MaxDepth: 3, FeatureNames: []string{"a", "b", "c", "d"}, ClassNames: []string{"x", "y", "z"}}
	km := &KMeans{K: 3, Seed: 4}
	pca := &PCA{NComponents: 2}
	for _, err := range []error{lr.Fit(X, y), svm.Fit(X, y), tree.Fit(X, y), km.Fit(X), pca.Fit(X)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	must := func(v any, err error) any {
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return []struct {
		name   string
		model  saveLoader
		fresh  func() saveLoader
		output func(m saveLoader, X [][]float64) any
	}{
		{"logistic regression", lr, func() saveLoader { return &LogisticRegression{} },
			func(m saveLoader, X [][]float64) any { return must(m.(*LogisticRegression).PredictProba(X)) }},
		{"linear svm", svm, func() saveLoader { return &LinearSVM{} },
			func(m saveLoader, X [][]float64) any { return must(m.(*LinearSVM).DecisionFunction(X)) }},
		{"decision tree", tree, func() saveLoader { return &DecisionTree{} },
			func(m saveLoader, X [][]float64) any {
				tr := m.(*DecisionTree)
				return []any{must(tr.PredictProba(X)), tr.Rules(), tr.FeatureImportances()}
			}},
		{"kmeans", km, func() saveLoader { return &KMeans{} },
			func(m saveLoader, X [][]float64) any {
				k := m.(*KMeans)
				return []any{must(k.Predict(X)), k.Inertia(), k.Centers()}
			}},
		{"pca", pca, func() saveLoader { return &PCA{} },
			func(m saveLoader, X [][]float64) any { return must(m.(*PCA).Transform(X)) }},
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	X, _ := synth(30, 4, 3, 8)
	for _, c := range fitted(t) {
		t.Run(c.name, func(t *testing.T) {
			data := saved(t, c.model)
			m := c.fresh()
			if err := m.Load(bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			if got, want := c.output(m, X), c.output(c.model, X); !reflect.DeepEqual(got, want) {
				t.Fatalf("loaded model gives %v, saved one %v", got, want)
			}
			if again := saved(t, m); !bytes.Equal(again, data) {
				t.Fatalf("saving the loaded model changed the bytes:\n%s\n%s", again, data)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	models := fitted(t)
	lrData := saved(t, models[0].model)
	treeData := saved(t, models[2].model)
	bump := func(data []byte, key string, v any) []byte {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		m[key] = v
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cases := []struct {
		name string
		into saveLoader
		data []byte
		want error
	}{
		{"empty", &LogisticRegression{}, nil, ErrFormat},
		{"not json", &LogisticRegression{}, []byte("weights: 1 2 3"), ErrFormat},
		{"truncated", &LogisticRegression{}, lrData[:len(lrData)/2], ErrFormat},
		{"other format", &LogisticRegression{}, bump(lrData, "format", "onnx"), ErrFormat},
		{"no body", &LogisticRegression{}, bump(lrData, "model", nil), ErrFormat},
		{"logreg into svm", &LinearSVM{}, lrData, ErrKind},
		{"logreg into tree", &DecisionTree{}, lrData, ErrKind},
		{"tree into kmeans", &KMeans{}, treeData, ErrKind},
		{"tree into pca", &PCA{}, treeData, ErrKind},
		{"future version", &LogisticRegression{}, bump(lrData, "version", 2), ErrVersion},
		{"version zero", &DecisionTree{}, bump(treeData, "version", 0), ErrVersion},
		{"logreg wrong shape", &LogisticRegression{}, []byte(`{"format":"parley-model","kind":"logistic-regression","version":1,
			"model":{"features":3,"classes":3,"coef":[[1,2,3]],"intercept":[0]}}`), ErrFormat},
		{"tree child loops", &DecisionTree{}, []byte(`{"format":"parley-model","kind":"decision-tree","version":1,
			"model":{"features":1,"classes":2,"binary":[false],"nodes":[{"f":0,"t":0.5,"l":0,"r":0,"c":[1,1]}]}}`), ErrFormat},
		{"tree counts disagree", &DecisionTree{}, []byte(`{"format":"parley-model","kind":"decision-tree","version":1,
			"model":{"features":1,"classes":2,"binary":[false],"nodes":[{"f":0,"t":0.5,"l":1,"r":2,"c":[2,1]},
			{"f":-1,"c":[1,0]},{"f":-1,"c":[0,1]}]}}`), ErrFormat},
		{"kmeans ragged", &KMeans{}, []byte(`{"format":"parley-model","kind":"kmeans","version":1,
			"model":{"k":2,"centers":[[1,2],[3]]}}`), ErrFormat},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := saved(t, models[0].model)
			err := c.into.Load(bytes.NewReader(c.data))
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			// A failed load leaves a fitted model as it was.
			if lr, ok := c.into.(*LogisticRegression); ok {
				*lr = *models[0].model.(*LogisticRegression)
				if err := lr.Load(bytes.NewReader(c.data)); err == nil {
					t.Fatal("second load succeeded")
				}
				if after := saved(t, lr); !bytes.Equal(after, before) {
					t.Fatal("failed Load changed the model")
				}
			}
		})
	}
}

func TestLoadClassifier(t *testing.T) {
	for _, c := range fitted(t) {
		t.Run(c.name, func(t *testing.T) {
			data := saved(t, c.model)
			m, err := LoadClassifier(bytes.NewReader(data))
			_, isClassifier := c.model.(Classifier)
			if !isClassifier {
				if !errors.Is(err, ErrKind) {
					t.Fatalf("error %v, want ErrKind", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if reflect.TypeOf(m) != reflect.TypeOf(c.model) {
				t.Fatalf("loaded a %T, want %T", m, c.model)
			}
			if d, k := m.Dims(); d != 4 || k != 3 {
				t.Fatalf("Dims() = %d, %d, want 4, 3", d, k)
			}
		})
	}
	if _, err := LoadClassifier(strings.NewReader("{}")); !errors.Is(err, ErrFormat) {
		t.Fatalf("error %v, want ErrFormat", err)
	}
}

func TestSaveBeforeFit(t *testing.T) {
	for _, m := range []saveLoader{&LogisticRegression{}, &LinearSVM{}, &DecisionTree{}, &KMeans{K: 2}, &PCA{}} {
		if err := m.Save(io.Discard); !errors.Is(err, ErrNotFitted) {
			t.Errorf("%T.Save error %v, want ErrNotFitted", m, err)
		}
	}
}

// FuzzLoad feeds arbitrary bytes to every loader: it must never panic, and
// a model it accepts must predict without panicking.
func FuzzLoad(f *testing.F) {
	X, y := synth(40, 3, 3, 9)
	seeds := []saveLoader{&LogisticRegression{}, &LinearSVM{}, &DecisionTree{MaxDepth: 3}}
	for _, m := range seeds {
		if err := m.(Classifier).Fit(X, y); err != nil {
			f.Fatal(err)
		}
	}
	km, pca := &KMeans{K: 2, NInit: 1}, &PCA{}
	if err := km.Fit(X); err != nil {
		f.Fatal(err)
	}
	if err := pca.Fit(X); err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, km, pca)
	for _, m := range seeds {
		var buf bytes.Buffer
		if err := m.Save(&buf); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte(`{"format":"parley-model","kind":"decision-tree","version":1,"model":{"nodes":[]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if c, err := LoadClassifier(bytes.NewReader(data)); err == nil {
			d, _ := c.Dims()
			if _, err := c.Predict([][]float64{make([]float64, d)}); err != nil {
				t.Fatalf("loaded classifier cannot predict: %v", err)
			}
			if tr, ok := c.(*DecisionTree); ok {
				tr.Rules()
				if _, err := tr.Explain(make([]float64, d)); err != nil {
					t.Fatal(err)
				}
			}
		}
		k := &KMeans{}
		if err := k.Load(bytes.NewReader(data)); err == nil {
			if _, err := k.Predict([][]float64{make([]float64, len(k.Centers()[0]))}); err != nil {
				t.Fatal(err)
			}
		}
		p := &PCA{}
		if err := p.Load(bytes.NewReader(data)); err == nil {
			if _, err := p.Transform([][]float64{make([]float64, len(p.Mean()))}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestConcurrentQueries runs the read-only methods of shared models from
// several goroutines (meaningful under -race).
func TestConcurrentQueries(t *testing.T) {
	X, _ := synth(50, 4, 3, 10)
	models := fitted(t)
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for _, c := range models {
				c.output(c.model, X)
			}
			tree := models[2].model.(*DecisionTree)
			for _, x := range X {
				if _, err := tree.Explain(x); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}
