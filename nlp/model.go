package nlp

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/modeldir"
	"github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/internal/entity"
	"github.com/parleyhq/parley/nlp/internal/intent"
	"github.com/parleyhq/parley/nlp/internal/tokenize"
	"github.com/parleyhq/parley/nlp/nlu"
)

// FormatVersion is the version of the model directory layout this build
// writes and reads.
const FormatVersion = 2

// The files of a model directory.
const (
	MetaFile      = "meta.json"
	TokenizerFile = "tokenizer.json"
	WeightsFile   = "weights.bin"
)

// MaxTextBytes is how much of a message Parse reads; the rest is ignored
// and the result says Truncated. Tokens past the tokenizer's maximum are
// dropped as well.
const MaxTextBytes = nlu.MaxTextBytes

// rankingSize is how many intents a Result ranks.
const rankingSize = 5

// Errors from Parse and Load, to be tested with errors.Is. ErrEmptyText
// and ErrInvalidUTF8 are nlu's errors, so either name matches.
var (
	ErrEmptyText    = nlu.ErrEmptyText
	ErrInvalidUTF8  = nlu.ErrInvalidUTF8
	ErrModelMissing = errors.New("model file missing")
	ErrModelCorrupt = errors.New("model file corrupted")
	ErrModelVersion = errors.New("model format version not supported")
)

// The result types of Parse are defined in package nlu, which links no
// Gorgonia; these aliases keep existing code compiling. New code that only
// reads results (the dialog engine, triage, insight, the channels) should
// import github.com/parleyhq/parley/nlp/nlu instead.
type (
	// Result is what Parse understood of one message (see nlu.Result).
	Result = nlu.Result
	// IntentScore is one ranked intent with its calibrated confidence.
	IntentScore = nlu.IntentScore
	// Entity is an entity found in a message, with rune offsets into its
	// text.
	Entity = nlu.Entity
)

// Meta is the model's meta.json.
type Meta struct {
	FormatVersion int      `json:"format_version"`
	Labels        []string `json:"labels"`
	// Temperature is the softmax temperature that calibrates the
	// confidences. A message is out of scope when its scope score is below
	// Threshold: its top intent's probability at ScopeTemperature times the
	// share of its words seen in training to the power ScopePower. All four
	// are chosen on validation data.
	Threshold        float64 `json:"threshold"`
	Temperature      float64 `json:"temperature"`
	ScopeTemperature float64 `json:"scope_temperature"`
	ScopePower       float64 `json:"scope_power"`
	Seed             uint64  `json:"seed"`
	Typos            int     `json:"typos,omitempty"` // typo copies of each training example (TrainOptions.Typos)
	// DataHash is the SHA-256 of the training data file.
	DataHash     string         `json:"data_hash"`
	DataFile     string         `json:"data_file"`
	DataFormat   dataset.Format `json:"data_format"`
	Validation   ValMetrics     `json:"validation"`
	TrainSeconds float64        `json:"train_seconds"`
	Epochs       []int          `json:"epochs"` // per member of the ensemble: the epochs its weights are from (see Train)
	Config       intent.Config  `json:"config"`
	Features     int            `json:"features"`
	MinDF        int            `json:"min_df,omitempty"` // features seen in fewer training sentences were dropped
	// Tuning is the cross-validation that chose Config and MinDF ("bot
	// train --tune"); nil when they are the defaults or the caller's.
	Tuning  *TuneResult `json:"tuning,omitempty"`
	Vectors string      `json:"vectors,omitempty"`
	// Entities are the domain's entity declarations.
	Entities  []dataset.EntityDef `json:"entities,omitempty"`
	CreatedAt time.Time           `json:"created_at"`
	// Checksums holds the SHA-256 of the other files, to detect damage.
	Checksums map[string]string `json:"checksums"`
}

// ValMetrics are the model's figures on its validation data.
type ValMetrics struct {
	N        int                `json:"n"`
	Accuracy float64            `json:"accuracy"`
	OOS      *intent.OOSMetrics `json:"oos,omitempty"`
}

// Options are the run-time settings of a loaded model. Nil means defaults.
type Options struct {
	// Now is the clock for relative dates ("tomorrow"); nil means time.Now.
	Now func() time.Time
	// Location resolves relative dates; nil means time.Local.
	Location *time.Location
}

// Model is a trained NLU model. It is read-only once loaded and safe for
// concurrent use by many goroutines.
type Model struct {
	meta      Meta
	tokenizer []byte // tokenizer.json, kept for Save
	tok       *tokenize.Tokenizer
	feat      *intent.Featurizer
	net       *intent.Ensemble
	ents      *entity.Extractor
	now       func() time.Time
	oos       int // the index of the dataset.OutOfScope class; -1 when the model has none
}

// Meta returns the model's metadata.
func (m *Model) Meta() Meta { return m.meta }

// Fingerprint identifies what the model does: two models with the same
// fingerprint parse every text alike. It is a hash of the meta data and
// the checksums of the files, less what differs between two trainings of
// the same data with the same seed (when and where, how long it took), so
// nodes that each trained the same model agree.
func (m Meta) Fingerprint() string {
	// fmt prints maps in key order, and nothing here is a pointer.
	return modeldir.Checksum(fmt.Appendf(nil, "%d %q %v %v %v %v %v %+v %+v %v", m.FormatVersion, m.Labels, m.Threshold,
		m.Temperature, m.ScopeTemperature, m.ScopePower, m.Checksums, m.Config, m.Entities, m.Vectors))[:16]
}

// Labels returns the intents the model knows.
func (m *Model) Labels() []string {
	return slices.DeleteFunc(slices.Clone(m.meta.Labels), func(l string) bool { return l == dataset.OutOfScope })
}

// topIntent returns the index of the most probable intent other than the
// out-of-scope class.
func (m *Model) topIntent(probs []float64) int {
	best := -1
	for i, p := range probs {
		if i != m.oos && (best < 0 || p > probs[best]) {
			best = i
		}
	}
	return best
}

// Parse reads one customer message: the ranked intents with calibrated
// confidences, whether it is in scope, its entities and its embedding.
// It returns ErrEmptyText for a text with nothing but white space and
// ErrInvalidUTF8 for bytes that are not UTF-8. A text longer than
// MaxTextBytes is cut there and still answered, with Truncated set.
func (m *Model) Parse(ctx context.Context, text string) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{}
	if len(text) > MaxTextBytes {
		cut := MaxTextBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text, res.Truncated = text[:cut], true
	}
	if !utf8.ValidString(text) {
		return nil, ErrInvalidUTF8
	}
	if strings.TrimSpace(text) == "" {
		return nil, ErrEmptyText
	}
	res.Text = text
	words, caps := splitWords(m.tok, text)
	vec := m.feat.Vectorize(words, nil)
	z := make([]float32, m.net.Dim())
	logits := make([]float32, m.net.Classes())
	m.net.Forward(vec, z, logits)
	probs := make([]float64, len(logits))
	intent.Softmax(logits, m.meta.Temperature, probs)
	order := make([]int, len(probs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(probs[b], probs[a]) })
	for _, i := range order {
		if i == m.oos {
			continue
		}
		res.Ranking = append(res.Ranking, IntentScore{Intent: m.meta.Labels[i], Confidence: probs[i]})
		if len(res.Ranking) == rankingSize {
			break
		}
	}
	res.Intent, res.Confidence = res.Ranking[0].Intent, res.Ranking[0].Confidence
	known := 1.0
	if m.meta.ScopePower > 0 {
		known = m.feat.KnownShare(words, caps)
	}
	res.ScopeScore = m.scopeScore(logits, known, probs)
	// A message with no known feature carries no evidence for any intent.
	res.InScope = len(vec.Rows) > 0 && res.ScopeScore >= m.meta.Threshold
	res.Entities = m.ents.Extract(text, m.now())
	res.Embedding = z
	return res, nil
}

// scopeScore is the score of the in-scope decision for a message's logits
// and the share of its words the model knows (see Meta); probs is scratch
// space of the logits' length.
func (m *Model) scopeScore(logits []float32, known float64, probs []float64) float64 {
	intent.Softmax(logits, m.meta.ScopeTemperature, probs)
	return probs[m.topIntent(probs)] * math.Pow(known, m.meta.ScopePower)
}

// Save writes the model directory dir (created if needed): tokenizer.json,
// weights.bin and meta.json, the last written last, so that a directory
// with a meta.json is complete.
func (m *Model) Save(dir string) error {
	var weights bytes.Buffer
	if err := intent.Save(&weights, m.feat, m.net); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	meta := m.meta
	err := modeldir.Write(dir, map[string][]byte{TokenizerFile: m.tokenizer, WeightsFile: weights.Bytes()}, MetaFile,
		func(sums map[string]string) ([]byte, error) {
			meta.Checksums = sums
			b, err := json.MarshalIndent(meta, "", "  ")
			return append(b, '\n'), err
		})
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	m.meta = meta
	return nil
}

// Load reads a model directory written by Save. The error says which file
// is at fault and why: it wraps ErrModelMissing for a missing file,
// ErrModelVersion for a directory written by another format version, and
// ErrModelCorrupt for a file whose content is damaged.
func Load(dir string, opts *Options) (*Model, error) {
	metaJSON, err := modeldir.Read(dir, MetaFile, ErrModelMissing)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", dir, err)
	}
	var meta Meta
	if err := json.Unmarshal(metaJSON, &meta); err != nil {
		return nil, fmt.Errorf("load model %s: %w: %s: %v", dir, ErrModelCorrupt, MetaFile, err)
	}
	if meta.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("load model %s: %w: the directory has version %d, this build reads version %d; retrain with bot train",
			dir, ErrModelVersion, meta.FormatVersion, FormatVersion)
	}
	if !(meta.Temperature > 0) || !(meta.ScopeTemperature > 0) || math.IsInf(meta.Temperature+meta.ScopeTemperature, 0) ||
		!(meta.ScopePower >= 0 && meta.ScopePower <= maxScopePower) || !(meta.Threshold >= 0 && meta.Threshold <= 1) {
		return nil, fmt.Errorf("load model %s: %w: %s: temperatures must be positive, the scope power in [0, %d] and the threshold in [0, 1]", dir, ErrModelCorrupt, MetaFile, maxScopePower)
	}
	files, err := modeldir.ReadChecked(dir, MetaFile, meta.Checksums, ErrModelMissing, ErrModelCorrupt, TokenizerFile, WeightsFile)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", dir, err)
	}
	feat, net, err := intent.Load(files[WeightsFile])
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w: %s: %v", dir, ErrModelCorrupt, WeightsFile, err)
	}
	if net.Classes() != len(meta.Labels) {
		return nil, fmt.Errorf("load model %s: %w: %s has %d intents, %s has %d", dir, ErrModelCorrupt, WeightsFile, net.Classes(), MetaFile, len(meta.Labels))
	}
	tok, err := tokenize.FromJSON(files[TokenizerFile], nil)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w: %v", dir, ErrModelCorrupt, err)
	}
	return newModel(meta, files[TokenizerFile], tok, feat, net, opts)
}

func newModel(meta Meta, tokJSON []byte, tok *tokenize.Tokenizer, feat *intent.Featurizer, net *intent.Ensemble, opts *Options) (*Model, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	// An entity declared only by annotations has nothing to match with.
	var defs []entity.Def
	for _, d := range meta.Entities {
		if d.Pattern != "" || len(d.Values) > 0 || len(d.Synonyms) > 0 {
			defs = append(defs, entity.Def(d))
		}
	}
	ents, err := entity.New(defs, &entity.Options{Location: o.Location})
	if err != nil {
		return nil, fmt.Errorf("entities: %w", err)
	}
	return &Model{meta: meta, tokenizer: tokJSON, tok: tok, feat: feat, net: net, ents: ents, now: o.Now,
		oos: slices.Index(meta.Labels, dataset.OutOfScope)}, nil
}
