package kb_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/shoptest"

	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/nlp/kb"
)

// The targets for the help centre are top-1 >= 85% and wrong
// answers < 5% of those given. BM25 alone misses the first on the test
// half (81.7% top-1; 1 of 38 answers wrong, 2.6%, with 54.3% answered);
// the sentence encoder combined with it does better (nlp/encoder). The
// floors sit just below what BM25 reaches, so that a regression fails.
const (
	minTestTop1     = 0.80 // target 0.85
	maxTestWrong    = 0.05
	minTestAnswered = 0.50 // a threshold that answers nothing would pass the other two
)

// TestDemoRetrieval measures the demo shop's help centre: top-1 on the test
// half, and the share of wrong answers among those given at
// DefaultCalibration's threshold (out-of-KB questions answered count as
// wrong). It logs the validation half's figures too; run with -v.
func TestDemoRetrieval(t *testing.T) {
	ix := shoptest.KBIndex(t)
	validation, test := shoptest.KBQuestions(t)
	s := kb.NewSearcher(ix)
	for _, half := range []struct {
		name string
		qs   []kb.Question
	}{{"validation", validation}, {"test", test}} {
		r, _, err := kb.Evaluate(context.Background(), s, half.qs)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %v", half.name, r)
		if half.name != "test" {
			continue
		}
		if r.Top1Rate() < minTestTop1 {
			t.Errorf("test top-1 %.3f, want >= %.2f", r.Top1Rate(), minTestTop1)
		}
		if r.WrongRate() >= maxTestWrong {
			t.Errorf("test wrong among answered %.3f, want < %.2f", r.WrongRate(), maxTestWrong)
		}
		if r.AnsweredRate() < minTestAnswered {
			t.Errorf("test answered %.3f, want >= %.2f", r.AnsweredRate(), minTestAnswered)
		}
	}
}

// TestDefaultCalibrationIsFitted refits the calibration on the validation
// half and checks that DefaultCalibration holds those numbers, so that a
// change to the articles or the scorer cannot leave a stale calibration.
func TestDefaultCalibrationIsFitted(t *testing.T) {
	validation, _ := shoptest.KBQuestions(t)
	s := kb.NewSearcher(shoptest.KBIndex(t))
	_, samples, err := kb.Evaluate(context.Background(), s, validation)
	if err != nil {
		t.Fatal(err)
	}
	got, cv := kb.FitCV(samples, kb.WrongLimit)
	t.Logf("validation %v", cv)
	want := kb.DefaultCalibration
	close := func(a, b float64) bool { return math.Abs(a-b) <= 0.01*math.Max(1, math.Abs(b)) }
	if !close(got.Score, want.Score) || !close(got.Margin, want.Margin) || !close(got.Coverage, want.Coverage) ||
		!close(got.Bias, want.Bias) || !close(got.Threshold, want.Threshold) {
		t.Errorf("DefaultCalibration is stale; set it to\nkb.Calibration{Score: %.4f, Margin: %.4f, Coverage: %.4f, Bias: %.4f, Threshold: %.4f}",
			got.Score, got.Margin, got.Coverage, got.Bias, got.Threshold)
	}
}

func TestDemoQuestions(t *testing.T) {
	validation, test := shoptest.KBQuestions(t)
	seen := map[string]string{}
	for _, half := range []struct {
		name string
		qs   []kb.Question
	}{{"validation", validation}, {"test", test}} {
		inKB, none := 0, 0
		for _, q := range half.qs {
			if prev, dup := seen[q.Text]; dup {
				t.Errorf("%q is in %s and %s", q.Text, prev, half.name)
			}
			seen[q.Text] = half.name
			if q.Article == "" {
				none++
			} else {
				inKB++
			}
		}
		if inKB < 60 || none < 10 {
			t.Errorf("%s: %d questions with an article and %d without, want >= 60 and >= 10", half.name, inKB, none)
		}
	}
	// The articles' example questions train the encoder: none may be a
	// question it is measured on.
	for _, a := range shoptest.KBIndex(t).Articles {
		for _, q := range a.Questions {
			if half, dup := seen[q]; dup {
				t.Errorf("article %s's question %q is in the %s half", a.ID, q, half)
			}
		}
	}
	covered := map[string]bool{}
	for _, q := range test {
		covered[q.Article] = true
	}
	for _, a := range shoptest.KBIndex(t).Articles {
		if !covered[a.ID] {
			t.Errorf("no test question for article %s", a.ID)
		}
	}
}

// TestDemoArticlesAgreeWithDomain checks the facts that the demo articles
// and the bot's own responses (internal/shop/domain.yml) both state: a
// customer must not read two return windows.
func TestDemoArticlesAgreeWithDomain(t *testing.T) {
	domain := string(shop.Domain())
	var articles strings.Builder
	for _, a := range shoptest.KBIndex(t).Articles {
		for _, p := range a.Passages {
			articles.WriteString(strings.Join(strings.Fields(p.Text), " ") + "\n")
		}
	}
	for _, fact := range []struct{ domain, article string }{
		{"within 30 days of delivery", "within 30 days of delivery"},
		{"free over 50 EUR, else 4.90 EUR", "free for orders over 50 EUR. Below that it costs 4.90 EUR"},
		{"express (1-2 working days, 9.90 EUR)", "Express delivery costs 9.90 EUR"},
		{"Standard delivery takes 2-4 working days after shipping", "Standard delivery arrives 2-4 working days after your order ships"},
		{"2-year warranty", "2-year warranty"},
		{"within 5 working days of approval", "within 5 working days of approval"},
		{"a link that works for an hour", "a link that works for one hour"},
		{"unlocks itself after 15 minutes", "lock the account for 15 minutes"},
		{"Visa, Mastercard, American Express, PayPal, Apple Pay, Google Pay and bank transfer", "Visa, Mastercard and American Express cards, PayPal, Apple Pay, Google Pay and bank transfer"},
		{"Orders can be changed until they're packed", "Orders can be changed until they are packed"},
	} {
		if !strings.Contains(domain, fact.domain) {
			t.Errorf("domain.yml no longer says %q: check the articles that say %q", fact.domain, fact.article)
		}
		if !strings.Contains(articles.String(), fact.article) {
			t.Errorf("no article says %q (domain.yml: %q)", fact.article, fact.domain)
		}
	}
}
