package dataset

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strings"
)

// FormatBitext is the Bitext customer-support CSV (header context, role,
// instruction, intent, entity_type, ..., category, tags, response). It ships
// without a split, so the loader makes one with HashSplit.
const FormatBitext Format = "bitext"

// Split names one part of a dataset, with the names "bot eval --split" takes.
type Split string

// The three splits of a dataset.
const (
	SplitTrain Split = "train"
	SplitVal   Split = "val"
	SplitTest  Split = "test"
)

// ParseSplit reads a split's name: test, val or train.
func ParseSplit(s string) (Split, error) {
	switch sp := Split(s); sp {
	case SplitTest, SplitVal, SplitTrain:
		return sp, nil
	}
	return "", fmt.Errorf("unknown split %q: want test, val or train", s)
}

// Examples returns the examples of split sp.
func (d *Dataset) Examples(sp Split) []Example {
	switch sp {
	case SplitTrain:
		return d.Train
	case SplitVal:
		return d.Val
	case SplitTest:
		return d.Test
	}
	return nil
}

// HashSplit assigns a text to the training (80%), validation (10%) or test
// (10%) split by the FNV-1a 64-bit hash of the text lower-cased (Go's
// strings.ToLower) with surrounding white space removed: hash mod 10 is 0
// for test, 1 for validation, anything else for training.
//
// A hash rather than a seeded shuffle, so that the split of one message
// depends on nothing else in the file: every tool that reads the Bitext
// sample (the loader, bench/nlu, the reply-model commands) puts each message
// in the same split without sharing a seed or the row order, and copies of
// one message that differ only in case or outer spaces always land in one
// split, so a duplicate can never be trained on and then tested on.
func HashSplit(text string) Split {
	h := fnv.New64a()
	io.WriteString(h, strings.ToLower(strings.TrimSpace(text)))
	switch h.Sum64() % 10 {
	case 0:
		return SplitTest
	case 1:
		return SplitVal
	}
	return SplitTrain
}

// The two columns a Bitext file must have; other columns are ignored.
const (
	bitextTextColumn   = "instruction"
	bitextIntentColumn = "intent"
)

// looksLikeBitext reports whether data starts with a CSV header that names
// an "instruction" and an "intent" column and none of the text columns of
// the generic CSV format, which then reads the file as FormatBitext.
func looksLikeBitext(data []byte) bool {
	header, err := csv.NewReader(bytes.NewReader(data)).Read()
	if err != nil {
		return false
	}
	var hasText, hasIntent bool
	for _, h := range header {
		switch h = strings.ToLower(strings.TrimSpace(h)); {
		case h == bitextTextColumn:
			hasText = true
		case h == bitextIntentColumn:
			hasIntent = true
		case slices.Contains(csvTextColumns, h):
			return false
		}
	}
	return hasText && hasIntent
}

// parseBitext reads the Bitext customer-support CSV: the text of an example
// is the "instruction" column and its label the "intent" column, found by
// header name; the entity columns, the category, the tags and the response
// are not read. Each row goes to the split HashSplit gives its instruction.
func parseBitext(name string, data []byte) (*Dataset, error) {
	ds := &Dataset{Format: FormatBitext}
	rows := 0
	err := eachCSVRow(name, bytes.NewReader(data), bitextColumns(name, bitextTextColumn, bitextIntentColumn),
		func(f []string, line []int, header []string) error {
			rows++
			if f[0] == "" {
				return errorAt(name, line[0], "empty text in column %q", header[0])
			}
			if err := checkName(f[1], "intent"); err != nil {
				return errorAt(name, line[1], "column %q: %s", header[1], err)
			}
			ex := Example{Text: f[0], Intent: f[1], Line: line[0]}
			switch HashSplit(f[0]) {
			case SplitTest:
				ds.Test = append(ds.Test, ex)
			case SplitVal:
				ds.Val = append(ds.Val, ex)
			default:
				ds.Train = append(ds.Train, ex)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	if rows > 0 && len(ds.Train) == 0 {
		// Parse would say "no training examples", which is puzzling for a
		// file that has rows.
		return nil, errorAt(name, 0, "no training examples: the hash split put all %d rows in the validation and test splits "+
			"(a Bitext file is split 80/10/10 by a hash of each instruction; give it more rows)", rows)
	}
	return ds, nil
}

// bitextColumns finds the Bitext columns named want, in that order.
func bitextColumns(file string, want ...string) func(header []string) ([]int, error) {
	return func(header []string) ([]int, error) {
		cols := make([]int, len(want))
		for i, w := range want {
			c, err := bitextColumn(file, header, w)
			if err != nil {
				return nil, err
			}
			cols[i] = c
		}
		return cols, nil
	}
}

// bitextColumn finds the one header column called want, ignoring case and
// surrounding spaces.
func bitextColumn(file string, header []string, want string) (int, error) {
	col := -1
	for i, h := range header {
		if strings.ToLower(strings.TrimSpace(h)) != want {
			continue
		}
		if col >= 0 {
			return 0, errorAt(file, 1, "the header names the %q column twice (columns %d and %d)", want, col+1, i+1)
		}
		col = i
	}
	if col < 0 {
		return 0, errorAt(file, 1, "the header has no %q column (a Bitext file has %q and %q columns)", want, bitextTextColumn, bitextIntentColumn)
	}
	return col, nil
}

// BitextPair is one row of the Bitext file as a (question, answer) pair:
// the customer's instruction and the agent's response, with the split
// HashSplit gives the instruction (the one the intent loader uses, so that
// no instruction is trained on by one model and tested on by another).
type BitextPair struct {
	Instruction, Response string
	Intent                string
	Split                 Split
	Line                  int // where the row starts in the file
}

// ReadBitextPairs reads the instruction and response columns of a Bitext
// CSV, for training and evaluating retrieval (the sentence encoder) rather
// than intents. name is used in errors, which are *ParseError: a missing
// column, a malformed row, or a row with an empty instruction or response.
func ReadBitextPairs(name string, r io.Reader) ([]BitextPair, error) {
	var pairs []BitextPair
	err := eachCSVRow(name, r, bitextColumns(name, bitextTextColumn, bitextResponseColumn, bitextIntentColumn),
		func(f []string, line []int, _ []string) error {
			if f[0] == "" || f[1] == "" {
				return errorAt(name, line[0], "empty %q or %q column", bitextTextColumn, bitextResponseColumn)
			}
			pairs = append(pairs, BitextPair{Instruction: f[0], Response: f[1], Intent: f[2], Split: HashSplit(f[0]), Line: line[0]})
			return nil
		})
	if err != nil {
		return nil, err
	}
	return pairs, nil
}

// bitextResponseColumn holds the agent's answer; only ReadBitextPairs reads it.
const bitextResponseColumn = "response"
