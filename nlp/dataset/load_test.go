package dataset

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkParseError fails unless err is a *ParseError at line whose reason
// contains reason.
func checkParseError(t *testing.T, err error, line int, reason string) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v (%T); want a *ParseError", err, err)
	}
	t.Log(pe)
	if pe.Line != line || !strings.Contains(pe.Reason, reason) {
		t.Errorf("error = %q at line %d; want line %d and a reason containing %q", pe.Reason, pe.Line, line, reason)
	}
}

// parseBad parses src, which must fail, and checks that no dataset came back.
func parseBad(t *testing.T, name, src string, format Format) error {
	t.Helper()
	ds, err := Parse(name, []byte(src), format)
	if err == nil {
		t.Fatalf("Parse succeeded; want an error. Dataset: %+v", ds)
	}
	if ds != nil {
		t.Errorf("Parse returned a dataset with its error: %+v", ds)
	}
	return err
}

func TestParseFormat(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Format
		wantErr bool
	}{
		{"", FormatAuto, false},
		{"auto", FormatAuto, false},
		{" Parley ", FormatParley, false},
		{"clinc150", FormatCLINC150, false},
		{"CSV", FormatCSV, false},
		{"rasa", FormatRasa, false},
		{"json", "", true},
		{"yaml", "", true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseFormat(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("ParseFormat(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "parley, clinc150, csv, rasa") {
				t.Errorf("error %q does not list the formats", err)
			}
		})
	}
}

func TestParseGuessesFormat(t *testing.T) {
	const (
		parley = "version: 1\nintents:\n  - name: greet\n    examples: [hello]\n"
		rasa   = "version: \"3.1\"\nnlu:\n- intent: greet\n  examples: |\n    - hello\n"
		clinc  = `{"train": [["hello", "greet"]]}`
		csv    = "text,category\nhello,greet\n"
	)
	for _, tc := range []struct {
		name, file, src string
		want            Format
	}{
		{"parley yml", "data.yml", parley, FormatParley},
		{"parley yaml upper case", "DATA.YAML", parley, FormatParley},
		{"parley without version", "data.yml", "intents:\n  - name: greet\n    examples: [hello]\n", FormatParley},
		{"rasa", "nlu.yml", rasa, FormatRasa},
		{"clinc150", "data_full.json", clinc, FormatCLINC150},
		{"csv", "train.csv", csv, FormatCSV},
		{"json without extension", "data", clinc, FormatCLINC150},
		{"yaml without extension", "data", parley, FormatParley},
		{"UTF-8 byte order mark", "train.csv", "\ufeff" + csv, FormatCSV},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := Parse(tc.file, []byte(tc.src), FormatAuto)
			if err != nil {
				t.Fatal(err)
			}
			if ds.Format != tc.want || ds.Source != tc.file {
				t.Errorf("Format, Source = %q, %q; want %q, %q", ds.Format, ds.Source, tc.want, tc.file)
			}
			if len(ds.Train) != 1 || ds.Train[0].Text != "hello" || ds.Train[0].Intent != "greet" || ds.Train[0].Line == 0 {
				t.Errorf("Train = %+v; want one example hello/greet", ds.Train)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file, src string
		format          Format
		line            int
		reason          string
	}{
		{"unknown yaml shape", "x.yml", "responses:\n  utter_greet: []\n", FormatAuto, 1, "cannot tell the format"},
		{"invalid UTF-8 on line 3", "x.yml", "intents:\n  - name: a\n    examples: [\"caf\xe9\"]\n", FormatAuto, 3, "invalid UTF-8"},
		{"invalid UTF-8 in csv", "x.csv", "text,label\nok,a\nb\xff,c\n", FormatCSV, 3, "invalid UTF-8"},
		{"unknown format", "x.yml", "intents: []", Format("xml"), 0, `unknown format "xml"`},
		{"no training examples", "x.json", `{"val": [["hello", "greet"]]}`, FormatAuto, 0, "no training examples"},
		{"header only csv", "x.csv", "text,label\n", FormatAuto, 0, "no training examples"},
		{"empty yaml", "x.yml", "# nothing\n", FormatAuto, 0, "empty file"},
		{"yaml list at the top", "x.yml", "- a\n- b\n", FormatParley, 1, "top level must be a mapping"},
		{"two yaml documents", "x.yml", "intents: []\n---\nintents: []\n", FormatParley, 2, "more than one YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkParseError(t, parseBad(t, tc.file, tc.src, tc.format), tc.line, tc.reason)
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "shop.yml")
	if err := os.WriteFile(good, []byte(parleyExample), 0o600); err != nil {
		t.Fatal(err)
	}
	ds, err := Load(good, FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Source != good || ds.Format != FormatParley || len(ds.Train) == 0 {
		t.Errorf("Load = Source %q, Format %q, %d training examples", ds.Source, ds.Format, len(ds.Train))
	}

	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("version: 2\nintents: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ds, err = Load(bad, FormatAuto)
	if ds != nil {
		t.Errorf("Load returned a dataset with its error")
	}
	checkParseError(t, err, 1, `version "2" is not supported`)
	if pe, _ := err.(*ParseError); pe == nil || pe.File != bad {
		t.Errorf("error %v does not name the file %s", err, bad)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.yml")
	ds, err := Load(path, FormatAuto)
	if ds != nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load(missing) = %v, %v; want nil and an error wrapping fs.ErrNotExist", ds, err)
	}
	checkParseError(t, err, 0, "open")
}

func TestLoadTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse file: it takes no disk space and is refused before reading.
	if err := f.Truncate(MaxBytes + 1); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	ds, err := Load(path, FormatAuto)
	if ds != nil {
		t.Errorf("Load returned a dataset for a huge file")
	}
	checkParseError(t, err, 0, "too large")
}
