package shop_test

import (
	"fmt"

	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/nlp/dataset"
)

// The embedded data parses like any Parley file; the name only appears in
// error messages.
func ExampleNLU() {
	ds, err := dataset.Parse("shop/nlu.yml", shop.NLU(), dataset.FormatParley)
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
