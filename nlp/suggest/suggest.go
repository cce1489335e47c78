package suggest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/nlp/kb"
)

// Source is where a suggestion comes from.
type Source string

// Sources.
const (
	SourcePastReply Source = "past_reply" // an agent's reply in a past conversation
	SourceCanned    Source = "canned"     // a canned response
	SourceKB        Source = "kb"         // a help-centre passage
	SourceDraft     Source = "draft"      // a reply model's draft (Options.Drafter)
)

// Sources lists every Source, for metrics that show each from the start.
var Sources = []Source{SourcePastReply, SourceCanned, SourceKB, SourceDraft}

// Drafter writes a draft reply to a customer's message: a generative
// model's text, with the variables of v filled where it knows them. A
// draft is only ever shown to an agent, who edits and sends it.
type Drafter interface {
	Draft(ctx context.Context, message string, v Vars) (string, error)
}

// Ranking. A candidate's score is its source's weight times its score on
// the shared scale; see Score.
const (
	// WeightPastReply favours what agents actually wrote: it was sent to
	// customers and popular ones were sent many times.
	WeightPastReply = 1.0
	// WeightCanned is a little lower: canned texts are written for a topic,
	// not for the message in front of the agent.
	WeightCanned = 0.9
	// WeightKB is lowest: a help-centre passage informs the reply but is
	// written for readers of the help centre, not as a chat message.
	WeightKB = 0.8
	// MinScore drops candidates that share only a word or two with the
	// customer's message.
	MinScore = 0.2
	// MaxSuggestions is how many suggestions Suggest returns at most.
	MaxSuggestions = 3
	// popularityBonus is what each doubling of a past reply's count adds
	// to its score (before the weight), at most maxPopularity.
	popularityBonus = 0.03
	maxPopularity   = 0.1
	// maxQueryTexts is how many of the latest customer messages the query
	// is made of.
	maxQueryTexts = 2
	// recentMessages is how many messages ForConversation reads.
	recentMessages = 50
	// searchDepth is how many past customer texts are scored per query.
	searchDepth = 30
)

// Score puts a BM25 match on the scale every source shares, 0..1: the
// text's relative BM25 score (kb.TextHit.Relative: its score over that of
// an average-length text holding each query word once, so that small
// indexes, such as a handful of canned responses, score like big ones)
// times its coverage of the query (the share of the query's idf it
// holds), capped at 1. Coverage keeps a long text that repeats one query
// word of five low. A help-centre passage scores the help centre's
// calibrated confidence that its article answers the question
// (kb.Answer.Confidence, 0..1) times the passage's coverage: the article
// may be the right one while the passage quoted speaks of something else.
func Score(relative, coverage float64) float64 {
	if relative <= 0 || coverage <= 0 {
		return 0
	}
	return min(1, relative*min(coverage, 1))
}

// Suggestion is one proposed reply.
type Suggestion struct {
	// ID names the suggestion when the agent uses it: the source, the ref
	// and a hash of the text.
	ID     string `json:"id"`
	Text   string `json:"text"` // variables filled where known
	Source Source `json:"source"`
	// Ref is where the text is from: the conversation a past reply was
	// first given in, the canned response's shortcut, or the article id.
	Ref   string  `json:"ref"`
	Score float64 `json:"score"` // 0..1, comparable across sources
}

// Vars are the values of the variables canned texts and past replies may
// hold; an empty value leaves its variable in the text for the agent.
type Vars struct {
	CustomerName string // {{customer.name}}; "there" when empty, as the console fills it
	OrderID      string // {{order.id}}
	AgentName    string // {{agent.name}}
}

var varRE = regexp.MustCompile(`\{\{\s*([a-z.]+)\s*\}\}`)

// Fill replaces the variables of text the way the console fills canned
// responses: {{customer.name}} (with "there" when the name is unknown),
// {{order.id}} and {{agent.name}}; a variable without a value, or an
// unknown one, stays for the agent to type over.
func Fill(text string, v Vars) string {
	vals := map[string]string{"customer.name": cmp.Or(v.CustomerName, "there"), "order.id": v.OrderID, "agent.name": v.AgentName}
	return varRE.ReplaceAllStringFunc(text, func(all string) string {
		k := varRE.FindStringSubmatch(all)[1]
		if s := vals[k]; s != "" {
			return s
		}
		return all
	})
}

// Store is what a Suggester reads. Every crm.Store implements it.
type Store interface {
	MineStore
	Conversation(ctx context.Context, id string) (crm.Conversation, error)
	RecentMessages(ctx context.Context, conversationID string, n int) ([]crm.Message, error)
	OrdersByCustomer(ctx context.Context, customerID string, limit int) ([]crm.Order, error)
	CannedResponses(ctx context.Context) ([]crm.CannedResponse, error)
}

var _ Store = crm.Store(nil)

// Options are a Suggester's optional settings; nil means all defaults.
type Options struct {
	// KB is searched for help-centre passages; nil: none are suggested.
	KB *kb.Searcher
	// Drafter, if not nil, adds a draft reply after the ranked
	// suggestions (Suggest).
	Drafter Drafter
	// MaxConversations bounds how many conversations Rebuild reads; 0: all.
	MaxConversations int
	Logger           *slog.Logger // nil: discard
	Now              func() time.Time
}

// Suggester suggests replies. It is safe for concurrent use; Rebuild
// replaces the mined index while suggestions are being made.
type Suggester struct {
	store Store
	kb    *kb.Searcher
	opts  Options
	log   *slog.Logger

	mu      sync.RWMutex
	mined   *minedIndex // guarded by mu; nil until the first Rebuild
	builtAt time.Time   // guarded by mu
}

// minedIndex is the BM25 index of the mined pairs' customer texts.
type minedIndex struct {
	pairs []Pair
	doc   []int // text number -> pair number
	text  *kb.TextIndex
}

// New returns a Suggester over st (which must not be nil). It mines
// nothing yet: call Rebuild or Run.
func New(st Store, opts *Options) *Suggester {
	s := &Suggester{store: st}
	if opts != nil {
		s.opts = *opts
	}
	s.kb = s.opts.KB
	s.log = cmp.Or(s.opts.Logger, slog.New(slog.DiscardHandler))
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	return s
}

// Stats says what the latest Rebuild found.
type Stats struct {
	Pairs   int           `json:"pairs"`    // distinct replies
	Texts   int           `json:"texts"`    // customer texts indexed
	Took    time.Duration `json:"took"`     // time the rebuild took
	BuiltAt time.Time     `json:"built_at"` // when it finished
}

// Rebuild mines the store again and swaps in the new index; the old one
// serves until then, and stays when Rebuild fails. Errors come from Mine.
func (s *Suggester) Rebuild(ctx context.Context) (Stats, error) {
	start := s.opts.Now()
	pairs, err := Mine(ctx, s.store, s.opts.MaxConversations)
	if err != nil {
		return Stats{}, fmt.Errorf("rebuild suggestions: %w", err)
	}
	ix := &minedIndex{pairs: pairs}
	var texts []string
	for i, p := range pairs {
		for _, t := range p.Customers {
			texts = append(texts, t)
			ix.doc = append(ix.doc, i)
		}
	}
	if ix.text, err = kb.NewTextIndex(texts, nil); err != nil {
		return Stats{}, fmt.Errorf("rebuild suggestions: %w", err)
	}
	done := s.opts.Now()
	s.mu.Lock()
	s.mined, s.builtAt = ix, done
	s.mu.Unlock()
	return Stats{Pairs: len(pairs), Texts: len(texts), Took: done.Sub(start), BuiltAt: done}, nil
}

// Run rebuilds the index at once and then every `every` (0: only once),
// logging failures, until ctx ends.
func (s *Suggester) Run(ctx context.Context, every time.Duration) {
	rebuild := func() {
		st, err := s.Rebuild(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("suggestions not rebuilt", "err", err)
			}
			return
		}
		s.log.Info("suggestions rebuilt", "replies", st.Pairs, "texts", st.Texts, "took", st.Took)
	}
	rebuild()
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rebuild()
		}
	}
}

// ForConversation suggests replies for conversation id: from its latest
// messages, with its customer's name, the customer's latest order and
// agentName filling the variables. ErrNotFound (wrapped) for an unknown
// conversation; other errors come from the store and the help centre.
func (s *Suggester) ForConversation(ctx context.Context, id, agentName string) ([]Suggestion, error) {
	conv, err := s.store.Conversation(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("suggest: %w", err)
	}
	msgs, err := s.store.RecentMessages(ctx, id, recentMessages)
	if err != nil {
		return nil, fmt.Errorf("suggest: %w", err)
	}
	v := Vars{AgentName: agentName}
	if conv.CustomerID != "" {
		c, err := s.store.Customer(ctx, conv.CustomerID)
		switch {
		case err == nil:
			v.CustomerName = firstName(c.Name)
		case !errors.Is(err, crm.ErrNotFound):
			return nil, fmt.Errorf("suggest: %w", err)
		}
		orders, err := s.store.OrdersByCustomer(ctx, conv.CustomerID, 1)
		if err != nil {
			return nil, fmt.Errorf("suggest: %w", err)
		}
		if len(orders) > 0 {
			v.OrderID = orders[0].ID
		}
	}
	return s.Suggest(ctx, msgs, v)
}

// firstName is how agents greet: "Anna" for "Anna Berg".
func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return ""
}

// Query is the text suggestions answer: the customer messages written
// since the last agent message, at most the last two, joined by a
// newline; "" when the agent spoke last or the customer wrote nothing.
func Query(history []crm.Message) string {
	var asked []string
	for _, m := range history {
		switch m.Sender {
		case crm.SenderCustomer:
			if t := strings.TrimSpace(m.Text); t != "" {
				asked = append(asked, t)
			}
		case crm.SenderAgent:
			asked = nil
		}
	}
	return strings.Join(asked[max(0, len(asked)-maxQueryTexts):], "\n")
}

// Suggest returns up to three suggestions for a conversation whose
// messages (oldest first) are history, best first, with the variables
// filled from v; none when Query(history) is empty or nothing scores
// MinScore. With a Drafter, its draft follows them (source draft, score
// 0: a draft is not ranked against texts people wrote) unless it repeats
// one of them; a Drafter's failure is logged and leaves the draft out.
// Errors come from the store (canned responses) and the help centre.
func (s *Suggester) Suggest(ctx context.Context, history []crm.Message, v Vars) ([]Suggestion, error) {
	q := Query(history)
	if strings.TrimSpace(q) == "" {
		return []Suggestion{}, nil
	}
	var cands []Suggestion
	cands = append(cands, s.pastReplies(q)...)
	canned, err := s.canned(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("suggest: %w", err)
	}
	cands = append(cands, canned...)
	passages, err := s.passages(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("suggest: %w", err)
	}
	cands = append(cands, passages...)
	out := rank(cands, v)
	if s.opts.Drafter == nil {
		return out, nil
	}
	draft, err := s.opts.Drafter.Draft(ctx, q, v)
	if err != nil {
		s.log.Warn("reply draft failed", "err", err)
		return out, nil
	}
	if d := (Suggestion{Text: strings.TrimSpace(draft), Source: SourceDraft, Ref: "model"}); d.Text != "" && !slices.ContainsFunc(out, func(o Suggestion) bool { return normalise(o.Text) == normalise(d.Text) }) {
		d.ID = suggestionID(d)
		out = append(out, d)
	}
	return out, nil
}

// pastReplies scores the mined replies by their best customer text.
func (s *Suggester) pastReplies(q string) []Suggestion {
	s.mu.RLock()
	ix := s.mined
	s.mu.RUnlock()
	if ix == nil {
		return nil
	}
	best := map[int]float64{} // pair -> score
	for _, h := range ix.text.Search(q, searchDepth) {
		p := ix.doc[h.Doc]
		best[p] = max(best[p], Score(h.Relative, h.Coverage))
	}
	out := make([]Suggestion, 0, len(best))
	for i, sc := range best {
		p := ix.pairs[i]
		bonus := 0.0
		if p.Count > 1 {
			bonus = min(maxPopularity, popularityBonus*math.Log2(float64(p.Count)))
		}
		out = append(out, Suggestion{Text: p.Reply, Source: SourcePastReply, Ref: p.ConversationID, Score: WeightPastReply * min(1, sc+bonus)})
	}
	return out
}

// canned scores the canned responses by their title and text. The list is
// read on every call: it is short, and agents change it while serving.
func (s *Suggester) canned(ctx context.Context, q string) ([]Suggestion, error) {
	cs, err := s.store.CannedResponses(ctx)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	texts := make([]string, len(cs))
	for i, c := range cs {
		texts[i] = c.Title + "\n" + varRE.ReplaceAllString(c.Text, " ")
	}
	ix, err := kb.NewTextIndex(texts, nil)
	if err != nil {
		return nil, err
	}
	var out []Suggestion
	for _, h := range ix.Search(q, 0) {
		c := cs[h.Doc]
		out = append(out, Suggestion{Text: c.Text, Source: SourceCanned, Ref: c.Shortcut, Score: WeightCanned * Score(h.Relative, h.Coverage)})
	}
	return out, nil
}

// passages asks the help centre; a question of no searchable words is
// no suggestion, not an error.
func (s *Suggester) passages(ctx context.Context, q string) ([]Suggestion, error) {
	if s.kb == nil {
		return nil, nil
	}
	res, err := s.kb.Ask(ctx, q, MaxSuggestions)
	if errors.Is(err, kb.ErrEmptyQuestion) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Suggestion
	for _, a := range res.Answers {
		out = append(out, Suggestion{Text: strings.Join(strings.Fields(a.Passage), " "), Source: SourceKB, Ref: a.ArticleID, Score: WeightKB * a.Confidence * a.Coverage})
	}
	return out, nil
}

// rank fills the candidates' variables, drops those under MinScore and
// repeated texts (the best-scored copy stays), and returns the best
// MaxSuggestions with their ids and scores rounded to three decimals.
// Ties go by source (past reply, canned, kb), then ref.
func rank(cands []Suggestion, v Vars) []Suggestion {
	order := map[Source]int{SourcePastReply: 0, SourceCanned: 1, SourceKB: 2}
	slices.SortStableFunc(cands, func(a, b Suggestion) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(order[a.Source], order[b.Source]), cmp.Compare(a.Ref, b.Ref), cmp.Compare(a.Text, b.Text))
	})
	out := []Suggestion{}
	seen := map[string]bool{}
	for _, c := range cands {
		if len(out) == MaxSuggestions || c.Score < MinScore {
			break
		}
		c.Text = Fill(c.Text, v)
		key := normalise(c.Text)
		if seen[key] {
			continue
		}
		seen[key] = true
		c.Score = float64(int(c.Score*1000+0.5)) / 1000
		c.ID = suggestionID(c)
		out = append(out, c)
	}
	return out
}

// suggestionID is source:ref:hash, the hash of the filled text, so that
// the same suggestion shown twice has the same id.
func suggestionID(c Suggestion) string {
	h := fnv.New32a()
	h.Write([]byte(c.Text))
	return fmt.Sprintf("%s:%s:%08x", c.Source, c.Ref, h.Sum32())
}
