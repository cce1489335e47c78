package tokenize

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"unicode/utf8"

	"github.com/sugarme/tokenizer"
	"github.com/sugarme/tokenizer/normalizer"
	"github.com/sugarme/tokenizer/pretrained"
)

// Word is one word of an encoded text.
type Word struct {
	// Text is the normalised word: its WordPiece pieces joined back together
	// ("un" + "##able" is "unable"), or, under an [UNK], the normalised text
	// the [UNK] stands for.
	Text string
	// Start and End are rune offsets into the text given to Encode, End
	// exclusive. A character that normalisation expands ("½" is "1⁄2") can
	// belong to several words, which then share offsets.
	Start, End int
}

// Encoding is the result of Encode. All three slices are empty for a text
// without words.
type Encoding struct {
	IDs    []int    // token ids, at most Options.MaxTokens
	Tokens []string // the tokens of IDs, continuation pieces with "##"
	Words  []Word   // the words that have at least one token in IDs, in order
}

// Tokenizer encodes text with a WordPiece vocabulary from a tokenizer.json.
// It is safe for concurrent use: nothing writes to it after Load, and the
// library code it calls keeps all its state per call (see doc.go).
type Tokenizer struct {
	pre       tokenizer.PreTokenizer // the library's pre-tokenizer; nil: none
	model     tokenizer.Model        // the library's WordPiece model
	unkToken  string
	unkID     int
	added     map[string]int
	plan      normPlan
	ours      bool // Go pre-tokenizer too; see fileInfo.ours
	chunked   bool // see encodeLibrary
	maxChunk  int  // see encodeLibrary
	maxTokens int
	maxBytes  int // of input read
	// maxWordChars is the model's max_input_chars_per_word.
	maxWordChars int
	vocabSize    int
}

// Load reads a Hugging Face tokenizer.json with a WordPiece model, one that
// Build wrote or one the user brings, and returns a Tokenizer that keeps at
// most opts.MaxTokens tokens (nil opts: defaults; VocabSize and MinFrequency
// are not used).
//
// Errors name the file and wrap the os error for a file that cannot be read,
// ErrFormat for one that is not JSON or not a tokenizer.json, and
// ErrUnsupported for one Parley cannot run (see ErrUnsupported).
func Load(path string, opts *Options) (*Tokenizer, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("load tokenizer %s: %w", path, err)
	}
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer %s: %w", path, err)
	}
	t, err := fromJSON(data, o)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer %s: %w", path, err)
	}
	return t, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("%w: larger than %d MiB", ErrUnsupported, maxFileBytes>>20)
	}
	return data, nil
}

// fromJSON builds a Tokenizer from the bytes of a tokenizer.json.
func fromJSON(data []byte, o Options) (*Tokenizer, error) {
	info, err := inspect(data)
	if err != nil {
		return nil, err
	}
	lib, err := newLibraryTokenizer(info.libJSON)
	if err != nil {
		return nil, err
	}
	t := &Tokenizer{
		pre:          lib.GetPreTokenizer(),
		model:        lib.GetModel(),
		unkToken:     info.unkToken,
		added:        info.added,
		plan:         info.plan,
		ours:         info.ours,
		chunked:      info.chunked,
		maxChunk:     maxChunk,
		maxTokens:    o.MaxTokens,
		maxBytes:     o.MaxTokens * 16,
		maxWordChars: info.maxWordChars,
		vocabSize:    info.maxID + 1,
	}
	t.unkID, _ = t.model.TokenToId(info.unkToken) // inspect checked it is there
	if !t.ours {
		if _, err := t.encodeLibrary("Hello, world! 123"); err != nil {
			return nil, fmt.Errorf("%w: the tokenizer library fails on plain text: %v", ErrUnsupported, err)
		}
	}
	return t, nil
}

// newLibraryTokenizer runs the library's loader (the body of
// pretrained.FromFile), turning its panics on unexpected configurations into
// errors.
func newLibraryTokenizer(data []byte) (tk *tokenizer.Tokenizer, err error) {
	defer func() {
		if r := recover(); r != nil {
			tk, err = nil, fmt.Errorf("%w: the tokenizer library cannot build this pipeline: %v", ErrUnsupported, r)
		}
	}()
	tk, err = pretrained.FromReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	if tk == nil || tk.GetModel() == nil {
		return nil, fmt.Errorf("%w: the tokenizer library built no model", ErrUnsupported)
	}
	return tk, nil
}

// VocabSize returns one more than the largest token id, the size an
// embedding table indexed by id needs.
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// ID returns the id of a token of the vocabulary, such as PadToken.
func (t *Tokenizer) ID(token string) (int, bool) {
	if id, ok := t.added[token]; ok {
		return id, true
	}
	return t.model.TokenToId(token)
}

// Encode splits text into WordPiece tokens. It never fails: it reads at most
// MaxTokens*16 bytes of text (cut at a word boundary where there is one),
// cleans it (see Clean), normalises it, and keeps the first MaxTokens tokens.
// An empty or blank text gives an empty Encoding.
func (t *Tokenizer) Encode(text string) (enc Encoding) {
	defer func() {
		if recover() != nil { // a bug; the fuzz tests run the paths without this guard
			enc = Encoding{}
		}
	}()
	clean := Clean(truncateInput(text, t.maxBytes))
	if t.ours {
		return t.encodeGo(clean)
	}
	enc, err := t.encodeLibrary(clean)
	if err != nil {
		return Encoding{}
	}
	return enc
}

// encodeGo normalises and pre-tokenizes in Go and runs the library's WordPiece
// model on each word. For a file Build wrote this gives the tokens of the
// library's own pre-tokenizer (tested), at a fraction of the cost (doc.go).
func (t *Tokenizer) encodeGo(clean string) Encoding {
	sg := segmenterPool.Get().(*segmenter)
	defer segmenterPool.Put(sg)
	sg.run(clean)
	enc := t.newEncoding(len(sg.words))
	normalized := string(sg.norm) // one allocation for all Word.Text
	for _, w := range sg.words {
		if !t.addWord(&enc, normalized[w.normStart:w.normEnd], w.origStart, w.origEnd) {
			break
		}
	}
	return enc
}

var alignedPool = sync.Pool{New: func() any { return new(aligned) }}

// encodeLibrary runs the file's normaliser in Go, then the library's
// pre-tokenizer and WordPiece model. It recovers a library panic as an error.
func (t *Tokenizer) encodeLibrary(clean string) (enc Encoding, err error) {
	defer func() {
		if r := recover(); r != nil {
			enc, err = Encoding{}, fmt.Errorf("tokenizer library panic: %v", r)
		}
	}()
	a := alignedPool.Get().(*aligned)
	defer alignedPool.Put(a)
	a.reset(clean)
	t.plan.apply(a)
	normalized := string(a.runes)
	runeAt := byteToRune(normalized)
	enc = t.newEncoding(len(a.runes)/4 + 1)
	// The library's pre-tokenizers slow down with the square of the text
	// length (each split copies the whole alignment), so a pre-tokenizer that
	// starts by splitting on white space runs on one space-free chunk at a
	// time, a chunk is at most maxChunk bytes, and it stops once MaxTokens
	// tokens are in.
	for c0 := 0; c0 < len(normalized); {
		c1 := len(normalized)
		if t.chunked {
			for c0 < len(normalized) && isChunkSpace(normalized[c0]) {
				c0++
			}
			c1 = c0
			for c1 < len(normalized) && !isChunkSpace(normalized[c1]) && (c1-c0 < t.maxChunk || !onRune(runeAt, c1)) {
				c1++
			}
			if c0 == c1 {
				break
			}
		}
		full, err := t.encodeChunk(&enc, normalized, c0, c1, runeAt, a)
		if err != nil {
			return Encoding{}, err
		}
		if full {
			break
		}
		c0 = c1
	}
	if len(enc.IDs) == 0 {
		return Encoding{}, nil
	}
	return enc, nil
}

// encodeChunk pre-tokenizes normalized[c0:c1] with the library and adds its
// words to enc. It reports whether enc is full.
func (t *Tokenizer) encodeChunk(enc *Encoding, normalized string, c0, c1 int, runeAt []int, a *aligned) (bool, error) {
	pts := tokenizer.NewPreTokenizedString(normalized[c0:c1])
	if t.pre != nil {
		var err error
		if pts, err = t.pre.PreTokenize(pts); err != nil {
			return false, err
		}
	}
	for _, sp := range pts.GetSplits(normalizer.OriginalTarget, tokenizer.Byte) {
		if len(sp.Offsets) != 2 {
			return false, errors.New("tokenizer library returned a split without offsets")
		}
		b0, b1 := c0+sp.Offsets[0], c0+sp.Offsets[1]
		if b0 < c0 || b1 > c1 || b0 >= b1 || !onRune(runeAt, b0) || !onRune(runeAt, b1) {
			return false, fmt.Errorf("tokenizer library returned split offsets %v outside the text", sp.Offsets)
		}
		k0, k1 := runeAt[b0], runeAt[b1]
		if !t.addWord(enc, normalized[b0:b1], int(a.start[k0]), int(a.end[k1-1])) {
			return true, nil
		}
	}
	return false, nil
}

// maxChunk bounds a space-free chunk: a longer run of text (which WordPiece
// would make one [UNK] anyway unless punctuation splits it) is cut.
const maxChunk = 256

// isChunkSpace reports the bytes that BertPreTokenizer, Whitespace and
// WhitespaceSplit all split on and drop.
func isChunkSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// splitsOnSpace reports whether a pre-tokenizer configuration begins by
// splitting on white space and dropping it, so that running it on each
// space-free chunk gives the same words.
func splitsOnSpace(cfg map[string]any) bool {
	switch cfg["type"] {
	case "BertPreTokenizer", "Whitespace", "WhitespaceSplit":
		return true
	case "Sequence":
		list, _ := cfg["pretokenizers"].([]any)
		if len(list) == 0 {
			return false
		}
		first, _ := list[0].(map[string]any)
		return splitsOnSpace(first)
	}
	return false
}

func (t *Tokenizer) newEncoding(words int) Encoding {
	if words == 0 {
		return Encoding{}
	}
	n := min(words+words/2, t.maxTokens)
	return Encoding{
		IDs:    make([]int, 0, n),
		Tokens: make([]string, 0, n),
		Words:  make([]Word, 0, min(words, t.maxTokens)),
	}
}

// addWord appends the tokens of one word and the word itself, and reports
// whether there is room for more.
func (t *Tokenizer) addWord(enc *Encoding, word string, start, end int) bool {
	if len(enc.IDs) >= t.maxTokens {
		return false
	}
	enc.Words = append(enc.Words, Word{Text: word, Start: start, End: end})
	// Greedy longest-match-first tries the whole word first, and gives up
	// on a word over max_input_chars_per_word: answer those two cases with
	// one map lookup instead of the model's allocating search.
	if utf8.RuneCountInString(word) > t.maxWordChars {
		enc.IDs, enc.Tokens = append(enc.IDs, t.unkID), append(enc.Tokens, t.unkToken)
		return len(enc.IDs) < t.maxTokens
	}
	if id, ok := t.model.TokenToId(word); ok {
		enc.IDs, enc.Tokens = append(enc.IDs, id), append(enc.Tokens, word)
		return len(enc.IDs) < t.maxTokens
	}
	toks, err := t.model.Tokenize(word)
	if err != nil || len(toks) == 0 {
		toks = []tokenizer.Token{{Id: t.unkID, Value: t.unkToken}}
	}
	for _, tok := range toks {
		if len(enc.IDs) >= t.maxTokens {
			break
		}
		enc.IDs = append(enc.IDs, tok.Id)
		enc.Tokens = append(enc.Tokens, tok.Value)
	}
	return len(enc.IDs) < t.maxTokens
}

// byteToRune maps each byte offset of s, and len(s), to the index of the rune
// it falls in; the last entry is the rune count.
func byteToRune(s string) []int {
	m := make([]int, len(s)+1)
	k := 0
	for i := range s {
		for j := i; j < len(s) && (j == i || !isRuneStart(s[j])); j++ {
			m[j] = k
		}
		k++
	}
	m[len(s)] = k
	return m
}

// onRune reports whether byte offset b starts a rune (or is the end).
func onRune(runeAt []int, b int) bool {
	return b == 0 || b == len(runeAt)-1 || runeAt[b] != runeAt[b-1]
}

func isRuneStart(c byte) bool { return c&0xC0 != 0x80 }
