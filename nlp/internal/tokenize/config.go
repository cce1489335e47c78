package tokenize

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Errors Load wraps, to be tested with errors.Is. A missing or unreadable file
// comes back as the os error (errors.Is(err, fs.ErrNotExist) works).
var (
	// ErrFormat: the file is not JSON or not shaped like a tokenizer.json.
	ErrFormat = errors.New("not a valid tokenizer.json")
	// ErrUnsupported: a valid tokenizer.json that Parley cannot run: a model
	// other than WordPiece, a continuing-subword prefix other than "##", a
	// normaliser or pre-tokenizer outside the supported set, added tokens
	// that are not special, or a pipeline the library fails to build or run.
	ErrUnsupported = errors.New("unsupported tokenizer")
)

const (
	// maxFileBytes bounds what Load reads: BERT-multilingual's tokenizer.json,
	// one of the larger ones, is under 3 MB.
	maxFileBytes = 64 << 20
	maxVocab     = 1 << 21
)

// fileInfo is what Load learns from a tokenizer.json before the library sees it.
type fileInfo struct {
	unkToken     string
	maxWordChars int
	maxID        int
	added        map[string]int // special added tokens
	plan         normPlan       // the declared normaliser, run in Go
	// ours: the file declares exactly Parley's normaliser and pre-tokenizer,
	// so Encode may run the Go pre-tokenizer too.
	ours bool
	// chunked: the pre-tokenizer starts by splitting on white space.
	chunked bool
	// libJSON is the file as the library gets it: without normaliser (Go runs
	// it), added tokens (only special ones are allowed, and customer text must
	// not produce them), post-processor, padding, truncation and decoder
	// (Parley uses none of them).
	libJSON []byte
}

// supportedPreTokenizers are the library pre-tokenizers that only split text,
// never rewrite it, so each word's text is a slice of the normalised text.
var supportedPreTokenizers = map[string]bool{
	"BertPreTokenizer": true, "Whitespace": true, "WhitespaceSplit": true,
	"Punctuation": true, "Digits": true, "Split": true, "UnicodeScripts": true,
	"Delimiter": true, "Sequence": true,
}

// inspect checks the parts of a tokenizer.json the library would read with
// unchecked type assertions, so that malformed input gets an error instead of
// a panic, and prepares what Load needs.
func inspect(data []byte) (fileInfo, error) {
	var info fileInfo
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return info, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if top == nil {
		return info, fmt.Errorf("%w: top level is null", ErrFormat)
	}
	vocab, err := inspectModel(top["model"], &info)
	if err != nil {
		return info, err
	}
	if err := inspectAdded(top["added_tokens"], vocab, &info); err != nil {
		return info, err
	}
	if info.plan, err = parsePlan(nullToEmpty(top["normalizer"])); err != nil {
		return info, err
	}
	if err := checkPreTokenizer(nullToEmpty(top["pre_tokenizer"]), 0); err != nil {
		return info, err
	}
	var pre map[string]any
	_ = json.Unmarshal(nullToEmpty(top["pre_tokenizer"]), &pre) // checked above
	info.chunked = splitsOnSpace(pre)
	info.ours = sameJSON(top["normalizer"], normalizerSpec) && sameJSON(top["pre_tokenizer"], preTokenizerSpec)

	lib := map[string]json.RawMessage{"version": json.RawMessage(`"1.0"`), "model": top["model"]}
	if pre := nullToEmpty(top["pre_tokenizer"]); len(pre) > 0 {
		lib["pre_tokenizer"] = pre
	}
	if info.libJSON, err = json.Marshal(lib); err != nil {
		return info, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return info, nil
}

// inspectModel checks the WordPiece model and returns its vocabulary.
func inspectModel(raw json.RawMessage, info *fileInfo) (map[string]any, error) {
	var model map[string]any
	if err := json.Unmarshal(nullToEmpty(raw), &model); err != nil || model == nil {
		return nil, fmt.Errorf("%w: no \"model\" object", ErrFormat)
	}
	typ, ok := model["type"].(string)
	if !ok {
		return nil, fmt.Errorf("%w: model has no \"type\" string", ErrFormat)
	}
	if typ != "WordPiece" {
		return nil, fmt.Errorf("%w: model type %q (only WordPiece is supported)", ErrUnsupported, typ)
	}
	info.unkToken = UnkToken
	if v, present := model["unk_token"]; present && v != nil {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%w: model.unk_token is not a string", ErrFormat)
		}
		info.unkToken = s
	}
	if v, present := model["continuing_subword_prefix"]; present && v != nil {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%w: model.continuing_subword_prefix is not a string", ErrFormat)
		}
		if s != continuingPrefix {
			return nil, fmt.Errorf("%w: continuing_subword_prefix %q (the tokenizer library always uses %q)", ErrUnsupported, s, continuingPrefix)
		}
	}
	info.maxWordChars = maxWordRunes // the library's default
	if v, present := model["max_input_chars_per_word"]; present && v != nil {
		f, ok := v.(float64)
		if !ok || f < 1 || f > math.MaxInt32 || f != math.Trunc(f) {
			return nil, fmt.Errorf("%w: model.max_input_chars_per_word is not a positive integer", ErrFormat)
		}
		info.maxWordChars = int(f)
	}
	vocab, ok := model["vocab"].(map[string]any)
	if !ok || len(vocab) == 0 {
		return nil, fmt.Errorf("%w: model.vocab is not a non-empty object", ErrFormat)
	}
	if len(vocab) > maxVocab {
		return nil, fmt.Errorf("%w: vocabulary of %d tokens (limit %d)", ErrUnsupported, len(vocab), maxVocab)
	}
	for tok, v := range vocab {
		id, ok := idValue(v)
		if !ok {
			return nil, fmt.Errorf("%w: vocabulary id of %q is not an integer in [0, %d)", ErrFormat, tok, maxVocab)
		}
		info.maxID = max(info.maxID, id)
	}
	if _, ok := vocab[info.unkToken]; !ok {
		return nil, fmt.Errorf("%w: unknown token %q is not in the vocabulary", ErrFormat, info.unkToken)
	}
	return vocab, nil
}

// inspectAdded accepts special added tokens only: they never match customer
// text in Parley, so they matter only for ID and VocabSize.
func inspectAdded(raw json.RawMessage, vocab map[string]any, info *fileInfo) error {
	var added []struct {
		ID      any    `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	}
	if err := json.Unmarshal(nullToEmpty(raw), &added); len(nullToEmpty(raw)) > 0 && err != nil {
		return fmt.Errorf("%w: added_tokens: %v", ErrFormat, err)
	}
	info.added = make(map[string]int, len(added))
	for _, a := range added {
		id, ok := idValue(a.ID)
		if !ok {
			return fmt.Errorf("%w: added token %q has no valid id", ErrFormat, a.Content)
		}
		if !a.Special {
			return fmt.Errorf("%w: added token %q is not special (only special added tokens are supported)", ErrUnsupported, a.Content)
		}
		if vid, in := vocab[a.Content]; in {
			if v, _ := idValue(vid); v != id {
				return fmt.Errorf("%w: added token %q has id %d but %d in the vocabulary", ErrFormat, a.Content, id, v)
			}
		}
		info.added[a.Content] = id
		info.maxID = max(info.maxID, id)
	}
	return nil
}

// checkPreTokenizer accepts the pre-tokenizers that only split text.
func checkPreTokenizer(raw json.RawMessage, depth int) error {
	if len(raw) == 0 {
		return nil
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil || cfg == nil {
		return fmt.Errorf("%w: pre_tokenizer is not an object", ErrFormat)
	}
	typ, _ := cfg["type"].(string)
	if !supportedPreTokenizers[typ] || depth > 8 {
		return fmt.Errorf("%w: pre_tokenizer %q (supported: BertPreTokenizer, Whitespace, WhitespaceSplit, Punctuation, Digits, Split, UnicodeScripts, Delimiter, Sequence)", ErrUnsupported, typ)
	}
	if typ != "Sequence" {
		return nil
	}
	list, ok := cfg["pretokenizers"].([]any)
	if !ok {
		return fmt.Errorf("%w: Sequence pre_tokenizer without a \"pretokenizers\" list", ErrFormat)
	}
	for _, item := range list {
		sub, err := json.Marshal(item)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrFormat, err)
		}
		if err := checkPreTokenizer(sub, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// idValue converts a JSON number to a token id in [0, maxVocab).
func idValue(v any) (int, bool) {
	f, ok := v.(float64)
	if !ok || f < 0 || f >= maxVocab || f != math.Trunc(f) {
		return 0, false
	}
	return int(f), true
}

// nullToEmpty maps a JSON null to an absent value.
func nullToEmpty(raw json.RawMessage) json.RawMessage {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	return raw
}

// sameJSON reports whether raw holds the same JSON value as want, whatever
// the key order and spacing.
func sameJSON(raw json.RawMessage, want string) bool {
	var a, b any
	if json.Unmarshal(raw, &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	ca, err1 := json.Marshal(a)
	cb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ca, cb)
}
