package suggest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/parleyhq/parley/crm"
)

// Mining limits.
const (
	// MinReplyWords is the fewest words an agent reply needs to be worth
	// suggesting: "ok", "one moment" and "thanks!" are quicker to type.
	MinReplyWords = 4
	// MaxCustomerTexts is how many of the customer messages before a reply
	// are paired with it: the last ones say what the reply answers.
	MaxCustomerTexts = 4
	// maxTextsPerPair bounds the distinct customer texts kept for one reply:
	// a popular reply indexed under every way customers asked would crowd
	// out the rest.
	maxTextsPerPair = 50
	// conversationPage is how many conversations one store call lists.
	conversationPage = 200
)

// Pair is one agent reply given in past conversations, with what customers
// had written before it.
type Pair struct {
	// Reply is the agent's text, with the customer's name and the order
	// numbers the customer wrote replaced by {{customer.name}} and
	// {{order.id}}.
	Reply string `json:"reply"`
	// Customers are the distinct customer texts (the messages before the
	// reply, joined by newlines) that it answered, at most 50.
	Customers []string `json:"customers"`
	// ConversationID is the first conversation (in id order) it was given in.
	ConversationID string `json:"conversation_id"`
	// Count is how often it was given: its popularity.
	Count int `json:"count"`
}

// MineStore is what Mine reads. Every crm.Store implements it.
type MineStore interface {
	Conversations(ctx context.Context, afterID string, limit int) ([]crm.Conversation, error)
	MessagesAfter(ctx context.Context, conversationID string, afterSeq uint64, limit int) ([]crm.Message, error)
	Customer(ctx context.Context, id string) (crm.Customer, error)
}

var _ MineStore = crm.Store(nil)

// Mine reads every resolved conversation of st (in pages, in id order; at
// most maxConversations of them, 0: all) and returns the pairs of agent
// replies and the customer messages before them, in the order first seen.
// See the package documentation for what is skipped and merged. Errors
// come from the store (a conversation deleted while mining is skipped)
// and from ctx.
func Mine(ctx context.Context, st MineStore, maxConversations int) ([]Pair, error) {
	var pairs []Pair
	byReply := map[string]int{} // normalised reply -> index in pairs
	after, read := "", 0
	for {
		page, err := st.Conversations(ctx, after, conversationPage)
		if err != nil {
			return nil, fmt.Errorf("mine replies: %w", err)
		}
		for _, c := range page {
			if maxConversations > 0 && read == maxConversations {
				return pairs, nil
			}
			read++
			if c.State != crm.StateResolved {
				continue
			}
			found, err := minePairs(ctx, st, c)
			if err != nil {
				return nil, fmt.Errorf("mine replies: conversation %s: %w", c.ID, err)
			}
			for _, p := range found {
				key := normalise(p.Reply)
				i, ok := byReply[key]
				if !ok {
					byReply[key] = len(pairs)
					pairs = append(pairs, p)
					continue
				}
				q := &pairs[i]
				q.Count++
				for _, t := range p.Customers {
					if len(q.Customers) < maxTextsPerPair && !slices.Contains(q.Customers, t) {
						q.Customers = append(q.Customers, t)
					}
				}
			}
		}
		if len(page) < conversationPage {
			return pairs, nil
		}
		after = page[len(page)-1].ID
	}
}

// minePairs returns the pairs of one conversation, each with Count 1.
func minePairs(ctx context.Context, st MineStore, c crm.Conversation) ([]Pair, error) {
	msgs, err := st.MessagesAfter(ctx, c.ID, 0, 0)
	if errors.Is(err, crm.ErrNotFound) {
		return nil, nil // erased while mining
	}
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(msgs, func(m crm.Message) bool { return m.Sender == crm.SenderAgent }) {
		return nil, nil // no agent took part: skip the customer lookup
	}
	name := ""
	if c.CustomerID != "" {
		cust, err := st.Customer(ctx, c.CustomerID)
		switch {
		case err == nil:
			name = cust.Name
		case !errors.Is(err, crm.ErrNotFound):
			return nil, err
		}
	}
	var out []Pair
	var asked []string // customer texts since the last agent message
	for _, m := range msgs {
		switch m.Sender {
		case crm.SenderCustomer:
			if t := strings.TrimSpace(m.Text); t != "" {
				asked = append(asked, t)
			}
		case crm.SenderAgent:
			reply := generalise(strings.TrimSpace(m.Text), name, asked)
			if len(asked) > 0 && !trivial(reply) {
				last := asked[max(0, len(asked)-MaxCustomerTexts):]
				out = append(out, Pair{Reply: reply, Customers: []string{strings.Join(last, "\n")}, ConversationID: c.ID, Count: 1})
			}
			asked = nil
		}
	}
	return out, nil
}

// generalise turns the customer's name and the order numbers the customer
// wrote (words with a digit that appear in asked) into the variables the
// console fills, {{customer.name}} and {{order.id}}.
func generalise(reply, name string, asked []string) string {
	for _, n := range strings.Fields(name) {
		if len([]rune(n)) < 2 {
			continue
		}
		re := regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(n) + `\b`)
		reply = re.ReplaceAllString(reply, "{{customer.name}}")
	}
	reply = strings.ReplaceAll(reply, "{{customer.name}} {{customer.name}}", "{{customer.name}}")
	said := map[string]bool{}
	for _, t := range asked {
		for _, w := range words(t) {
			if strings.ContainsFunc(w, unicode.IsDigit) {
				said[strings.ToLower(w)] = true
			}
		}
	}
	if len(said) == 0 {
		return reply
	}
	return wordRE.ReplaceAllStringFunc(reply, func(w string) string {
		if said[strings.ToLower(w)] {
			return "{{order.id}}"
		}
		return w
	})
}

// wordRE is a word for generalise: letters, digits, "-" and "#" inside.
var wordRE = regexp.MustCompile(`[\p{L}\p{N}#][\p{L}\p{N}#-]*[\p{L}\p{N}]|[\p{L}\p{N}]`)

func words(s string) []string { return wordRE.FindAllString(s, -1) }

// greetingWords are the words of replies that say nothing but hello,
// thanks or goodbye.
var greetingWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`hi hello hey there dear good morning afternoon evening day
		thanks thank you very much so for your patience welcome bye goodbye have a nice great
		lovely take care cheers ok okay sure no problem glad to help you're youre`) {
		m[w] = true
	}
	return m
}()

// trivial reports whether a reply is too short to suggest or only greets.
func trivial(reply string) bool {
	ws := strings.FieldsFunc(strings.ToLower(reply), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '{' && r != '}' && r != '.'
	})
	if len(ws) < MinReplyWords {
		return true
	}
	for _, w := range ws {
		w = strings.Trim(w, ".'")
		if w != "" && !greetingWords[w] && w != "{{customer.name}}" {
			return false
		}
	}
	return true
}

// normalise is the key under which identical texts are merged: lower
// case, runs of spaces as one.
func normalise(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}
