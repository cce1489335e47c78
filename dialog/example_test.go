package dialog_test

import (
	"fmt"

	"github.com/parleyhq/parley/dialog"
)

func ExampleParseDomain() {
	d, err := dialog.ParseDomain("domain.yml", []byte(minimal), []string{"greet", "order_status"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Intents["order_status"].Action, d.Policy.MaxFailures)

	_, err = dialog.ParseDomain("domain.yml", []byte("version: 1\nintents: [\n"), nil)
	fmt.Println(err)
	// Output:
	// lookup_order 2
	// domain.yml:2: did not find expected node content
}
