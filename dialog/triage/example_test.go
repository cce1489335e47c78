package triage_test

import (
	"fmt"
	"strings"

	"github.com/parleyhq/parley/dialog/triage"
)

// The features a model sees, by name: fixed one-hot columns, the
// vocabularies learnt from the training data, then the counts.
func ExampleSpec_Names() {
	spec := triage.Spec{Intents: []string{"complaint", "refund_status"}, Entities: []string{"order_id"}}
	fmt.Println(strings.Join(spec.Names(), " "))
	// Output:
	// customer=unknown tier=standard tier=silver tier=gold tier=platinum channel=web channel=slack channel=cli channel=api intent=complaint intent=refund_status entity=order_id customer_messages wait_minutes open_tickets past_handoffs last_rating last_rating_low lifetime_orders shouting exclamations cue_words out_of_scope repeats
}
