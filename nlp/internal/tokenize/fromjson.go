package tokenize

import "fmt"

// FromJSON is Load for a tokenizer.json already in memory, such as the one
// Build returned. Errors are those of Load, without a file name.
func FromJSON(data []byte, opts *Options) (*Tokenizer, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	t, err := fromJSON(data, o)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	return t, nil
}
