package shop

import _ "embed" // for go:embed

//go:embed nlu.yml
var nlu string

// NLU returns the default domain's training data in the Parley YAML format,
// for dataset.Parse with dataset.FormatParley. Each call returns a fresh copy
// that the caller may modify. It cannot fail: the file is compiled in, and
// the package's tests check that it parses.
func NLU() []byte { return []byte(nlu) }

// Typos is how many copies with typos of each example the demo model
// trains on (nlp.TrainOptions.Typos). Chosen on nlu.yml's validation
// section, seeds 1 to 3: at the calibrated threshold, in-scope accuracy
// 88.4% -> 89.5% and out-of-scope recall 93.9% -> 97.0% (mean), against
// an argmax accuracy of 93.9% -> 93.5%; two copies did no better.
const Typos = 1

//go:embed domain.yml
var domain string

//go:embed seed.json
var seed string

// Domain returns the default domain file (responses, forms and actions for
// every intent of NLU), for dialog.ParseDomain. Each call returns a fresh
// copy; the package's tests check that it loads against the NLU's intents.
func Domain() []byte { return []byte(domain) }
