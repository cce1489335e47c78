package seq2seq

import (
	"cmp"
	"math"
	"slices"
)

// The plain-Go forward pass, the same computation as the training graph
// (see buildGraph) for one pair at a time, without padding.

// matVec adds x·W to out, W being [len(x), len(out)] row-major.
func matVec(x, w, out []float32) {
	n := len(out)
	for i, xi := range x {
		if xi == 0 {
			continue
		}
		row := w[i*n : (i+1)*n]
		for j, wj := range row {
			out[j] += xi * wj
		}
	}
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

func tanh32(x float32) float32 { return float32(math.Tanh(float64(x))) }

// gruStep returns the GRU's next state from h and input x; base is pEncW
// or pDecW.
func (m *Model) gruStep(base int, x, h []float32) []float32 {
	hd := len(h)
	var pre [3][]float32
	for k := range 3 {
		p := slices.Clone(m.w[base+6+k])
		matVec(x, m.w[base+k], p)
		pre[k] = p
	}
	hu := [3][]float32{make([]float32, hd), make([]float32, hd), make([]float32, hd)}
	for k := range 3 {
		matVec(h, m.w[base+3+k], hu[k])
	}
	out := make([]float32, hd)
	for j := range out {
		z := sigmoid(pre[0][j] + hu[0][j])
		r := sigmoid(pre[1][j] + hu[1][j])
		n := tanh32(pre[2][j] + r*hu[2][j])
		out[j] = n + z*(h[j]-n)
	}
	return out
}

// encoded is a question run through the encoder.
type encoded struct {
	hs   [][]float32 // encoder state after each token
	keys [][]float32 // hs·Wa, for the attention scores
}

// encode runs the encoder over the question's ids and returns its states
// and the last one (the decoder's first state).
func (m *Model) encode(src []int32) (*encoded, []float32) {
	h, e := m.meta.Hidden, m.meta.Embed
	enc := &encoded{}
	state := make([]float32, h)
	for _, id := range src {
		state = m.gruStep(pEncW, m.w[pEmbIn][int(id)*e:(int(id)+1)*e], state)
		enc.hs = append(enc.hs, state)
		k := make([]float32, h)
		matVec(state, m.w[pWa], k)
		enc.keys = append(enc.keys, k)
	}
	return enc, state
}

// decodeStep feeds token prev to the decoder in state s and returns the
// new state and the log-probabilities of the next token.
func (m *Model) decodeStep(enc *encoded, s []float32, prev int32) ([]float32, []float32) {
	s, logits := m.stepLogits(enc, s, prev)
	return s, logSoftmax(logits)
}

// stepLogits is decodeStep returning the logits.
func (m *Model) stepLogits(enc *encoded, s []float32, prev int32) ([]float32, []float32) {
	e := m.meta.Embed
	s = m.gruStep(pDecW, m.w[pEmbOut][int(prev)*e:(int(prev)+1)*e], s)
	scores := make([]float64, len(enc.keys))
	top := math.Inf(-1)
	for j, k := range enc.keys {
		var d float32
		for i, ki := range k {
			d += s[i] * ki
		}
		scores[j] = float64(d)
		top = max(top, scores[j])
	}
	var z float64
	for j := range scores {
		scores[j] = math.Exp(scores[j] - top)
		z += scores[j]
	}
	ctx := make([]float32, len(s))
	for j, hj := range enc.hs {
		a := float32(scores[j] / z)
		for i, x := range hj {
			ctx[i] += a * x
		}
	}
	o := slices.Clone(m.w[pBc])
	matVec(s, m.w[pWc1], o)
	matVec(ctx, m.w[pWc2], o)
	for i := range o {
		o[i] = tanh32(o[i])
	}
	v := m.out.len()
	logits := slices.Clone(m.w[pWo][e*v:])
	matVec(o, m.w[pWo][:e*v], logits)
	return s, logits
}

// logSoftmax turns logits into log-probabilities in place.
func logSoftmax(x []float32) []float32 {
	top := float32(math.Inf(-1))
	for _, v := range x {
		top = max(top, v)
	}
	var z float64
	for _, v := range x {
		z += math.Exp(float64(v - top))
	}
	lz := float32(math.Log(z)) + top
	for i := range x {
		x[i] -= lz
	}
	return x
}

// questionIDs tokenizes a question the way training did.
func (m *Model) questionIDs(question string) []int32 {
	toks := Tokenize(question)
	src := m.in.encode(toks[:min(len(toks), m.meta.MaxIn)])
	if len(src) == 0 {
		src = []int32{unkID}
	}
	return src
}

// Generate writes an answer to question: greedy decoding when beam <= 1,
// else beam search with that many hypotheses (returning the greedy answer
// when it scores higher). Answers stop at </s> or MaxOut tokens. It is
// safe for concurrent use.
func (m *Model) Generate(question string, beam int) string {
	ids, _ := m.decode(m.questionIDs(question), beam)
	toks := make([]string, len(ids))
	for i, id := range ids {
		toks[i] = m.out.toks[id]
	}
	return Detokenize(toks)
}

// banned reports whether the decoder may never write id.
func banned(id int) bool { return id == padID || id == bosID || id == unkID }

// decode returns the answer's ids (without </s>) and their total
// log-probability under the model, </s> included when written.
func (m *Model) decode(src []int32, beam int) ([]int32, float64) {
	enc, s := m.encode(src)
	ids, lp := m.greedy(enc, s)
	if beam > 1 {
		if bids, blp := m.beam(enc, s, beam); blp > lp {
			return bids, blp
		}
	}
	return ids, lp
}

// score is the log-probability of the answer ids (then </s>, unless they
// fill MaxOut) for the question src.
func (m *Model) score(src, ids []int32) float64 {
	enc, s := m.encode(src)
	var total float64
	prev := int32(bosID)
	for i := 0; i <= len(ids) && i < m.meta.MaxOut; i++ {
		var lp []float32
		s, lp = m.decodeStep(enc, s, prev)
		next := int32(eosID)
		if i < len(ids) {
			next = ids[i]
		}
		total += float64(lp[next])
		prev = next
	}
	return total
}

func (m *Model) greedy(enc *encoded, s []float32) ([]int32, float64) {
	var ids []int32
	var total float64
	prev := int32(bosID)
	for range m.meta.MaxOut {
		var lp []float32
		s, lp = m.decodeStep(enc, s, prev)
		best := -1
		for id, v := range lp {
			if !banned(id) && (best < 0 || v > lp[best]) {
				best = id
			}
		}
		total += float64(lp[best])
		if best == eosID {
			break
		}
		ids = append(ids, int32(best))
		prev = int32(best)
	}
	return ids, total
}

type hyp struct {
	ids   []int32
	state []float32
	lp    float64
}

// beam is beam search on the total log-probability. A finished answer
// ends the search once no open hypothesis can beat it (log-probabilities
// only fall).
func (m *Model) beam(enc *encoded, s []float32, k int) ([]int32, float64) {
	open := []hyp{{state: s}}
	var done *hyp
	type cand struct {
		from int
		id   int32
		lp   float64
	}
	for step := 0; step < m.meta.MaxOut && len(open) > 0; step++ {
		var cands []cand
		states := make([][]float32, len(open))
		for i, h := range open {
			prev := int32(bosID)
			if n := len(h.ids); n > 0 {
				prev = h.ids[n-1]
			}
			var lp []float32
			states[i], lp = m.decodeStep(enc, h.state, prev)
			for _, id := range topK(lp, k) {
				cands = append(cands, cand{from: i, id: int32(id), lp: h.lp + float64(lp[id])})
			}
		}
		slices.SortStableFunc(cands, func(a, b cand) int { return cmp.Compare(b.lp, a.lp) })
		var next []hyp
		for _, c := range cands {
			if len(next) == k || (done != nil && c.lp <= done.lp) {
				break
			}
			ids := append(slices.Clone(open[c.from].ids), c.id)
			if c.id == eosID {
				done = &hyp{ids: ids[:len(ids)-1], lp: c.lp}
				continue
			}
			next = append(next, hyp{ids: ids, state: states[c.from], lp: c.lp})
		}
		open = next
	}
	for _, h := range open { // cut at MaxOut
		if done == nil || h.lp > done.lp {
			done = &h
		}
	}
	if done == nil {
		return nil, math.Inf(-1)
	}
	return done.ids, done.lp
}

// topK returns the ids of the k highest log-probabilities that may be
// written.
func topK(lp []float32, k int) []int {
	var top []int
	for id, v := range lp {
		if banned(id) {
			continue
		}
		if len(top) < k {
			top = append(top, id)
		} else if v <= lp[top[k-1]] {
			continue
		} else {
			top[k-1] = id
		}
		for i := len(top) - 1; i > 0 && lp[top[i]] > lp[top[i-1]]; i-- {
			top[i], top[i-1] = top[i-1], top[i]
		}
	}
	return top
}
