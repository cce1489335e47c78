package dialog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/crm"
)

// Names. A visitor who says who they are ("my name is Carlos", "Hello, I'm
// Maria") is greeted by that name, and the name is kept so that an agent
// who takes over knows it: in the conversation's slot "name" while the
// visitor is anonymous or their customer record has no name, and in the
// record itself when it has none. A name in the record is never
// overwritten: it came from the shop (an order, an account), and a visitor
// who types another one may be a partner, a typo or a prank.
//
// The name comes from the NLU's "name" entity (nlp's built-in extractor).
// A message that is only an introduction (the NLU reads the domain's
// give_name or greet intent, or nothing in scope) is answered with the
// intent's "named" response, whose {first_name} and {name} are the name
// given; it is not a failure, so it never counts towards a handoff. A name
// given with a request ("I'm Lena, where is my order?") is kept and the
// request is answered as usual. A domain without "named" responses keeps
// names but greets as before.
//
// The name is only ever what the visitor typed: it reveals nothing, so it
// may be said to a visitor who is not verified (unlike the record's name).

// Names of the domain and the NLU that introductions use.
const (
	slotVisitorName = "name"      // the name the visitor gave
	entityName      = "name"      // the NLU's entity type for it
	intentGiveName  = "give_name" // "my name is Carlos"
	intentGreet     = "greet"     // "Hello, I'm Maria"
	responseNamed   = "named"     // the response key that greets by name
)

// maxNameBytes bounds a kept name: two words of a name fit easily, and the
// slot and the customer record stay small whatever a parser returns.
const maxNameBytes = 64

// errNameKnown stops the update of a customer whose record got a name
// meanwhile: that one stands.
var errNameKnown = errors.New("customer has a name")

// introduce keeps the name the message gives and, when the message is only
// an introduction, greets the visitor by it; done reports that it answered.
// Errors are the store's, from updating the customer's record.
func (t *turn) introduce(ctx context.Context) (done bool, err error) {
	name := cleanName(t.entity(entityName))
	if name == "" {
		return false, nil
	}
	if err := t.keepName(ctx, name); err != nil {
		return false, err
	}
	d := t.e.domain
	top := t.res.Intent
	if t.res.InScope && top != intentGiveName && top != intentGreet && !t.onlyIntroduction() {
		return false, nil // a request with a name: the request is the answer
	}
	it := d.Intents[intentGiveName]
	if t.res.InScope && top == intentGreet && d.Intents[top] != nil {
		it = d.Intents[top]
	}
	if it == nil || len(it.Responses[responseNamed]) == 0 {
		return false, nil
	}
	t.say(it.Responses[responseNamed], vars{"first_name": firstName(name), "name": name})
	t.act("respond " + it.Name)
	t.act("name")
	t.conv.Slots[keyLast] = it.Name
	return true, nil
}

// introWords are the words an introduction is made of besides the name.
var introWords = map[string]bool{
	"hi": true, "hello": true, "hey": true, "hiya": true, "good": true, "morning": true, "afternoon": true,
	"evening": true, "there": true, "my": true, "name": true, "name's": true, "names": true, "is": true,
	"i'm": true, "im": true, "i": true, "am": true, "this": true, "it's": true, "call": true, "me": true,
	"you": true, "can": true, "here": true, "speaking": true, "nice": true, "to": true, "meet": true,
	"by": true, "the": true, "way": true, "just": true, "so": true, "know": true, "and": true,
}

// onlyIntroduction reports whether the message is an introduction whatever
// the NLU made of it ("this is Aiko" read as a complaint): every word
// besides the name is one of introWords, or the place after "from" ("this
// is Priya from Leeds").
func (t *turn) onlyIntroduction() bool {
	rest := []rune(t.text)
	for _, e := range t.res.Entities {
		if e.Type == entityName && 0 <= e.Start && e.Start <= e.End && e.End <= len(rest) {
			rest = append(rest[:e.Start:e.Start], rest[e.End:]...)
			break
		}
	}
	ws := words(strings.ReplaceAll(string(rest), "’", "'"))
	for i, w := range ws {
		if !introWords[w] && !(w == "from" && i == len(ws)-2) && !(i > 0 && ws[i-1] == "from" && i == len(ws)-1) {
			return false
		}
	}
	return len(ws) > 0
}

// keepName stores the name in the slot "name" for an anonymous visitor or
// a customer whose record has no name, and in that record too. A record's
// name is never replaced.
func (t *turn) keepName(ctx context.Context, name string) error {
	c := t.customer
	if c != nil && c.Name != "" {
		return nil
	}
	t.conv.Slots[slotVisitorName] = name
	if c == nil {
		return nil
	}
	updated, err := t.e.store.UpdateCustomer(ctx, c.ID, func(rec *crm.Customer) error {
		if rec.Name != "" {
			return errNameKnown
		}
		rec.Name = name
		return nil
	})
	switch {
	case errors.Is(err, errNameKnown):
		return nil
	case errors.Is(err, crm.ErrInvalid):
		// The store refuses this name (its own rules): the slot has it.
		t.e.log.Warn("keep customer name", "customer", c.ID, "err", err)
		return nil
	case err != nil:
		return fmt.Errorf("keep customer name: %w", err)
	}
	copied := *c
	copied.Name = updated.Name
	t.customer = &copied
	t.act("name_saved")
	return nil
}

// capitalise upper-cases the first letter of a word and, in a word written
// all in lower case, the first after each hyphen ("anne-marie" ->
// "Anne-Marie"); other spellings ("McDonald") are kept.
func capitalise(w string) string {
	lower := strings.ToLower(w) == w
	var b strings.Builder
	up := true
	for _, r := range w {
		if up {
			r = unicode.ToUpper(r)
		}
		b.WriteRune(r)
		up = lower && r == '-'
	}
	return b.String()
}

// cleanName returns an entity's name fit to keep and to say: at most two
// words of letters (with inner hyphens and apostrophes), each capitalised
// ("carlos ruiz" -> "Carlos Ruiz"), within maxNameBytes; "" for anything
// else, which any Parser might return.
func cleanName(v string) string {
	words := strings.Fields(v)
	if len(words) == 0 || len(words) > 2 || !utf8.ValidString(v) {
		return ""
	}
	for i, w := range words {
		for j, r := range w {
			ok := unicode.IsLetter(r) || j > 0 && (unicode.IsMark(r) || r == '-' || r == '\'' || r == '’')
			if !ok {
				return ""
			}
		}
		words[i] = capitalise(w)
	}
	name := strings.Join(words, " ")
	if len(name) > maxNameBytes {
		return ""
	}
	return name
}
