package encoder

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	for _, shared := range []bool{true, false} {
		o := tinyOptions()
		o.Shared = shared
		e, err := Train(t.Context(), syntheticPairs(120, 1), o)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := e.Save(dir); err != nil {
			t.Fatal(err)
		}
		got, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got.shared() != shared {
			t.Errorf("shared %v after load, want %v", got.shared(), shared)
		}
		for _, text := range []string{"how do i reset my password", "To track your parcel, open the shipping page."} {
			for _, side := range []Side{Question, Answer} {
				a, b := e.Encode(side, text), got.Encode(side, text)
				for i := range a {
					if a[i] != b[i] {
						t.Fatalf("shared=%v %q side %d: value %d %v after load, %v before", shared, text, side, i, b[i], a[i])
					}
				}
			}
		}
		if got.Meta().DataHash != e.Meta().DataHash || got.Meta().FormatVersion != FormatVersion {
			t.Errorf("meta %+v after load, want %+v", got.Meta(), e.Meta())
		}
	}
}

// TestSaveIsByteIdentical: the same pairs and seed give the same files.
func TestSaveIsByteIdentical(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := trainTiny(t).Save(a); err != nil {
		t.Fatal(err)
	}
	if err := trainTiny(t).Save(b); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{MetaFile, TokenizerFile, WeightsFile} {
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, _ := os.ReadFile(filepath.Join(b, name))
		if len(x) == 0 || string(x) != string(y) {
			t.Errorf("%s differs between two trainings with one seed (%d and %d bytes)", name, len(x), len(y))
		}
	}
}

func TestLoadRejectsDamage(t *testing.T) {
	saved := t.TempDir()
	if err := trainTiny(t).Save(saved); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   error
	}{
		{"other version", func(t *testing.T, dir string) {
			editMeta(t, dir, func(m map[string]any) { m["format_version"] = FormatVersion + 1 })
		}, ErrVersion},
		{"meta not json", func(t *testing.T, dir string) { write(t, dir, MetaFile, []byte("{")) }, ErrCorrupt},
		{"weights changed", func(t *testing.T, dir string) {
			b := read(t, dir, WeightsFile)
			b[len(b)-1] ^= 1
			write(t, dir, WeightsFile, b)
		}, ErrCorrupt},
		{"tokenizer changed", func(t *testing.T, dir string) { write(t, dir, TokenizerFile, append(read(t, dir, TokenizerFile), ' ')) }, ErrCorrupt},
		{"weights missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, WeightsFile)) }, ErrMissing},
		{"meta missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, MetaFile)) }, ErrMissing},
		{"dim disagrees", func(t *testing.T, dir string) { editMeta(t, dir, func(m map[string]any) { m["dim"] = 17 }) }, ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range []string{MetaFile, TokenizerFile, WeightsFile} {
				write(t, dir, name, read(t, saved, name))
			}
			tc.damage(t, dir)
			_, err := Load(dir)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestSaveLeavesNoTemporaryFiles: atomic writes clean up after themselves.
func TestSaveLeavesNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	if err := trainTiny(t).Save(dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files %v, want the three model files only", names)
	}
}

func read(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func write(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// editMeta changes meta.json and keeps its checksums.
func editMeta(t *testing.T, dir string, f func(map[string]any)) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(read(t, dir, MetaFile), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, MetaFile, b)
}
