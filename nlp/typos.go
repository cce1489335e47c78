package nlp

import (
	"math/rand/v2"
	"strings"

	"github.com/parleyhq/parley/nlp/dataset"
)

// TypoRate is the share of words (of four letters or more) that a typo
// copy of an example misspells.
const TypoRate = 0.3

// withTypos returns train followed by copies copies of each example with
// typos, as customers make them in a chat: in about TypoRate of its longer
// words one letter dropped, two swapped, one doubled or one replaced by a
// neighbour on the keyboard. Copies that came out unchanged are left out.
// The same seed gives the same copies. Only training examples get typos:
// validation stays as written, so it measures what the typos bring.
func withTypos(train []dataset.Example, copies int, seed uint64) []dataset.Example {
	if copies <= 0 {
		return train
	}
	r := rand.New(rand.NewPCG(seed, 0x7970)) // "typ"
	out := make([]dataset.Example, len(train), len(train)*(1+copies))
	copy(out, train)
	for range copies {
		for _, ex := range train {
			if t := typos(r, ex.Text); t != ex.Text {
				// Entity spans would point into the old text: the copy
				// teaches the intent only.
				out = append(out, dataset.Example{Text: t, Intent: ex.Intent})
			}
		}
	}
	return out
}

// keyboard lists each letter's neighbours on a QWERTY keyboard.
var keyboard = map[rune]string{
	'q': "wa", 'w': "qes", 'e': "wrd", 'r': "etf", 't': "ryg", 'y': "tuh", 'u': "yij", 'i': "uok", 'o': "ipl", 'p': "ol",
	'a': "qsz", 's': "adwx", 'd': "sfe", 'f': "dgr", 'g': "fht", 'h': "gjy", 'j': "hku", 'k': "jli", 'l': "ko",
	'z': "xa", 'x': "zcs", 'c': "xvd", 'v': "cbf", 'b': "vng", 'n': "bmh", 'm': "nj",
}

// typos misspells about TypoRate of the words of four letters or more in
// s, never their first letter.
func typos(r *rand.Rand, s string) string {
	ws := strings.Fields(s)
	for i, w := range ws {
		rs := []rune(w)
		if len(rs) < 4 || r.Float64() >= TypoRate {
			continue
		}
		k := 1 + r.IntN(len(rs)-2)
		switch r.IntN(4) {
		case 0: // a letter dropped
			rs = append(rs[:k:k], rs[k+1:]...)
		case 1: // two swapped
			rs[k], rs[k+1] = rs[k+1], rs[k]
		case 2: // one doubled
			rs = append(rs[:k+1:k+1], rs[k:]...)
		case 3: // a neighbouring key
			if n := keyboard[rs[k]]; n != "" {
				rs[k] = rune(n[r.IntN(len(n))])
			}
		}
		ws[i] = string(rs)
	}
	return strings.Join(ws, " ")
}
