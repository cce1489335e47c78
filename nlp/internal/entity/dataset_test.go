package entity

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/parleyhq/parley/internal/datasets"
)

// banking77 returns the texts of the Banking77 test split, skipping the test
// (failing it when CI=true) when the dataset is missing.
func banking77(t testing.TB) []string {
	t.Helper()
	texts, err := readBanking77(datasets.Path(t, "banking77/test.csv"))
	if err != nil {
		t.Fatalf("read banking77: %v", err)
	}
	return texts
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
	dir, _ := datasets.Dir()
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
