package nlp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/parleyhq/parley/nlp/internal/intent"
	"github.com/parleyhq/parley/nlp/internal/tokenize"
	"github.com/parleyhq/parley/nlp/internal/vectors"
)

// TrainOptions are the settings of Train. The zero value trains with the
// defaults and seed 0.
type TrainOptions struct {
	Seed uint64
	// Tokenizer is the path of a tokenizer.json to use instead of building
	// one from the training data.
	Tokenizer string
	// Vectors is the path of pre-trained word vectors (word2vec binary or
	// text, GloVe text) that initialise the embeddings of known words.
	Vectors string
	// ValFraction is the share of the training examples held out for
	// validation when the data has no validation split; 0 means 10%.
	ValFraction float64
	// Config overrides the network's hyper-parameters; nil means
	// intent.DefaultConfig (its Seed is replaced by Seed above).
	Config *intent.Config
	// MinDF drops features seen in fewer training sentences; 0 means 2.
	MinDF int
	// Ensemble is how many networks to train, with seeds Seed, Seed+1, ...,
	// and average; 0 means DefaultEnsemble.
	Ensemble int
	// Progress, when set, is called with a line of progress to show.
	Progress func(Progress)
}

// Progress is a step of training, for display.
type Progress struct {
	Stage string // "tokenizer", "features", "epoch", "calibrate"
	Epoch intent.Epoch
	// Member and Members say which network of the ensemble is training.
	Member, Members int
	ETA             time.Duration // for "epoch": a rough time left, assuming all epochs run
	Note            string
}

// DefaultEnsemble is how many networks a model averages unless told
// otherwise. A second one took test accuracy from 91.5% to 91.7% on
// Banking77 and from 92.8% to 92.9% on CLINC150; a third would push a
// CLINC150 model past 50 MB for 0.2 more points on Banking77.
const DefaultEnsemble = 2

// Train builds a model from ds: a tokenizer (unless one is given), the
// features, and the network, with early stopping and calibration on the
// validation split (ds.Val, or a seeded hold-out of ds.Train when the data
// has none). Out-of-scope examples in ds.Train are trained on as one more
// class, which takes probability from the intents of messages like them;
// those in the validation split calibrate the out-of-scope threshold.
func Train(ctx context.Context, ds *Dataset, opts TrainOptions) (*Model, error) {
	start := time.Now()
	progress := opts.Progress
	if progress == nil {
		progress = func(Progress) {}
	}
	train, val := splitValidation(ds, opts)
	labels := intentLabels(train)
	intents := len(labels)
	if intents < 2 {
		return nil, fmt.Errorf("train: %w", intent.ErrOneClass)
	}
	for _, ex := range train {
		if ex.Intent == OutOfScope {
			labels = append(labels, OutOfScope) // the last class
			break
		}
	}

	tokJSON, tok, err := trainTokenizer(train, opts.Tokenizer, progress)
	if err != nil {
		return nil, err
	}

	progress(Progress{Stage: "features", Note: fmt.Sprintf("%d training and %d validation examples, %d intents", len(train), len(val), intents)})
	trainWords := wordsOf(tok, train)
	minDF := opts.MinDF
	if minDF == 0 {
		minDF = 2
	}
	feat := intent.BuildFeaturizer(trainWords, minDF)
	labelIndex := map[string]int{}
	for i, l := range labels {
		labelIndex[l] = i
	}
	samples := func(words [][]string, exs []Example) []intent.Sample {
		out := make([]intent.Sample, 0, len(exs))
		for i, ex := range exs {
			if c, ok := labelIndex[ex.Intent]; ok {
				out = append(out, intent.Sample{Vec: feat.Vectorize(words[i], nil), Label: c})
			}
		}
		return out
	}
	trainSamples := samples(trainWords, train)
	valWords := wordsOf(tok, val)
	valSamples := samples(valWords, val)

	var init func(*intent.Net)
	if opts.Vectors != "" {
		vs, err := vectors.Load(opts.Vectors)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		init = func(n *intent.Net) {
			found := feat.InitWords(n, trainWords, vs.Lookup, vs.Dim(), opts.Seed)
			progress(Progress{Stage: "features", Note: fmt.Sprintf("%d of the training words have pre-trained vectors", found)})
		}
	}
	cfg := intent.DefaultConfig
	if opts.Config != nil {
		cfg = *opts.Config
	}
	members := opts.Ensemble
	if members <= 0 {
		members = DefaultEnsemble
	}
	ens := &intent.Ensemble{}
	epochs := make([]int, members)
	for k := range members {
		member := cfg
		member.Seed = opts.Seed + uint64(k)
		net, err := intent.Train(ctx, trainSamples, valSamples, feat.Len(), len(labels), member, init, func(e intent.Epoch) {
			epochs[k] = e.Epoch
			eta := time.Duration(float64(e.Elapsed) / float64(e.Epoch) * float64(e.Epochs-e.Epoch))
			progress(Progress{Stage: "epoch", Epoch: e, ETA: eta, Member: k + 1, Members: members})
		})
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		ens.Nets = append(ens.Nets, net)
	}
	cfg.Seed = opts.Seed

	progress(Progress{Stage: "calibrate"})
	meta := Meta{
		FormatVersion: FormatVersion,
		Labels:        labels,
		Temperature:   1,
		Seed:          opts.Seed,
		DataHash:      hashExamples(train, val),
		DataFile:      filepath.Base(ds.Source),
		DataFormat:    ds.Format,
		Config:        cfg,
		Epochs:        epochs,
		Features:      feat.Len(),
		Entities:      ds.EntityDefs,
		CreatedAt:     time.Now().UTC().Truncate(time.Second),
	}
	if opts.Vectors != "" {
		meta.Vectors = filepath.Base(opts.Vectors)
	}
	m, err := newModel(meta, tokJSON, tok, feat, ens, nil)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	m.calibrate(valWords, val, labelIndex)
	m.meta.TrainSeconds = math.Round(time.Since(start).Seconds()*10) / 10
	return m, nil
}

// calibrate fits the temperature on the in-scope validation examples and
// then the out-of-scope threshold on all of them.
func (m *Model) calibrate(words [][]string, val []Example, labelIndex map[string]int) {
	var logits [][]float32
	var labels []int
	all := make([][]float32, len(val))
	for i, ex := range val {
		z := make([]float32, m.net.Dim())
		l := make([]float32, m.net.Classes())
		m.net.Forward(m.feat.Vectorize(words[i], nil), z, l)
		all[i] = l
		if c, ok := labelIndex[ex.Intent]; ok {
			logits = append(logits, l)
			labels = append(labels, c)
		}
	}
	m.meta.Temperature = intent.FitTemperature(logits, labels)
	scored := make([]intent.Scored, 0, len(val))
	probs := make([]float64, m.net.Classes())
	var correct, in int
	for i, ex := range val {
		oos := ex.Intent == OutOfScope
		c, known := labelIndex[ex.Intent]
		if !known && !oos {
			continue // an intent the training split lacks
		}
		intent.Softmax(all[i], m.meta.Temperature, probs)
		top := m.topIntent(probs)
		s := intent.Scored{Confidence: probs[top], Correct: !oos && top == c, OOS: oos}
		scored = append(scored, s)
		if !oos {
			in++
			if s.Correct {
				correct++
			}
		}
	}
	m.meta.Threshold = intent.CalibrateThreshold(scored)
	m.meta.Validation = ValMetrics{N: len(scored), Accuracy: ratio(correct, in)}
	if in < len(scored) {
		oos := intent.MeasureOOS(scored, m.meta.Threshold)
		m.meta.Validation.OOS = &oos
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// splitValidation returns the training and validation examples: ds.Val when
// the data has one, else a seeded, per-intent hold-out of ds.Train.
func splitValidation(ds *Dataset, opts TrainOptions) (train, val []Example) {
	if len(ds.Val) > 0 {
		return ds.Train, ds.Val
	}
	frac := opts.ValFraction
	if frac <= 0 || frac >= 1 {
		frac = 0.1
	}
	byIntent := map[string][]int{}
	for i, ex := range ds.Train {
		byIntent[ex.Intent] = append(byIntent[ex.Intent], i)
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	held := make([]bool, len(ds.Train))
	for _, name := range intentLabels(ds.Train) {
		idx := byIntent[name]
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		n := int(math.Round(frac * float64(len(idx))))
		if n >= len(idx) { // keep at least one example to train on
			n = len(idx) - 1
		}
		for _, i := range idx[:n] {
			held[i] = true
		}
	}
	for i, ex := range ds.Train {
		if held[i] {
			val = append(val, ex)
		} else {
			train = append(train, ex)
		}
	}
	return train, val
}

// intentLabels returns the sorted distinct intents of exs, without
// OutOfScope.
func intentLabels(exs []Example) []string {
	seen := map[string]bool{}
	var labels []string
	for _, ex := range exs {
		if !seen[ex.Intent] && ex.Intent != OutOfScope {
			seen[ex.Intent] = true
			labels = append(labels, ex.Intent)
		}
	}
	slices.Sort(labels)
	return labels
}

// trainTokenizer builds the tokenizer from the training texts, or reads the
// user's, and returns its tokenizer.json with the loaded tokenizer.
func trainTokenizer(exs []Example, userPath string, progress func(Progress)) ([]byte, *tokenize.Tokenizer, error) {
	var data []byte
	if userPath != "" {
		b, err := os.ReadFile(userPath)
		if err != nil {
			return nil, nil, fmt.Errorf("train: read tokenizer: %w", err)
		}
		data = b
		progress(Progress{Stage: "tokenizer", Note: "using " + userPath})
	} else {
		texts := make([]string, len(exs))
		for i, ex := range exs {
			texts[i] = ex.Text
		}
		b, err := tokenize.Build(texts, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("train: build tokenizer: %w", err)
		}
		data = b
	}
	tok, err := tokenize.FromJSON(data, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("train: %w", err)
	}
	progress(Progress{Stage: "tokenizer", Note: fmt.Sprintf("vocabulary of %d tokens", tok.VocabSize())})
	return data, tok, nil
}

// wordsOf returns the normalised words of each example.
func wordsOf(tok *tokenize.Tokenizer, exs []Example) [][]string {
	out := make([][]string, len(exs))
	for i, ex := range exs {
		enc := tok.Encode(ex.Text)
		words := make([]string, len(enc.Words))
		for j, w := range enc.Words {
			words[j] = w.Text
		}
		out[i] = words
	}
	return out
}

// hashExamples is the SHA-256 of the examples a model was trained and
// validated on, independent of the file format they came in.
func hashExamples(sets ...[]Example) string {
	h := sha256.New()
	for _, set := range sets {
		for _, ex := range set {
			fmt.Fprintf(h, "%q\t%q\n", ex.Intent, ex.Text)
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
