package replies

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad writes fuzzed bytes as replies.json or pairs.json of a saved
// model: Load must fail with one of its errors or return a usable model,
// never panic.
func FuzzLoad(f *testing.F) {
	m := trainTiny(f)
	saved := filepath.Join(f.TempDir(), "model")
	if err := m.Save(saved); err != nil {
		f.Fatal(err)
	}
	meta, err := os.ReadFile(filepath.Join(saved, MetaFile))
	if err != nil {
		f.Fatal(err)
	}
	pairs, err := os.ReadFile(filepath.Join(saved, PairsFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(meta, pairs)
	f.Add([]byte(`{"format_version": 1, "neighbour": "bm25", "checksums": {}}`), []byte(`[]`))
	f.Add([]byte(`{"format_version": 1}`), []byte(`[{"question":"a","answer":"b"}]`))
	f.Add([]byte("\x00\xff"), []byte("null"))
	f.Fuzz(func(t *testing.T, meta, pairs []byte) {
		dir := filepath.Join(t.TempDir(), "model")
		if err := os.CopyFS(dir, os.DirFS(saved)); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, MetaFile), meta, 0o644)
		os.WriteFile(filepath.Join(dir, PairsFile), pairs, 0o644)
		got, err := Load(dir)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNoModel) {
				t.Fatalf("Load: %v, want ErrFormat, ErrCorrupt or ErrNoModel", err)
			}
			return
		}
		// Accepted: it answers.
		got.Neighbour("where is my order")
	})
}
