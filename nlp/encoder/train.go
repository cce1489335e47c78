package encoder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/parleyhq/parley/nlp/internal/intent"
	"github.com/parleyhq/parley/nlp/internal/tokenize"
)

// initScale is the standard deviation of the initial embeddings: a TF-IDF
// vector has norm sqrt(2) (two L2-normalised groups), so a bag starts with
// roughly unit variance, as in the intent model.
const initScale = 0.7

// Train fits an Encoder to pairs with in-batch softmax (see the package
// documentation). The tokenizer and the featurizer are built from the
// pairs' texts. Errors wrap ErrNoData (fewer than two pairs, an empty text,
// or no feature at all), ErrOptions, or ctx's error when it is cancelled
// (checked between batches).
func Train(ctx context.Context, pairs []Pair, opts Options) (*Encoder, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("train encoder: %w", err)
	}
	if len(pairs) < 2 {
		return nil, fmt.Errorf("train encoder: %w: %d pairs, want at least 2", ErrNoData, len(pairs))
	}
	texts := make([]string, 0, 2*len(pairs))
	for i, p := range pairs {
		if strings.TrimSpace(p.Question) == "" || strings.TrimSpace(p.Answer) == "" {
			return nil, fmt.Errorf("train encoder: %w: pair %d has an empty question or answer", ErrNoData, i)
		}
		texts = append(texts, p.Question, p.Answer)
	}
	start := time.Now()
	tokOpts := &tokenize.Options{MaxTokens: o.MaxTokens}
	tokJSON := o.Tokenizer
	if tokJSON == nil {
		if tokJSON, err = tokenize.Build(texts, tokOpts); err != nil {
			return nil, fmt.Errorf("train encoder: build tokenizer: %w", err)
		}
	}
	tok, err := tokenize.FromJSON(tokJSON, tokOpts)
	if err != nil {
		return nil, fmt.Errorf("train encoder: %w", err)
	}
	e := &Encoder{tokJSON: tokJSON, tok: tok, dim: o.Dim}
	words := make([][]string, len(texts))
	for i, t := range texts {
		enc := tok.Encode(t)
		words[i] = make([]string, len(enc.Words))
		for j, w := range enc.Words {
			words[i][j] = w.Text
		}
	}
	e.feat = intent.BuildFeaturizer(words, o.MinDF)
	if e.feat.Len() == 0 {
		return nil, fmt.Errorf("train encoder: %w: no feature occurs in %d texts", ErrNoData, o.MinDF)
	}
	data := &trainData{qv: make([]intent.Vector, len(pairs)), av: make([]intent.Vector, len(pairs)),
		qid: make([]int, len(pairs)), aid: make([]int, len(pairs))}
	qids, aids := map[string]int{}, map[string]int{}
	for i, p := range pairs {
		data.qv[i] = e.feat.Vectorize(words[2*i], nil)
		data.av[i] = e.feat.Vectorize(words[2*i+1], nil)
		data.qid[i] = idOf(qids, p.Question)
		data.aid[i] = idOf(aids, p.Answer)
	}
	words = nil // the vectors are all training needs from here

	rng := rand.New(rand.NewPCG(o.Seed, 0xe4c0de))
	f, d := e.feat.Len(), o.Dim
	for s := range e.towers {
		t := &e.towers[s]
		if s == 1 && o.Shared {
			t.E = e.towers[0].E
		} else {
			t.E = make([]float32, f*d)
			for i := range t.E {
				t.E[i] = float32(rng.NormFloat64() * initScale)
			}
		}
		t.W = make([]float32, d*d)
		lim := math.Sqrt(6 / float64(2*d))
		for i := range t.W {
			t.W[i] = float32((rng.Float64()*2 - 1) * lim)
		}
		t.B = make([]float32, d)
	}
	if o.Vectors != nil {
		sentences := make([][]string, 0, len(texts))
		for _, t := range texts {
			enc := tok.Encode(t)
			ws := make([]string, len(enc.Words))
			for j, w := range enc.Words {
				ws[j] = w.Text
			}
			sentences = append(sentences, ws)
		}
		for s := range e.towers {
			if s == 1 && o.Shared {
				break
			}
			// InitWords writes the rows of a Net's E: this one's E is the tower's.
			net := &intent.Net{Features: f, Dim: d, E: e.towers[s].E}
			e.feat.InitWords(net, sentences, o.Vectors, o.VectorDim, o.Seed+uint64(s))
		}
	}

	batch := min(o.Batch, len(pairs))
	tr, err := newTrainer(e, o, batch, rng)
	if err != nil {
		return nil, fmt.Errorf("train encoder: %w", err)
	}
	defer tr.close()

	val := newValSet(o.Validation)
	bestR1 := math.Inf(-1)
	var best [2]tower
	perm := make([]int, len(pairs))
	for i := range perm {
		perm[i] = i
	}
	trained := 0
	for ep := 1; ep <= o.Epochs; ep++ {
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		var sum float64
		steps := 0
		// A last partial batch is left out: its in-batch softmax would have
		// fewer negatives. The shuffle gives those pairs their turn in other
		// epochs.
		for b := 0; b+batch <= len(perm); b += batch {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("train encoder: %w", err)
			}
			loss, err := tr.step(data, perm[b:b+batch])
			if err != nil {
				return nil, fmt.Errorf("train encoder: epoch %d: %w", ep, err)
			}
			sum += loss
			steps++
		}
		trained = ep
		ev := Epoch{Epoch: ep, Epochs: o.Epochs, Loss: sum / float64(steps), ValR1: math.NaN(), Elapsed: time.Since(start)}
		if val != nil {
			ev.ValR1 = val.recallAt1(e)
			if ev.ValR1 > bestR1 {
				bestR1, ev.Best = ev.ValR1, true
				for s := range best {
					src := e.towers[s]
					if s == 1 && o.Shared {
						src.E = nil // the table is copied once, with tower 0
					}
					best[s] = src.clone(best[s])
				}
				if o.Shared {
					best[1].E = best[0].E
				}
			}
		}
		if o.Progress != nil {
			o.Progress(ev)
		}
	}
	if val != nil {
		for s := range best {
			e.towers[s] = best[s]
		}
		if o.Shared {
			e.towers[1].E = e.towers[0].E
		}
	}
	e.meta = Meta{
		FormatVersion: FormatVersion, Dim: d, Features: f, Epochs: trained, Batch: batch, LR: o.LR,
		Temperature: o.Temperature, Symmetric: o.Symmetric, Shared: o.Shared, InDropout: o.InDropout, MinDF: o.MinDF, MaxTokens: o.MaxTokens, Seed: o.Seed,
		Pairs: len(pairs), DataHash: hashPairs(pairs),
	}
	if val != nil {
		e.meta.ValR1 = &bestR1
	}
	return e, nil
}

// trainData is the training pairs as sparse vectors, with an id per
// distinct question and per distinct answer, so that a batch with two
// copies of one text does not count one as the other's negative.
type trainData struct {
	qv, av   []intent.Vector
	qid, aid []int
}

func idOf(ids map[string]int, s string) int {
	id, ok := ids[s]
	if !ok {
		id = len(ids)
		ids[s] = id
	}
	return id
}

// clone copies t into dst (allocated when too small) and returns it.
func (t *tower) clone(dst tower) tower {
	cp := func(dst, src []float32) []float32 {
		if cap(dst) < len(src) {
			dst = make([]float32, len(src))
		}
		dst = dst[:len(src)]
		copy(dst, src)
		return dst
	}
	return tower{E: cp(dst.E, t.E), W: cp(dst.W, t.W), B: cp(dst.B, t.B)}
}

// hashPairs is the SHA-256 of the training pairs, recorded in the model.
func hashPairs(pairs []Pair) string {
	h := sha256.New()
	for _, p := range pairs {
		fmt.Fprintf(h, "%q\t%q\n", p.Question, p.Answer)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// valSet is Options.Validation prepared for recall at 1: each question's
// answer among the distinct validation answers.
type valSet struct {
	questions []string
	answers   []string
	gold      []int
}

func newValSet(pairs []Pair) *valSet {
	if len(pairs) == 0 {
		return nil
	}
	v := &valSet{}
	ids := map[string]int{}
	for _, p := range pairs {
		id, ok := ids[p.Answer]
		if !ok {
			id = len(v.answers)
			ids[p.Answer] = id
			v.answers = append(v.answers, p.Answer)
		}
		v.questions = append(v.questions, p.Question)
		v.gold = append(v.gold, id)
	}
	return v
}

func (v *valSet) recallAt1(e *Encoder) float64 {
	scores := EncoderScores(e, v.questions, v.answers)
	return Recall(scores, v.gold).R1
}
