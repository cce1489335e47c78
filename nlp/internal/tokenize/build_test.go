package tokenize

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBuildIsDeterministic(t *testing.T) {
	a, err := Build(teamCorpus, &Options{VocabSize: 300})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		b, err := Build(slices.Clone(teamCorpus), &Options{VocabSize: 300})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("build %d differs from the first one", i+2)
		}
	}
}

func TestBuildVocabulary(t *testing.T) {
	data, err := Build(teamCorpus, &Options{VocabSize: 400})
	if err != nil {
		t.Fatal(err)
	}
	vocab := refVocab(t, data)
	if len(vocab) != 400 {
		t.Errorf("vocabulary has %d tokens, want 400", len(vocab))
	}
	byID := make([]string, len(vocab))
	for tok, id := range vocab {
		if id < 0 || id >= len(vocab) || byID[id] != "" {
			t.Fatalf("id %d of %q is out of range or taken twice: ids are not contiguous", id, tok)
		}
		byID[id] = tok
	}
	for i, want := range specialTokens {
		if byID[i] != want {
			t.Errorf("id %d is %q, want %q", i, byID[i], want)
		}
	}
	for _, tok := range []string{"e", "##e", "!", "👍", "order", "refund"} {
		if _, ok := vocab[tok]; !ok {
			t.Errorf("%q missing from the vocabulary", tok)
		}
	}
	for _, tok := range []string{"##!", "##👍"} { // isolated characters never continue a word
		if _, ok := vocab[tok]; ok {
			t.Errorf("%q should not be in the vocabulary", tok)
		}
	}
	var added []addedTokenJSON
	var f struct {
		AddedTokens *[]addedTokenJSON `json:"added_tokens"`
	}
	f.AddedTokens = &added
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(added) != len(specialTokens) {
		t.Fatalf("added_tokens has %d entries, want %d", len(added), len(specialTokens))
	}
	for i, a := range added {
		if a.ID != i || a.Content != specialTokens[i] || !a.Special {
			t.Errorf("added_tokens[%d] = %+v", i, a)
		}
	}
}

func TestBuildOptions(t *testing.T) {
	small := []string{"aaa aaa aaa", "abab", "b"}
	tests := []struct {
		name      string
		texts     []string
		opts      *Options
		wantSize  int    // 0: not checked
		wantToken string // must be present
		absent    string // must be absent
	}{
		{name: "small corpus stops when nothing is left to merge", texts: small, opts: nil, wantSize: 14, wantToken: "abab"},
		{name: "vocabulary size caps merges", texts: small, opts: &Options{VocabSize: 9}, wantSize: 9, absent: "aaa"},
		{name: "vocabulary size caps the alphabet", texts: small, opts: &Options{VocabSize: 6}, wantSize: 6, wantToken: "a", absent: "b"},
		{name: "min frequency stops rare merges", texts: small, opts: &Options{MinFrequency: 3}, wantSize: 11, wantToken: "aaa", absent: "ab"},
		{name: "long words are not learned", texts: []string{strings.Repeat("x", 101), "y"}, opts: nil, wantSize: 7, absent: "x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := Build(tc.texts, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			vocab := refVocab(t, data)
			if tc.wantSize > 0 && len(vocab) != tc.wantSize {
				t.Errorf("vocabulary size %d, want %d: %v", len(vocab), tc.wantSize, vocab)
			}
			if _, ok := vocab[tc.wantToken]; tc.wantToken != "" && !ok {
				t.Errorf("%q missing: %v", tc.wantToken, vocab)
			}
			if _, ok := vocab[tc.absent]; tc.absent != "" && ok {
				t.Errorf("%q present: %v", tc.absent, vocab)
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name  string
		texts []string
		opts  *Options
		want  string
	}{
		{name: "no texts", texts: nil, want: "no words"},
		{name: "only blanks and controls", texts: []string{"", "  \t\n", "\x00\x01"}, want: "no words"},
		{name: "negative vocabulary size", texts: teamCorpus, opts: &Options{VocabSize: -1}, want: "negative"},
		{name: "negative min frequency", texts: teamCorpus, opts: &Options{MinFrequency: -2}, want: "negative"},
		{name: "absurd vocabulary size", texts: teamCorpus, opts: &Options{VocabSize: 1 << 40}, want: "VocabSize over"},
		{name: "absurd token limit", texts: teamCorpus, opts: &Options{MaxTokens: 1 << 40}, want: "MaxTokens over"},
		{name: "vocabulary too small for special tokens", texts: teamCorpus, opts: &Options{VocabSize: 5}, want: "no room"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(tc.texts, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "build tokenizer: ") {
				t.Fatalf("Build error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestBuildCLINC150 builds the default-size vocabulary on CLINC150's 15,000
// training sentences, checks the round trip on them and logs the build time.
func TestBuildCLINC150(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode")
	}
	texts := clincTrain(t)
	start := time.Now()
	path, data := buildFile(t, texts, nil)
	t.Logf("Build on %d CLINC150 sentences: %v, %d bytes of tokenizer.json", len(texts), time.Since(start), len(data))
	vocab := refVocab(t, data)
	tk := mustLoad(t, path, nil)
	unk := 0
	for _, text := range texts {
		got := tk.Encode(text).IDs
		if want := refEncode(vocab, text); !slices.Equal(got, want) {
			t.Fatalf("Encode(%q) = %v, reference encoder gives %v", text, got, want)
		}
		unk += strings.Count(strings.Join(tk.Encode(text).Tokens, " "), UnkToken)
	}
	if unk != 0 {
		t.Errorf("%d [UNK] tokens on the training texts themselves", unk)
	}
	t.Logf("vocabulary %d tokens", len(vocab))
}

func BenchmarkBuildCLINC150(b *testing.B) {
	texts := clincTrain(b)
	for b.Loop() {
		if _, err := Build(texts, nil); err != nil {
			b.Fatal(err)
		}
	}
}
