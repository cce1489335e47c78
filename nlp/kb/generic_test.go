package kb

import (
	"math"
	"testing"
)

func TestTextIndex(t *testing.T) {
	texts := []string{
		"my parcel never arrived",
		"I want a refund for my coat",
		"the courier lost my parcel and the parcel was expensive",
		"",
	}
	ix, err := NewTextIndex(texts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 4 {
		t.Errorf("Len = %d", ix.Len())
	}
	hits := ix.Search("parcel never arived", 0) // a typo is corrected
	if len(hits) != 2 || hits[0].Doc != 0 || hits[1].Doc != 2 {
		t.Fatalf("hits %+v; want text 0 then text 2", hits)
	}
	if math.Abs(hits[0].Coverage-1) > 1e-9 || hits[1].Coverage >= 0.5 {
		t.Errorf("coverage %v and %v; want 1 for the text holding every word, under 0.5 for the other", hits[0].Coverage, hits[1].Coverage)
	}
	if hits[0].Relative < 0.8 || hits[0].Relative > 1.5 || hits[1].Relative >= hits[0].Relative {
		t.Errorf("relative %v and %v; want about 1 for the full match, less for the other", hits[0].Relative, hits[1].Relative)
	}
	if got := ix.Search("parcel", 1); len(got) != 1 {
		t.Errorf("n 1 gave %d hits", len(got))
	}
	if got := ix.Search("the and of", 0); len(got) != 0 {
		t.Errorf("stop words found %+v", got)
	}

	// Relative does not depend on the size of the index, where Score does.
	big := append([]string{}, texts...)
	for range 200 {
		big = append(big, "something else entirely about shoes and sizes")
	}
	bix, err := NewTextIndex(big, nil)
	if err != nil {
		t.Fatal(err)
	}
	small, large := ix.Search("refund coat", 1)[0], bix.Search("refund coat", 1)[0]
	if large.Score <= small.Score*1.5 || math.Abs(large.Relative-small.Relative) > 0.35 {
		t.Errorf("small index %+v, large %+v: want Score to grow with the index and Relative to stay about the same", small, large)
	}

	if _, err := NewTextIndex(texts, &BM25Params{K1: 1, B: 2}); err == nil {
		t.Error("b 2 accepted")
	}
	empty, err := NewTextIndex(nil, nil)
	if err != nil || len(empty.Search("parcel", 0)) != 0 {
		t.Errorf("empty index: %v", err)
	}
}

// TestScores: the dense scores are Search's scores, to the last bit, with
// zeros for the texts Search does not find; a second call on the same
// memory leaves nothing of the first.
func TestScores(t *testing.T) {
	texts := []string{"my parcel never arrived", "refund for my coat", "the courier lost my parcel, the parcel was expensive", "", "coat sizes"}
	ix, err := NewTextIndex(texts, nil)
	if err != nil {
		t.Fatal(err)
	}
	var dst []float64
	for _, q := range []string{"parcel never arived", "coat refund", "the and of"} {
		want := make([]float64, ix.Len())
		top := 0.0
		for _, h := range ix.Search(q, 0) {
			want[h.Doc] = h.Score
			top = math.Max(top, h.Score)
		}
		var got float64
		dst, got = ix.Scores(dst, q)
		if got != top || len(dst) != ix.Len() {
			t.Errorf("%q: top %v of %d scores, want %v of %d", q, got, len(dst), top, ix.Len())
		}
		for i := range want {
			if dst[i] != want[i] {
				t.Errorf("%q: text %d scores %v, want %v", q, i, dst[i], want[i])
			}
		}
	}
}
