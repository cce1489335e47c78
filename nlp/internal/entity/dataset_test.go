package entity

import (
	"encoding/csv"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
)

// datasetsDir finds the shared public datasets: $PARLEY_DATASETS, else
// ../shared/datasets beside the repository root. It returns "" when neither
// exists.
func datasetsDir() string {
	if d := os.Getenv("PARLEY_DATASETS"); d != "" {
		return d
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	// This file is <root>/nlp/internal/entity/dataset_test.go.
	d := filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "datasets")
	if _, err := os.Stat(d); err != nil {
		return ""
	}
	return d
}

// banking77 returns the texts of the Banking77 test split, skipping the test
// (failing it when CI=true) when the dataset is missing.
func banking77(t testing.TB) []string {
	t.Helper()
	dir := datasetsDir()
	if dir == "" {
		missingDataset(t, "no datasets folder (set PARLEY_DATASETS or provide ../shared/datasets)")
		return nil
	}
	texts, err := readBanking77(filepath.Join(dir, "banking77", "test.csv"))
	if errors.Is(err, fs.ErrNotExist) {
		missingDataset(t, err.Error())
		return nil
	}
	if err != nil {
		t.Fatalf("read banking77: %v", err)
	}
	return texts
}

func missingDataset(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("dataset missing in CI: %s", why)
	}
	t.Skipf("dataset missing, skipping: %s", why)
}

func readBanking77(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, err
	}
	var texts []string
	for _, r := range rows[1:] { // header: text,category
		if len(r) > 0 {
			texts = append(texts, r[0])
		}
	}
	return texts, nil
}

// datasetSeeds returns up to n Banking77 texts for a fuzz corpus, or none
// when the dataset is missing: seeds are a bonus, not a requirement.
func datasetSeeds(f *testing.F, n int) []string {
	dir := datasetsDir()
	if dir == "" {
		return nil
	}
	texts, err := readBanking77(filepath.Join(dir, "banking77", "test.csv"))
	if err != nil {
		return nil
	}
	return texts[:min(n, len(texts))]
}

// TestBanking77 runs the extractor over real banking questions: the span
// invariants hold on every one, every "$<digit>" and "£<digit>" amount is
// found as money, and no message yields a phone number or e-mail address
// (the set has none).
func TestBanking77(t *testing.T) {
	texts := banking77(t)
	x := mustNew(t, nil, nil)
	symbolAmount := regexp.MustCompile(`[$£€]\s?\d`)
	var withAmount, found int
	for _, text := range texts {
		es := x.Extract(text, tuesday)
		if err := checkInvariants(text, es); err != nil {
			t.Fatalf("Extract(%q): %v", text, err)
		}
		var money int
		for _, e := range es {
			switch e.Type {
			case TypeMoney:
				money++
			case TypePhone, TypeEmail:
				t.Errorf("Extract(%q): unexpected %s %q", text, e.Type, e.Text)
			}
		}
		if n := len(symbolAmount.FindAllString(text, -1)); n > 0 {
			withAmount += n
			found += min(n, money)
		}
	}
	t.Logf("%d texts, %d symbol amounts, %d found as money", len(texts), withAmount, found)
	if withAmount == 0 || found != withAmount {
		t.Errorf("found %d of %d symbol amounts as money", found, withAmount)
	}
}
