package replies

import (
	"io"
	"strings"

	"github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/suggest"
)

// Pair is one customer question and the reply an agent gave, with the
// split the question belongs to (dataset.HashSplit of the question).
type Pair struct {
	Question string        `json:"question"`
	Answer   string        `json:"answer"`
	Split    dataset.Split `json:"-"`
}

// ReadBitext reads the Bitext customer-support CSV's instruction and
// response columns. The file has no split: each row gets the 80/10/10
// split dataset.HashSplit gives its instruction, the one the intent
// benchmark uses. Errors are dataset.ParseError values.
func ReadBitext(name string, r io.Reader) ([]Pair, error) {
	rows, err := dataset.ReadBitextPairs(name, r)
	if err != nil {
		return nil, err
	}
	out := make([]Pair, len(rows))
	for i, row := range rows {
		out[i] = Pair{Question: row.Instruction, Answer: row.Response, Split: row.Split}
	}
	return out, nil
}

// FromMined turns replies mined from a Parley store (suggest.Mine) into
// pairs: one per customer text a reply answered, split by that text.
func FromMined(mined []suggest.Pair) []Pair {
	var out []Pair
	for _, m := range mined {
		for _, q := range m.Customers {
			q = strings.TrimSpace(q)
			if q == "" {
				continue
			}
			out = append(out, Pair{Question: q, Answer: m.Reply, Split: dataset.HashSplit(q)})
		}
	}
	return out
}

// Split returns the pairs of one split, in order.
func Split(pairs []Pair, s dataset.Split) []Pair {
	var out []Pair
	for _, p := range pairs {
		if p.Split == s {
			out = append(out, p)
		}
	}
	return out
}
