package dataset

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/datasets"
)

// The fuzz targets check that no input makes a parser panic, that failures
// are *ParseErrors with a plausible line, and that what parses keeps the
// Dataset's invariants.

func FuzzParseParley(f *testing.F) {
	for _, s := range []string{
		parleyExample,
		"version: 1\nintents:\n  - name: a\n    examples: [hi]\n",
		"intents:\n  - name: a\n    examples:\n      - '[x][{\"entity\": \"e\"}, {\"entity\": \"f\", \"value\": \"y\"}] z'\n",
		"intents:\n  - name: a\n    examples: ['\\[x\\] [é](e:v)']\nentities:\n  - name: e\n    synonyms:\n      v: [É]\n",
		"intents:\n  - name: a\n    examples: &x [hi]\n  - name: b\n    examples: *x\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := Parse("fuzz.yml", data, FormatParley)
		checkParsed(t, data, ds, err)
	})
}

func FuzzParseRasa(f *testing.F) {
	for _, s := range []string{
		rasaExample,
		"nlu:\n- intent: a\n  examples: |\n    - hi [x]{\"entity\": \"e\", \"value\": \"v\"}\n",
		"nlu:\n- intent: a\n  examples: >\n    - folded\n    - lines\n",
		"nlu:\n- regex: r\n  examples: |\n    - (?i)abc\n    - \\d+\n- lookup: r\n  examples: |\n    - x\n",
		"version: \"3.1\"\nnlu:\n- intent: a\n  examples:\n  - text: |\n      hi\n  - hello\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := Parse("fuzz.yml", data, FormatRasa)
		checkParsed(t, data, ds, err)
	})
}

func FuzzParseCLINC150(f *testing.F) {
	for _, s := range []string{
		`{"train": [["where is my parcel", "order_status"]], "oos_train": [["sing", "oos"]]}`,
		"{\n \"val\": [[\"a\", \"b\"]],\n \"train\": [[\" x \", \"y\"]], \"extra\": []\n}\n",
		`{"train": [["a", "b"]], "train": []}`,
		`{"train": [["a", 1]]}`,
	} {
		f.Add([]byte(s))
	}
	if path, ok := findPublicDataset("clinc150/data_small.json"); ok {
		f.Add(clincSeed(f, path))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := Parse("fuzz.json", data, FormatCLINC150)
		checkParsed(t, data, ds, err)
	})
}

func FuzzParseCSV(f *testing.F) {
	for _, s := range []string{
		"text,category\nwhere is my card?,card_arrival\n\"I paid twice, why?\",duplicate_charge\n",
		"id,intent,utterance\r\n1,greet,\"hello\nthere\"\r\n",
		"\ufefftext,label\nhi,greet\n",
		"text,category\n\"unclosed,x\n",
	} {
		f.Add([]byte(s))
	}
	if path, ok := findPublicDataset("banking77/train.csv"); ok {
		f.Add(headLines(f, path, 40))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := Parse("fuzz.csv", data, FormatCSV)
		checkParsed(t, data, ds, err)
	})
}

// checkParsed checks the result of Parse on data.
func checkParsed(t *testing.T, data []byte, ds *Dataset, err error) {
	t.Helper()
	// YAML also breaks lines at a lone "\r" and at NEL, LS and PS.
	lines := max(1+bytes.Count(data, []byte("\n")), yamlLineCount(data))
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *ParseError", err, err)
		}
		if ds != nil {
			t.Fatalf("a dataset came back with the error %v", err)
		}
		if pe.Line < 0 || pe.Line > lines || pe.Reason == "" {
			t.Fatalf("error %q at line %d of a %d-line input", pe.Reason, pe.Line, lines)
		}
		return
	}
	if ds == nil || len(ds.Train) == 0 {
		t.Fatalf("no error but dataset %+v", ds)
	}
	defs := map[string]bool{}
	for _, d := range ds.EntityDefs {
		if d.Name == "" || defs[d.Name] {
			t.Fatalf("entity name %q empty or repeated", d.Name)
		}
		defs[d.Name] = true
		if d.Pattern != "" {
			if _, err := regexp.Compile(d.Pattern); err != nil {
				t.Fatalf("entity %q: pattern does not compile: %v", d.Name, err)
			}
		}
		for k, v := range d.Synonyms {
			if k != strings.ToLower(k) || v == "" {
				t.Fatalf("entity %q: synonym %q -> %q", d.Name, k, v)
			}
		}
	}
	for _, split := range [][]Example{ds.Train, ds.Val, ds.Test} {
		for _, ex := range split {
			n := utf8.RuneCountInString(ex.Text)
			if n == 0 || !utf8.ValidString(ex.Text) || ex.Text != strings.TrimSpace(ex.Text) {
				t.Fatalf("bad text %q", ex.Text)
			}
			if ex.Intent == "" || ex.Line < 1 || ex.Line > lines {
				t.Fatalf("example %+v of a %d-line input", ex, lines)
			}
			for _, sp := range ex.Entities {
				if sp.Start < 0 || sp.Start >= sp.End || sp.End > n {
					t.Fatalf("span %+v outside text %q (%d runes)", sp, ex.Text, n)
				}
				if sp.Value == "" || !defs[sp.Entity] {
					t.Fatalf("span %+v: empty value or undeclared entity", sp)
				}
			}
		}
	}
}

// findPublicDataset is datasets.Path for fuzz seeds: a missing file only
// means fewer seeds.
func findPublicDataset(rel string) (string, bool) {
	dir, _ := datasets.Dir()
	path := filepath.Join(dir, rel)
	_, err := os.Stat(path)
	return path, err == nil
}

// clincSeed builds a small CLINC150 file out of the first items of each split
// of a real one.
func clincSeed(f *testing.F, path string) []byte {
	f.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	var full map[string][][]string
	if err := json.Unmarshal(raw, &full); err != nil {
		f.Fatal(err)
	}
	for k, v := range full {
		full[k] = v[:min(len(v), 5)]
	}
	out, err := json.MarshalIndent(full, "", "  ")
	if err != nil {
		f.Fatal(err)
	}
	return out
}

// headLines returns the first n lines of a file.
func headLines(f *testing.F, path string, n int) []byte {
	f.Helper()
	file, err := os.Open(path)
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	var out bytes.Buffer
	sc := bufio.NewScanner(file)
	for i := 0; i < n && sc.Scan(); i++ {
		out.Write(sc.Bytes())
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		f.Fatal(err)
	}
	return out.Bytes()
}
