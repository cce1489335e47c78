package shoptest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/nlp/kb"
)

// KBIndex returns the search index of the demo shop's help-centre articles.
func KBIndex(tb testing.TB) *kb.Index {
	tb.Helper()
	k, err := kb.Load(shop.KB())
	if err != nil {
		tb.Fatal(err)
	}
	ix, err := kb.NewIndex(k, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return ix
}

// KBQuestions reads the demo shop's labelled help-centre questions
// (internal/shop/testdata/kb_questions.yml): the validation half, for
// choices and calibration, and the test half, for the figures. A question
// whose article is "none" has no answer in the articles (Article "").
func KBQuestions(tb testing.TB) (validation, test []kb.Question) {
	tb.Helper()
	_, here, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(here), "..", "shop", "testdata", "kb_questions.yml")
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var f struct{ Validation, Test []struct{ Q, Article string } }
	if err := yaml.Unmarshal(data, &f); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	conv := func(in []struct{ Q, Article string }) []kb.Question {
		out := make([]kb.Question, len(in))
		for i, q := range in {
			if q.Q == "" || q.Article == "" {
				tb.Fatalf("%s: question %d has no q or no article", path, i)
			}
			out[i] = kb.Question{Text: q.Q, Article: q.Article}
			if q.Article == "none" {
				out[i].Article = ""
			}
		}
		return out
	}
	return conv(f.Validation), conv(f.Test)
}
