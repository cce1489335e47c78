package triage

import (
	"fmt"
	"slices"
	"strings"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// smallTalk intents are not counted as repeated requests.
var smallTalk = []string{"greet", "goodbye", "thanks", "affirm", "deny", "how_are_you", "bot_challenge", "give_name"}

// Fixed one-hot vocabularies: every tier and channel Parley knows, so that a
// model trained without, say, platinum customers still has the column.
var (
	tiers    = []crm.Tier{crm.TierStandard, crm.TierSilver, crm.TierGold, crm.TierPlatinum}
	channels = []crm.Channel{crm.ChannelWeb, crm.ChannelSlack, crm.ChannelCLI, crm.ChannelAPI}
)

// numeric are the counted features, in vector order after the one-hot
// columns.
var numeric = []string{
	"customer_messages", // customer messages so far
	"wait_minutes",      // from the first message to the latest customer message
	"open_tickets",      // the customer's open cases
	"past_handoffs",     // the customer's earlier conversations that went to a queue
	"last_rating",       // newest rating 1..5, 0 when never rated
	"last_rating_low",   // 1 when that rating is 1 or 2
	"lifetime_orders",   // orders placed
	"shouting",          // messages with two or more words in capitals
	"exclamations",      // messages with "!!"
	"cue_words",         // frustration cues found, all messages together
	"out_of_scope",      // messages the NLU found out of scope
	"repeats",           // messages asking again for an intent already seen
}

// Spec is the feature layout of a model: the vocabularies learnt from its
// training data. The vector is, in order: customer=unknown; tier=T for each
// known tier; channel=C for each known channel; intent=I for each of
// Intents (the customer asked for I, in scope, at some point); entity=E for
// each of Entities (the customer gave one); then the numeric features
// (customer_messages, wait_minutes, open_tickets, past_handoffs,
// last_rating, last_rating_low, lifetime_orders, shouting, exclamations,
// cue_words, out_of_scope, repeats). One-hot columns are 0 or 1.
type Spec struct {
	Intents  []string `json:"intents"`
	Entities []string `json:"entities"`
	// Cues are the frustration cues cue_words counts (lower-case
	// substrings): the domain's policy.frustration_cues at training. A
	// saved model keeps its list, so it scores as it was trained.
	Cues []string `json:"cues"`
}

// Names returns the name of each feature, in vector order.
func (s Spec) Names() []string {
	names := []string{"customer=unknown"}
	for _, t := range tiers {
		names = append(names, "tier="+string(t))
	}
	for _, c := range channels {
		names = append(names, "channel="+string(c))
	}
	for _, i := range s.Intents {
		names = append(names, "intent="+i)
	}
	for _, e := range s.Entities {
		names = append(names, "entity="+e)
	}
	return append(names, numeric...)
}

// Len returns the number of features.
func (s Spec) Len() int {
	return 1 + len(tiers) + len(channels) + len(s.Intents) + len(s.Entities) + len(numeric)
}

// check reports a spec that cannot describe a feature vector: duplicate or
// empty names.
func (s Spec) check() error {
	for _, list := range [][]string{s.Intents, s.Entities} {
		seen := map[string]bool{}
		for _, v := range list {
			if v == "" || seen[v] {
				return fmt.Errorf("%w: empty or repeated vocabulary entry %q", ErrFormat, v)
			}
			seen[v] = true
		}
	}
	for _, c := range s.Cues {
		if strings.TrimSpace(c) == "" {
			return fmt.Errorf("%w: empty frustration cue", ErrFormat)
		}
	}
	return nil
}

// observation is what the features count in a situation's customer
// messages, before the vocabularies turn it into a vector.
type observation struct {
	intents, entities map[string]bool
	messages          int
	waitMinutes       float64
	shouting, exclaim int
	cues              int
	oos, repeats      int
}

// observe reads the customer messages of s. Messages without a parse add
// to the text counts only.
func observe(s dialog.Situation, cues []string) observation {
	o := observation{intents: map[string]bool{}, entities: map[string]bool{}}
	last := -1
	for i, m := range s.Messages {
		if m.Sender != crm.SenderCustomer {
			continue
		}
		last = i
		o.messages++
		if dialog.Shouts(m.Text) {
			o.shouting++
		}
		if strings.Contains(m.Text, "!!") {
			o.exclaim++
		}
		lower := strings.ToLower(m.Text)
		for _, c := range cues {
			if strings.Contains(lower, c) {
				o.cues++
			}
		}
		p := m.Parse
		if p == nil { // not understood: counts in the text features only
			continue
		}
		for _, e := range p.Entities {
			if e.Type != "" {
				o.entities[e.Type] = true
			}
		}
		switch {
		case !p.InScope:
			o.oos++
		case p.Intent == "":
		default:
			if o.intents[p.Intent] && !slices.Contains(smallTalk, p.Intent) {
				o.repeats++
			}
			o.intents[p.Intent] = true
		}
	}
	if last >= 0 {
		d := s.Messages[last].CreatedAt.Sub(s.Messages[0].CreatedAt).Minutes()
		if d > 0 {
			o.waitMinutes = d
		}
	}
	return o
}

// Vector returns the features of s in the order of Names. Intents and
// entities outside the vocabularies are ignored; times are taken from the
// messages, so the vector does not depend on the clock.
func (s Spec) Vector(sit dialog.Situation) []float64 {
	o := observe(sit, s.Cues)
	x := make([]float64, 0, s.Len())
	x = append(x, b2f(sit.Customer == nil))
	for _, t := range tiers {
		x = append(x, b2f(sit.Customer != nil && sit.Customer.Tier == t))
	}
	for _, c := range channels {
		x = append(x, b2f(sit.Conversation.Channel == c))
	}
	for _, i := range s.Intents {
		x = append(x, b2f(o.intents[i]))
	}
	for _, e := range s.Entities {
		x = append(x, b2f(o.entities[e]))
	}
	h := sit.History
	return append(x,
		float64(o.messages), o.waitMinutes,
		float64(h.OpenTickets), float64(h.PastHandoffs), float64(h.LastRating), b2f(h.LastRating >= 1 && h.LastRating <= 2),
		float64(h.LifetimeOrders),
		float64(o.shouting), float64(o.exclaim), float64(o.cues), float64(o.oos), float64(o.repeats),
	)
}

// specFor learns the vocabularies from training situations: every in-scope
// intent and every entity type seen in a customer message, sorted.
func specFor(sits []dialog.Situation, cues []string) Spec {
	intents, entities := map[string]bool{}, map[string]bool{}
	for _, s := range sits {
		o := observe(s, nil)
		for i := range o.intents {
			intents[i] = true
		}
		for e := range o.entities {
			entities[e] = true
		}
	}
	lc := make([]string, 0, len(cues))
	for _, c := range cues {
		if c = strings.ToLower(strings.TrimSpace(c)); c != "" && !slices.Contains(lc, c) {
			lc = append(lc, c)
		}
	}
	return Spec{Intents: sortedSet(intents), Entities: sortedSet(entities), Cues: lc}
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
