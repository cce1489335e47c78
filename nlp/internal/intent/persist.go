package intent

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
)

// weightsMagic starts a weights file; its last byte is the format version.
const weightsMagic = "PARLEYW\x01"

// ErrCorrupt means a weights file is not what Save wrote.
var ErrCorrupt = errors.New("corrupted weights")

type weightsFile struct {
	Hashes               []uint64
	IDF                  []float32
	Features, Dim, Class int
	E, L, B1, W2, B2     []float32
}

// Save writes the featurizer and the network.
func Save(w io.Writer, f *Featurizer, n *Net) error {
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString(weightsMagic); err != nil {
		return err
	}
	wf := weightsFile{
		Hashes: f.Hashes, IDF: f.IDF,
		Features: n.Features, Dim: n.Dim, Class: n.Classes,
		E: n.E, L: n.L, B1: n.B1, W2: n.W2, B2: n.B2,
	}
	if err := gob.NewEncoder(bw).Encode(&wf); err != nil {
		return fmt.Errorf("encode weights: %w", err)
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
	var wf weightsFile
	if err := gob.NewDecoder(br).Decode(&wf); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	switch {
	case wf.Features != len(wf.Hashes) || len(wf.IDF) != len(wf.Hashes),
		wf.Dim <= 0 || wf.Class < 2,
		len(wf.E) != wf.Features*wf.Dim, len(wf.L) != wf.Features*wf.Class, len(wf.B1) != wf.Dim,
		len(wf.W2) != wf.Dim*wf.Class, len(wf.B2) != wf.Class:
		return nil, nil, fmt.Errorf("%w: inconsistent sizes", ErrCorrupt)
	}
	for _, ws := range [][]float32{wf.IDF, wf.E, wf.L, wf.B1, wf.W2, wf.B2} {
		for _, x := range ws {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, nil, fmt.Errorf("%w: NaN or infinite weight", ErrCorrupt)
			}
		}
	}
	f := &Featurizer{Hashes: wf.Hashes, IDF: wf.IDF}
	f.init()
	n := &Net{Features: wf.Features, Dim: wf.Dim, Classes: wf.Class, E: wf.E, L: wf.L, B1: wf.B1, W2: wf.W2, B2: wf.B2}
	return f, n, nil
}
