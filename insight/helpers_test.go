package insight

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/nlp/nlu"
)

// fakeSource is an in-memory Source.
type fakeSource struct {
	convs []crm.Conversation       // sorted by ID
	msgs  map[string][]crm.Message // by conversation, in Seq order
	err   error                    // returned by every call when set
}

func (s *fakeSource) Conversations(ctx context.Context, afterID string, limit int) ([]crm.Conversation, error) {
	if s.err != nil {
		return nil, s.err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	i := sort.Search(len(s.convs), func(i int) bool { return s.convs[i].ID > afterID })
	return slices.Clone(s.convs[i:min(len(s.convs), i+limit)]), nil
}

func (s *fakeSource) MessagesAfter(ctx context.Context, id string, afterSeq uint64, limit int) ([]crm.Message, error) {
	if s.err != nil {
		return nil, s.err
	}
	all, ok := s.msgs[id]
	if !ok {
		return nil, crm.ErrNotFound
	}
	i := sort.Search(len(all), func(i int) bool { return all[i].Seq > afterSeq })
	end := len(all)
	if limit > 0 {
		end = min(end, i+limit)
	}
	return slices.Clone(all[i:end]), nil
}

// add appends a message to conversation conv (created on first use).
func (s *fakeSource) add(conv string, m crm.Message) {
	if s.msgs == nil {
		s.msgs = map[string][]crm.Message{}
	}
	if _, ok := s.msgs[conv]; !ok {
		s.convs = append(s.convs, crm.Conversation{ID: conv})
		slices.SortFunc(s.convs, func(a, b crm.Conversation) int { return strings.Compare(a.ID, b.ID) })
	}
	m.ConversationID = conv
	m.Seq = uint64(len(s.msgs[conv]) + 1)
	if m.Sender == "" {
		m.Sender = crm.SenderCustomer
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	}
	s.msgs[conv] = append(s.msgs[conv], m)
}

// fakeParser answers from a table; texts not in it are refused as empty.
type fakeParser struct {
	results map[string]*nlu.Result
	calls   int
	err     error // returned for every text when set
}

func (p *fakeParser) Parse(ctx context.Context, text string) (*nlu.Result, error) {
	p.calls++
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p.err != nil {
		return nil, p.err
	}
	r, ok := p.results[text]
	if !ok {
		return nil, nlu.ErrEmptyText
	}
	c := *r
	c.Embedding = slices.Clone(r.Embedding)
	return &c, nil
}

// group is a hand-made kind of question: its texts get embeddings near one
// direction of the space.
type group struct {
	name  string
	axis  int
	texts []string // texts[0] is put exactly on the axis: the most representative
}

var groups = []group{
	{"gift card", 0, []string{
		"how do I check my gift card balance",
		"what is the balance on my gift card",
		"can I pay with a gift card",
		"my gift card does not work at checkout",
		"where do I enter the gift card number",
		"is there money left on my gift card",
	}},
	{"loyalty points", 3, []string{
		"how many loyalty points do I have",
		"can I redeem my loyalty points",
		"do loyalty points expire",
		"why did I not get loyalty points for my last purchase",
		"how do loyalty points work",
	}},
	{"store hours", 6, []string{
		"what are the opening hours of your store in Berlin",
		"is your store open on Sunday",
		"when does the Berlin store close today",
		"what time does the store open tomorrow",
	}},
}

const testDim = 9

// embeddings returns one vector per text of the group, near the group's
// axis: the first exactly on it, the others jittered by rng around it with
// jitter that sums to zero, so the first is the closest to the centre.
func embeddings(g group, rng *rand.Rand) [][]float32 {
	out := make([][]float32, len(g.texts))
	mean := make([]float64, testDim)
	noise := make([][]float64, len(g.texts))
	for i := 1; i < len(g.texts); i++ {
		noise[i] = make([]float64, testDim)
		for j := range noise[i] {
			noise[i][j] = rng.NormFloat64() * 0.4
		}
		// Jitter a neighbour axis more, so groups are not single lines.
		noise[i][(g.axis+1)%testDim] += rng.NormFloat64()
		for j, v := range noise[i] {
			mean[j] += v / float64(len(g.texts)-1)
		}
	}
	for i := range out {
		out[i] = make([]float32, testDim)
		out[i][g.axis] = 3 // the length does not matter: Analyze scales to unit length
		if i > 0 {
			for j := range out[i] {
				out[i][j] += float32(noise[i][j] - mean[j])
			}
		}
	}
	return out
}

// testData builds a store of three groups of unknown questions asked by
// customers (each text twice, in different conversations), with answered
// in-scope messages and bot replies mixed in. Half the unknown messages
// carry a stored parse; the parser knows every text.
func testData(t testing.TB) (*fakeSource, *fakeParser) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	src := &fakeSource{}
	p := &fakeParser{results: map[string]*nlu.Result{}}
	n := 0
	for _, g := range groups {
		emb := embeddings(g, rng)
		for i, text := range g.texts {
			res := &nlu.Result{Text: text, Intent: "product_info", Confidence: 0.2 + 0.05*float64(i%4), InScope: i%2 == 0,
				Ranking:   []nlu.IntentScore{{Intent: "product_info", Confidence: 0.3}, {Intent: "order_status", Confidence: 0.1}},
				Embedding: emb[i]}
			if res.InScope {
				res.Confidence = 0.45
			}
			p.results[text] = res
			for copy := range 2 {
				conv := fmt.Sprintf("conv-%03d", n%17)
				n++
				m := crm.Message{Text: text, CreatedAt: time.Date(2026, 1, 1+n%28, 0, 0, 0, 0, time.UTC)}
				if copy == 0 {
					raw, err := json.Marshal(res)
					if err != nil {
						t.Fatal(err)
					}
					m.Parse = raw
				}
				src.add(conv, m)
				src.add(conv, crm.Message{Sender: crm.SenderBot, Text: "Sorry, I did not get that."})
			}
		}
	}
	// Questions the bot knows well: never analysed.
	for i, text := range []string{"where is my order 1042", "I want a refund", "cancel my order please"} {
		res := &nlu.Result{Text: text, Intent: "order_status", Confidence: 0.95, InScope: true, Embedding: embeddings(groups[0], rng)[1]}
		p.results[text] = res
		src.add(fmt.Sprintf("conv-%03d", i), crm.Message{Text: text, CreatedAt: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)})
	}
	return src, p
}

// groupOf returns the group a text belongs to, or -1.
func groupOf(text string) int {
	for gi, g := range groups {
		if slices.Contains(g.texts, text) {
			return gi
		}
	}
	return -1
}
