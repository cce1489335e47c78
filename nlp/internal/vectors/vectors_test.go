package vectors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// entry is one word and its vector, for building test files.
type entry struct {
	word string
	vec  []float32
}

var sample = []entry{
	{"the", []float32{0.5, -1.25, 3, 0}},
	{"paris", []float32{1e-3, 2.5e7, -0.75, 1}},
	{"café", []float32{-2, 0.125, 7.5, -8}},
	{"日本", []float32{1, 2, 3, 4}},
}

// w2vBinary writes the word2vec binary format: header, then per word the
// word, a space, the little-endian float32 values and (optionally) a newline.
func w2vBinary(header string, entries []entry, newline bool) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	for _, e := range entries {
		b.WriteString(e.word)
		b.WriteByte(' ')
		for _, v := range e.vec {
			_ = binary.Write(&b, binary.LittleEndian, v)
		}
		if newline {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// textLines writes "word v1 ... vD" lines, after header when it is not empty.
func textLines(header string, entries []entry, eol string) []byte {
	var b strings.Builder
	b.WriteString(header)
	for _, e := range entries {
		b.WriteString(e.word)
		for _, v := range e.vec {
			fmt.Fprintf(&b, " %g", v)
		}
		b.WriteString(eol)
	}
	return []byte(b.String())
}

func header(n, d int) string { return fmt.Sprintf("%d %d\n", n, d) }

func TestParseFormats(t *testing.T) {
	dup := append(slices.Clone(sample), entry{"the", []float32{9, 9, 9, 9}})
	tests := []struct {
		name    string
		data    []byte
		wantLen int
	}{
		{"word2vec binary", w2vBinary(header(4, 4), sample, true), 4},
		{"word2vec binary without newlines", w2vBinary(header(4, 4), sample, false), 4},
		{"word2vec binary with trailing blank", append(w2vBinary(header(4, 4), sample, true), "\n\n"...), 4},
		{"word2vec text", textLines(header(4, 4), sample, "\n"), 4},
		{"word2vec text with CRLF", textLines("4 4\r\n", sample, "\r\n"), 4},
		{"GloVe", textLines("", sample, "\n"), 4},
		{"GloVe with CRLF, tabs and blank lines", []byte(strings.ReplaceAll(string(textLines("", sample, "\r\n\n")), " ", "\t")), 4},
		{"GloVe without final newline", bytes.TrimSuffix(textLines("", sample, "\n"), []byte("\n")), 4},
		{"duplicate word keeps the first vector", w2vBinary(header(5, 4), dup, true), 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("test", bytes.NewReader(tc.data))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if s.Dim() != 4 || s.Len() != tc.wantLen {
				t.Fatalf("Dim %d Len %d, want 4 and %d", s.Dim(), s.Len(), tc.wantLen)
			}
			for _, e := range sample {
				got, ok := s.Lookup(e.word)
				if !ok || !slices.Equal(got, e.vec) {
					t.Errorf("Lookup(%q) = %v %v, want %v", e.word, got, ok, e.vec)
				}
			}
			// The same bytes through Load, from a file.
			path := filepath.Join(t.TempDir(), "vectors")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			s2, err := Load(path)
			if err != nil || s2.Len() != s.Len() {
				t.Fatalf("Load: %v", err)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	entries := append(slices.Clone(sample), entry{"Paris", []float32{7, 7, 7, 7}})
	s, err := Parse("test", bytes.NewReader(textLines("", entries, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		word string
		want []float32 // nil: not found
	}{
		{"Paris", []float32{7, 7, 7, 7}}, // exact match first
		{"paris", sample[1].vec},
		{"PARIS", sample[1].vec}, // lower-cased fallback
		{"CAFÉ", sample[2].vec},
		{"The", sample[0].vec},
		{"london", nil},
		{"", nil},
	}
	for _, tc := range tests {
		got, ok := s.Lookup(tc.word)
		if ok != (tc.want != nil) || !slices.Equal(got, tc.want) {
			t.Errorf("Lookup(%q) = %v %v, want %v", tc.word, got, ok, tc.want)
		}
		if ok && cap(got) != len(got) {
			t.Errorf("Lookup(%q) returned a slice that append could write through", tc.word)
		}
	}
}

// TestConcurrentLookup is for -race: a Set is shared read-only.
func TestConcurrentLookup(t *testing.T) {
	s, err := Parse("test", bytes.NewReader(w2vBinary(header(4, 4), sample, true)))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				for _, e := range sample {
					if v, ok := s.Lookup(strings.ToUpper(e.word)); !ok || !slices.Equal(v, e.vec) {
						t.Errorf("Lookup(%q) = %v", e.word, v)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestParseErrors(t *testing.T) {
	good := w2vBinary(header(4, 4), sample, true)
	nan := slices.Clone(sample)
	nan[1] = entry{"paris", []float32{1, float32(math.NaN()), 2, 3}}
	inf := slices.Clone(sample)
	inf[2] = entry{"café", []float32{1, 2, float32(math.Inf(-1)), 3}}
	badWord := slices.Clone(sample)
	badWord[1] = entry{"pa\xffris", sample[1].vec}
	ctrlWord := slices.Clone(sample)
	ctrlWord[3] = entry{"a\x01b", sample[3].vec}
	tests := []struct {
		name       string
		data       []byte
		line, word int
		reason     string
	}{
		{"empty file", nil, 0, 0, "empty file"},
		{"only a header", []byte("4 4\n"), 0, 0, "ends after 0"},
		{"binary truncated in a vector", good[:len(good)-7], 0, 4, "truncated: 10 of 16 vector bytes"},
		{"binary truncated in a word", good[:len(good)-18], 0, 4, "ends inside the word"},
		{"binary header claims more words", w2vBinary(header(6, 4), sample, true), 0, 0, "declares 6 words, the file ends after 4"},
		{"binary NaN", w2vBinary(header(4, 4), nan, true), 0, 2, "value 2 is NaN"},
		{"binary infinity", w2vBinary(header(4, 4), inf, true), 0, 3, "value 3 is infinite"},
		{"binary non-UTF-8 word", w2vBinary(header(4, 4), badWord, true), 0, 2, "not valid UTF-8"},
		{"binary control character in word", w2vBinary(header(4, 4), ctrlWord, true), 0, 4, "control character"},
		{"binary data after the words", append(slices.Clone(good), "extra"...), 0, 0, "data after the 4 words"},
		{"binary word without space", append([]byte("1 4\n"), bytes.Repeat([]byte{1}, 5000)...), 0, 1, "no space after the word"},
		{"text wrong dimension", []byte("2 4\nthe 1 2 3 4\nparis 1 2 3\n"), 3, 0, "3 values, want 4"},
		{"text NaN", []byte("2 2\nthe 1 2\nparis nan 2\n"), 3, 0, "value 1 is NaN"},
		{"text not a number", []byte("the 1 2\nparis 1 x2\n"), 2, 0, `value 2 ("x2") is not a float32`},
		{"text out of float32 range", []byte("the 1 1e39\n"), 1, 0, "not a float32"},
		{"text header claims more words", textLines(header(5, 4), sample, "\n"), 0, 0, "declares 5 words, the file ends after 4"},
		{"text more words than declared", textLines(header(3, 4), sample, "\n"), 0, 0, "data after the 3 words"},
		{"GloVe inconsistent dimension", []byte("the 1 2 3\nparis 1 2\n"), 2, 0, "2 values, want 3"},
		{"GloVe non-UTF-8 word", []byte("the 1 2\n\xfeparis 1 2\n"), 2, 0, "not valid UTF-8"},
		{"GloVe first line without values", []byte("hello\nthe 1 2\n"), 1, 0, "neither a header"},
		{"header with zero dimension", []byte("3 0\n"), 1, 0, "dimension 0"},
		{"header with negative count", []byte("-3 2\n"), 1, 0, "-3 words"},
		{"header with absurd dimension", []byte("1 100000\n"), 1, 0, "limit 10000"},
		{"header with absurd count", []byte("1000000000 1000\n"), 1, 0, "over the limit"},
		{"GloVe with absurd dimension", []byte("w" + strings.Repeat(" 0", MaxDim+1) + "\n"), 1, 0, "limit 10000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("f.vec", bytes.NewReader(tc.data))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v, %v; want a *ParseError", s, err)
			}
			if s != nil {
				t.Errorf("a Set came back with the error")
			}
			if pe.File != "f.vec" || pe.Line != tc.line || pe.Word != tc.word || !strings.Contains(pe.Reason, tc.reason) {
				t.Errorf("error %+v, want line %d word %d reason containing %q", pe, tc.line, tc.word, tc.reason)
			}
			if !strings.HasPrefix(err.Error(), "vectors f.vec") {
				t.Errorf("message %q does not name the file", err)
			}
		})
	}
}

func TestLongLines(t *testing.T) {
	// 10,000 values of 12 bytes: a 120 KB line, longer than the read buffer.
	row := "w" + strings.Repeat(" 0.123456789", MaxDim) + "\n"
	s, err := Parse("long", strings.NewReader(row+strings.Replace(row, "w", "v", 1)))
	if err != nil || s.Len() != 2 || s.Dim() != MaxDim {
		t.Fatalf("Parse = %v, %v", s, err)
	}
	if v, _ := s.Lookup("v"); v[MaxDim-1] != 0.123456789 {
		t.Errorf("last value %v", v[MaxDim-1])
	}
	_, err = Parse("huge", strings.NewReader("w"+strings.Repeat(" 0.00000000000000000000000000001", 40000)+"\n"))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 1 || !strings.Contains(pe.Reason, "line longer than") {
		t.Errorf("1.2 MB line: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(filepath.Join(dir, "missing.bin"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing.bin") {
		t.Errorf("missing file: %v", err)
	}
	// A header that the file is far too small to hold is refused up front.
	path := filepath.Join(dir, "liar.bin")
	if err := os.WriteFile(path, w2vBinary(header(100000, 300), sample[:1], true), 0o600); err != nil {
		t.Fatal(err)
	}
	var pe *ParseError
	if _, err := Load(path); !errors.As(err, &pe) || !strings.Contains(pe.Reason, "more than the file's") {
		t.Errorf("lying header: %v", err)
	}
}

// gloveFile returns the path of the shared 50k-word GloVe file, skipping the
// test when it is missing (failing when CI=true).
func gloveFile(t testing.TB) string {
	t.Helper()
	if path, ok := glovePath(); ok {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("../shared/embeddings/glove-6b-100d-top50k.bin not found next to the repository")
	}
	t.Skip("../shared/embeddings/glove-6b-100d-top50k.bin not found next to the repository")
	return ""
}

func glovePath() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			path := filepath.Join(dir, "..", "shared", "embeddings", "glove-6b-100d-top50k.bin")
			_, err := os.Stat(path)
			return path, err == nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func TestLoadGloVe50k(t *testing.T) {
	path := gloveFile(t)
	start := time.Now()
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d words of dimension %d in %v", s.Len(), s.Dim(), time.Since(start))
	if s.Len() != 50000 || s.Dim() != 100 {
		t.Fatalf("Len %d Dim %d, want 50000 and 100", s.Len(), s.Dim())
	}
	vec := func(w string) []float32 {
		v, ok := s.Lookup(w)
		if !ok {
			t.Fatalf("%q missing", w)
		}
		return v
	}
	// Decoded the right way round, the vectors carry meaning.
	if a, b := cosine(vec("king"), vec("queen")), cosine(vec("king"), vec("banana")); a < 0.6 || a < b+0.3 {
		t.Errorf("cos(king, queen) = %.2f, cos(king, banana) = %.2f", a, b)
	}
	if !slices.Equal(vec("Refund"), vec("refund")) {
		t.Error("lower-case fallback failed")
	}
	if _, ok := s.Lookup("qwertyzxcvb"); ok {
		t.Error("found a word that is not there")
	}
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

func BenchmarkLoadGloVe50k(b *testing.B) {
	path := gloveFile(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(path); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	s, err := Parse("test", bytes.NewReader(textLines("", sample, "\n")))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Lookup("paris")
		s.Lookup("Paris")
	}
}
