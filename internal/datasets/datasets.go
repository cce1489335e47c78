// Package datasets finds the public evaluation datasets for tests and
// benchmarks: $PARLEY_DATASETS, else ../shared/datasets beside the
// repository. They are read where they lie and never copied into the
// repository.
package datasets

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir returns the datasets folder and whether it exists.
func Dir() (string, bool) {
	dir := os.Getenv("PARLEY_DATASETS")
	if dir == "" {
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			return "", false
		}
		// This file is <root>/internal/datasets/datasets.go.
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "datasets")
	}
	st, err := os.Stat(dir)
	return dir, err == nil && st.IsDir()
}

// Path returns the path of the dataset file rel (such as
// "clinc150/data_full.json"). When it is missing, the test is skipped, or
// fails under CI=true, where no dataset-backed test may skip.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	dir, _ := Dir()
	path := filepath.Join(dir, rel)
	if _, err := os.Stat(path); err != nil {
		Missing(tb, "public dataset "+rel+" not found (set PARLEY_DATASETS to the datasets folder): "+err.Error())
	}
	return path
}

// Missing skips the test with msg, or fails it under CI=true.
func Missing(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}
