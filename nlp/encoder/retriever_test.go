package encoder

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/nlp/kb"
)

// topicIndex is a help centre with one article per test topic.
func topicIndex(t testing.TB) *kb.Index {
	t.Helper()
	var arts []kb.Article
	for _, tp := range topics {
		arts = append(arts, kb.Article{ID: strings.ReplaceAll(tp.thing, " ", "-"), Title: "About your " + tp.thing, Passages: []kb.Passage{
			{Heading: "Overview", Text: "Everything about the " + tp.thing + "."},
			{Heading: "How to " + tp.verb, Text: "To " + tp.verb + " your " + tp.thing + ", open the " + tp.place + " and follow the steps there."},
		}})
	}
	ix, err := kb.NewIndex(&kb.KB{Articles: arts}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestRetrieverRanksTheRightPassage(t *testing.T) {
	ix := topicIndex(t)
	o := tinyOptions()
	o.Epochs, o.MinDF = 20, 1
	e, err := Train(t.Context(), KBPairs(ix), o)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRetriever(e, ix)
	r.TopK = 5
	right := 0
	for i, tp := range topics {
		hits, err := r.Retrieve(t.Context(), kb.Query{Text: "i need to " + tp.verb + " my " + tp.thing})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || len(hits) > 5 {
			t.Fatalf("%d hits, want 1..5", len(hits))
		}
		for j := 1; j < len(hits); j++ {
			if hits[j].Score > hits[j-1].Score || hits[j].Score <= 0 {
				t.Fatalf("hits not sorted by positive score: %+v", hits)
			}
		}
		if hits[0].Passage/2 == i { // two passages per article
			right++
		}
	}
	if right < len(topics)-1 {
		t.Errorf("the right article first for %d of %d questions", right, len(topics))
	}

	s := &kb.Searcher{Index: ix, Calibration: kb.DefaultCalibration, Signals: []kb.Signal{{Retriever: ix.BM25Retriever(), Weight: 1}, {Retriever: r, Weight: 4}}}
	res, err := s.Ask(t.Context(), "how can i redeem my voucher", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Answers) == 0 || res.Answers[0].ArticleID != "voucher" || res.Answers[0].Scores[SignalEncoder] <= 0 {
		t.Errorf("Ask through the hybrid: %+v", res.Answers)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := r.Retrieve(ctx, kb.Query{Text: "voucher"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Retrieve with a cancelled context: %v", err)
	}
}

func TestKBPairs(t *testing.T) {
	ix := topicIndex(t)
	pairs := KBPairs(ix)
	a := ix.Articles[0]
	answer := PassageText(a, a.Passages[1])
	var qs []string
	for _, p := range pairs {
		if p.Answer == answer {
			qs = append(qs, p.Question)
		}
	}
	want := []string{a.Title, a.Passages[1].Heading, a.Passages[1].Text}
	if strings.Join(qs, "|") != strings.Join(want, "|") {
		t.Errorf("questions for %q: %q, want %q", answer, qs, want)
	}
	if got := sentences("One two. Three four? Five"); strings.Join(got, "|") != "One two.| Three four?| Five" {
		t.Errorf("sentences = %q", got)
	}
}

// TestRetrieverKeepsEarlierPassageOnTies: with TopK cutting among equal
// scores, the earlier passages stay, in order.
func TestRetrieverKeepsEarlierPassageOnTies(t *testing.T) {
	e := trainTiny(t)
	q := e.EncodeQuestion("track my parcel")
	r := &Retriever{enc: e, dim: e.Dim(), TopK: 2}
	for range 4 {
		r.vecs = append(r.vecs, q...)
	}
	hits, err := r.Retrieve(t.Context(), kb.Query{Text: "track my parcel"})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].Passage != 0 || hits[1].Passage != 1 {
		t.Errorf("hits %+v, want passages 0 and 1", hits)
	}
}
