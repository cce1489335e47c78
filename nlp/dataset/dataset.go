package dataset

import (
	"fmt"
	"slices"
)

// OutOfScope is the intent label that marks an out-of-scope example in every
// data format (the CLINC150 convention). A model never predicts it as an
// intent; it is used to calibrate and evaluate out-of-scope detection.
const OutOfScope = "oos"

// Format names a training-data file format.
type Format string

// The training-data formats Load understands.
const (
	FormatAuto     Format = "auto"     // guess from the file name and content
	FormatParley   Format = "parley"   // Parley YAML (see FORMAT.md)
	FormatCLINC150 Format = "clinc150" // CLINC150 JSON: {"train": [[text, label], ...], ...}
	FormatCSV      Format = "csv"      // text,category CSV with a header (Banking77 style)
	FormatRasa     Format = "rasa"     // Rasa nlu.yml (version 3.x)
)

// Example is one labelled sentence.
type Example struct {
	Text     string
	Intent   string       // OutOfScope for out-of-scope examples
	Entities []EntitySpan // spans annotated in the file ([value](entity)), if any
	Line     int          // 1-based line in the source file; 0 when unknown
}

// EntitySpan is an annotated entity inside Example.Text.
type EntitySpan struct {
	Entity string
	Value  string // canonical value (after synonyms), or the text itself
	Start  int    // rune offset into Example.Text
	End    int    // rune offset, exclusive
}

// EntityDef declares a domain entity: a regular expression (such as the
// shop's order-number pattern), a lookup table, and synonyms. A model keeps
// its data's declarations to build its entity extractor.
type EntityDef struct {
	Name     string
	Pattern  string            // Go regexp (RE2 syntax); empty when none
	Values   []string          // lookup table; matched as whole words, case-insensitively
	Synonyms map[string]string // variant (lower-case) -> canonical value
}

// Dataset is the content of a training-data file after it parsed without error.
// Val and Test are empty when the file has no such split.
type Dataset struct {
	Source     string // the path it was read from
	Format     Format
	Train      []Example
	Val        []Example
	Test       []Example
	EntityDefs []EntityDef
}

// Intents returns the sorted distinct intents of the training examples,
// without OutOfScope: the intents a model trained on d knows (what
// Model.Labels returns once it is trained).
func (d *Dataset) Intents() []string {
	seen := map[string]bool{}
	var labels []string
	for _, ex := range d.Train {
		if !seen[ex.Intent] && ex.Intent != OutOfScope {
			seen[ex.Intent] = true
			labels = append(labels, ex.Intent)
		}
	}
	slices.Sort(labels)
	return labels
}

// ParseError says where and why a data file does not parse.
type ParseError struct {
	File   string
	Line   int // 1-based; 0 when the problem is not tied to one line
	Reason string
	Err    error // the underlying I/O error, if any; nil for content errors
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Reason)
}

// Unwrap returns the underlying I/O error, so that errors.Is(err,
// fs.ErrNotExist) works on a file that could not be read.
func (e *ParseError) Unwrap() error { return e.Err }
