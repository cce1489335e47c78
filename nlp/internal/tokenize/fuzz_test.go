package tokenize

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fuzzSeeds are team-written messages plus hostile input.
var fuzzSeeds = slices.Concat(teamCorpus, extraTexts, []string{
	"", " ", "\x00", "\xff", "\xed\xa0\x80", "a\u0301\u0301\u0301", "½ⅷ①", "ﷺ", "ﾟ", "ǅ", "İ",
	"[CLS] [SEP] [UNK] ##ing", "##", "#", "...!!!???", "👩\u200d👩\u200d👧\u200d👦", "🇫🇷", "\u202eevil",
	"order#12345/2024-01-01 @john_doe http://example.com/a?b=c", strings.Repeat("é", 300),
})

// FuzzEncode checks, for any input, that both encoding paths never panic,
// keep their invariants, and agree with each other on a file Build wrote.
func FuzzEncode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	if ds := optionalCLINC(); len(ds) > 0 { // real customer-style lines, never stored
		for i := 0; i < len(ds); i += 50 {
			f.Add(ds[i])
		}
	}
	data, err := Build(teamCorpus, &Options{VocabSize: 600})
	if err != nil {
		f.Fatal(err)
	}
	tk, err := fromJSON(data, Options{MaxTokens: 64})
	if err != nil {
		f.Fatal(err)
	}
	viaLib := *tk
	viaLib.ours = false
	viaLib.maxChunk = math.MaxInt // no cut, to compare with the Go path
	user := mustLoad(f, filepath.Join("testdata", "bert-style.tokenizer.json"), &Options{MaxTokens: 64})
	plan, err := parsePlan(json.RawMessage(normalizerSpec))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		clean := Clean(truncateInput(text, tk.maxBytes))
		got := tk.encodeGo(clean) // no recover here: a panic is a bug
		checkEncoding(t, tk, text, got)
		want, err := viaLib.encodeLibrary(clean)
		if err != nil {
			t.Fatalf("library path on %q: %v", clean, err)
		}
		if !slices.Equal(got.IDs, want.IDs) || !slices.Equal(got.Words, want.Words) {
			t.Fatalf("%q:\n Go path      %v %v\n library path %v %v", clean, got.Tokens, got.Words, want.Tokens, want.Words)
		}
		checkSpecPlan(t, plan, clean)
		u, err := user.encodeLibrary(clean)
		if err != nil {
			t.Fatalf("user tokenizer on %q: %v", clean, err)
		}
		checkEncoding(t, user, text, u)
	})
}

// FuzzLoad feeds arbitrary bytes to the tokenizer.json loader: it must return
// an error or a Tokenizer that encodes without panicking.
func FuzzLoad(f *testing.F) {
	built, err := Build(teamCorpus[:5], &Options{VocabSize: 60})
	if err != nil {
		f.Fatal(err)
	}
	bert, err := os.ReadFile(filepath.Join("testdata", "bert-style.tokenizer.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(built)
	f.Add(bert)
	for _, s := range []string{
		`{"model":{"type":"WordPiece","vocab":{"[UNK]":0,"a":1}}}`,
		`{"model":{"type":"WordPiece","vocab":{"[UNK]":0}},"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},{"type":"Punctuation","behavior":"Removed"}]}}`,
		`{"model":{"type":"WordPiece","vocab":{"[UNK]":0}},"pre_tokenizer":{"type":"Delimiter","delimiter":""}}`,
		`{"model":{"type":"WordPiece","vocab":{"[UNK]":0}},"normalizer":{"type":"Sequence","normalizers":[{"type":"NFKD"},{"type":"StripAccents"},{"type":"Strip"}]}}`,
		`{"model":{"type":"BPE","vocab":{},"merges":[]}}`,
		`{}`, `[]`, `null`, `{"model":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tk, err := fromJSON(data, Options{MaxTokens: 16})
		if err != nil {
			return
		}
		for _, text := range []string{"Hello, World! Où est ma commande 123?", "", "İ½ﬁ 订单 👍"} {
			clean := Clean(text)
			var enc Encoding
			if tk.ours {
				enc = tk.encodeGo(clean)
			} else if enc, err = tk.encodeLibrary(clean); err != nil {
				continue // a library failure on odd input is caught and reported, not a crash
			}
			checkEncoding(t, tk, text, enc)
		}
	})
}
