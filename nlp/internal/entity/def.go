package entity

// Def declares a domain entity: a regular expression (such as the shop's
// order-number pattern), a lookup table, and synonyms.
type Def struct {
	Name     string
	Pattern  string            // Go regexp; empty when none
	Values   []string          // lookup table; matched as whole words, case-insensitively
	Synonyms map[string]string // variant (lower-case) -> canonical value
}
