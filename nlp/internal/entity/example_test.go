package entity_test

import (
	"fmt"
	"time"

	"github.com/parleyhq/parley/nlp/internal/entity"
)

func ExampleExtractor_Extract() {
	x, err := entity.New([]entity.Def{
		{Name: "product", Values: []string{"hoodie", "t-shirt"}, Synonyms: map[string]string{"tee": "t-shirt"}},
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC) // a Tuesday
	for _, e := range x.Extract("Order #10423 (a tee, $12.50) came yesterday, not the hoodie. Call +44 20 7946 0958", now) {
		fmt.Printf("%-8s %-18q %-14s [%d:%d]\n", e.Type, e.Text, e.Value, e.Start, e.End)
	}
	// Output:
	// order_id "Order #10423"     10423          [0:12]
	// product  "tee"              t-shirt        [16:19]
	// money    "$12.50"           12.50 USD      [21:27]
	// date     "yesterday"        2026-03-09     [34:43]
	// product  "hoodie"           hoodie         [53:59]
	// phone    "+44 20 7946 0958" +442079460958  [66:82]
}
