package kb_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/shoptest"

	"github.com/parleyhq/parley/nlp/kb"
)

func TestAsk(t *testing.T) {
	s := kb.NewSearcher(shoptest.KBIndex(t))
	ctx := context.Background()
	res, err := s.Ask(ctx, "can I return items within 30 days", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Answers) != 3 || res.Answers[0].ArticleID != "return-policy" {
		t.Fatalf("answers %+v", res.Answers)
	}
	top := res.Answers[0]
	if top.URL != "/help/return-policy" || top.Title == "" || !strings.Contains(top.Passage, "30 days") || top.Heading == "" {
		t.Errorf("top answer %+v", top)
	}
	if top.Scores[kb.SignalBM25] != top.Score || top.Margin <= 0 {
		t.Errorf("scores %v, score %g, margin %g", top.Scores, top.Score, top.Margin)
	}
	for i, a := range res.Answers {
		if a.Confidence < 0 || a.Confidence > 1 || math.IsNaN(a.Confidence) {
			t.Errorf("answer %d confidence %g", i, a.Confidence)
		}
		if i > 0 && (a.Score > res.Answers[i-1].Score || a.Confidence > res.Answers[0].Confidence) {
			t.Errorf("answer %d ranked above a better one", i)
		}
	}
	if !res.Confident || res.Truncated {
		t.Errorf("confident %v, truncated %v", res.Confident, res.Truncated)
	}
}

func TestAskTypos(t *testing.T) {
	s := kb.NewSearcher(shoptest.KBIndex(t))
	res, err := s.Ask(context.Background(), "i forgott my pasword", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Answers) == 0 || res.Answers[0].ArticleID != "password-reset" {
		t.Errorf("answers %+v, want password-reset", res.Answers)
	}
}

func TestAskBadQuestions(t *testing.T) {
	s := kb.NewSearcher(shoptest.KBIndex(t))
	ctx := context.Background()
	for _, q := range []string{"", "   \n\t"} {
		if _, err := s.Ask(ctx, q, 3); !errors.Is(err, kb.ErrEmptyQuestion) {
			t.Errorf("Ask(%q) error %v, want ErrEmptyQuestion", q, err)
		}
	}
	res, err := s.Ask(ctx, "how can I do it?", 3)
	if err != nil || len(res.Answers) != 0 || res.Confident {
		t.Errorf("only stop words: %+v, %v; want no answers", res, err)
	}
	res, err = s.Ask(ctx, "refund \xff\xfe timing", 3)
	if err != nil || len(res.Answers) == 0 || !strings.Contains(res.Question, "refund") {
		t.Errorf("invalid UTF-8: %+v, %v", res, err)
	}
}

func TestAskHugeQuestion(t *testing.T) {
	s := kb.NewSearcher(shoptest.KBIndex(t))
	q := "where is my tracking number " + strings.Repeat("blah ", 1<<20/5) // over 1 MB
	res, err := s.Ask(context.Background(), q, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Truncated || len([]rune(res.Question)) > kb.MaxQuestionRunes || !strings.HasPrefix(res.Question, "where is my tracking number") {
		t.Errorf("truncated %v, %d runes", res.Truncated, len([]rune(res.Question)))
	}
	if strings.HasSuffix(res.Question, "bla") {
		t.Error("cut inside a word")
	}
	if len(res.Answers) == 0 || res.Answers[0].ArticleID != "order-tracking" {
		t.Errorf("answers %+v", res.Answers)
	}
	short, _ := s.Ask(context.Background(), strings.Repeat("é", kb.MaxQuestionRunes), 1)
	if short.Truncated {
		t.Error("a question of exactly MaxQuestionRunes runes was truncated")
	}
}

// boost is a second signal that scores one passage only, as a stand-in for
// the encoder.
type boost struct {
	passage int
	score   float64
	err     error
}

func (b boost) Name() string { return "boost" }
func (b boost) Retrieve(context.Context, kb.Query) ([]kb.Hit, error) {
	return []kb.Hit{{Passage: b.passage, Score: b.score}}, b.err
}

func TestSearcherCombinesSignals(t *testing.T) {
	ix := shoptest.KBIndex(t)
	// The first passage of the warranty article.
	n := 0
	for _, a := range ix.Articles {
		if a.ID == "warranty" {
			break
		}
		n += len(a.Passages)
	}
	s := kb.NewSearcher(ix)
	s.Signals = append(s.Signals, kb.Signal{Retriever: boost{passage: n, score: 10}, Weight: 2})
	res, err := s.Ask(context.Background(), "where is my tracking number", 3)
	if err != nil {
		t.Fatal(err)
	}
	top := res.Answers[0]
	if top.ArticleID != "warranty" || top.Scores["boost"] != 10 || top.Score != 20+top.Scores[kb.SignalBM25] {
		t.Errorf("top %+v: the weighted second signal should win", top)
	}

	s.Signals[1].Retriever = boost{passage: 1 << 20, score: 1}
	if _, err := s.Ask(context.Background(), "tracking", 3); err == nil || !strings.Contains(err.Error(), "boost returned passage") {
		t.Errorf("out-of-range passage: error %v", err)
	}
	failing := errors.New("encoder down")
	s.Signals[1].Retriever = boost{err: failing}
	if _, err := s.Ask(context.Background(), "tracking", 3); !errors.Is(err, failing) {
		t.Errorf("retriever error %v, want it wrapped", err)
	}
}

func TestNewIndexErrors(t *testing.T) {
	if _, err := kb.NewIndex(&kb.KB{}, nil); !errors.Is(err, kb.ErrNoArticles) {
		t.Errorf("empty KB: %v", err)
	}
	k := &kb.KB{Articles: shoptest.KBIndex(t).Articles}
	if _, err := kb.NewIndex(k, &kb.BM25Params{K1: 1.2, B: 1.5}); err == nil {
		t.Error("b 1.5 accepted")
	}
}

func BenchmarkAsk(b *testing.B) {
	s := kb.NewSearcher(shoptest.KBIndex(b))
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.Ask(ctx, "my parcel still hasnt arrived, can I get a refund?", 3); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleSearcher_Ask() {
	// (error handling left out)
	k, _ := kb.LoadDir("../../internal/shop/kb")
	ix, _ := kb.NewIndex(k, nil)
	res, _ := kb.NewSearcher(ix).Ask(context.Background(), "do you accept paypal?", 1)
	top := res.Answers[0]
	fmt.Println(top.Title, top.URL, res.Confident)
	// Output: Ways to pay /help/payment-methods true
}

func TestAskCancelledAndBadScores(t *testing.T) {
	s := kb.NewSearcher(shoptest.KBIndex(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Ask(ctx, "refund", 3); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error %v", err)
	}
	s.Signals = append(s.Signals, kb.Signal{Retriever: boost{passage: 0, score: math.NaN()}, Weight: 1})
	if _, err := s.Ask(context.Background(), "refund", 3); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("NaN score: error %v", err)
	}
}
