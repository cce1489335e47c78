package intent

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// weightsMagic starts a weights file; its last byte is the format version.
// Then come the sizes (features, dim, classes) as little-endian uint32, the
// feature hashes as uint64 and the float32 arrays IDF, E, L, B1, W2, B2, all
// little-endian.
const weightsMagic = "PARLEYW\x02"

// ErrCorrupt means a weights file is not what Save wrote.
var ErrCorrupt = errors.New("corrupted weights")

// maxWeights bounds the sizes Load accepts before it allocates.
const maxWeights = 1 << 28

// Save writes the featurizer and the network.
func Save(w io.Writer, f *Featurizer, n *Net) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(weightsMagic)
	for _, v := range []any{
		[]uint32{uint32(n.Features), uint32(n.Dim), uint32(n.Classes)},
		f.Hashes, f.IDF, n.E, n.L, n.B1, n.W2, n.B2,
	} {
		if err := binary.Write(bw, binary.LittleEndian, v); err != nil {
			return fmt.Errorf("write weights: %w", err)
		}
	}
	return bw.Flush()
}

// Load reads what Save wrote. Errors wrap ErrCorrupt when the content is not
// a valid weights file of this version.
func Load(r io.Reader) (*Featurizer, *Net, error) {
	br := bufio.NewReader(r)
	magic := make([]byte, len(weightsMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic[:7]) != weightsMagic[:7] {
		return nil, nil, fmt.Errorf("%w: not a Parley weights file", ErrCorrupt)
	}
	if magic[7] != weightsMagic[7] {
		return nil, nil, fmt.Errorf("%w: weights format version %d, this build reads version %d", ErrCorrupt, magic[7], weightsMagic[7])
	}
	var sizes [3]uint32
	if err := binary.Read(br, binary.LittleEndian, &sizes); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	features, dim, classes := int(sizes[0]), int(sizes[1]), int(sizes[2])
	if features < 1 || dim < 1 || classes < 2 || features*(dim+classes) > maxWeights || dim*classes > maxWeights {
		return nil, nil, fmt.Errorf("%w: implausible sizes %v", ErrCorrupt, sizes)
	}
	f := &Featurizer{Hashes: make([]uint64, features), IDF: make([]float32, features)}
	n := &Net{
		Features: features, Dim: dim, Classes: classes,
		E: make([]float32, features*dim), L: make([]float32, features*classes),
		B1: make([]float32, dim), W2: make([]float32, dim*classes), B2: make([]float32, classes),
	}
	for _, v := range []any{f.Hashes, f.IDF, n.E, n.L, n.B1, n.W2, n.B2} {
		if err := binary.Read(br, binary.LittleEndian, v); err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return nil, nil, fmt.Errorf("%w: data after the weights", ErrCorrupt)
	}
	for _, ws := range [][]float32{f.IDF, n.E, n.L, n.B1, n.W2, n.B2} {
		for _, x := range ws {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, nil, fmt.Errorf("%w: NaN or infinite weight", ErrCorrupt)
			}
		}
	}
	f.init()
	return f, n, nil
}
