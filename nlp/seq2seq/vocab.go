package seq2seq

import (
	"cmp"
	"slices"
)

// vocab maps tokens to ids and back; ids below numSpecial are the special
// tokens.
type vocab struct {
	toks []string
	ids  map[string]int32
}

func newVocab(toks []string) *vocab {
	v := &vocab{toks: toks, ids: make(map[string]int32, len(toks))}
	for i, t := range toks {
		v.ids[t] = int32(i)
	}
	return v
}

// buildVocab returns the special tokens then every token seen at least
// minCount times in texts, most frequent first (ties in byte order), so
// that the same data always gives the same ids.
func buildVocab(texts [][]string, minCount int) *vocab {
	counts := map[string]int{}
	for _, toks := range texts {
		for _, t := range toks {
			counts[t]++
		}
	}
	var kept []string
	for t, c := range counts {
		special := t == padTok || t == bosTok || t == eosTok || t == unkTok
		if c >= max(minCount, 1) && !special {
			kept = append(kept, t)
		}
	}
	slices.SortFunc(kept, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return newVocab(append([]string{padTok, bosTok, eosTok, unkTok}, kept...))
}

func (v *vocab) len() int { return len(v.toks) }

// encode maps tokens to ids, unknown ones to <unk>.
func (v *vocab) encode(toks []string) []int32 {
	ids := make([]int32, len(toks))
	for i, t := range toks {
		id, ok := v.ids[t]
		if !ok {
			id = unkID
		}
		ids[i] = id
	}
	return ids
}
