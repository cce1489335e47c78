package kb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/parleyhq/parley/internal/shop"
)

// FuzzReadIndex checks that no index file makes the reader panic, that a
// bad one is ErrIndexCorrupt or ErrIndexVersion, and that an index it
// accepts can be searched: the flat scorer agrees with the map-based
// reference and Ask returns finite scores. Seeded with the demo's index
// and small hand-made ones (checksums fixed up, so the fuzzer reaches the
// payload checks).
func FuzzReadIndex(f *testing.F) {
	k, err := Load(shop.KB())
	if err != nil {
		f.Fatal(err)
	}
	demo, err := NewIndex(k, nil)
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := demo.WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	for _, payload := range []string{
		`{"articles":[{"id":"a","title":"T","url":"/help/a","file":"a.md","passages":[{"text":"send it back","line":5}]}],"bm25":{"k1":1.2,"b":0.75},"doc_len":[2],"postings":{"send":[{"d":0,"f":1}],"back":[{"d":0,"f":1}]}}`,
		`{"articles":[{"id":"a","title":"T","passages":[{"text":"x"}]}],"bm25":{"k1":0,"b":1},"doc_len":[0],"postings":{}}`,
		`{"articles":[{"id":"a","title":"T","passages":[{"text":"x"}]}],"bm25":{"k1":1,"b":0},"doc_len":[3],"postings":{"x":[]}}`,
	} {
		f.Add(withChecksum(payload))
	}
	f.Add([]byte("parley-kb-index 1\nsha256 00\n{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := ReadIndex(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrIndexCorrupt) && !errors.Is(err, ErrIndexVersion) {
				t.Fatalf("error %v is neither corrupt nor version", err)
			}
			return
		}
		for _, q := range []string{"send it back", "x", "refund parcel tracking"} {
			terms := ix.bm25.correct(Terms(q))
			want := referenceScore(ix.bm25, terms)
			got := ix.bm25.top(terms, 0)
			if len(got) != len(want) {
				t.Fatalf("%q: %d passages, reference %d", q, len(got), len(want))
			}
			for _, h := range got {
				if w := want[h.Passage]; w != h.Score && !(math.IsNaN(w) && math.IsNaN(h.Score)) {
					t.Fatalf("%q: passage %d %v, reference %v", q, h.Passage, h.Score, w)
				}
			}
			res, err := NewSearcher(ix).Ask(context.Background(), q, 3)
			if err != nil {
				continue // a NaN or infinite score is refused, not returned
			}
			for _, a := range res.Answers {
				if math.IsNaN(a.Score) || math.IsInf(a.Score, 0) || math.IsNaN(a.Confidence) {
					t.Fatalf("%q: answer %+v", q, a)
				}
			}
		}
	})
}

// withChecksum wraps a JSON payload as an index file of this version.
func withChecksum(payload string) []byte {
	var b bytes.Buffer
	sum := sha256.Sum256([]byte(payload))
	fmt.Fprintf(&b, "%s %d\nsha256 %s\n%s", indexMagic, IndexVersion, hex.EncodeToString(sum[:]), payload)
	return b.Bytes()
}
