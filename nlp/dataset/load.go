package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// MaxBytes is the largest training-data file Load and
// Parse accept. The biggest public sets we use are a few megabytes; the
// limit only stops a wrong path (a disk image, a log) from exhausting memory.
const MaxBytes = 512 << 20

// ParseFormat turns a command-line value into a Format. Matching ignores case
// and surrounding spaces; the empty string means FormatAuto. Any other name
// returns an error that lists the accepted names.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case "":
		return FormatAuto, nil
	case FormatAuto, FormatParley, FormatCLINC150, FormatCSV, FormatRasa, FormatBitext:
		return f, nil
	}
	return "", fmt.Errorf("parse format %q: want one of %s, %s, %s, %s, %s, %s",
		s, FormatAuto, FormatParley, FormatCLINC150, FormatCSV, FormatRasa, FormatBitext)
}

// Load reads the training-data file at path in the given format
// (FormatAuto guesses it, see Parse).
//
// Every error, including a file that cannot be opened or is larger than
// MaxBytes, is a *ParseError naming path; I/O errors are wrapped in it,
// so errors.Is(err, fs.ErrNotExist) works. On error the dataset is nil.
func Load(path string, format Format) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &ParseError{File: path, Reason: "open: " + pathErrorText(err), Err: err}
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > MaxBytes {
		return nil, tooBig(path, st.Size())
	}
	// Read one byte past the limit so that a file that grew, or a pipe, is
	// still caught.
	data, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return nil, &ParseError{File: path, Reason: "read: " + pathErrorText(err), Err: err}
	}
	if len(data) > MaxBytes {
		return nil, tooBig(path, int64(len(data)))
	}
	return Parse(path, data, format)
}

// pathErrorText drops the path from an *fs.PathError: the ParseError
// already names the file.
func pathErrorText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func tooBig(name string, size int64) *ParseError {
	return &ParseError{File: name, Reason: fmt.Sprintf(
		"file is too large (%d bytes; the limit is %d MiB)", size, MaxBytes>>20)}
}

// Parse parses training data held in memory; name is the file name used
// in errors and, with FormatAuto, to guess the format:
//
//	.json        CLINC150 JSON
//	.csv         Bitext when the header names an instruction and an intent
//	             column and no text column, text,label CSV otherwise
//	.yml, .yaml  Rasa when the top-level mapping has the key "nlu",
//	             Parley when it has "intents"
//
// A file with another extension is taken as CLINC150 when it starts with "{"
// and as YAML otherwise.
//
// Every error is a *ParseError with the line it concerns (0 when it concerns
// the whole file); on error the dataset is nil, never partly filled. The data
// must be valid UTF-8 (a leading byte-order mark is skipped) and hold at least
// one training example.
func Parse(name string, data []byte, format Format) (*Dataset, error) {
	if len(data) > MaxBytes {
		return nil, tooBig(name, int64(len(data)))
	}
	if !utf8.Valid(data) {
		return nil, &ParseError{File: name, Line: invalidUTF8Line(data), Reason: "invalid UTF-8 (save the file as UTF-8)"}
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))

	var (
		ds  *Dataset
		err error
	)
	switch format {
	case FormatAuto:
		ds, err = parseGuessed(name, data)
	case FormatParley, FormatRasa:
		var doc *yamlDoc
		doc, err = parseYAML(name, data)
		if err != nil {
			return nil, err
		}
		if format == FormatParley {
			ds, err = parseParley(doc)
		} else {
			ds, err = parseRasa(doc)
		}
	case FormatCLINC150:
		ds, err = parseCLINC150(name, data)
	case FormatCSV:
		ds, err = parseCSV(name, data)
	case FormatBitext:
		ds, err = parseBitext(name, data)
	default:
		return nil, &ParseError{File: name, Reason: fmt.Sprintf("unknown format %q", format)}
	}
	if err != nil {
		return nil, err
	}
	if len(ds.Train) == 0 {
		return nil, &ParseError{File: name, Reason: "no training examples"}
	}
	ds.Source = name
	return ds, nil
}

func parseGuessed(name string, data []byte) (*Dataset, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return parseCLINC150(name, data)
	case ".csv":
		if looksLikeBitext(data) {
			return parseBitext(name, data)
		}
		return parseCSV(name, data)
	case ".yml", ".yaml":
	default:
		if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
			return parseCLINC150(name, data)
		}
	}
	doc, err := parseYAML(name, data)
	if err != nil {
		return nil, err
	}
	switch {
	case doc.has("nlu"):
		return parseRasa(doc)
	case doc.has("intents"):
		return parseParley(doc)
	}
	return nil, &ParseError{File: name, Line: doc.root.Line, Reason: "cannot tell the format: " +
		`no top-level key "nlu" (Rasa) or "intents" (Parley); pass the format explicitly`}
}

// invalidUTF8Line returns the 1-based line of the first invalid UTF-8 sequence.
func invalidUTF8Line(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return lineOf(data, i)
		}
		i += size
	}
	return 0
}

// lineOf returns the 1-based line that holds byte offset off of data.
func lineOf(data []byte, off int) int {
	off = min(max(off, 0), len(data))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// errorAt builds the *ParseError every parser returns.
func errorAt(file string, line int, format string, args ...any) *ParseError {
	return &ParseError{File: file, Line: line, Reason: fmt.Sprintf(format, args...)}
}
