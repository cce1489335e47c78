package encoder

import (
	"errors"
	"math"

	"github.com/parleyhq/parley/nlp/internal/intent"
	"github.com/parleyhq/parley/nlp/internal/tokenize"
)

// Pair is one training or evaluation example: a question and the answer
// that fits it.
type Pair struct {
	Question, Answer string
}

// Side names a tower: questions and answers are encoded by different
// weights, as they are different kinds of text.
type Side int

// The two towers.
const (
	Question Side = iota
	Answer
)

// Errors from Train, Save and Load, for errors.Is.
var (
	ErrNoData  = errors.New("not enough training pairs")
	ErrOptions = errors.New("invalid encoder options")
	// ErrVersion: the model directory was written by another format version.
	ErrVersion = errors.New("encoder model of another format version")
	// ErrCorrupt: a model file is damaged or does not match meta.json.
	ErrCorrupt = errors.New("corrupted encoder model")
	// ErrMissing: a model file is missing.
	ErrMissing = errors.New("encoder model file missing")
)

// tower is one side's weights: the embedding table E [features, Dim] and
// the dense layer W [Dim, Dim], B [Dim]. The output of a text is
// normalise(bag·W + B), bag being the TF-IDF weighted sum of its features'
// rows of E.
type tower struct {
	E, W, B []float32
}

// Encoder maps texts to unit vectors. It is read-only once trained or
// loaded and safe for concurrent use: every call allocates its own scratch.
type Encoder struct {
	meta    Meta
	tokJSON []byte
	tok     *tokenize.Tokenizer
	feat    *intent.Featurizer
	dim     int
	towers  [2]tower
}

// shared says whether the towers share one embedding table.
func (e *Encoder) shared() bool {
	a, b := e.towers[0].E, e.towers[1].E
	return len(a) > 0 && len(b) > 0 && &a[0] == &b[0]
}

// Dim returns the length of the vectors.
func (e *Encoder) Dim() int { return e.dim }

// Meta returns what the model was trained with.
func (e *Encoder) Meta() Meta { return e.meta }

// EncodeQuestion returns the unit vector of a question. A text with no
// known feature gets the tower's bias direction (the same for every such
// text), never NaN.
func (e *Encoder) EncodeQuestion(text string) []float32 { return e.Encode(Question, text) }

// EncodeAnswer returns the unit vector of an answer; see EncodeQuestion.
func (e *Encoder) EncodeAnswer(text string) []float32 { return e.Encode(Answer, text) }

// Encode returns the unit vector of text on the given side.
func (e *Encoder) Encode(side Side, text string) []float32 {
	return e.encodeVec(side, e.vectorize(text))
}

// vectorize returns the sparse TF-IDF vector of text.
func (e *Encoder) vectorize(text string) intent.Vector {
	enc := e.tok.Encode(text)
	words := make([]string, len(enc.Words))
	for i, w := range enc.Words {
		words[i] = w.Text
	}
	return e.feat.Vectorize(words, nil)
}

// encodeVec runs one tower on a sparse vector, as the training graph does.
func (e *Encoder) encodeVec(side Side, v intent.Vector) []float32 {
	t := &e.towers[side]
	d := e.dim
	bag := make([]float32, d)
	for i, r := range v.Rows {
		intent.Axpy(v.Weights[i], t.E[int(r)*d:int(r+1)*d], bag)
	}
	out := make([]float32, d)
	copy(out, t.B)
	for j, x := range bag {
		intent.Axpy(x, t.W[j*d:(j+1)*d], out)
	}
	normalize(out)
	return out
}

// normalize scales v to unit length (a zero vector stays zero).
func normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
}

// Dot is the dot product of two vectors of one length: the cosine of two
// unit vectors.
func Dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}
