package replies

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"testing"
)

// TestRankerTop: Top's best k are the k best of Scores' hybrid, with the
// same scores to the last bit and ties going to the earlier candidate, on
// enough candidates that several goroutines share them. Every reply is
// indexed three times, so ties cross the goroutines' ranges.
func TestRankerTop(t *testing.T) {
	m := trainTiny(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var cands []string
	for i := range chunk {
		cands = append(cands, fmt.Sprintf("%s (%d)", topics[i%len(topics)].reply, i))
	}
	cands = slices.Concat(cands, cands, cands)
	r, err := m.Ranker(cands)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"where is my parcel", "cancel my order please", "zzz", ""} {
		bm, cos, hyb := r.Scores(q)
		order := make([]int, len(cands))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(hyb[b], hyb[a]) })
		for _, k := range []int{1, 5, 40} {
			got := r.Top(q, k)
			if len(got) != k {
				t.Fatalf("%q: Top(%d) gave %d", q, k, len(got))
			}
			for i, g := range got {
				j := order[i]
				if g != (Ranked{Candidate: j, Score: hyb[j], BM25: bm[j], Cosine: cos[j]}) {
					t.Fatalf("%q: Top(%d)[%d] = %+v, want candidate %d (hybrid %v, bm25 %v, cosine %v)", q, k, i, g, j, hyb[j], bm[j], cos[j])
				}
			}
		}
	}
	if got := r.Top("where is my parcel", len(cands)+10); len(got) != len(cands) {
		t.Errorf("Top(more than there are) gave %d of %d", len(got), len(cands))
	}
	if got := r.Top("where is my parcel", 0); got != nil {
		t.Errorf("Top(0) = %v", got)
	}
}
