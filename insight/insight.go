package insight

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/models"
	"github.com/parleyhq/parley/nlp/nlu"
)

// Defaults of Options.
const (
	DefaultMinConfidence = 0.5
	DefaultMaxK          = 8
	DefaultExamples      = 5
	DefaultTopWords      = 5
)

// maxK bounds Options.K and Options.MaxK: more candidate intents than this
// is no longer a summary a person reads.
const maxK = 100

// Source is the part of the store Analyze reads: every conversation, a page
// at a time, and the messages of each.
type Source interface {
	// Conversations returns the conversations whose ID sorts after afterID
	// (all of them for ""), in ID order, at most limit of them. A page
	// shorter than limit is the last.
	Conversations(ctx context.Context, afterID string, limit int) ([]crm.Conversation, error)
	// MessagesAfter returns the conversation's messages with Seq > afterSeq
	// in order, at most limit (0: all), as crm.ConversationStore does.
	MessagesAfter(ctx context.Context, conversationID string, afterSeq uint64, limit int) ([]crm.Message, error)
}

// Parser gives the embedding (and the current verdict) of a message to
// analyse whose stored parse has none (the dialog engine stores parses
// without it), and parses messages stored without a parse. *nlp.Model
// implements it.
type Parser interface {
	Parse(ctx context.Context, text string) (*nlu.Result, error)
}

// Options tune Analyze. The zero value is ready to use.
type Options struct {
	// MinConfidence: besides every out-of-scope message, in-scope messages
	// whose confidence is below it are analysed. 0 means
	// DefaultMinConfidence; a negative value analyses out-of-scope messages
	// only.
	MinConfidence float64
	// K is the number of clusters; 0 chooses it by silhouette among
	// 2..MaxK.
	K int
	// MaxK is the largest k tried when K is 0; 0 means DefaultMaxK.
	MaxK int
	// Examples is the number of representative messages per cluster; 0
	// means DefaultExamples.
	Examples int
	// TopWords is the number of distinctive words per cluster; 0 means
	// DefaultTopWords.
	TopWords int
	// Seed seeds k-means and the silhouette sample.
	Seed uint64
	// Since, when not zero, leaves out messages created before it.
	Since time.Time
	// Reparse parses every customer message with the Parser, ignoring
	// stored parses: the current model decides what was understood, and
	// all embeddings come from it (stored parses of older stores or imports
	// may hold embeddings of another model).
	Reparse bool
}

// Report is what Analyze found.
type Report struct {
	// Scanned counts the customer messages read (after Since), Parsed
	// those of them parsed now (no stored parse, a stored parse without
	// the embedding of a message to analyse, or Reparse), and
	// Unparsed those left out because they had no usable stored parse and
	// no Parser, or the Parser refused the text (empty, not UTF-8).
	Scanned  int `json:"scanned"`
	Parsed   int `json:"parsed"`
	Unparsed int `json:"unparsed"`
	// Analysed counts the messages out of scope or below MinConfidence;
	// OutOfScope those of them out of scope.
	Analysed      int     `json:"analysed"`
	OutOfScope    int     `json:"out_of_scope"`
	MinConfidence float64 `json:"min_confidence"`
	// Points counts the kinds of message clustered: messages whose texts
	// differ only in case, spacing and numbers are one point.
	Points int `json:"points"`
	// K is the number of clusters; KChosenBy says how: "given" (Options.K),
	// "silhouette", or "too few points" (fewer than three points with
	// different embeddings: one cluster).
	K         int    `json:"k"`
	KChosenBy string `json:"k_chosen_by"`
	// Silhouette is the mean silhouette coefficient of the clustering (-1
	// to 1, higher is better separated; 0 for one cluster). Candidates
	// lists every k tried when k was chosen by silhouette.
	Silhouette float64  `json:"silhouette"`
	Candidates []KScore `json:"candidates,omitempty"`
	// Clusters are the candidate intents, largest first.
	Clusters []Cluster `json:"clusters"`
	// Map places every analysed message on two principal components, in
	// the order read (conversations by id, messages by seq); MapVariance is
	// the share of the variance each axis keeps.
	Map         []Point    `json:"map"`
	MapVariance [2]float64 `json:"map_variance"`
}

// KScore is one k tried when choosing k.
type KScore struct {
	K          int     `json:"k"`
	Silhouette float64 `json:"silhouette"`
	Inertia    float64 `json:"inertia"`
}

// Cluster is one group of similar messages, suggested as a new intent.
type Cluster struct {
	// ID is the cluster's index in Report.Clusters and in Point.Cluster.
	ID int `json:"id"`
	// Name is the suggested intent name, snake_case, unique in the report
	// and different from the intents the model already has.
	Name string `json:"name"`
	// Size counts the cluster's messages; Share is Size / Report.Analysed.
	Size  int     `json:"size"`
	Share float64 `json:"share"`
	// OutOfScope counts its messages that were out of scope (the others
	// were in scope with low confidence).
	OutOfScope int `json:"out_of_scope"`
	// TopWords are its most distinctive words, best first.
	TopWords []string `json:"top_words"`
	// Examples are its most representative messages, closest to the centre
	// first, one per distinct text.
	Examples []Example `json:"examples"`
	// NearestIntent is the intent the NLU most often ranked first for these
	// messages, and NearestShare the share of the messages it was first
	// for: a high share suggests more training examples for that intent
	// rather than a new one.
	NearestIntent string  `json:"nearest_intent,omitempty"`
	NearestShare  float64 `json:"nearest_share"`
	// Spread is the mean distance of its points to the centre (unit
	// embeddings: 0 is identical, sqrt 2 is unrelated).
	Spread float64 `json:"spread"`
}

// Example is a representative message of a cluster.
type Example struct {
	// Text is the most frequent text of one kind of message (texts that
	// differ only in case, spacing and numbers), and Count the number of
	// the cluster's messages of that kind.
	Text  string `json:"text"`
	Count int    `json:"count"`
	// ConversationID and Seq locate the first message with Text.
	ConversationID string `json:"conversation_id"`
	Seq            uint64 `json:"seq"`
	// Distance is the distance of its (mean unit) embedding to the cluster
	// centre.
	Distance float64 `json:"distance"`
}

// Point is one analysed message on the map.
type Point struct {
	ConversationID string  `json:"conversation_id"`
	Seq            uint64  `json:"seq"`
	Cluster        int     `json:"cluster"`
	X              float64 `json:"x"`
	Y              float64 `json:"y"`
	Text           string  `json:"text"`
}

// withDefaults checks o and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	if math.IsNaN(o.MinConfidence) || o.MinConfidence > 1 {
		return o, fmt.Errorf("%w: min confidence %v, want at most 1", ErrOption, o.MinConfidence)
	}
	if o.K < 0 || o.K > maxK || o.MaxK < 0 || o.MaxK > maxK || o.Examples < 0 || o.TopWords < 0 {
		return o, fmt.Errorf("%w: k %d, max k %d (want 0..%d), examples %d, top words %d", ErrOption, o.K, o.MaxK, maxK, o.Examples, o.TopWords)
	}
	if o.MinConfidence == 0 {
		o.MinConfidence = DefaultMinConfidence
	}
	if o.MaxK == 0 {
		o.MaxK = DefaultMaxK
	}
	if o.MaxK < 2 {
		return o, fmt.Errorf("%w: max k %d, want at least 2", ErrOption, o.MaxK)
	}
	if o.Examples == 0 {
		o.Examples = DefaultExamples
	}
	if o.TopWords == 0 {
		o.TopWords = DefaultTopWords
	}
	return o, nil
}

// Analyze reads the customer messages of src, keeps those out of scope or
// below opts.MinConfidence, and clusters them into candidate intents (see
// the package documentation for how). p parses messages without a usable
// stored parse; it may be nil, and those messages are then counted as
// Unparsed and left out.
//
// When no message is left to analyse, the report has no clusters and no
// map, and the error is nil: a caller shows "nothing to analyse" with the
// counts.
//
// Errors: ErrOption for bad options; ErrTooFewMessages when opts.K exceeds
// the distinct messages; ErrNonFinite for a NaN or infinite embedding and
// ErrDimension for embeddings of different sizes, both naming the message;
// the Source's errors; the Parser's errors other than nlu.ErrEmptyText and
// nlu.ErrInvalidUTF8 (which leave the message out); ctx's error.
func Analyze(ctx context.Context, src Source, p Parser, opts Options) (*Report, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	c := collector{src: src, parser: p, opts: opts, cache: map[string]*parsed{}, intents: map[string]bool{}}
	if err := c.collect(ctx); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	r := &Report{Scanned: c.scanned, Parsed: c.parsed, Unparsed: c.unparsed, Analysed: len(c.msgs),
		MinConfidence: opts.MinConfidence, Clusters: []Cluster{}, Map: []Point{}}
	for _, m := range c.msgs {
		if !m.res.inScope {
			r.OutOfScope++
		}
	}
	if len(c.msgs) == 0 {
		return r, nil
	}
	pts, err := makePoints(c.msgs)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	r.Points = len(pts)
	cl, err := cluster(ctx, pts, opts, r)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	describe(r, c.msgs, pts, cl, c.intents, opts)
	if err := project(r, c.msgs, pts, cl.labels); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	return r, nil
}

// describe fills r.Clusters: size, examples, words, names, nearest intent.
// Clusters are numbered by decreasing size; cl.labels is renumbered to
// match.
func describe(r *Report, msgs []message, pts []point, cl clustering, intents map[string]bool, opts Options) {
	k := len(cl.centers)
	sizes := make([]int, k)
	first := make([]int, k) // first point of each cluster, to break ties
	for c := range first {
		first[c] = len(pts)
	}
	for i, l := range cl.labels {
		sizes[l] += len(pts[i].msgs)
		first[l] = min(first[l], i)
	}
	// k-means leaves no cluster empty on its training points, but guard:
	// an empty cluster is dropped rather than reported with 0 messages.
	var order []int
	for c := range k {
		if sizes[c] > 0 {
			order = append(order, c)
		}
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(sizes[b], sizes[a]), cmp.Compare(first[a], first[b]))
	})
	rank := make([]int, k)
	for newID, old := range order {
		rank[old] = newID
	}
	k = len(order)
	r.K = k
	for i, l := range cl.labels {
		cl.labels[i] = rank[l]
	}
	members := make([][]int, k) // point indices per new cluster id
	for i, l := range cl.labels {
		members[l] = append(members[l], i)
	}
	centers := make([][]float64, k)
	for newID, old := range order {
		centers[newID] = cl.centers[old]
	}

	texts := make([][]string, k) // each cluster's point texts, closest to the centre first
	for c := range k {
		cc := Cluster{ID: c, TopWords: []string{}, Examples: []Example{}}
		votes := map[string]int{}
		var spread float64
		type near struct {
			pt   int
			dist float64
		}
		var byDist []near
		for _, i := range members[c] {
			pt := &pts[i]
			d := math.Sqrt(models.SqDist(pt.vec, centers[c]))
			spread += d * float64(len(pt.msgs))
			byDist = append(byDist, near{i, d})
			for _, mi := range pt.msgs {
				m := &msgs[mi]
				cc.Size++
				if !m.res.inScope {
					cc.OutOfScope++
				}
				if m.res.intent != "" {
					votes[m.res.intent]++
				}
			}
		}
		cc.Share = float64(cc.Size) / float64(len(msgs))
		cc.Spread = spread / float64(cc.Size)
		slices.SortStableFunc(byDist, func(a, b near) int { return cmp.Compare(a.dist, b.dist) })
		for _, n := range byDist {
			texts[c] = append(texts[c], pts[n.pt].text)
		}
		for _, n := range byDist[:min(opts.Examples, len(byDist))] {
			pt := &pts[n.pt]
			m := &msgs[pt.msgs[slices.IndexFunc(pt.msgs, func(i int) bool { return msgs[i].text == pt.text })]]
			cc.Examples = append(cc.Examples, Example{Text: pt.text, Count: len(pt.msgs),
				ConversationID: m.conversationID, Seq: m.seq, Distance: n.dist})
		}
		for intent, v := range votes {
			best := votes[cc.NearestIntent]
			if v > best || (v == best && intent < cc.NearestIntent) {
				cc.NearestIntent = intent
			}
		}
		if cc.NearestIntent != "" {
			cc.NearestShare = float64(votes[cc.NearestIntent]) / float64(cc.Size)
		}
		r.Clusters = append(r.Clusters, cc)
	}
	words := topWords(texts, opts.TopWords)
	taken := make(map[string]bool, len(intents))
	for in := range intents {
		taken[in] = true
	}
	for c := range r.Clusters {
		r.Clusters[c].TopWords = words[c]
		r.Clusters[c].Name = suggestName(words[c], c, taken)
	}
}
