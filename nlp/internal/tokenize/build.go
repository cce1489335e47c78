package tokenize

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// The special tokens of a vocabulary that Build makes, with ids 0 to 4 in this
// order (BERT's convention).
const (
	PadToken  = "[PAD]"
	UnkToken  = "[UNK]"
	ClsToken  = "[CLS]"
	SepToken  = "[SEP]"
	MaskToken = "[MASK]"
)

var specialTokens = [...]string{PadToken, UnkToken, ClsToken, SepToken, MaskToken}

const (
	// continuingPrefix marks a piece that continues a word. It is the only
	// prefix the library honours (it ignores the field in tokenizer.json).
	continuingPrefix = "##"
	// maxWordRunes is WordPiece's max_input_chars_per_word: a longer word is
	// one [UNK], so Build does not learn from it either.
	maxWordRunes = 100
)

// Defaults for the zero fields of Options.
const (
	DefaultVocabSize    = 8000
	DefaultMinFrequency = 1
	DefaultMaxTokens    = 128
	maxTokensLimit      = 1 << 20
)

// Options configures Build and Load. A nil *Options or a zero field means the
// default; a negative field, VocabSize over 2^21 or MaxTokens over 2^20 is an
// error.
type Options struct {
	// VocabSize is the most tokens Build puts in the vocabulary, special tokens
	// included. Default 8000.
	VocabSize int
	// MinFrequency is how often a pair of pieces must occur in the training
	// texts before Build merges it into a new token. Default 1.
	MinFrequency int
	// MaxTokens is the most tokens Encode returns; the rest of a long message
	// is dropped, and Encode reads at most MaxTokens*16 bytes of it. Default 128.
	MaxTokens int
}

// withDefaults returns a copy of o with defaults filled in, or an error for a
// negative or too small value.
func (o *Options) withDefaults() (Options, error) {
	var v Options
	if o != nil {
		v = *o
	}
	if v.VocabSize < 0 || v.MinFrequency < 0 || v.MaxTokens < 0 {
		return v, fmt.Errorf("options: negative value in %+v", v)
	}
	if v.VocabSize == 0 {
		v.VocabSize = DefaultVocabSize
	}
	if v.VocabSize > maxVocab || v.MaxTokens > maxTokensLimit {
		return v, fmt.Errorf("options: VocabSize over %d or MaxTokens over %d in %+v", maxVocab, maxTokensLimit, v)
	}
	if v.VocabSize <= len(specialTokens) {
		return v, fmt.Errorf("options: vocabulary size %d leaves no room beside the %d special tokens", v.VocabSize, len(specialTokens))
	}
	if v.MinFrequency == 0 {
		v.MinFrequency = DefaultMinFrequency
	}
	if v.MaxTokens == 0 {
		v.MaxTokens = DefaultMaxTokens
	}
	return v, nil
}

// Build learns a WordPiece vocabulary from texts and returns a Hugging Face
// style tokenizer.json for it. The same texts and options always give the same
// bytes.
//
// Texts are cleaned, normalised and split into words exactly as Encode does.
// The vocabulary starts with the special tokens (ids 0-4), then every
// character seen, most frequent first, both as a word start and as a "##"
// continuation; then, like Hugging Face's WordPiece trainer, it repeatedly
// merges the most frequent adjacent pair of pieces (ties: the pair whose pieces
// got their ids first) until VocabSize tokens exist or no pair occurs
// MinFrequency times. Ids are contiguous.
//
// Build returns an error for invalid options or when the texts hold no word.
func Build(texts []string, opts *Options) ([]byte, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("build tokenizer: %w", err)
	}
	vocab, err := learnVocab(texts, o)
	if err != nil {
		return nil, fmt.Errorf("build tokenizer: %w", err)
	}
	return marshalTokenizer(vocab)
}

// wordEntry is one distinct training word as a sequence of token ids.
type wordEntry struct {
	syms  []int32
	count int64
}

// learnVocab returns the vocabulary, index = id.
func learnVocab(texts []string, o Options) ([]string, error) {
	counts := countWords(texts)
	if len(counts) == 0 {
		return nil, fmt.Errorf("no words in %d training texts", len(texts))
	}
	words := make([]string, 0, len(counts))
	for w := range counts {
		words = append(words, w)
	}
	slices.Sort(words)

	vocab := append([]string(nil), specialTokens[:]...)
	ids := make(map[string]int32, min(o.VocabSize, 1<<16))
	for i, t := range vocab {
		ids[t] = int32(i)
	}
	add := func(t string) {
		if _, ok := ids[t]; !ok && len(vocab) < o.VocabSize {
			ids[t] = int32(len(vocab))
			vocab = append(vocab, t)
		}
	}
	for _, r := range alphabet(words, counts) {
		add(string(r))
		if !isIsolated(r) {
			add(continuingPrefix + string(r))
		}
	}

	entries := make([]wordEntry, 0, len(words))
	for _, w := range words {
		if e, ok := wordSymbols(w, ids); ok {
			entries = append(entries, wordEntry{syms: e, count: counts[w]})
		}
	}
	m := newMerger(entries)
	for len(vocab) < o.VocabSize {
		a, b, ok := m.best(int64(o.MinFrequency))
		if !ok {
			break
		}
		t := vocab[a] + strings.TrimPrefix(vocab[b], continuingPrefix)
		id, ok := ids[t]
		if !ok {
			id = int32(len(vocab))
			ids[t] = id
			vocab = append(vocab, t)
		}
		m.merge(a, b, id)
	}
	return vocab, nil
}

// countWords counts the words of texts after Clean, normalisation and
// pre-tokenization, leaving out words WordPiece would never split.
func countWords(texts []string) map[string]int64 {
	counts := make(map[string]int64)
	var sg segmenter // not pooled: training texts may be large
	for _, text := range texts {
		sg.run(Clean(text))
		for _, w := range sg.words {
			word := sg.norm[w.normStart:w.normEnd]
			if utf8.RuneCount(word) <= maxWordRunes {
				counts[string(word)]++
			}
		}
	}
	return counts
}

// alphabet returns every character of words, most frequent first, ties by
// code point.
func alphabet(words []string, counts map[string]int64) []rune {
	freq := make(map[rune]int64)
	for _, w := range words {
		for _, r := range w {
			freq[r] += counts[w]
		}
	}
	chars := make([]rune, 0, len(freq))
	for r := range freq {
		chars = append(chars, r)
	}
	slices.SortFunc(chars, func(a, b rune) int {
		if freq[a] != freq[b] {
			if freq[a] > freq[b] {
				return -1
			}
			return 1
		}
		return int(a - b)
	})
	return chars
}

// wordSymbols spells w as its first character and "##" continuations. ok is
// false when a character did not fit in the vocabulary.
func wordSymbols(w string, ids map[string]int32) (syms []int32, ok bool) {
	for i, r := range w {
		t := string(r)
		if i > 0 {
			t = continuingPrefix + t
		}
		id, found := ids[t]
		if !found {
			return nil, false
		}
		syms = append(syms, id)
	}
	return syms, true
}

// marshalTokenizer writes the tokenizer.json for vocab (index = id).
func marshalTokenizer(vocab []string) ([]byte, error) {
	added := make([]addedTokenJSON, len(specialTokens))
	for i, t := range specialTokens {
		added[i] = addedTokenJSON{ID: i, Content: t, Special: true}
	}
	f := tokenizerJSON{
		Version:      "1.0",
		AddedTokens:  added,
		Normalizer:   json.RawMessage(normalizerSpec),
		PreTokenizer: json.RawMessage(preTokenizerSpec),
		Decoder:      json.RawMessage(`{"type":"WordPiece","prefix":"##","cleanup":true}`),
		Model: modelJSON{
			Type:                    "WordPiece",
			UnkToken:                UnkToken,
			ContinuingSubwordPrefix: continuingPrefix,
			MaxInputCharsPerWord:    maxWordRunes,
			Vocab:                   orderedVocab(vocab),
		},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("build tokenizer: encode json: %w", err)
	}
	return buf.Bytes(), nil
}

// tokenizerJSON is the part of the Hugging Face tokenizer.json format that
// Build writes, in the order Hugging Face writes it.
type tokenizerJSON struct {
	Version       string           `json:"version"`
	Truncation    *struct{}        `json:"truncation"`
	Padding       *struct{}        `json:"padding"`
	AddedTokens   []addedTokenJSON `json:"added_tokens"`
	Normalizer    json.RawMessage  `json:"normalizer"`
	PreTokenizer  json.RawMessage  `json:"pre_tokenizer"`
	PostProcessor *struct{}        `json:"post_processor"`
	Decoder       json.RawMessage  `json:"decoder"`
	Model         modelJSON        `json:"model"`
}

type addedTokenJSON struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	Lstrip     bool   `json:"lstrip"`
	Rstrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type modelJSON struct {
	Type                    string       `json:"type"`
	UnkToken                string       `json:"unk_token"`
	ContinuingSubwordPrefix string       `json:"continuing_subword_prefix"`
	MaxInputCharsPerWord    int          `json:"max_input_chars_per_word"`
	Vocab                   orderedVocab `json:"vocab"`
}

// orderedVocab marshals as a JSON object in id order, as Hugging Face does.
type orderedVocab []string

func (v orderedVocab) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for id, t := range v {
		if id > 0 {
			buf.WriteByte(',')
		}
		k, err := json.Marshal(t)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		fmt.Fprintf(&buf, ":%d", id)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// merger holds the pair statistics of the merge loop.
type merger struct {
	words []wordEntry
	pairs map[uint64]int64   // count of each adjacent pair, weighted by word count
	where map[uint64][]int32 // words that contain (or once contained) the pair
	queue pairQueue
	seen  []int // per word: the merge round it was last visited in
	round int
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func newMerger(words []wordEntry) *merger {
	m := &merger{
		words: words,
		pairs: make(map[uint64]int64),
		where: make(map[uint64][]int32),
		seen:  make([]int, len(words)),
	}
	for wi, w := range words {
		for i := 0; i+1 < len(w.syms); i++ {
			k := pairKey(w.syms[i], w.syms[i+1])
			if m.pairs[k] == 0 {
				m.queue = append(m.queue, pairCount{a: w.syms[i], b: w.syms[i+1]})
			}
			m.pairs[k] += w.count
			if ws := m.where[k]; len(ws) == 0 || ws[len(ws)-1] != int32(wi) {
				m.where[k] = append(ws, int32(wi))
			}
		}
	}
	for i := range m.queue {
		q := &m.queue[i]
		q.count = m.pairs[pairKey(q.a, q.b)]
	}
	heap.Init(&m.queue)
	return m
}

// best returns the most frequent pair, if it occurs at least min times. Queue
// entries may be stale: a pair whose count went up was pushed again, and one
// whose count went down is corrected when it surfaces.
func (m *merger) best(min int64) (a, b int32, ok bool) {
	for m.queue.Len() > 0 {
		top := heap.Pop(&m.queue).(pairCount)
		cur := m.pairs[pairKey(top.a, top.b)]
		if cur != top.count {
			if cur > 0 {
				heap.Push(&m.queue, pairCount{a: top.a, b: top.b, count: cur})
			}
			continue
		}
		if cur < min || cur <= 0 {
			return 0, 0, false
		}
		return top.a, top.b, true
	}
	return 0, 0, false
}

// merge replaces every adjacent (a, b) by n, left to right, and updates the
// pair counts.
func (m *merger) merge(a, b, n int32) {
	m.round++
	key := pairKey(a, b)
	grown := make(map[uint64]struct{})
	for _, wi := range m.where[key] {
		if m.seen[wi] == m.round {
			continue
		}
		m.seen[wi] = m.round
		w := &m.words[wi]
		s := w.syms
		for i := 0; i+1 < len(s); i++ {
			if s[i] != a || s[i+1] != b {
				continue
			}
			m.pairs[key] -= w.count
			if i > 0 {
				m.pairs[pairKey(s[i-1], a)] -= w.count
				m.bump(pairKey(s[i-1], n), w.count, wi, grown)
			}
			if i+2 < len(s) {
				m.pairs[pairKey(b, s[i+2])] -= w.count
				m.bump(pairKey(n, s[i+2]), w.count, wi, grown)
			}
			s[i] = n
			s = append(s[:i+1], s[i+2:]...)
		}
		w.syms = s
	}
	delete(m.where, key)
	// Push in a fixed order so the queue's layout, too, is reproducible.
	keys := make([]uint64, 0, len(grown))
	for k := range grown {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		heap.Push(&m.queue, pairCount{a: int32(k >> 32), b: int32(uint32(k)), count: m.pairs[k]})
	}
}

func (m *merger) bump(k uint64, c int64, wi int32, grown map[uint64]struct{}) {
	m.pairs[k] += c
	if ws := m.where[k]; len(ws) == 0 || ws[len(ws)-1] != wi {
		m.where[k] = append(ws, wi)
	}
	grown[k] = struct{}{}
}

// pairCount is a queue entry: the pair (a, b) seen count times.
type pairCount struct {
	a, b  int32
	count int64
}

// pairQueue is a max-heap by count; ties go to the smaller ids.
type pairQueue []pairCount

func (q pairQueue) Len() int { return len(q) }
func (q pairQueue) Less(i, j int) bool {
	if q[i].count != q[j].count {
		return q[i].count > q[j].count
	}
	if q[i].a != q[j].a {
		return q[i].a < q[j].a
	}
	return q[i].b < q[j].b
}
func (q pairQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *pairQueue) Push(x any)   { *q = append(*q, x.(pairCount)) }
func (q *pairQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}
