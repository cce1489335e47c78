package seq2seq

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"github.com/parleyhq/parley/internal/modeldir"
)

// formatVersion is the version of the files this build writes and reads;
// Load refuses any other with ErrFormat.
const formatVersion = 1

// The files of a saved model, named so that they can share a directory
// with other models' files. The meta file is written last.
const (
	MetaFile    = "seq2seq.json"
	WeightsFile = "seq2seq.bin"
)

// weightsMagic starts the weights file; then every weight in the model's
// order as little-endian float32, their shapes given by the meta file.
const weightsMagic = "PRLYS2S\x01"

// limits on what Load accepts before it allocates.
const (
	maxDim   = 4096
	maxVocab = 1 << 20
)

// metaFile is the content of seq2seq.json.
type metaFile struct {
	Meta
	InTokens  []string          `json:"in_tokens"`
	OutTokens []string          `json:"out_tokens"`
	Checksums map[string]string `json:"checksums"`
}

// Save writes the model into dir (created if needed): seq2seq.bin then
// seq2seq.json, each atomically, so a failed Save leaves any previous model
// there whole, and other files in dir untouched.
func (m *Model) Save(dir string) error {
	n := len(weightsMagic)
	for _, w := range m.w {
		n += 4 * len(w)
	}
	bin := make([]byte, 0, n)
	bin = append(bin, weightsMagic...)
	for _, w := range m.w {
		for _, x := range w {
			bin = binary.LittleEndian.AppendUint32(bin, math.Float32bits(x))
		}
	}
	err := modeldir.Write(dir, map[string][]byte{WeightsFile: bin}, MetaFile, func(sums map[string]string) ([]byte, error) {
		meta := m.meta
		meta.Version = formatVersion
		return json.MarshalIndent(metaFile{Meta: meta, InTokens: m.in.toks, OutTokens: m.out.toks, Checksums: sums}, "", " ")
	})
	if err != nil {
		return fmt.Errorf("save seq2seq model %s: %w", dir, err)
	}
	return nil
}

// Load reads a model saved in dir. Errors wrap ErrNoModel when a file is
// missing, ErrFormat for another format version, ErrCorrupt for a file
// that fails its checksum or does not fit the sizes in the meta file.
func Load(dir string) (*Model, error) {
	raw, err := modeldir.Read(dir, MetaFile, ErrNoModel)
	if err != nil {
		return nil, fmt.Errorf("load seq2seq model %s: %w", dir, err)
	}
	var mf metaFile
	if err := json.Unmarshal(raw, &mf); err != nil {
		return nil, fmt.Errorf("load seq2seq model %s: %w: %s: %v", dir, ErrCorrupt, MetaFile, err)
	}
	if mf.Version != formatVersion {
		return nil, fmt.Errorf("load seq2seq model %s: %w: version %d, this build reads %d", dir, ErrFormat, mf.Version, formatVersion)
	}
	files, err := modeldir.ReadChecked(dir, MetaFile, mf.Checksums, ErrNoModel, ErrCorrupt, WeightsFile)
	if err != nil {
		return nil, fmt.Errorf("load seq2seq model %s: %w", dir, err)
	}
	m, err := fromFiles(mf, files[WeightsFile])
	if err != nil {
		return nil, fmt.Errorf("load seq2seq model %s: %w: %v", dir, ErrCorrupt, err)
	}
	return m, nil
}

// fromFiles checks the meta file's sizes and vocabularies against each
// other and the weights, and builds the model.
func fromFiles(mf metaFile, bin []byte) (*Model, error) {
	meta := mf.Meta
	switch {
	case meta.Hidden < 1 || meta.Hidden > maxDim || meta.Embed < 1 || meta.Embed > maxDim:
		return nil, fmt.Errorf("hidden %d, embed %d out of range", meta.Hidden, meta.Embed)
	case meta.MaxIn < 1 || meta.MaxIn > 255 || meta.MaxOut < 1 || meta.MaxOut > 255:
		return nil, fmt.Errorf("max_in %d, max_out %d out of range", meta.MaxIn, meta.MaxOut)
	case len(mf.InTokens) != meta.InVocab || len(mf.OutTokens) != meta.Vocab:
		return nil, fmt.Errorf("vocabularies of %d and %d tokens, meta says %d and %d", len(mf.InTokens), len(mf.OutTokens), meta.InVocab, meta.Vocab)
	case meta.Vocab > maxVocab || meta.InVocab > maxVocab:
		return nil, fmt.Errorf("vocabularies of %d and %d tokens are too large", meta.InVocab, meta.Vocab)
	}
	for _, toks := range [][]string{mf.InTokens, mf.OutTokens} {
		if err := checkTokens(toks); err != nil {
			return nil, err
		}
	}
	m := &Model{in: newVocab(mf.InTokens), out: newVocab(mf.OutTokens), meta: meta}
	sh := shapes(meta.InVocab, meta.Vocab, meta.Hidden, meta.Embed)
	want := len(weightsMagic)
	for _, s := range sh {
		want += 4 * size(s)
	}
	if len(bin) != want || string(bin[:len(weightsMagic)]) != weightsMagic {
		return nil, fmt.Errorf("%s is %d bytes, want %d starting %q", WeightsFile, len(bin), want, weightsMagic)
	}
	off := len(weightsMagic)
	for i, s := range sh {
		w := make([]float32, size(s))
		for j := range w {
			w[j] = math.Float32frombits(binary.LittleEndian.Uint32(bin[off:]))
			off += 4
		}
		m.w[i] = w
	}
	return m, nil
}

// checkTokens checks that a vocabulary starts with the special tokens
// and holds each token once.
func checkTokens(toks []string) error {
	special := []string{padTok, bosTok, eosTok, unkTok}
	if len(toks) < numSpecial {
		return fmt.Errorf("a vocabulary of %d tokens lacks the special tokens", len(toks))
	}
	seen := make(map[string]bool, len(toks))
	for i, t := range toks {
		if i < numSpecial && t != special[i] {
			return fmt.Errorf("token %d is %q, want %q", i, t, special[i])
		}
		if seen[t] || t == "" {
			return fmt.Errorf("token %q is empty or repeated", t)
		}
		seen[t] = true
	}
	return nil
}
