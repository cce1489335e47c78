package dataset

import (
	"os"
	"testing"

	"github.com/parleyhq/parley/internal/datasets"
)

func TestLoadCLINC150Full(t *testing.T) {
	path := datasets.Path(t, "clinc150/data_full.json")
	ds, err := Load(path, FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Format != FormatCLINC150 || ds.Source != path {
		t.Errorf("Format, Source = %q, %q; want %q, %q", ds.Format, ds.Source, FormatCLINC150, path)
	}
	for _, tc := range []struct {
		name          string
		split         []Example
		inScope, oos  int
		intentsWanted int
	}{
		{"train", ds.Train, 15000, 100, 150},
		{"val", ds.Val, 3000, 100, 150},
		{"test", ds.Test, 4500, 1000, 150},
	} {
		in, oos := 0, 0
		intents := map[string]bool{}
		for _, ex := range tc.split {
			if ex.Intent == OutOfScope {
				oos++
				continue
			}
			in++
			intents[ex.Intent] = true
			if ex.Text == "" || ex.Line <= 0 {
				t.Fatalf("%s: bad example %+v", tc.name, ex)
			}
		}
		if in != tc.inScope || oos != tc.oos || len(intents) != tc.intentsWanted {
			t.Errorf("%s: %d in-scope, %d oos, %d intents; want %d, %d, %d",
				tc.name, in, oos, len(intents), tc.inScope, tc.oos, tc.intentsWanted)
		}
	}
}

func TestLoadCLINC150Variants(t *testing.T) {
	for _, tc := range []struct {
		file     string
		train    int // including oos_train
		trainOOS int
	}{
		{"data_small.json", 7600, 100},
		{"data_imbalanced.json", 10625, 100},
		{"data_oos_plus.json", 15250, 250},
	} {
		t.Run(tc.file, func(t *testing.T) {
			ds, err := Load(datasets.Path(t, "clinc150/"+tc.file), FormatAuto)
			if err != nil {
				t.Fatal(err)
			}
			oos := 0
			for _, ex := range ds.Train {
				if ex.Intent == OutOfScope {
					oos++
				}
			}
			if len(ds.Train) != tc.train || oos != tc.trainOOS {
				t.Errorf("train = %d with %d oos; want %d with %d", len(ds.Train), oos, tc.train, tc.trainOOS)
			}
		})
	}
}

func TestLoadBanking77(t *testing.T) {
	for _, tc := range []struct {
		file   string
		rows   int
		labels int
	}{
		{"train.csv", 10003, 77},
		{"test.csv", 3080, 77},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := datasets.Path(t, "banking77/"+tc.file)
			ds, err := Load(path, FormatAuto)
			if err != nil {
				t.Fatal(err)
			}
			labels := map[string]bool{}
			for _, ex := range ds.Train {
				labels[ex.Intent] = true
			}
			if ds.Format != FormatCSV || len(ds.Train) != tc.rows || len(labels) != tc.labels {
				t.Errorf("format %q, %d rows, %d labels; want %q, %d, %d",
					ds.Format, len(ds.Train), len(labels), FormatCSV, tc.rows, tc.labels)
			}
			if len(ds.Val) != 0 || len(ds.Test) != 0 {
				t.Errorf("CSV rows went to Val (%d) or Test (%d); all belong in Train", len(ds.Val), len(ds.Test))
			}
		})
	}
}

func BenchmarkLoadCLINC150Full(b *testing.B) {
	path := datasets.Path(b, "clinc150/data_full.json")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(path, data, FormatCLINC150); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadBanking77Train(b *testing.B) {
	path := datasets.Path(b, "banking77/train.csv")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(path, data, FormatCSV); err != nil {
			b.Fatal(err)
		}
	}
}
