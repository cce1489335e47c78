package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	nlpdata "github.com/parleyhq/parley/nlp/dataset"
)

// outOfScope is the label of out-of-scope items (the CLINC150 convention).
const outOfScope = "oos"

// example is one labelled message.
type example struct {
	Text  string
	Label string
}

// dataset is one benchmark dataset: the splits every system sees, and the
// original files Parley reads itself.
type dataset struct {
	Name  string    // as shown in the table
	Train []example // in-scope training items only
	Val   []example // calibration split (with OOS items); empty when there is none
	Test  []example

	// What "bot train" and "bot eval" are given.
	ParleyFormat string
	ParleyTrain  string
	ParleyTest   string
}

// hasOOS reports whether the test split has out-of-scope items.
func (d *dataset) hasOOS() bool {
	for _, e := range d.Test {
		if e.Label == outOfScope {
			return true
		}
	}
	return false
}

// The datasets the benchmark knows, by the name -only takes, in the order
// they run.
var datasetLoaders = []struct {
	key  string
	load func(dir string) (*dataset, error)
}{
	{"clinc150", loadCLINC150},
	{"banking77", loadBanking77},
	{"bitext", loadBitext},
}

// datasetKeys returns the names -only takes, for messages.
func datasetKeys() []string {
	keys := make([]string, len(datasetLoaders))
	for i, l := range datasetLoaders {
		keys[i] = l.key
	}
	return keys
}

// loadCLINC150 reads clinc150/data_full.json under dir: train is "train"
// (oos_train is left out: no peer here learns from OOS examples, they use a
// threshold), validation is val+oos_val and test is test+oos_test.
func loadCLINC150(dir string) (*dataset, error) {
	path := filepath.Join(dir, "clinc150", "data_full.json")
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load clinc150: %w", err)
	}
	defer f.Close()
	splits, err := parseCLINC150(f)
	if err != nil {
		return nil, fmt.Errorf("load clinc150: %s: %w", path, err)
	}
	for _, key := range []string{"train", "val", "test", "oos_val", "oos_test"} {
		if len(splits[key]) == 0 {
			return nil, fmt.Errorf("load clinc150: %s: split %q is missing or empty", path, key)
		}
	}
	return &dataset{
		Name:         "CLINC150",
		Train:        splits["train"],
		Val:          append(splits["val"], splits["oos_val"]...),
		Test:         append(splits["test"], splits["oos_test"]...),
		ParleyFormat: "clinc150",
		ParleyTrain:  path,
		ParleyTest:   path,
	}, nil
}

// parseCLINC150 decodes {"split": [[text, label], ...], ...}. Items of the
// oos_ splits must be labelled "oos" and items of the others must not, so
// that a mislabelled file cannot leak OOS items into training. It returns an
// error when the JSON has another shape or a text or label is empty.
func parseCLINC150(r io.Reader) (map[string][]example, error) {
	var raw map[string][][]string
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("decode json: %w", err)
	}
	splits := make(map[string][]example, len(raw))
	for key, items := range raw {
		oos := strings.HasPrefix(key, "oos_")
		out := make([]example, 0, len(items))
		for i, item := range items {
			if len(item) != 2 {
				return nil, fmt.Errorf("%s[%d]: want [text, label], found %d elements", key, i, len(item))
			}
			e := example{Text: strings.TrimSpace(item[0]), Label: strings.TrimSpace(item[1])}
			if e.Text == "" || e.Label == "" {
				return nil, fmt.Errorf("%s[%d]: empty text or label", key, i)
			}
			if oos != (e.Label == outOfScope) {
				return nil, fmt.Errorf("%s[%d]: label %q in split %q", key, i, e.Label, key)
			}
			out = append(out, e)
		}
		splits[key] = out
	}
	return splits, nil
}

// loadBanking77 reads banking77/train.csv and test.csv under dir. It has no
// validation split and no OOS items; the peers train on all of train.csv.
func loadBanking77(dir string) (*dataset, error) {
	d := &dataset{
		Name:         "Banking77",
		ParleyFormat: "csv",
		ParleyTrain:  filepath.Join(dir, "banking77", "train.csv"),
		ParleyTest:   filepath.Join(dir, "banking77", "test.csv"),
	}
	for _, s := range []struct {
		path string
		dst  *[]example
	}{{d.ParleyTrain, &d.Train}, {d.ParleyTest, &d.Test}} {
		f, err := os.Open(s.path)
		if err != nil {
			return nil, fmt.Errorf("load banking77: %w", err)
		}
		*s.dst, err = parseCSV(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("load banking77: %s: %w", s.path, err)
		}
		if len(*s.dst) == 0 {
			return nil, fmt.Errorf("load banking77: %s: no rows", s.path)
		}
	}
	return d, nil
}

// bitextFile is the Bitext customer-support sample under the datasets folder.
var bitextFile = filepath.Join("bitext_customer_support", "Bitext_Sample_Customer_Support_Training_Dataset.csv")

// loadBitext reads the Bitext customer-support sample under dir with
// Parley's own loader, so that the peers get exactly the split "bot train"
// and "bot eval" make of the same file (nlp/dataset.HashSplit: 80/10/10 by a
// hash of the instruction), not a copy of the rule that could drift. The
// peers train on the training split; Parley trains on it too and uses the
// validation split to stop and calibrate. There are no OOS items.
func loadBitext(dir string) (*dataset, error) {
	path := filepath.Join(dir, bitextFile)
	ds, err := nlpdata.Load(path, nlpdata.FormatBitext)
	if err != nil {
		return nil, fmt.Errorf("load bitext: %w", err)
	}
	if len(ds.Val) == 0 || len(ds.Test) == 0 {
		return nil, fmt.Errorf("load bitext: %s: %d validation and %d test rows; the hash split needs a larger file", path, len(ds.Val), len(ds.Test))
	}
	return &dataset{
		Name:         "Bitext",
		Train:        fromParley(ds.Train),
		Val:          fromParley(ds.Val),
		Test:         fromParley(ds.Test),
		ParleyFormat: string(nlpdata.FormatBitext),
		ParleyTrain:  path,
		ParleyTest:   path,
	}, nil
}

// fromParley converts examples read by Parley's loader.
func fromParley(exs []nlpdata.Example) []example {
	out := make([]example, len(exs))
	for i, e := range exs {
		out[i] = example{Text: e.Text, Label: e.Intent}
	}
	return out
}

// parseCSV reads a CSV file whose header names a "text" and a "category"
// column (quoted fields may span lines). It returns an error for a missing
// column, malformed CSV, or a row with an empty text or category.
func parseCSV(r io.Reader) ([]example, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("empty file")
	}
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	textCol, labelCol := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "text":
			textCol = i
		case "category":
			labelCol = i
		}
	}
	if textCol < 0 || labelCol < 0 {
		return nil, fmt.Errorf("header %q: want columns text and category", header)
	}
	var out []example
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read row: %w", err)
		}
		e := example{Text: strings.TrimSpace(rec[textCol]), Label: strings.TrimSpace(rec[labelCol])}
		if e.Text == "" || e.Label == "" {
			line, _ := cr.FieldPos(textCol)
			return nil, fmt.Errorf("line %d: empty text or category", line)
		}
		out = append(out, e)
	}
}

// texts returns the texts of examples, in order.
func texts(examples []example) []string {
	out := make([]string, len(examples))
	for i, e := range examples {
		out[i] = e.Text
	}
	return out
}

// labels returns the labels of examples, in order.
func labels(examples []example) []string {
	out := make([]string, len(examples))
	for i, e := range examples {
		out[i] = e.Label
	}
	return out
}
