package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// datasetsDir finds the public dataset file rel as the project's tests do:
// env PARLEY_DATASETS, else ../shared/datasets from the repository root, and
// returns the folder. It skips the test when the file is missing, and fails
// it when CI=true.
func datasetsDir(t testing.TB, rel string) string {
	t.Helper()
	dir := os.Getenv("PARLEY_DATASETS")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		root, err := moduleRoot(wd)
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(filepath.Dir(root), "shared", "datasets")
	}
	if _, err := os.Stat(filepath.Join(dir, rel)); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("datasets missing in CI: %v", err)
		}
		t.Skipf("public dataset %s not found (%v): set PARLEY_DATASETS", rel, err)
	}
	return dir
}

// needTool skips the test when a peer's tool is missing, and fails it when
// CI=true: CI must install fasttext and python3-sklearn.
func needTool(t testing.TB, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s missing in CI (apt-get install -y fasttext python3-sklearn)", what)
	}
	t.Skipf("%s not installed (apt-get install -y fasttext python3-sklearn)", what)
}

// Team-written examples in the datasets' shapes.
const (
	clincSample = `{"train": [["what is my balance", "balance"], ["  book a table for two ", "restaurant_reservation"]],
 "val": [["how much money do i have", "balance"]],
 "oos_val": [["what is the tallest mountain", "oos"]],
 "test": [["reserve a table at eight", "restaurant_reservation"]],
 "oos_test": [["sing me a song", "oos"]],
 "oos_train": [["who won the match", "oos"]]}`
	csvSample = "text,category\n\"My card hasn't arrived,\nwhere is it?\",card_arrival\n\"I want to \"\"top up\"\" by bank transfer\",top_up_by_bank_transfer\n"
)

func TestParseCLINC150(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string][]example
		wantErr string
	}{
		{
			name: "all splits, trimmed",
			in:   clincSample,
			want: map[string][]example{
				"train":     {{"what is my balance", "balance"}, {"book a table for two", "restaurant_reservation"}},
				"val":       {{"how much money do i have", "balance"}},
				"oos_val":   {{"what is the tallest mountain", "oos"}},
				"test":      {{"reserve a table at eight", "restaurant_reservation"}},
				"oos_test":  {{"sing me a song", "oos"}},
				"oos_train": {{"who won the match", "oos"}},
			},
		},
		{name: "not an object", in: `[["a", "b"]]`, wantErr: "decode json"},
		{name: "item with three elements", in: `{"train": [["a", "b", "c"]]}`, wantErr: "3 elements"},
		{name: "empty text", in: `{"train": [[" ", "b"]]}`, wantErr: "empty text"},
		{name: "oos in an in-scope split", in: `{"test": [["hello", "oos"]]}`, wantErr: `label "oos"`},
		{name: "intent in an oos split", in: `{"oos_val": [["hello", "greeting"]]}`, wantErr: `label "greeting"`},
		{name: "truncated", in: `{"train": [["a", "b"]`, wantErr: "decode json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCLINC150(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if !slices.Equal(got[k], v) {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("got %d splits, want %d", len(got), len(tc.want))
			}
		})
	}
}

func TestParseCSV(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []example
		wantErr string
	}{
		{
			name: "quoted fields spanning lines",
			in:   csvSample,
			want: []example{
				{"My card hasn't arrived,\nwhere is it?", "card_arrival"},
				{`I want to "top up" by bank transfer`, "top_up_by_bank_transfer"},
			},
		},
		{
			name: "columns in another order, BOM, extra column",
			in:   "\ufeffid,Category,Text\n1,balance, how much is left \n",
			want: []example{{"how much is left", "balance"}},
		},
		{name: "header only", in: "text,category\n", want: nil},
		{name: "empty file", in: "", wantErr: "empty file"},
		{name: "no category column", in: "text,intent\nhi,greet\n", wantErr: "want columns"},
		{name: "empty text", in: "text,category\n\"\",greet\n", wantErr: "line 2: empty"},
		{name: "unterminated quote", in: "text,category\n\"hi,greet\n", wantErr: "read row"},
		{name: "ragged row", in: "text,category\nhi\n", wantErr: "read row"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCSV(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestLoadDatasets checks the splits the benchmark builds from the real files.
func TestLoadDatasets(t *testing.T) {
	tests := []struct {
		name                   string
		file                   string // the one whose absence skips the case
		load                   func(string) (*dataset, error)
		train, val, test, oosT int
	}{
		// CLINC150 full: 15,000 train; 3,000+100 val; 4,500+1,000 test.
		{"clinc150", "clinc150/data_full.json", loadCLINC150, 15000, 3100, 5500, 1000},
		{"banking77", "banking77/test.csv", loadBanking77, 10003, 0, 3080, 0},
		// Bitext: 4,514 rows split by nlp/dataset.HashSplit.
		{"bitext", bitextFile, loadBitext, 3585, 456, 473, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := tc.load(datasetsDir(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			oos := 0
			for _, e := range d.Test {
				if e.Label == outOfScope {
					oos++
				}
			}
			if len(d.Train) != tc.train || len(d.Val) != tc.val || len(d.Test) != tc.test || oos != tc.oosT {
				t.Errorf("train/val/test/oos-test = %d/%d/%d/%d, want %d/%d/%d/%d",
					len(d.Train), len(d.Val), len(d.Test), oos, tc.train, tc.val, tc.test, tc.oosT)
			}
			if slices.Contains(labels(d.Train), outOfScope) {
				t.Error("OOS items in the training split")
			}
			if d.hasOOS() != (tc.oosT > 0) {
				t.Errorf("hasOOS = %v", d.hasOOS())
			}
		})
	}
	for _, l := range datasetLoaders {
		if _, err := l.load(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s from an empty folder: err = %v, want a not-exist error", l.key, err)
		}
	}
}

// TestLoadBitext checks, on team-written data, that the peers get the split
// Parley's loader makes and that a file too small to split is refused.
func TestLoadBitext(t *testing.T) {
	write := func(t *testing.T, content string) string {
		t.Helper()
		dir := t.TempDir()
		path := filepath.Join(dir, bitextFile)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	const header = "context,role,instruction,intent,response\n"
	d, err := loadBitext(write(t, header+
		"cs,va,what is my balance,balance,\"two\nlines\"\n"+ // train
		"cs,va,card missing,card_lost,x\n"+ // validation
		"cs,va,i lost my card,card_lost,x\n"+ // test
		"cs,va,my card was stolen,card_lost,x\n")) // train
	if err != nil {
		t.Fatal(err)
	}
	want := &dataset{
		Name:         "Bitext",
		Train:        []example{{"what is my balance", "balance"}, {"my card was stolen", "card_lost"}},
		Val:          []example{{"card missing", "card_lost"}},
		Test:         []example{{"i lost my card", "card_lost"}},
		ParleyFormat: "bitext",
	}
	if d.Name != want.Name || d.ParleyFormat != want.ParleyFormat || !slices.Equal(d.Train, want.Train) ||
		!slices.Equal(d.Val, want.Val) || !slices.Equal(d.Test, want.Test) || d.ParleyTrain != d.ParleyTest {
		t.Errorf("got %+v\nwant %+v", d, want)
	}

	if _, err := loadBitext(write(t, header+"cs,va,what is my balance,balance,x\n")); err == nil ||
		!strings.Contains(err.Error(), "0 validation and 0 test rows") {
		t.Errorf("a file with only training rows: err = %v", err)
	}
	if _, err := loadBitext(write(t, "text,category\nhi,greet\n")); err == nil || !strings.Contains(err.Error(), `no "instruction" column`) {
		t.Errorf("a file without the Bitext columns: err = %v", err)
	}
}

// realSeed returns the start of a real dataset file, cut after its last
// full line within n bytes, as a fuzz seed when the datasets are there (they
// are never stored in the repository).
func realSeed(rel string, n int) (string, bool) {
	dir := os.Getenv("PARLEY_DATASETS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "datasets")
	}
	data, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return "", false
	}
	data = data[:min(len(data), n)]
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i+1]
	}
	return string(data), true
}

func FuzzParseCSV(f *testing.F) {
	f.Add(csvSample)
	f.Add("text,category\nhi,greet\n")
	f.Add("category,text\n\"a\"\"b\",c\n")
	if seed, ok := realSeed("banking77/train.csv", 2000); ok {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := parseCSV(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, e := range got {
			if e.Text == "" || e.Label == "" || strings.TrimSpace(e.Text) != e.Text {
				t.Fatalf("accepted an untrimmed or empty item %q", e)
			}
		}
	})
}

func FuzzParseCLINC150(f *testing.F) {
	f.Add(clincSample)
	f.Add(`{"train": []}`)
	f.Add(`{"oos_test": [["x", "oos"]]}`)
	// The real file is one JSON line: keep its first items of every split.
	if seed, ok := realSeed("clinc150/data_full.json", 1<<30); ok {
		if splits, err := parseCLINC150(strings.NewReader(seed)); err == nil {
			small := map[string][][2]string{}
			for k, items := range splits {
				for _, e := range items[:min(len(items), 3)] {
					small[k] = append(small[k], [2]string{e.Text, e.Label})
				}
			}
			if data, err := json.Marshal(small); err == nil {
				f.Add(string(data))
			}
		}
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := parseCLINC150(strings.NewReader(in))
		if err != nil {
			return
		}
		for key, items := range got {
			for _, e := range items {
				if e.Text == "" || (e.Label == outOfScope) != strings.HasPrefix(key, "oos_") {
					t.Fatalf("%s: accepted %q", key, e)
				}
			}
		}
	})
}
