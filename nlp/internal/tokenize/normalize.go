package tokenize

import (
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/sugarme/tokenizer/normalizer"
	"golang.org/x/text/unicode/norm"
)

// The normaliser and pre-tokenizer that Build writes into tokenizer.json, in
// Hugging Face terms. Parley runs both in Go (see doc.go for why); Load
// recognises a file that declares exactly these and takes the Go path for it.
const (
	// NFKC, lower-case, then strip accents: NFD, drop non-spacing marks (Mn),
	// and compose again so that scripts such as Hangul keep their syllables.
	normalizerSpec = `{"type":"Sequence","normalizers":[{"type":"NFKC"},{"type":"Lowercase"},` +
		`{"type":"NFD"},{"type":"StripAccents"},{"type":"NFC"}]}`
	// BERT's split on white space and punctuation, then every symbol (emoji,
	// currency, maths) and every Han character on its own, so "thanks👍" is two
	// words and Chinese text is not one giant unknown word.
	preTokenizerSpec = `{"type":"Sequence","pretokenizers":[{"type":"BertPreTokenizer"},` +
		`{"type":"Split","pattern":{"Regex":"[\\p{S}\\p{Han}]"},"behavior":"Isolated","invert":false}]}`
)

// span is one pre-tokenized word: a byte range of the normalised text and the
// rune range of the original text it came from.
type span struct {
	normStart, normEnd int // bytes in segmenter.norm
	origStart, origEnd int // runes in the original text
}

// segmenter normalises a cleaned text and splits it into words, remembering
// for every normalised rune which original runes it came from. It holds only
// scratch buffers, reused through segmenterPool; one goroutine at a time.
type segmenter struct {
	norm     []byte
	identity bool    // norm is an ASCII lower-casing of the input: rune i came from rune i
	start    []int32 // per normalised rune (when !identity): first original rune
	end      []int32 // per normalised rune (when !identity): one past the last original rune
	words    []span
	lower    []byte // scratch for fold
	nfd      []byte
	nfc      []byte
}

var segmenterPool = sync.Pool{New: func() any { return new(segmenter) }}

// run normalises s (which must be valid UTF-8, as Clean returns) and splits
// it into sg.words.
func (sg *segmenter) run(s string) {
	sg.normalize(s)
	sg.split()
}

// normalize fills sg.norm and the alignment.
func (sg *segmenter) normalize(s string) {
	sg.norm, sg.start, sg.end = sg.norm[:0], sg.start[:0], sg.end[:0]
	if isASCII(s) {
		sg.identity = true
		for i := 0; i < len(s); i++ {
			c := s[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			sg.norm = append(sg.norm, c)
		}
		return
	}
	sg.identity = false
	var it norm.Iter
	it.InitString(norm.NFKC, s)
	pos, orig := 0, int32(0)
	for !it.Done() {
		seg := it.Next()
		next := it.Pos()
		n := int32(utf8.RuneCountInString(s[pos:next]))
		// A character that expands into several segments ("½" is "1", "⁄",
		// "2") consumes its input only with the last one: the others come
		// from the rune at orig too.
		end := orig + max(n, 1)
		for _, r := range string(sg.fold(seg)) {
			sg.norm = utf8.AppendRune(sg.norm, r)
			sg.start = append(sg.start, orig)
			sg.end = append(sg.end, end)
		}
		pos, orig = next, orig+n
	}
}

// fold lower-cases one NFKC segment and strips its accents. The result is
// read-only and lives until the next call.
func (sg *segmenter) fold(seg []byte) []byte {
	// Most segments are one character without a canonical decomposition
	// once lower-cased: then there is nothing to strip or compose.
	if r, size := utf8.DecodeRune(seg); size == len(seg) {
		if latinStart <= r && r < latinEnd {
			return latinFolds()[r-latinStart] // read-only, shared
		}
		l := unicode.ToLower(r)
		sg.nfc = utf8.AppendRune(sg.nfc[:0], l)
		if unicode.Is(unicode.Mn, l) {
			return sg.nfc[:0]
		}
		if len(norm.NFD.Properties(sg.nfc).Decomposition()) == 0 {
			return sg.nfc
		}
	}
	return sg.foldSlow(seg)
}

// foldSlow is fold for any segment.
func (sg *segmenter) foldSlow(seg []byte) []byte {
	sg.lower = sg.lower[:0]
	for _, r := range string(seg) {
		sg.lower = utf8.AppendRune(sg.lower, unicode.ToLower(r))
	}
	sg.nfd = norm.NFD.Append(sg.nfd[:0], sg.lower...)
	kept := sg.nfd[:0]
	for i := 0; i < len(sg.nfd); {
		r, size := utf8.DecodeRune(sg.nfd[i:])
		if !unicode.Is(unicode.Mn, r) {
			kept = append(kept, sg.nfd[i:i+size]...)
		}
		i += size
	}
	sg.nfc = norm.NFC.Append(sg.nfc[:0], kept...)
	return sg.nfc
}

// The folds of Latin-1 Supplement and Latin Extended-A/B, where most accented
// letters of European languages live, are computed once.
const latinStart, latinEnd = 0x80, 0x250

var latinFolds = sync.OnceValue(func() [][]byte {
	var sg segmenter
	folds := make([][]byte, latinEnd-latinStart)
	for r := rune(latinStart); r < latinEnd; r++ {
		folds[r-latinStart] = slices.Clone(sg.foldSlow(utf8.AppendRune(nil, r)))
	}
	return folds
})

// split cuts sg.norm into words the way preTokenizerSpec does: white space
// separates and is dropped; punctuation, symbols and Han characters stand alone.
func (sg *segmenter) split() {
	sg.words = sg.words[:0]
	wordStart, wordRune := -1, 0
	k := 0 // rune index into norm
	for i := 0; i < len(sg.norm); k++ {
		r, size := utf8.DecodeRune(sg.norm[i:])
		switch {
		case isSplitSpace(r):
			if wordStart >= 0 {
				sg.addWord(wordStart, i, wordRune, k)
				wordStart = -1
			}
		case isIsolated(r):
			if wordStart >= 0 {
				sg.addWord(wordStart, i, wordRune, k)
				wordStart = -1
			}
			sg.addWord(i, i+size, k, k+1)
		default:
			if wordStart < 0 {
				wordStart, wordRune = i, k
			}
		}
		i += size
	}
	if wordStart >= 0 {
		sg.addWord(wordStart, len(sg.norm), wordRune, k)
	}
}

// addWord records the word of normalised bytes [b0, b1) and runes [k0, k1).
func (sg *segmenter) addWord(b0, b1, k0, k1 int) {
	w := span{normStart: b0, normEnd: b1, origStart: k0, origEnd: k1}
	if !sg.identity {
		w.origStart, w.origEnd = int(sg.start[k0]), int(sg.end[k1-1])
	}
	sg.words = append(sg.words, w)
}

// isSplitSpace mirrors the `\s+` split of the library's BertPreTokenizer (Go's
// \s is ASCII only; Clean has already turned all other white space into ' ').
func isSplitSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\f' || r == '\r'
}

// isIsolated reports whether the pre-tokenizer makes r a word of its own.
func isIsolated(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiIsolated[r]
	}
	return normalizer.IsBertPunctuation(r) || unicode.In(r, unicode.S, unicode.Han)
}

var asciiIsolated = func() (t [utf8.RuneSelf]bool) {
	for r := range t {
		t[r] = normalizer.IsBertPunctuation(rune(r))
	}
	return t
}()

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// normalizeText returns s normalised as Parley's tokenizer does, without
// alignment. s need not be clean.
func normalizeText(s string) string {
	sg := segmenterPool.Get().(*segmenter)
	defer segmenterPool.Put(sg)
	sg.normalize(Clean(s))
	return string(sg.norm)
}
