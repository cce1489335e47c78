package seq2seq

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/modeldir"
)

// savedTiny saves the tiny model into a fresh directory.
func savedTiny(t *testing.T) (*Model, string) {
	t.Helper()
	m, _ := trainedTiny(t)
	dir := filepath.Join(t.TempDir(), "replies")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	return m, dir
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m, dir := savedTiny(t)
	// The directory is shared: another model's file must stay.
	other := filepath.Join(dir, "meta.json")
	if err := os.WriteFile(other, []byte(`{"encoder":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(other); err != nil || string(b) != `{"encoder":1}` {
		t.Errorf("another model's file: %q, %v", b, err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta() != m.Meta() {
		t.Errorf("meta %+v, want %+v", got.Meta(), m.Meta())
	}
	var qs []Pair
	for i, p := range tinyPairs() {
		if i%8 == 0 {
			qs = append(qs, p)
		}
	}
	for _, p := range append(qs, Pair{Question: "something else entirely"}) {
		for _, beam := range []int{1, 3} {
			if a, b := m.Generate(p.Question, beam), got.Generate(p.Question, beam); a != b {
				t.Errorf("%q beam %d: %q after loading, %q before", p.Question, beam, b, a)
			}
		}
	}
}

func TestLoadErrors(t *testing.T) {
	editMeta := func(t *testing.T, dir string, edit func(map[string]any)) {
		t.Helper()
		path := filepath.Join(dir, MetaFile)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var mf map[string]any
		if err := json.Unmarshal(b, &mf); err != nil {
			t.Fatal(err)
		}
		edit(mf)
		if b, err = json.Marshal(mf); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		spoil func(t *testing.T, dir string)
		want  error
	}{
		{"missing dir", func(t *testing.T, dir string) { os.RemoveAll(dir) }, ErrNoModel},
		{"missing weights", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, WeightsFile)) }, ErrNoModel},
		{"other version", func(t *testing.T, dir string) {
			editMeta(t, dir, func(mf map[string]any) { mf["version"] = formatVersion + 1 })
		}, ErrFormat},
		{"flipped weight byte", func(t *testing.T, dir string) {
			path := filepath.Join(dir, WeightsFile)
			b, _ := os.ReadFile(path)
			b[len(b)/2] ^= 0x40
			os.WriteFile(path, b, 0o644)
		}, ErrCorrupt},
		{"meta not json", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, MetaFile), []byte("{"), 0o644) }, ErrCorrupt},
		{"hidden size does not fit the weights", func(t *testing.T, dir string) {
			editMeta(t, dir, func(mf map[string]any) { mf["hidden"] = 17.0 })
		}, ErrCorrupt},
		{"vocabulary without special tokens", func(t *testing.T, dir string) {
			editMeta(t, dir, func(mf map[string]any) { mf["out_tokens"].([]any)[0] = "hello" })
		}, ErrCorrupt},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, dir := savedTiny(t)
			c.spoil(t, dir)
			_, err := Load(dir)
			if !errors.Is(err, c.want) {
				t.Errorf("Load: %v, want %v", err, c.want)
			}
		})
	}
}

// TestSaveFailureLeavesNoHalfModel: a Save that fails leaves no temporary
// files and never a loadable mix; a crash between the two files' writes
// (the weights of one model beside the meta of another) is refused.
func TestSaveFailureLeavesNoHalfModel(t *testing.T) {
	m, dir := savedTiny(t)
	blocked := filepath.Join(t.TempDir(), "blocked")
	// The meta file's name is taken by a non-empty directory: the weights
	// are written, the meta file cannot be.
	if err := os.MkdirAll(filepath.Join(blocked, MetaFile, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(blocked); err == nil {
		t.Fatal("Save over a directory named like the meta file: no error")
	}
	entries, _ := os.ReadDir(blocked)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("left behind %s", e.Name())
		}
	}
	if _, err := Load(blocked); err == nil {
		t.Error("Load after a failed Save: no error")
	}
	// A file in the way of the directory itself: nothing is created.
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if err := m.Save(filepath.Join(file, "model")); err == nil {
		t.Error("Save under a regular file: no error")
	}

	// Another model's weights beside this meta file.
	o := tinyOptions()
	o.Epochs, o.Seed = 2, 99
	m2, err := Train(t.Context(), tinyPairs(), o)
	if err != nil {
		t.Fatal(err)
	}
	dir2 := filepath.Join(t.TempDir(), "m2")
	if err := m2.Save(dir2); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir2, WeightsFile))
	os.WriteFile(filepath.Join(dir, WeightsFile), b, 0o644)
	if _, err := Load(dir); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Load of mixed files: %v, want ErrCorrupt", err)
	}
}

// FuzzLoad feeds Load meta and weights files, seeded with a real tiny
// model's; with fix set the checksum is made to match, so the size checks
// are reached. Load must never panic, must fail with one of its three
// errors, and a model it accepts must generate.
func FuzzLoad(f *testing.F) {
	m, _ := trainedTiny(f)
	dir := filepath.Join(f.TempDir(), "seed")
	if err := m.Save(dir); err != nil {
		f.Fatal(err)
	}
	meta, _ := os.ReadFile(filepath.Join(dir, MetaFile))
	bin, _ := os.ReadFile(filepath.Join(dir, WeightsFile))
	f.Add(meta, bin, false)
	f.Add(meta, bin, true)
	f.Add(meta, bin[:len(bin)-4], true)
	f.Add([]byte(`{"version":1}`), []byte(weightsMagic), true)
	f.Fuzz(func(t *testing.T, meta, bin []byte, fix bool) {
		if fix {
			var mf map[string]any
			if json.Unmarshal(meta, &mf) == nil && mf != nil {
				mf["checksums"] = map[string]string{WeightsFile: modeldir.Checksum(bin)}
				meta, _ = json.Marshal(mf)
			}
		}
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, MetaFile), meta, 0o644)
		os.WriteFile(filepath.Join(dir, WeightsFile), bin, 0o644)
		got, err := Load(dir)
		if err != nil {
			if !errors.Is(err, ErrNoModel) && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Load: %v, not one of its errors", err)
			}
			return
		}
		got.Generate("cancel my order", 2)
	})
}
