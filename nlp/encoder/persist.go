package encoder

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/parleyhq/parley/internal/modeldir"
	"github.com/parleyhq/parley/nlp/internal/intent"
	"github.com/parleyhq/parley/nlp/internal/tokenize"
)

// FormatVersion is the version of the encoder's model directory that this
// build writes and reads. Load refuses any other with ErrVersion.
const FormatVersion = 1

// The files of a model directory. meta.json is written last, so a
// directory with a meta.json is complete.
const (
	MetaFile      = "meta.json"
	TokenizerFile = "tokenizer.json"
	WeightsFile   = "weights.bin"
)

// Meta is meta.json: what the model was trained with, and the checksums
// (SHA-256, hex) of the other files.
type Meta struct {
	FormatVersion int               `json:"format_version"`
	Dim           int               `json:"dim"`
	Features      int               `json:"features"`
	Epochs        int               `json:"epochs"`
	Batch         int               `json:"batch"`
	LR            float64           `json:"lr"`
	Temperature   float64           `json:"temperature"`
	Symmetric     bool              `json:"symmetric"`
	Shared        bool              `json:"shared"`
	InDropout     float64           `json:"in_dropout"`
	MinDF         int               `json:"min_df"`
	MaxTokens     int               `json:"max_tokens"`
	Seed          uint64            `json:"seed"`
	Pairs         int               `json:"pairs"`
	DataHash      string            `json:"data_hash"`
	ValR1         *float64          `json:"val_r1,omitempty"`
	Checksums     map[string]string `json:"checksums"`
}

// weightsMagic starts weights.bin; its last byte is the weights layout
// version. Then, little-endian: dim, features, the byte length of the
// featurizer and 1 if the towers share their table (else 0) as uint32; the featurizer (nlp/internal/intent's weights
// format, holding a one-unit placeholder net, as that package's reader is
// the only way to rebuild a Featurizer); then, for the question tower and
// the answer tower, E [features, dim] (the answer tower's left out when
// shared), W [dim, dim] and B [dim] as float32.
const weightsMagic = "PARLEYE\x01"

// maxWeights bounds the sizes Load accepts before it allocates.
const maxWeights = 1 << 28

// Save writes the model directory dir (created if needed) atomically file
// by file, meta.json last.
func (e *Encoder) Save(dir string) error {
	var weights bytes.Buffer
	if err := e.writeWeights(&weights); err != nil {
		return fmt.Errorf("save encoder: %w", err)
	}
	meta := e.meta
	meta.FormatVersion = FormatVersion
	err := modeldir.Write(dir, map[string][]byte{TokenizerFile: e.tokJSON, WeightsFile: weights.Bytes()}, MetaFile,
		func(sums map[string]string) ([]byte, error) {
			meta.Checksums = sums
			b, err := json.MarshalIndent(meta, "", "  ")
			return append(b, '\n'), err
		})
	if err != nil {
		return fmt.Errorf("save encoder: %w", err)
	}
	e.meta = meta
	return nil
}

func (e *Encoder) writeWeights(w io.Writer) error {
	var feat bytes.Buffer
	// A placeholder net of one unit and two classes: all zeros, 6 bytes a
	// feature, the price of reusing intent's featurizer reader.
	f := e.feat.Len()
	stub := &intent.Net{Features: f, Dim: 1, Classes: 2, E: make([]float32, f), L: make([]float32, 2*f),
		B1: make([]float32, 1), W2: make([]float32, 2), B2: make([]float32, 2)}
	if err := intent.Save(&feat, e.feat, &intent.Ensemble{Nets: []*intent.Net{stub}}); err != nil {
		return fmt.Errorf("write featurizer: %w", err)
	}
	shared := uint32(0)
	if e.shared() {
		shared = 1
	}
	parts := []any{[]byte(weightsMagic), []uint32{uint32(e.dim), uint32(f), uint32(feat.Len()), shared}, feat.Bytes()}
	for s := range e.towers {
		if s == 0 || shared == 0 {
			parts = append(parts, e.towers[s].E)
		}
		parts = append(parts, e.towers[s].W, e.towers[s].B)
	}
	for _, p := range parts {
		if err := binary.Write(w, binary.LittleEndian, p); err != nil {
			return fmt.Errorf("write weights: %w", err)
		}
	}
	return nil
}

// Load reads a model directory written by Save. Errors say which file is
// at fault: ErrMissing for a missing file, ErrVersion for another format
// version, ErrCorrupt for damaged content or a checksum mismatch.
func Load(dir string) (*Encoder, error) {
	metaJSON, err := modeldir.Read(dir, MetaFile, ErrMissing)
	if err != nil {
		return nil, fmt.Errorf("load encoder %s: %w", dir, err)
	}
	meta, err := parseMeta(metaJSON)
	if err != nil {
		return nil, fmt.Errorf("load encoder %s: %w", dir, err)
	}
	files, err := modeldir.ReadChecked(dir, MetaFile, meta.Checksums, ErrMissing, ErrCorrupt, TokenizerFile, WeightsFile)
	if err != nil {
		return nil, fmt.Errorf("load encoder %s: %w", dir, err)
	}
	e, err := decodeWeights(files[WeightsFile])
	if err != nil {
		return nil, fmt.Errorf("load encoder %s: %s: %w", dir, WeightsFile, err)
	}
	if e.dim != meta.Dim || e.feat.Len() != meta.Features {
		return nil, fmt.Errorf("load encoder %s: %w: %s holds %d features of %d values, %s says %d of %d",
			dir, ErrCorrupt, WeightsFile, e.feat.Len(), e.dim, MetaFile, meta.Features, meta.Dim)
	}
	tok, err := tokenize.FromJSON(files[TokenizerFile], &tokenize.Options{MaxTokens: meta.MaxTokens})
	if err != nil {
		return nil, fmt.Errorf("load encoder %s: %w: %s: %v", dir, ErrCorrupt, TokenizerFile, err)
	}
	e.meta, e.tok, e.tokJSON = meta, tok, files[TokenizerFile]
	return e, nil
}

// parseMeta reads meta.json and checks its version and ranges.
func parseMeta(data []byte) (Meta, error) {
	var m Meta
	if err := json.Unmarshal(data, &m); err != nil {
		return Meta{}, fmt.Errorf("%w: %s: %v", ErrCorrupt, MetaFile, err)
	}
	if m.FormatVersion != FormatVersion {
		return Meta{}, fmt.Errorf("%w: %s has format version %d, this build reads version %d; retrain the encoder",
			ErrVersion, MetaFile, m.FormatVersion, FormatVersion)
	}
	if m.Dim < 1 || m.Dim > 4096 || m.Features < 1 || m.MaxTokens < 1 || m.MaxTokens > 1<<20 {
		return Meta{}, fmt.Errorf("%w: %s: dim %d, features %d, max_tokens %d out of range", ErrCorrupt, MetaFile, m.Dim, m.Features, m.MaxTokens)
	}
	return m, nil
}

// decodeWeights reads weights.bin. The sizes in its header must account for
// every byte before anything is allocated, so a damaged header cannot ask
// for gigabytes.
func decodeWeights(data []byte) (*Encoder, error) {
	if len(data) < len(weightsMagic) || string(data[:7]) != weightsMagic[:7] {
		return nil, fmt.Errorf("%w: not an encoder weights file", ErrCorrupt)
	}
	if data[7] != weightsMagic[7] {
		return nil, fmt.Errorf("%w: weights layout %d, this build reads %d", ErrVersion, data[7], weightsMagic[7])
	}
	r := bytes.NewReader(data[len(weightsMagic):])
	var sizes [4]uint32
	if err := binary.Read(r, binary.LittleEndian, &sizes); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	dim, features, featBytes, shared := int(sizes[0]), int(sizes[1]), int(sizes[2]), sizes[3] == 1
	if dim < 1 || dim > 4096 || features < 1 || features*dim > maxWeights || featBytes > maxWeights || sizes[3] > 1 {
		return nil, fmt.Errorf("%w: implausible sizes %v", ErrCorrupt, sizes)
	}
	tables := 2
	if shared {
		tables = 1
	}
	if want := featBytes + 4*(tables*features*dim+2*(dim*dim+dim)); r.Len() != want {
		return nil, fmt.Errorf("%w: the sizes %v need %d bytes after the header, the file has %d", ErrCorrupt, sizes, want, r.Len())
	}
	blob := make([]byte, featBytes)
	if _, err := io.ReadFull(r, blob); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	feat, nets, err := intent.Load(blob)
	if err != nil {
		return nil, fmt.Errorf("%w: featurizer: %v", ErrCorrupt, err)
	}
	if feat.Len() != features || len(nets.Nets) != 1 {
		return nil, fmt.Errorf("%w: the featurizer has %d features, the header says %d", ErrCorrupt, feat.Len(), features)
	}
	e := &Encoder{feat: feat, dim: dim}
	for s := range e.towers {
		t := &e.towers[s]
		t.W, t.B = make([]float32, dim*dim), make([]float32, dim)
		ws := [][]float32{t.W, t.B}
		if s == 1 && shared {
			t.E = e.towers[0].E
		} else {
			t.E = make([]float32, features*dim)
			ws = append([][]float32{t.E}, ws...)
		}
		for _, ws := range ws {
			if err := binary.Read(r, binary.LittleEndian, ws); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
			}
			for _, x := range ws {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return nil, fmt.Errorf("%w: NaN or infinite weight", ErrCorrupt)
				}
			}
		}
	}
	return e, nil
}
