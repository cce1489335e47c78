package intent

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"
)

// weightsMagic starts a weights file; its last byte is the format version.
// Then come, little-endian: the sizes (nets, features, dim, classes, and the
// bytes of the word list) as uint32, the feature hashes as uint64 and their
// IDF as float32, the training words (UTF-8, sorted, each ended by a
// newline), and for each net its tables E and L in half precision (uint16)
// and B1, W2, B2 as float32.
const weightsMagic = "PARLEYW\x04"

// ErrCorrupt means a weights file is not what Save wrote.
var ErrCorrupt = errors.New("corrupted weights")

// maxWeights bounds the sizes Load accepts before it allocates.
const maxWeights = 1 << 28

// Save writes the featurizer and the ensemble. The tables are stored in half
// precision: Train has already rounded them, so nothing changes.
func Save(w io.Writer, f *Featurizer, e *Ensemble) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(weightsMagic)
	n0 := e.Nets[0]
	var words []byte
	for _, w := range f.Words {
		words = append(append(words, w...), '\n')
	}
	parts := []any{
		[]uint32{uint32(len(e.Nets)), uint32(n0.Features), uint32(n0.Dim), uint32(n0.Classes), uint32(len(words))},
		f.Hashes, f.IDF, words,
	}
	for _, n := range e.Nets {
		parts = append(parts, toHalf(n.E), toHalf(n.L), n.B1, n.W2, n.B2)
	}
	for _, v := range parts {
		if err := binary.Write(bw, binary.LittleEndian, v); err != nil {
			return fmt.Errorf("write weights: %w", err)
		}
	}
	return bw.Flush()
}

func toHalf(xs []float32) []uint16 {
	out := make([]uint16, len(xs))
	for i, x := range xs {
		out[i] = floatToHalf(x)
	}
	return out
}

// Load reads what Save wrote, the whole file in data. Errors wrap
// ErrCorrupt when the content is not a valid weights file of this version.
// The sizes in the header must account for every byte of data before
// anything is allocated, so a damaged header cannot ask for gigabytes.
func Load(data []byte) (*Featurizer, *Ensemble, error) {
	if len(data) < len(weightsMagic) || string(data[:7]) != weightsMagic[:7] {
		return nil, nil, fmt.Errorf("%w: not a Parley weights file", ErrCorrupt)
	}
	if data[7] != weightsMagic[7] {
		return nil, nil, fmt.Errorf("%w: weights format version %d, this build reads version %d", ErrCorrupt, data[7], weightsMagic[7])
	}
	br := bytes.NewReader(data[len(weightsMagic):])
	var sizes [5]uint32
	if err := binary.Read(br, binary.LittleEndian, &sizes); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	nets, features, dim, classes, words := int(sizes[0]), int(sizes[1]), int(sizes[2]), int(sizes[3]), int(sizes[4])
	if nets < 1 || nets > 16 || features < 1 || dim < 1 || classes < 2 || words > maxWeights ||
		features*(dim+classes) > maxWeights || dim*classes > maxWeights {
		return nil, nil, fmt.Errorf("%w: implausible sizes %v", ErrCorrupt, sizes)
	}
	perNet := 2*features*(dim+classes) + 4*(dim+dim*classes+classes)
	if want := features*(8+4) + words + nets*perNet; br.Len() != want {
		return nil, nil, fmt.Errorf("%w: the sizes %v need %d bytes after the header, the file has %d", ErrCorrupt, sizes, want, br.Len())
	}
	f := &Featurizer{Hashes: make([]uint64, features), IDF: make([]float32, features)}
	wordBytes := make([]byte, words)
	if err := readAll(br, f.Hashes, f.IDF, wordBytes); err != nil {
		return nil, nil, err
	}
	if words > 0 {
		if !utf8.Valid(wordBytes) || wordBytes[words-1] != '\n' {
			return nil, nil, fmt.Errorf("%w: the word list is not newline-ended UTF-8", ErrCorrupt)
		}
		f.Words = strings.Split(string(wordBytes[:words-1]), "\n")
		for i, w := range f.Words {
			if w == "" || i > 0 && f.Words[i-1] >= w {
				return nil, nil, fmt.Errorf("%w: the word list is not sorted, or has an empty word or a repeat", ErrCorrupt)
			}
		}
	}
	e := &Ensemble{}
	for range nets {
		n := &Net{
			Features: features, Dim: dim, Classes: classes,
			B1: make([]float32, dim), W2: make([]float32, dim*classes), B2: make([]float32, classes),
		}
		halfE, halfL := make([]uint16, features*dim), make([]uint16, features*classes)
		if err := readAll(br, halfE, halfL, n.B1, n.W2, n.B2); err != nil {
			return nil, nil, err
		}
		n.E, n.L = fromHalf(halfE), fromHalf(halfL)
		for _, ws := range [][]float32{n.E, n.L, n.B1, n.W2, n.B2} {
			for _, x := range ws {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return nil, nil, fmt.Errorf("%w: NaN or infinite weight", ErrCorrupt)
				}
			}
		}
		e.Nets = append(e.Nets, n)
	}
	for _, x := range f.IDF {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, nil, fmt.Errorf("%w: NaN or infinite IDF", ErrCorrupt)
		}
	}
	f.init()
	return f, e, nil
}

func readAll(r io.Reader, parts ...any) error {
	for _, v := range parts {
		if err := binary.Read(r, binary.LittleEndian, v); err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}
	return nil
}

func fromHalf(hs []uint16) []float32 {
	out := make([]float32, len(hs))
	for i, h := range hs {
		out[i] = halfToFloat(h)
	}
	return out
}
