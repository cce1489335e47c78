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
	ds := &Dataset{Format: FormatCSV}
	err := eachCSVRow(name, bytes.NewReader(data), func(header []string) ([]int, error) {
		textCol, err := csvColumn(name, header, csvTextColumns, "text")
		if err != nil {
			return nil, err
		}
		labelCol, err := csvColumn(name, header, csvLabelColumns, "label")
		return []int{textCol, labelCol}, err
	}, func(f []string, line []int, header []string) error {
		if f[0] == "" {
			return errorAt(name, line[0], "empty text in column %q", header[0])
		}
		if err := checkName(f[1], "label"); err != nil {
			return errorAt(name, line[1], "column %q: %s", header[1], err)
		}
		ds.Train = append(ds.Train, Example{Text: f[0], Intent: f[1], Line: line[0]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ds, nil
}

// eachCSVRow reads the CSV in r: the header, whose columns find picks (an
// error of find is returned as it is), then every record, calling row with
// the picked fields (trimmed), the line each starts on and their header
// names. Errors are *ParseError.
func eachCSVRow(name string, r io.Reader, find func(header []string) ([]int, error),
	row func(fields []string, lines []int, header []string) error) error {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return errorAt(name, 0, "empty file")
		}
		return csvError(name, err)
	}
	header = append([]string(nil), header...) // ReuseRecord recycles it
	cols, err := find(header)
	if err != nil {
		return err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = header[c]
	}
	fields, lines := make([]string, len(cols)), make([]int, len(cols))
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return csvError(name, err)
		}
		for i, c := range cols {
			fields[i] = strings.TrimSpace(rec[c])
			lines[i], _ = cr.FieldPos(c)
		}
		if err := row(fields, lines, names); err != nil {
			return err
		}
	}
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
