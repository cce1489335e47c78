package encoder

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds the parsers of meta.json and weights.bin arbitrary bytes,
// seeded with a real saved tiny model. They must return a model or an
// error wrapping ErrCorrupt or ErrVersion, never panic or allocate beyond
// what the input accounts for; a model they return must encode to unit
// vectors.
func FuzzLoad(f *testing.F) {
	dir := f.TempDir()
	if err := trainTiny(f).Save(dir); err != nil {
		f.Fatal(err)
	}
	meta, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if err != nil {
		f.Fatal(err)
	}
	weights, err := os.ReadFile(filepath.Join(dir, WeightsFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(meta, weights)
	f.Add([]byte(`{"format_version":1,"dim":1,"features":1,"max_tokens":1}`), []byte(weightsMagic))
	f.Add([]byte(`{"format_version":2}`), weights[:64])
	f.Fuzz(func(t *testing.T, meta, weights []byte) {
		if _, err := parseMeta(meta); err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
			t.Fatalf("meta: %v wraps neither ErrCorrupt nor ErrVersion", err)
		}
		e, err := decodeWeights(weights)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("weights: %v wraps neither ErrCorrupt nor ErrVersion", err)
			}
			return
		}
		if e.Dim() < 1 || len(e.towers[0].E) != e.feat.Len()*e.Dim() || len(e.towers[1].W) != e.Dim()*e.Dim() {
			t.Fatalf("decoded sizes disagree: dim %d, features %d", e.Dim(), e.feat.Len())
		}
	})
}
