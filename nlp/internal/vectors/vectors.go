package vectors

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Limits a file must stay within.
const (
	MaxDim    = 10_000  // values per vector
	MaxValues = 1 << 29 // values in all (2 GiB of float32)
	maxWord   = 1 << 12 // bytes in one word
)

// Set is a loaded set of word vectors, all of the same dimension.
type Set struct {
	dim   int
	index map[string]int32 // word -> row
	data  []float32        // rows of dim values
}

// ParseError says where and why a vectors file does not load.
type ParseError struct {
	File   string
	Line   int // 1-based line of a text file; 0 when not tied to one
	Word   int // 1-based word (record) number; 0 when not tied to one
	Reason string
}

func (e *ParseError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("vectors %s:%d: %s", e.File, e.Line, e.Reason)
	case e.Word > 0:
		return fmt.Sprintf("vectors %s: word %d: %s", e.File, e.Word, e.Reason)
	}
	return fmt.Sprintf("vectors %s: %s", e.File, e.Reason)
}

// Load reads the vectors file at path, in any of the three formats. It returns
// the os error (wrapped, with the path) when the file cannot be read and a
// *ParseError when its content is malformed or over the limits.
func Load(path string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load vectors: %w", err)
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return parse(path, f, size)
}

// Parse reads vectors from r, in any of the three formats; name is used in
// errors. It returns a *ParseError for malformed content and the reader's
// error, wrapped, if reading fails.
func Parse(name string, r io.Reader) (*Set, error) {
	return parse(name, r, -1)
}

// Dim returns the number of values per vector.
func (s *Set) Dim() int { return s.dim }

// Len returns the number of distinct words.
func (s *Set) Len() int { return len(s.index) }

// Lookup returns the vector of word, or else of its lower-case form. The
// slice shares the Set's memory: do not modify it.
func (s *Set) Lookup(word string) ([]float32, bool) {
	row, ok := s.index[word]
	if !ok {
		lower := strings.ToLower(word)
		if lower == word {
			return nil, false
		}
		if row, ok = s.index[lower]; !ok {
			return nil, false
		}
	}
	start := int(row) * s.dim
	return slices.Clip(s.data[start : start+s.dim]), true
}
