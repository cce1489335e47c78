package dataset

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
)

// Header names accepted for the two columns of a CSV file.
var (
	csvTextColumns  = []string{"text", "sentence", "utterance"}
	csvLabelColumns = []string{"category", "intent", "label"}
)

// parseCSV reads a CSV file with a header naming a text column and a label
// column, in any order; other columns are ignored. Every row goes to Train.
func parseCSV(name string, data []byte) (*Dataset, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errorAt(name, 0, "empty file")
		}
		return nil, csvError(name, err)
	}
	header = append([]string(nil), header...) // ReuseRecord recycles it
	textCol, err := csvColumn(name, header, csvTextColumns, "text")
	if err != nil {
		return nil, err
	}
	labelCol, err := csvColumn(name, header, csvLabelColumns, "label")
	if err != nil {
		return nil, err
	}

	ds := &Dataset{Format: FormatCSV}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		textLine, _ := r.FieldPos(textCol)
		labelLine, _ := r.FieldPos(labelCol)
		text := strings.TrimSpace(rec[textCol])
		if text == "" {
			return nil, errorAt(name, textLine, "empty text in column %q", header[textCol])
		}
		label := strings.TrimSpace(rec[labelCol])
		if err := checkName(label, "label"); err != nil {
			return nil, errorAt(name, labelLine, "column %q: %s", header[labelCol], err)
		}
		line, _ := r.FieldPos(0)
		ds.Train = append(ds.Train, Example{Text: text, Intent: label, Line: line})
	}
	return ds, nil
}

// csvColumn finds the one header column whose name is in names.
func csvColumn(file string, header, names []string, role string) (int, error) {
	col := -1
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		for _, n := range names {
			if h != n {
				continue
			}
			if col >= 0 {
				return 0, errorAt(file, 1, "columns %q and %q both look like the %s column", header[col], header[i], role)
			}
			col = i
		}
	}
	if col < 0 {
		return 0, errorAt(file, 1, "the header has no %s column (name one of: %s)", role, strings.Join(names, ", "))
	}
	return col, nil
}

func csvError(file string, err error) *ParseError {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return errorAt(file, pe.StartLine, "row has a different number of fields than the header")
		}
		if pe.Line != pe.StartLine {
			// An unclosed quote is found lines later; the row that starts
			// the field is the one to fix.
			return errorAt(file, pe.StartLine, "CSV: %s (in the row starting here; found on line %d, column %d)", pe.Err, pe.Line, pe.Column)
		}
		return errorAt(file, pe.Line, "CSV: %s (column %d)", pe.Err, pe.Column)
	}
	return errorAt(file, 0, "CSV: %s", err)
}
