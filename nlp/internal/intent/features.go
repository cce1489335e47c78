package intent

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Feature kinds, mixed into each feature's hash so that the word "ab" and the
// character bigram "ab" are different features.
const (
	kindWord   = 'w'
	kindBigram = 'b'
	kindChar   = 'c'
)

// Char n-grams are taken from each word padded with a space on both sides,
// like scikit-learn's char_wb analyzer.
const (
	minCharN = 2
	maxCharN = 5
)

// Featurizer turns the words of a sentence into a sparse, TF-IDF weighted
// vector over the features seen in training: word unigrams and bigrams, and
// character n-grams inside word boundaries. The two groups (word and char)
// are each L2-normalised, as a scikit-learn FeatureUnion of two vectorizers
// would be. A Featurizer is read-only after it is built and safe for
// concurrent use.
type Featurizer struct {
	// Hashes holds the 64-bit hash of every known feature, sorted; the row of
	// a feature is its position here.
	Hashes []uint64
	// IDF is the inverse document frequency of each row.
	IDF []float32
	// Words holds every word of the training sentences, however rare,
	// sorted: the words the model has seen (see KnownShare).
	Words []string

	index map[uint64]int32
	// words holds Words; near holds them and, for words of typoLength
	// letters or more, every spelling with one letter left out.
	words, near map[string]bool
}

// charBit marks the hashes of character n-grams, so the group of a feature
// can be told from its hash.
const charBit = 1 << 63

func isChar(h uint64) bool { return h&charBit != 0 }

// fnv-1a, 64 bit.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// featureHashes appends the hash of every feature occurrence in words to dst.
// A feature that occurs twice is appended twice (its term frequency).
func featureHashes(dst []uint64, words []string) []uint64 {
	prev := "<s>"
	for _, w := range words {
		dst = append(dst, wordHash(w))
		h := hashString(hashString(fnvOffset, string(rune(kindBigram))), prev)
		h = hashString(h, " ")
		dst = append(dst, hashString(h, w)&^charBit)
		prev = w
		dst = appendCharGrams(dst, w)
	}
	if len(words) > 0 {
		h := hashString(hashString(fnvOffset, string(rune(kindBigram))), prev)
		dst = append(dst, hashString(h, " </s>")&^charBit)
	}
	return dst
}

// wordHash is the hash of the word feature of w.
func wordHash(w string) uint64 {
	return hashString(hashString(fnvOffset, string(rune(kindWord))), w) &^ charBit
}

// KnownShare returns the share of the words of a sentence that occur in the
// training sentences. Out-of-scope messages have more unknown words than
// in-scope ones, and the model cannot see them: a word it never met has no
// features of its own. Only words of letters count (a word with a digit,
// such as an order number, an amount or a date, is neither known nor
// unknown), and an unknown word written with a capital letter
// (capitalised[i], when capitalised is not nil) does not count either: it
// is likely a name. A word of typoLength letters or more that is one typo (a
// letter left out, added, changed, or two swapped) away from a training word
// counts as known, so that "wher is my ordr" is as known as "where is my
// order". The share is 1 when there is no word to count.
func (f *Featurizer) KnownShare(words []string, capitalised []bool) float64 {
	var counted, known int
	for i, w := range words {
		switch {
		case !lettersOnly(w):
		case f.knows(w):
			counted++
			known++
		case capitalised == nil || !capitalised[i]:
			counted++
		}
	}
	if counted == 0 {
		return 1
	}
	return float64(known) / float64(counted)
}

// typoLength is the shortest word that KnownShare forgives a typo in:
// shorter words are too often a typo away from another word.
const typoLength = 4

// knows says whether w is a training word or, if long enough, one typo away
// from one: w or w with one letter left out is a training word or one with
// a letter left out (the symmetric-delete test).
func (f *Featurizer) knows(w string) bool {
	if f.words[w] {
		return true
	}
	if utf8.RuneCountInString(w) < typoLength {
		return false
	}
	if f.near[w] {
		return true
	}
	for i := range w {
		_, size := utf8.DecodeRuneInString(w[i:])
		if f.near[w[:i]+w[i+size:]] {
			return true
		}
	}
	return false
}

// lettersOnly says whether w has a letter and no digit.
func lettersOnly(w string) bool {
	letter := false
	for _, r := range w {
		if unicode.IsDigit(r) {
			return false
		}
		letter = letter || unicode.IsLetter(r)
	}
	return letter
}

// appendCharGrams appends the hashes of the character n-grams of " w ".
// It works on runes so that a multi-byte letter is one character.
func appendCharGrams(dst []uint64, w string) []uint64 {
	var buf [64]int // byte offsets of rune starts in " w ", plus the end
	starts := buf[:0]
	padded := " " + w + " "
	for i := range padded {
		starts = append(starts, i)
	}
	starts = append(starts, len(padded))
	nr := len(starts) - 1
	base := hashString(fnvOffset, string(rune(kindChar)))
	for n := minCharN; n <= maxCharN; n++ {
		for i := 0; i+n <= nr; i++ {
			dst = append(dst, hashString(base, padded[starts[i]:starts[i+n]])|charBit)
		}
	}
	return dst
}

// BuildFeaturizer learns the feature set and IDF from the training sentences
// (each given as its words). Features that occur in fewer than minDF
// sentences are dropped.
func BuildFeaturizer(sentences [][]string, minDF int) *Featurizer {
	if minDF < 1 {
		minDF = 1
	}
	df := map[uint64]int{}
	seen := map[uint64]bool{}
	vocab := map[string]bool{}
	var hashes []uint64
	for _, words := range sentences {
		for _, w := range words {
			if w != "" && !strings.ContainsRune(w, '\n') { // the word list is stored one per line
				vocab[w] = true
			}
		}
		clear(seen)
		hashes = featureHashes(hashes[:0], words)
		for _, h := range hashes {
			if !seen[h] {
				seen[h] = true
				df[h]++
			}
		}
	}
	f := &Featurizer{Words: slices.Sorted(maps.Keys(vocab))}
	for h, n := range df {
		if n >= minDF {
			f.Hashes = append(f.Hashes, h)
		}
	}
	slices.Sort(f.Hashes)
	n := float64(len(sentences))
	f.IDF = make([]float32, len(f.Hashes))
	for i, h := range f.Hashes {
		// Smoothed IDF, as scikit-learn's TfidfVectorizer computes it.
		f.IDF[i] = float32(math.Log((1+n)/(1+float64(df[h]))) + 1)
	}
	f.init()
	return f
}

func (f *Featurizer) init() {
	f.index = make(map[uint64]int32, len(f.Hashes))
	for i, h := range f.Hashes {
		f.index[h] = int32(i)
	}
	f.words = make(map[string]bool, len(f.Words))
	f.near = make(map[string]bool, 4*len(f.Words))
	for _, w := range f.Words {
		f.words[w], f.near[w] = true, true
		if utf8.RuneCountInString(w) < typoLength {
			continue
		}
		for i := range w {
			_, size := utf8.DecodeRuneInString(w[i:])
			f.near[w[:i]+w[i+size:]] = true
		}
	}
}

// Len returns the number of features.
func (f *Featurizer) Len() int { return len(f.Hashes) }

// Vector is a sparse feature vector: parallel slices of rows and weights,
// sorted by row, without duplicates.
type Vector struct {
	Rows    []int32
	Weights []float32
}

// Vectorize returns the TF-IDF vector of a sentence. Unknown features are
// ignored; a sentence with no known feature gives an empty vector. scratch
// may be nil; passing the previous result's backing arrays saves allocations.
func (f *Featurizer) Vectorize(words []string, scratch []uint64) Vector {
	hashes := featureHashes(scratch[:0], words)
	rows := make([]int32, 0, len(hashes))
	for _, h := range hashes {
		if r, ok := f.index[h]; ok {
			rows = append(rows, r)
		}
	}
	slices.Sort(rows)
	var v Vector
	v.Weights = make([]float32, 0, len(rows))
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j] == rows[i] {
			j++
		}
		tf := 1 + math.Log(float64(j-i)) // sublinear tf
		v.Rows = append(v.Rows, rows[i])
		v.Weights = append(v.Weights, float32(tf)*f.IDF[rows[i]])
		i = j
	}
	// L2-normalise each group on its own.
	var word, char float64
	for i, r := range v.Rows {
		w := float64(v.Weights[i])
		if isChar(f.Hashes[r]) {
			char += w * w
		} else {
			word += w * w
		}
	}
	word, char = invSqrt(word), invSqrt(char)
	for i, r := range v.Rows {
		if isChar(f.Hashes[r]) {
			v.Weights[i] *= float32(char)
		} else {
			v.Weights[i] *= float32(word)
		}
	}
	return v
}

func invSqrt(x float64) float64 {
	if x == 0 {
		return 0
	}
	return 1 / math.Sqrt(x)
}

// sortedByLen returns the indices of vs sorted by the number of features,
// shortest first, ties in index order.
func sortedByLen(vs []Vector) []int {
	idx := make([]int, len(vs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return len(vs[idx[a]].Rows) < len(vs[idx[b]].Rows) })
	return idx
}

// InitWords sets the embedding of every training word that lookup knows to
// its pre-trained vector, projected to the net's dimension by a seeded
// random projection (a copy when the dimensions agree) and scaled to the
// norm of the random initialisation. It returns how many words it set.
func (f *Featurizer) InitWords(n *Net, sentences [][]string, lookup func(string) ([]float32, bool), dim int, seed uint64) int {
	proj := make([]float32, dim*n.Dim)
	if dim == n.Dim {
		for i := 0; i < dim; i++ {
			proj[i*dim+i] = 1
		}
	} else {
		rng := rand.New(rand.NewPCG(seed, 0x7ec5))
		for i := range proj {
			proj[i] = float32(rng.NormFloat64())
		}
	}
	target := initScale * math.Sqrt(float64(n.Dim))
	done := map[int32]bool{}
	out := make([]float64, n.Dim)
	for _, words := range sentences {
		for _, w := range words {
			r, ok := f.index[wordHash(w)]
			if !ok || done[r] {
				continue
			}
			vec, ok := lookup(w)
			if !ok {
				continue
			}
			done[r] = true
			clear(out)
			for i, x := range vec {
				for j := range out {
					out[j] += float64(x * proj[i*n.Dim+j])
				}
			}
			var norm float64
			for _, x := range out {
				norm += x * x
			}
			if norm == 0 {
				continue
			}
			scale := target / math.Sqrt(norm)
			row := n.E[int(r)*n.Dim : int(r+1)*n.Dim]
			for j := range row {
				row[j] = float32(out[j] * scale)
			}
		}
	}
	return len(done)
}
