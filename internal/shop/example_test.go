package shop_test

import (
	"fmt"

	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/nlp"
)

// The embedded data parses like any Parley file; the name only appears in
// error messages.
func ExampleNLU() {
	ds, err := nlp.ParseDataset("shop/nlu.yml", shop.NLU(), nlp.FormatParley)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range ds.EntityDefs {
		fmt.Println(d.Name)
	}
	// Output:
	// order_id
	// email
	// product
}
