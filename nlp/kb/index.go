package kb

import (
	"errors"
	"fmt"
)

// Index is a knowledge base ready to search: its articles and a BM25 index
// over their passages. It is read-only once built; share it freely.
type Index struct {
	Articles []Article
	refs     []passageRef // passage number -> where it is
	bm25     *bm25
}

// passageRef locates passage number n: Articles[article].Passages[passage].
type passageRef struct{ article, passage int }

// NewIndex indexes kb's passages; p nil means DefaultBM25. It fails only for
// an empty KB or parameters outside BM25's range (K1 >= 0, 0 <= B <= 1).
func NewIndex(kb *KB, p *BM25Params) (*Index, error) {
	if kb == nil || len(kb.Articles) == 0 {
		return nil, fmt.Errorf("index knowledge base: %w", ErrNoArticles)
	}
	params := DefaultBM25
	if p != nil {
		params = *p
	}
	if params.K1 < 0 || params.B < 0 || params.B > 1 {
		return nil, fmt.Errorf("index knowledge base: BM25 k1 %g, b %g: want k1 >= 0 and 0 <= b <= 1", params.K1, params.B)
	}
	ix := &Index{Articles: kb.Articles}
	var docs [][]string
	for ai := range ix.Articles {
		a := &ix.Articles[ai]
		for pi := range a.Passages {
			ix.refs = append(ix.refs, passageRef{ai, pi})
			docs = append(docs, Terms(indexText(a, &a.Passages[pi])))
		}
	}
	ix.bm25 = newBM25(docs, params)
	return ix, nil
}

// Stats returns the numbers of articles, passages and distinct terms.
func (ix *Index) Stats() (articles, passages, terms int) {
	return len(ix.Articles), len(ix.refs), len(ix.bm25.postings)
}

// Params returns the BM25 parameters the index was built with.
func (ix *Index) Params() BM25Params { return ix.bm25.params }

// rebuildRefs fills refs from Articles (after reading an index file) and
// checks that the stored BM25 data fits them.
func (ix *Index) rebuildRefs() error {
	ix.refs = ix.refs[:0]
	for ai := range ix.Articles {
		for pi := range ix.Articles[ai].Passages {
			ix.refs = append(ix.refs, passageRef{ai, pi})
		}
	}
	if len(ix.refs) != len(ix.bm25.docLen) {
		return fmt.Errorf("%d passages but %d passage lengths", len(ix.refs), len(ix.bm25.docLen))
	}
	if len(ix.refs) == 0 {
		return errors.New("no passages")
	}
	return nil
}
