package tokenize

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/sugarme/tokenizer/pretrained"
)

// extraTexts are messages not in teamCorpus: unseen words, scripts and
// characters.
var extraTexts = []string{
	"I'd like a refund for order #77120, the lamp arrived broken 😞",
	"Wie lange dauert die Rückerstattung?",
	"Заказ не пришёл, что делать?",
	"我的订单在哪里？",
	"أين طلبي؟ لم يصل بعد",
	"הזמנה שלי לא הגיעה",
	"주문을 취소하고 싶어요",
	"ＡＢＣ ﬁnal ½ price",
	"supercalifragilisticexpialidocious" + strings.Repeat("x", 80),
	"e\u0301cole İstanbul ǅemal",
	"\u200fmixed \u202edirection\u202c text",
}

func TestRoundTripMatchesReferenceEncoder(t *testing.T) {
	path, data := buildFile(t, teamCorpus, &Options{VocabSize: 600})
	tk := mustLoad(t, path, &Options{MaxTokens: 1000})
	vocab := refVocab(t, data)
	if got, want := tk.VocabSize(), len(vocab); got != want {
		t.Errorf("VocabSize() = %d, want %d", got, want)
	}
	for _, text := range slices.Concat(teamCorpus, extraTexts) {
		enc := tk.Encode(text)
		if want := refEncode(vocab, text); !slices.Equal(enc.IDs, want) {
			t.Errorf("Encode(%q)\n ids  %v\n want %v (reference encoder)", text, enc.IDs, want)
		}
		for i, id := range enc.IDs {
			if vocab[enc.Tokens[i]] != id {
				t.Errorf("Encode(%q): token %q has id %d, vocabulary says %d", text, enc.Tokens[i], id, vocab[enc.Tokens[i]])
			}
		}
	}
}

// TestGoPathMatchesLibrary checks that, for a file Build wrote, the Go
// pre-tokenizer gives what the library's pre-tokenizer gives (same tokens, same
// words and offsets, the latter through the Go version of the file's
// normaliser), and the same ids as the library's whole EncodeSingle pipeline
// run on the normalised text.
func TestGoPathMatchesLibrary(t *testing.T) {
	texts := slices.Concat(teamCorpus, extraTexts)
	if ds := optionalCLINC(); len(ds) > 0 {
		for i := 0; i < len(ds); i += 20 {
			texts = append(texts, ds[i])
		}
	}
	path, _ := buildFile(t, teamCorpus, &Options{VocabSize: 600})
	tk := mustLoad(t, path, &Options{MaxTokens: 1000})
	if !tk.ours {
		t.Fatal("a file Build wrote does not take the Go path")
	}
	viaLib := *tk
	viaLib.ours = false
	viaLib.maxChunk = math.MaxInt // no cut, to compare with the Go path
	full, err := pretrained.FromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	full.WithNormalizer(nil)
	for _, text := range texts {
		clean := Clean(text)
		got := tk.encodeGo(clean)
		want, err := viaLib.encodeLibrary(clean)
		if err != nil {
			t.Fatalf("encodeLibrary(%q): %v", text, err)
		}
		if !slices.Equal(got.IDs, want.IDs) || !slices.Equal(got.Tokens, want.Tokens) || !slices.Equal(got.Words, want.Words) {
			t.Errorf("%q:\n Go path      %v %v\n library path %v %v", text, got.Tokens, got.Words, want.Tokens, want.Words)
		}
		res, err := full.EncodeSingle(normalizeText(text), false)
		if err != nil {
			t.Fatalf("EncodeSingle(%q): %v", text, err)
		}
		if !slices.Equal(got.IDs, res.Ids) {
			t.Errorf("%q: Go path ids %v, library EncodeSingle %v", text, got.IDs, res.Ids)
		}
	}
}

func TestEncodeWords(t *testing.T) {
	path, _ := buildFile(t, slices.Concat(teamCorpus, []string{"creme brulee abc final"}), &Options{VocabSize: 600})
	tk := mustLoad(t, path, nil)
	tests := []struct {
		name string
		text string
		want []Word
	}{
		{"accents", "Crème brûlée", []Word{{"creme", 0, 5}, {"brulee", 6, 12}}},
		{"full width", "ＡＢＣ", []Word{{"abc", 0, 3}}},
		{"ligature", "ﬁnal", []Word{{"final", 0, 4}}},
		{"decomposed accent", "e\u0301cole", []Word{{"ecole", 0, 6}}},
		{"dotted capital I", "İstanbul", []Word{{"istanbul", 0, 8}}},
		{"punctuation and emoji stand alone", "thanks👍!!", []Word{{"thanks", 0, 6}, {"👍", 6, 7}, {"!", 7, 8}, {"!", 8, 9}}},
		{"apostrophe", "don't", []Word{{"don", 0, 3}, {"'", 3, 4}, {"t", 4, 5}}},
		{"han characters", "订单12", []Word{{"订", 0, 1}, {"单", 1, 2}, {"12", 2, 4}}},
		{"arabic loses hamza like other accents", "أين طلبي؟", []Word{{"اين", 0, 3}, {"طلبي", 4, 8}, {"؟", 8, 9}}},
		{"hebrew", "שלום", []Word{{"שלום", 0, 4}}},
		{"hangul stays composed", "안녕", []Word{{"안녕", 0, 2}}},
		{"fraction expands into three words", "½", []Word{{"1", 0, 1}, {"⁄", 0, 1}, {"2", 0, 1}}},
		{"ideographic space and RTL mark", "a\u3000\u200fb", []Word{{"a", 0, 1}, {"b", 3, 4}}},
		{"invalid UTF-8 counts one rune per byte", "\xff\xfeok", []Word{{"\ufffd", 0, 1}, {"\ufffd", 1, 2}, {"ok", 2, 4}}},
		{"controls are spaces", "hi\x00there\tyou", []Word{{"hi", 0, 2}, {"there", 3, 8}, {"you", 9, 12}}},
		{"special tokens are plain text", "[CLS] [unk]", []Word{{"[", 0, 1}, {"cls", 1, 4}, {"]", 4, 5}, {"[", 6, 7}, {"unk", 7, 10}, {"]", 10, 11}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := tk.Encode(tc.text)
			if !slices.Equal(enc.Words, tc.want) {
				t.Errorf("Encode(%q).Words = %v, want %v", tc.text, enc.Words, tc.want)
			}
			checkEncoding(t, tk, tc.text, enc)
		})
	}
}

// checkEncoding asserts what holds for every Encoding.
func checkEncoding(t testing.TB, tk *Tokenizer, text string, enc Encoding) {
	t.Helper()
	if len(enc.IDs) != len(enc.Tokens) || len(enc.IDs) > tk.maxTokens {
		t.Fatalf("%q: %d ids, %d tokens, limit %d", text, len(enc.IDs), len(enc.Tokens), tk.maxTokens)
	}
	if len(enc.Words) > len(enc.IDs) || (len(enc.IDs) > 0) != (len(enc.Words) > 0) {
		t.Fatalf("%q: %d words for %d tokens", text, len(enc.Words), len(enc.IDs))
	}
	for i, id := range enc.IDs {
		if id < 0 || id >= tk.VocabSize() {
			t.Fatalf("%q: id %d out of [0, %d)", text, id, tk.VocabSize())
		}
		if got, ok := tk.ID(enc.Tokens[i]); !ok || got != id {
			t.Fatalf("%q: token %q has id %d, ID says %d %v", text, enc.Tokens[i], id, got, ok)
		}
	}
	n := utf8.RuneCountInString(text)
	prev := 0
	for _, w := range enc.Words {
		if w.Text == "" || !utf8.ValidString(w.Text) || w.Start < prev || w.Start >= w.End || w.End > n {
			t.Fatalf("%q (%d runes): bad word %+v after start %d", text, n, w, prev)
		}
		prev = w.Start
	}
}

func TestEncodeBadInput(t *testing.T) {
	path, _ := buildFile(t, teamCorpus, &Options{VocabSize: 600})
	tk := mustLoad(t, path, nil)
	long := strings.Repeat("please refund my order ", 50_000) // 1.1 MB
	tests := []struct {
		name    string
		text    string
		wantIDs int      // -1: any
		words   []string // nil: not checked
	}{
		{"empty", "", 0, nil},
		{"blank", " \t\r\n\u00a0\u3000", 0, nil},
		{"only controls", "\x00\x01\x1b[0m\x7f", 3, []string{"[", "0m"}},
		{"invalid UTF-8 is one unknown word per byte", "\xff\xfe\xfd refund", 4, []string{"\ufffd", "\ufffd", "\ufffd", "refund"}},
		{"lone continuation bytes", "\x80\x80order\xc3", 4, []string{"\ufffd", "\ufffd", "order", "\ufffd"}},
		{"surrogate halves encoded", "\xed\xa0\x80refund", 4, []string{"\ufffd", "\ufffd", "\ufffd", "refund"}},
		{"emoji only", "😀😀👍🏽", 4, []string{"😀", "😀", "👍", "🏽"}},
		{"zero-width joiner sequence", "👩\u200d💻", 2, []string{"👩", "💻"}},
		{"1 MB of words", long, 128, nil},
		{"1 MB without spaces", strings.Repeat("ab", 500_000), 1, nil},
		{"1 MB of punctuation", strings.Repeat("!?", 500_000), 128, nil},
		{"100k combining marks", "a" + strings.Repeat("\u0301", 100_000), 1, []string{"a"}},
		{"word over 100 characters", strings.Repeat("ab", 60), 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := tk.Encode(tc.text)
			checkEncoding(t, tk, tc.text, enc)
			if tc.wantIDs >= 0 && len(enc.IDs) != tc.wantIDs {
				t.Errorf("%d ids, want %d: %v", len(enc.IDs), tc.wantIDs, enc.Tokens)
			}
			var texts []string
			for _, w := range enc.Words {
				texts = append(texts, w.Text)
			}
			if tc.words != nil && !slices.Equal(texts, tc.words) {
				t.Errorf("words %q, want %q", texts, tc.words)
			}
		})
	}
}

func TestEncodeMaxTokens(t *testing.T) {
	path, _ := buildFile(t, teamCorpus, &Options{VocabSize: 600})
	tk := mustLoad(t, path, &Options{MaxTokens: 4})
	enc := tk.Encode("Hi, I want to cancel my order please")
	if want := []string{"hi", ",", "i", "want"}; !slices.Equal(enc.Tokens, want) {
		t.Errorf("tokens %v, want %v", enc.Tokens, want)
	}
	if len(enc.Words) != 4 {
		t.Errorf("words %v, want 4", enc.Words)
	}
	// A word cut by the limit keeps its whole text.
	enc = tk.Encode("a supercalifragilistic word")
	if len(enc.IDs) != 4 || len(enc.Words) != 2 || enc.Words[1].Text != "supercalifragilistic" {
		t.Errorf("got %v %v", enc.Tokens, enc.Words)
	}
}

func TestUserTokenizer(t *testing.T) {
	tk := mustLoad(t, filepath.Join("testdata", "bert-style.tokenizer.json"), nil)
	if tk.ours {
		t.Fatal("a BERT-style file takes the Go pre-tokenizer path")
	}
	if got := tk.VocabSize(); got != 100202 {
		t.Errorf("VocabSize() = %d, want 100202 (largest id + 1)", got)
	}
	if id, ok := tk.ID("[CLS]"); !ok || id != 101 {
		t.Errorf("ID([CLS]) = %d %v, want 101", id, ok)
	}
	tests := []struct {
		text   string
		tokens []string
		words  []Word
	}{
		{"Hello, I want a refund!", []string{"hello", ",", "i", "want", "a", "refund", "!"},
			[]Word{{"hello", 0, 5}, {",", 5, 6}, {"i", 7, 8}, {"want", 9, 13}, {"a", 14, 15}, {"refund", 16, 22}, {"!", 22, 23}}},
		{"Where is my orders?", []string{"where", "is", "my", "order", "##s", "?"},
			[]Word{{"where", 0, 5}, {"is", 6, 8}, {"my", 9, 11}, {"orders", 12, 18}, {"?", 18, 19}}},
		{"Unable to pay", []string{"un", "##able", "to", "pay"}, []Word{{"unable", 0, 6}, {"to", 7, 9}, {"pay", 10, 13}}},
		{"Crème Brûlée", []string{"creme", UnkToken}, []Word{{"creme", 0, 5}, {"brulee", 6, 12}}},
		{"İstanbul café", []string{"istanbul", "cafe"}, []Word{{"istanbul", 0, 8}, {"cafe", 9, 13}}},
		{"订单?", []string{"订", "单", "?"}, []Word{{"订", 0, 1}, {"单", 1, 2}, {"?", 2, 3}}},
		{"", nil, nil},
		// A run of over 256 bytes without white space is cut (see encodeLibrary).
		{strings.Repeat("a", 300), []string{UnkToken, UnkToken}, []Word{{strings.Repeat("a", 256), 0, 256}, {strings.Repeat("a", 44), 256, 300}}},
	}
	for _, tc := range tests {
		enc := tk.Encode(tc.text)
		if !slices.Equal(enc.Tokens, tc.tokens) || !slices.Equal(enc.Words, tc.words) {
			t.Errorf("Encode(%q) = %v %v\n want %v %v", tc.text, enc.Tokens, enc.Words, tc.tokens, tc.words)
		}
		checkEncoding(t, tk, tc.text, enc)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	model := func(extra string) string {
		return `{"model":{"type":"WordPiece","unk_token":"[UNK]","vocab":{"[UNK]":0,"a":1}` + extra + `}`
	}
	tests := []struct {
		name    string
		path    string
		opts    *Options
		wantErr error
		want    string
	}{
		{"missing file", filepath.Join(dir, "nope.json"), nil, fs.ErrNotExist, "nope.json"},
		{"not JSON", write("text.json", "vocab a b c"), nil, ErrFormat, "text.json"},
		{"JSON array", write("array.json", "[1,2]"), nil, ErrFormat, "array.json"},
		{"JSON null", write("null.json", "null"), nil, ErrFormat, "top level"},
		{"no model", write("nomodel.json", `{"version":"1.0"}`), nil, ErrFormat, "model"},
		{"BPE model", write("bpe.json", `{"model":{"type":"BPE","vocab":{},"merges":[]}}`), nil, ErrUnsupported, `"BPE"`},
		{"model type not a string", write("type.json", `{"model":{"type":7,"vocab":{"a":0}}}`), nil, ErrFormat, "type"},
		{"vocab not an object", write("vocab.json", `{"model":{"type":"WordPiece","vocab":["a"]}}`), nil, ErrFormat, "vocab"},
		{"vocab id not a number", write("id.json", `{"model":{"type":"WordPiece","vocab":{"[UNK]":"0"}}}`), nil, ErrFormat, "[UNK]"},
		{"negative id", write("neg.json", `{"model":{"type":"WordPiece","vocab":{"[UNK]":-1}}}`), nil, ErrFormat, "[UNK]"},
		{"unknown token missing", write("unk.json", `{"model":{"type":"WordPiece","vocab":{"a":0}}}`), nil, ErrFormat, "[UNK]"},
		{"other subword prefix", write("prefix.json", model(`,"continuing_subword_prefix":"@@"`)+`}`), nil, ErrUnsupported, "@@"},
		{"bad max chars", write("maxchars.json", model(`,"max_input_chars_per_word":"x"`)+`}`), nil, ErrFormat, "max_input_chars_per_word"},
		{"Precompiled normalizer", write("precompiled.json", model("")+`,"normalizer":{"type":"Precompiled","precompiled_charsmap":"AA=="}}`), nil, ErrUnsupported, "Precompiled"},
		{"Nmt normalizer", write("nmt.json", model("")+`,"normalizer":{"type":"Nmt"}}`), nil, ErrUnsupported, "Nmt"},
		{"normalizer not an object", write("normstr.json", model("")+`,"normalizer":"NFC"}`), nil, ErrFormat, "normalizer"},
		{"ByteLevel pre-tokenizer", write("bytelevel.json", model("")+`,"pre_tokenizer":{"type":"ByteLevel"}}`), nil, ErrUnsupported, "ByteLevel"},
		{"Split with a bad regexp", write("regexp.json", model("")+`,"pre_tokenizer":{"type":"Split","pattern":{"Regex":"("},"behavior":"Isolated","invert":false}}`), nil, ErrUnsupported, "cannot build"},
		{"Split without fields", write("split.json", model("")+`,"pre_tokenizer":{"type":"Split"}}`), nil, ErrUnsupported, "cannot build"},
		{"non-special added token", write("added.json", model("")+`,"added_tokens":[{"id":2,"content":"<x>","special":false}]}`), nil, ErrUnsupported, "<x>"},
		{"added token id clash", write("clash.json", model("")+`,"added_tokens":[{"id":5,"content":"a","special":true}]}`), nil, ErrFormat, `"a"`},
		{"negative MaxTokens", write("ok.json", model("")+`}`), &Options{MaxTokens: -1}, nil, "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk, err := Load(tc.path, tc.opts)
			if err == nil {
				t.Fatalf("Load succeeded: %+v", tk)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v is not %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "load tokenizer "+tc.path+": ") {
				t.Errorf("error %q should start with the operation and path and mention %q", err, tc.want)
			}
		})
	}
}

func TestFromJSON(t *testing.T) {
	path, data := buildFile(t, teamCorpus, &Options{VocabSize: 300})
	fromFile := mustLoad(t, path, nil)
	fromBytes, err := FromJSON(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range extraTexts {
		a, b := fromFile.Encode(text), fromBytes.Encode(text)
		if !slices.Equal(a.IDs, b.IDs) || !slices.Equal(a.Words, b.Words) {
			t.Errorf("%q: FromJSON gives %v, Load %v", text, b.Tokens, a.Tokens)
		}
	}
	if _, err := FromJSON([]byte("{"), nil); !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "load tokenizer: ") {
		t.Errorf("FromJSON on broken JSON: %v", err)
	}
}

func TestLoadMinimalFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "min.json")
	if err := os.WriteFile(p, []byte(`{"model":{"type":"WordPiece","vocab":{"[UNK]":0,"a":1,"##b":2}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tk := mustLoad(t, p, nil)
	// No normaliser and no pre-tokenizer: the whole cleaned text is one word.
	enc := tk.Encode("ab")
	if !slices.Equal(enc.IDs, []int{1, 2}) || !slices.Equal(enc.Words, []Word{{"ab", 0, 2}}) {
		t.Errorf("Encode(ab) = %+v", enc)
	}
	if enc := tk.Encode("a b"); !slices.Equal(enc.Tokens, []string{UnkToken}) {
		t.Errorf("Encode(a b) = %+v, want one [UNK] (no pre-tokenizer)", enc)
	}
}

// TestConcurrentEncode runs many goroutines on one Tokenizer of each kind;
// run it with -race.
func TestConcurrentEncode(t *testing.T) {
	path, _ := buildFile(t, teamCorpus, &Options{VocabSize: 600})
	tokenizers := map[string]*Tokenizer{
		"built":      mustLoad(t, path, nil),
		"bert-style": mustLoad(t, filepath.Join("testdata", "bert-style.tokenizer.json"), nil),
	}
	texts := slices.Concat(teamCorpus, extraTexts)
	for name, tk := range tokenizers {
		t.Run(name, func(t *testing.T) {
			want := make([]Encoding, len(texts))
			for i, text := range texts {
				want[i] = tk.Encode(text)
			}
			var wg sync.WaitGroup
			errs := make(chan string, 8)
			for g := range 8 {
				wg.Go(func() {
					for round := range 5 {
						for i := range texts {
							k := (i + g + round) % len(texts)
							got := tk.Encode(texts[k])
							if !slices.Equal(got.IDs, want[k].IDs) || !slices.Equal(got.Words, want[k].Words) {
								errs <- texts[k]
								return
							}
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for text := range errs {
				t.Errorf("concurrent Encode(%q) differs from the sequential one", text)
			}
		})
	}
}
