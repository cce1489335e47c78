package encoder

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/parleyhq/parley/nlp/dataset"
)

func TestRecall(t *testing.T) {
	for _, tc := range []struct {
		name       string
		scores     [][]float64
		gold       []int
		r1, r5, mr float64
	}{
		{"first", [][]float64{{0.9, 0.1, 0.2}}, []int{0}, 1, 1, 1},
		{"second", [][]float64{{0.9, 0.5, 0.2}}, []int{1}, 0, 1, 0.5},
		{"tie counts against", [][]float64{{0, 0, 0}}, []int{0}, 0, 1, 1.0 / 3},
		{"sixth", [][]float64{{6, 5, 4, 3, 2, 1}}, []int{5}, 0, 0, 1.0 / 6},
		{"mean of two", [][]float64{{1, 0}, {1, 0}}, []int{0, 1}, 0.5, 1, 0.75},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Recall(tc.scores, tc.gold)
			if m.N != len(tc.scores) || math.Abs(m.R1-tc.r1) > 1e-9 || math.Abs(m.R5-tc.r5) > 1e-9 || math.Abs(m.MRR-tc.mr) > 1e-9 {
				t.Errorf("got %+v, want R1 %v R5 %v MRR %v", m, tc.r1, tc.r5, tc.mr)
			}
		})
	}
}

func TestHybridNormalisesBM25PerQuestion(t *testing.T) {
	cos := [][]float64{{0.2, 0.4}, {0.5, 0.1}}
	bm := [][]float64{{10, 5}, {0, 0}}
	h := Hybrid(cos, bm, 0.5)
	want := [][]float64{{0.5*0.2 + 0.5, 0.5*0.4 + 0.25}, {0.25, 0.05}}
	for q := range want {
		for j := range want[q] {
			if math.Abs(h[q][j]-want[q][j]) > 1e-12 {
				t.Fatalf("Hybrid = %v, want %v", h, want)
			}
		}
	}
	if bm[0][0] != 10 || cos[0][0] != 0.2 {
		t.Error("Hybrid changed its inputs")
	}
}

// TestRetrievalOnSyntheticSet is the Bitext evaluation in small: BM25, the
// encoder and the hybrid on held-out synthetic questions whose wording
// (the openers) shares nothing with the answers but the topic words.
func TestRetrievalOnSyntheticSet(t *testing.T) {
	ctx := context.Background()
	e := trainTiny(t)
	qs, as, gold := Candidates(syntheticPairs(60, 3))
	cos := EncoderScores(e, qs, as)
	bm, err := BM25Scores(ctx, qs, as)
	if err != nil {
		t.Fatal(err)
	}
	vq, va, vgold := Candidates(syntheticPairs(40, 4))
	vcos := EncoderScores(e, vq, va)
	vbm, err := BM25Scores(ctx, vq, va)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := ChooseWeight(vcos, vbm, vgold)
	mb, me, mh := Recall(bm, gold), Recall(cos, gold), Recall(Hybrid(cos, bm, w), gold)
	t.Logf("BM25 %v; encoder %v; hybrid (w %.2f) %v", mb, me, w, mh)
	if mb.R1 < 0.9 || me.R1 < 0.9 || mh.R1 < 0.9 {
		t.Errorf("R@1 BM25 %.2f, encoder %.2f, hybrid %.2f: each should find these topics", mb.R1, me.R1, mh.R1)
	}
	if w < 0 || w > 1 {
		t.Errorf("weight %v outside [0, 1]", w)
	}
	if _, err := BM25Scores(ctx, qs, nil); err == nil {
		t.Error("BM25Scores with no answers succeeded")
	}
}

func TestReadBitextPairs(t *testing.T) {
	const csv = "instruction,intent,response\n" +
		"\"how do I cancel order 12?\",cancel_order,\"To cancel, open Orders.\nThen press Cancel.\"\n" +
		"where is my refund,track_refund,Refunds take five days.\n"
	pairs, err := dataset.ReadBitextPairs("t.csv", strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 2 || pairs[0].Response != "To cancel, open Orders.\nThen press Cancel." || pairs[1].Intent != "track_refund" ||
		pairs[1].Split != dataset.HashSplit("where is my refund") || pairs[1].Line != 4 {
		t.Fatalf("got %+v", pairs)
	}
	for _, bad := range []string{"", "instruction,intent\nx,y\n", "instruction,intent,response\n,a,b\n", "instruction,intent,response\na,b\n"} {
		if _, err := dataset.ReadBitextPairs("t.csv", strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
