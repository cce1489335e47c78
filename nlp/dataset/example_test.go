package dataset_test

import (
	"errors"
	"fmt"

	"github.com/parleyhq/parley/nlp/dataset"
)

func ExampleParse() {
	src := `version: 1
intents:
  - name: order_status
    examples:
      - where is my order
      - has order [10423](order_id) shipped yet
entities:
  - name: order_id
    pattern: '\b\d{4,8}\b'
`
	ds, err := dataset.Parse("shop.yml", []byte(src), dataset.FormatAuto)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ex := range ds.Train {
		fmt.Printf("%s: %q %v\n", ex.Intent, ex.Text, ex.Entities)
	}
	// Output:
	// order_status: "where is my order" []
	// order_status: "has order 10423 shipped yet" [{order_id 10423 10 15}]
}

func ExampleParseError() {
	src := "version: 1\nintents:\n  - name: order_status\n    examples: []\n"
	_, err := dataset.Parse("shop.yml", []byte(src), dataset.FormatAuto)
	var pe *dataset.ParseError
	if errors.As(err, &pe) {
		fmt.Println(pe.Line, pe.Reason)
	}
	// Output:
	// 4 intent "order_status" has an empty list of examples
}
