package vectors

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must return a *ParseError or a
// consistent Set, never panic.
func FuzzParse(f *testing.F) {
	f.Add(w2vBinary(header(4, 4), sample, true))
	f.Add(w2vBinary(header(4, 4), sample, false))
	f.Add(textLines(header(4, 4), sample, "\n"))
	f.Add(textLines("", sample, "\r\n"))
	f.Add([]byte("2 3\nthe 1 2 3\n"))
	f.Add([]byte("the 0.1 -0.2 3e-4\nof NaN 1 2\n"))
	f.Add([]byte("999999999 9999\n"))
	f.Add([]byte("1 1\n\xff \x00\x00\x80\x3f"))
	if path, ok := glovePath(); ok { // the start of the real file, never stored
		if fh, err := os.Open(path); err == nil {
			head := make([]byte, 4096)
			n, _ := io.ReadFull(fh, head)
			fh.Close()
			f.Add(head[:n])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz", bytes.NewReader(data))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || s != nil {
				t.Fatalf("Parse = %v, %v; want nil and a *ParseError", s, err)
			}
			return
		}
		if s.Dim() < 1 || s.Dim() > MaxDim || s.Len() < 0 || len(s.data) != s.Len()*s.Dim() {
			t.Fatalf("inconsistent set: dim %d, %d words, %d values", s.Dim(), s.Len(), len(s.data))
		}
		for w := range s.index {
			v, ok := s.Lookup(w)
			if !ok || len(v) != s.Dim() {
				t.Fatalf("Lookup(%q) = %d values, %v", w, len(v), ok)
			}
			for _, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("%q has a non-finite value", w)
				}
			}
		}
	})
}
