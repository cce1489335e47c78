package crm_test

import (
	"fmt"

	"github.com/parleyhq/parley/crm"
)

func ExampleRedact() {
	fmt.Println(crm.Redact("my card is 4111 1111 1111 1111 and the code is 482913"))
	fmt.Println(crm.Redact("order 1042, zip code 80331"))
	// Output:
	// my card is [card redacted] and the code is [code redacted]
	// order 1042, zip code 80331
}
