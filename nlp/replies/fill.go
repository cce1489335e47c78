package replies

import (
	"regexp"
	"strings"

	"github.com/parleyhq/parley/nlp/suggest"
)

var placeholderRE = regexp.MustCompile(`\{\{[^{}]*\}\}`)

// FillDraft fills the placeholders of a draft that the conversation
// knows: one naming an order or purchase number or id ({{Order Number}},
// {{Purchase ID Anonymized}}) gets v.OrderID, one naming the customer or
// client ({{Client First Name}}) v.CustomerName, one naming the agent
// v.AgentName; Parley's own variables ({{order.id}}) as suggest.Fill does.
// Placeholders without a value (the shop's phone number, a menu's name)
// stay for the agent to type over: a draft is never sent unread.
func FillDraft(text string, v suggest.Vars) string {
	text = placeholderRE.ReplaceAllStringFunc(text, func(tok string) string {
		words := strings.Fields(strings.ToLower(strings.Trim(tok, "{} ")))
		has := func(ws ...string) bool {
			for _, w := range words {
				for _, x := range ws {
					if w == x {
						return true
					}
				}
			}
			return false
		}
		var val string
		switch {
		case has("order", "purchase") && has("number", "id"):
			val = v.OrderID
		case has("customer", "client") && has("name") && !has("support", "service"):
			val = v.CustomerName
		case has("agent") && has("name"):
			val = v.AgentName
		}
		if val == "" {
			return tok
		}
		return val
	})
	return suggest.Fill(text, v)
}
