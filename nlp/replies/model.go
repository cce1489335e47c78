package replies

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/parleyhq/parley/internal/modeldir"
	"github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/encoder"
	"github.com/parleyhq/parley/nlp/seq2seq"
	"github.com/parleyhq/parley/nlp/suggest"
)

// FormatVersion is the version of the replies model directory this build
// writes and reads; Load refuses any other with ErrFormat.
const FormatVersion = 1

// The model directory: replies.json (written last, with the checksum of
// pairs.json), pairs.json (the training pairs, the nearest neighbour's
// candidates), and the encoder's and the seq2seq model's own directories.
const (
	MetaFile   = "replies.json"
	PairsFile  = "pairs.json"
	EncoderDir = "encoder"
	Seq2seqDir = "seq2seq"
)

// Meta is replies.json.
type Meta struct {
	FormatVersion int    `json:"format_version"`
	Source        string `json:"source"` // "bitext" or "parley": where the pairs came from
	Seed          uint64 `json:"seed"`
	TrainPairs    int    `json:"train_pairs"`
	ValPairs      int    `json:"val_pairs"`
	// HybridWeight is the encoder's weight in the hybrid ranking, chosen
	// on the validation split (encoder.ChooseWeight).
	HybridWeight float64 `json:"hybrid_weight"`
	// Neighbour is how the nearest-neighbour baseline finds the most
	// similar training question: "bm25" or "encoder", whichever gave the
	// higher ROUGE-L on the validation split.
	Neighbour      string            `json:"neighbour"`
	EncoderSeconds float64           `json:"encoder_seconds"`
	Seq2seqSeconds float64           `json:"seq2seq_seconds"`
	Checksums      map[string]string `json:"checksums"`
}

// TrainSeconds is the time both models took to train.
func (m Meta) TrainSeconds() float64 { return m.EncoderSeconds + m.Seq2seqSeconds }

// Model is a trained replies model: the sentence encoder for retrieval,
// the seq2seq model for drafts, and the training pairs for the
// nearest-neighbour baseline. It is read-only and safe for concurrent use.
type Model struct {
	Encoder *encoder.Encoder
	Seq2seq *seq2seq.Model
	meta    Meta
	nn      *neighbours
}

// Meta returns what the model was trained with.
func (m *Model) Meta() Meta { return m.meta }

// DraftBeam is the beam width of the drafts shown to agents: greedy, the
// decoding bench/replies measures (eval-replies --beam measures others).
const DraftBeam = 1

var _ suggest.Drafter = (*Model)(nil)

// Draft is the seq2seq model's reply to a customer's message (decoded
// with a beam of DraftBeam), with the placeholders v knows filled
// (FillDraft). It fails only when ctx is done.
func (m *Model) Draft(ctx context.Context, message string, v suggest.Vars) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("draft reply: %w", err)
	}
	return FillDraft(m.Seq2seq.Generate(message, DraftBeam), v), nil
}

// Options are Train's settings; zero values take the packages' defaults.
type Options struct {
	Source string // recorded in Meta: "bitext" or "parley"
	Seed   uint64
	// Encoder and Seq2seq are the models' options: their package's
	// DefaultOptions when zero, else zero fields take the package's
	// defaults (Seed, Validation and Progress are set by Train).
	Encoder encoder.Options
	Seq2seq seq2seq.Options
	// Progress, if not nil, gets one line per stage and epoch.
	Progress func(format string, args ...any)
}

// Train trains the encoder and the seq2seq model on the pairs of the
// training split, chooses the hybrid weight and the nearest neighbour's
// similarity on the validation split, and returns the model. It fails with
// ErrNoData without at least 2 training and 2 validation pairs, and with
// ctx's error when cancelled.
func Train(ctx context.Context, pairs []Pair, opts Options) (*Model, error) {
	train, val := Split(pairs, dataset.SplitTrain), Split(pairs, dataset.SplitVal)
	if len(train) < 2 || len(val) < 2 {
		return nil, fmt.Errorf("train replies: %w: %d training and %d validation pairs, want at least 2 of each", ErrNoData, len(train), len(val))
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	meta := Meta{FormatVersion: FormatVersion, Source: opts.Source, Seed: opts.Seed, TrainPairs: len(train), ValPairs: len(val)}

	eo := opts.Encoder
	if eo.Dim == 0 {
		eo = encoder.DefaultOptions
	}
	eo.Seed = opts.Seed
	eo.Validation = encoderPairs(val)
	eo.Progress = func(e encoder.Epoch) {
		progress("encoder epoch %d/%d: loss %.4f, validation R@1 %.3f%s (%v)", e.Epoch, e.Epochs, e.Loss, e.ValR1, bestMark(e.Best), e.Elapsed.Round(time.Second))
	}
	progress("training the sentence encoder on %d pairs (validation %d)", len(train), len(val))
	start := time.Now()
	enc, err := encoder.Train(ctx, encoderPairs(train), eo)
	if err != nil {
		return nil, fmt.Errorf("train replies: %w", err)
	}
	meta.EncoderSeconds = time.Since(start).Seconds()

	vq, va, vgold := Candidates(val)
	cos := encoder.EncoderScores(enc, vq, va)
	bm, err := encoder.BM25Scores(ctx, vq, va)
	if err != nil {
		return nil, fmt.Errorf("train replies: %w", err)
	}
	w, vm := encoder.ChooseWeight(cos, bm, vgold)
	meta.HybridWeight = w
	progress("hybrid weight %.2f on validation: %v", w, vm)

	so := opts.Seq2seq
	if so.Hidden == 0 {
		so = seq2seq.DefaultOptions
	}
	so.Seed = opts.Seed
	so.Validation = seqPairs(val)
	so.Progress = func(e seq2seq.Epoch) {
		progress("seq2seq epoch %d/%d: loss %.4f, validation loss %.4f%s (%v)", e.Epoch, e.Epochs, e.Loss, e.ValLoss, bestMark(e.Best), e.Elapsed.Round(time.Second))
	}
	progress("training the seq2seq reply model")
	start = time.Now()
	s2s, err := seq2seq.Train(ctx, seqPairs(train), so)
	if err != nil {
		return nil, fmt.Errorf("train replies: %w", err)
	}
	meta.Seq2seqSeconds = time.Since(start).Seconds()

	m := &Model{Encoder: enc, Seq2seq: s2s, meta: meta}
	m.nn, err = newNeighbours(train, enc, "")
	if err != nil {
		return nil, fmt.Errorf("train replies: %w", err)
	}
	by, scores := m.nn.choose(val)
	m.meta.Neighbour = by
	progress("nearest neighbour by %s (validation ROUGE-L: bm25 %.3f, encoder %.3f)", by, scores["bm25"], scores["encoder"])
	return m, nil
}

func bestMark(best bool) string {
	if best {
		return " *"
	}
	return ""
}

func encoderPairs(ps []Pair) []encoder.Pair {
	out := make([]encoder.Pair, len(ps))
	for i, p := range ps {
		out[i] = encoder.Pair{Question: p.Question, Answer: p.Answer}
	}
	return out
}

func seqPairs(ps []Pair) []seq2seq.Pair {
	out := make([]seq2seq.Pair, len(ps))
	for i, p := range ps {
		out[i] = seq2seq.Pair{Question: p.Question, Answer: p.Answer}
	}
	return out
}

// Candidates is encoder.Candidates of pairs.
func Candidates(pairs []Pair) (questions, answers []string, gold []int) {
	return encoder.Candidates(encoderPairs(pairs))
}

// Save writes the model to dir as a whole: into a new folder beside it,
// which then replaces dir, so that dir never holds half of a model (a
// crash between the two renames leaves dir missing and the new model in
// dir.new-*, never a mix).
func (m *Model) Save(dir string) error {
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("save replies model: %w", err)
	}
	tmp := dir + ".new-" + randomSuffix()
	if err := m.writeTo(tmp); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("save replies model: %w", err)
	}
	old := dir + ".old-" + randomSuffix()
	if err := os.Rename(dir, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		os.RemoveAll(tmp)
		return fmt.Errorf("save replies model: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Rename(old, dir)
		os.RemoveAll(tmp)
		return fmt.Errorf("save replies model: %w", err)
	}
	os.RemoveAll(old)
	return nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (m *Model) writeTo(dir string) error {
	if err := m.Encoder.Save(filepath.Join(dir, EncoderDir)); err != nil {
		return err
	}
	if err := m.Seq2seq.Save(filepath.Join(dir, Seq2seqDir)); err != nil {
		return err
	}
	pairs, err := json.Marshal(m.nn.pairs)
	if err != nil {
		return err
	}
	meta := m.meta
	return modeldir.Write(dir, map[string][]byte{PairsFile: pairs}, MetaFile, func(sums map[string]string) ([]byte, error) {
		meta.Checksums = sums
		b, err := json.MarshalIndent(meta, "", "  ")
		return append(b, '\n'), err
	})
}

// Load reads a model directory Save wrote. Errors: ErrNoModel, ErrFormat,
// ErrCorrupt (each wrapped, with the file), or the encoder's and seq2seq
// packages' own errors for their folders.
func Load(dir string) (*Model, error) {
	raw, err := modeldir.Read(dir, MetaFile, ErrNoModel)
	if err != nil {
		return nil, fmt.Errorf("load replies model: %w", err)
	}
	var meta Meta
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, fmt.Errorf("load replies model: %s: %w: %v", filepath.Join(dir, MetaFile), ErrFormat, err)
	}
	if meta.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("load replies model: %s: %w: version %d, this build reads %d (train it again with bot train-replies)", dir, ErrFormat, meta.FormatVersion, FormatVersion)
	}
	files, err := modeldir.ReadChecked(dir, MetaFile, meta.Checksums, ErrNoModel, ErrCorrupt, PairsFile)
	if err != nil {
		return nil, fmt.Errorf("load replies model: %w", err)
	}
	var pairs []Pair
	if err := json.Unmarshal(files[PairsFile], &pairs); err != nil || len(pairs) == 0 {
		return nil, fmt.Errorf("load replies model: %s: %w: no training pairs", filepath.Join(dir, PairsFile), ErrCorrupt)
	}
	enc, err := encoder.Load(filepath.Join(dir, EncoderDir))
	if err != nil {
		return nil, fmt.Errorf("load replies model: %w", err)
	}
	s2s, err := seq2seq.Load(filepath.Join(dir, Seq2seqDir))
	if err != nil {
		return nil, fmt.Errorf("load replies model: %w", err)
	}
	nn, err := newNeighbours(pairs, enc, meta.Neighbour)
	if err != nil {
		return nil, fmt.Errorf("load replies model: %w", err)
	}
	return &Model{Encoder: enc, Seq2seq: s2s, meta: meta, nn: nn}, nil
}
