package tokenize

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sugarme/tokenizer/pretrained"
)

// benchMessage is a typical ten-word customer message.
const benchMessage = "Hi, I want to cancel my order and get a refund"

// BenchmarkEncode measures Encode on a ten-word message with a vocabulary
// built from the team corpus (or CLINC150 when the datasets are there).
func BenchmarkEncode(b *testing.B) {
	tk := benchTokenizer(b)
	b.ReportAllocs()
	for b.Loop() {
		tk.Encode(benchMessage)
	}
}

func BenchmarkEncodeParallel(b *testing.B) {
	tk := benchTokenizer(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tk.Encode(benchMessage)
		}
	})
}

// BenchmarkEncodeUserFile measures a user-supplied BERT-style file: Go
// normaliser, then the library's pre-tokenizer and model.
func BenchmarkEncodeUserFile(b *testing.B) {
	tk := mustLoad(b, filepath.Join("testdata", "bert-style.tokenizer.json"), nil)
	b.ReportAllocs()
	for b.Loop() {
		tk.Encode(benchMessage)
	}
}

// BenchmarkLibraryEncodeSingle is the library's whole pipeline on the same
// file as BenchmarkEncode, without its (broken) normaliser, for comparison.
func BenchmarkLibraryEncodeSingle(b *testing.B) {
	path, _ := buildFile(b, benchTexts(), nil)
	lib, err := pretrained.FromFile(path)
	if err != nil {
		b.Fatal(err)
	}
	lib.WithNormalizer(nil)
	text := normalizeText(benchMessage)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := lib.EncodeSingle(text, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeWorstCase measures hostile 2 KB messages (the most Encode
// reads with the default MaxTokens) on both paths.
func BenchmarkEncodeWorstCase(b *testing.B) {
	tokenizers := []struct {
		name string
		tk   *Tokenizer
	}{
		{"built", benchTokenizer(b)},
		{"bert-style", mustLoad(b, filepath.Join("testdata", "bert-style.tokenizer.json"), nil)},
	}
	inputs := []struct{ name, text string }{
		{"words", strings.Repeat("a ", 1024)},
		{"punctuation", strings.Repeat("!", 2048)},
		{"accents", strings.Repeat("é", 1024)},
		{"han", strings.Repeat("订", 683)},
		{"fractions", strings.Repeat("½", 1024)},
	}
	for _, tk := range tokenizers {
		for _, in := range inputs {
			b.Run(tk.name+"/"+in.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					tk.tk.Encode(in.text)
				}
			})
		}
	}
}

func benchTokenizer(b *testing.B) *Tokenizer {
	path, _ := buildFile(b, benchTexts(), nil)
	return mustLoad(b, path, nil)
}

func benchTexts() []string {
	if ds := optionalCLINC(); len(ds) > 0 {
		return ds
	}
	return teamCorpus
}
