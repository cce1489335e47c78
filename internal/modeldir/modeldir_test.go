package modeldir

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

var errMissing, errCorrupt = errors.New("missing"), errors.New("corrupt")

func TestWriteRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	files := map[string][]byte{"a.bin": []byte("weights"), "b.json": []byte(`{"x":1}`)}
	err := Write(dir, files, "meta.json", func(sums map[string]string) ([]byte, error) { return json.Marshal(sums) })
	if err != nil {
		t.Fatal(err)
	}
	metaData, err := Read(dir, "meta.json", errMissing)
	if err != nil {
		t.Fatal(err)
	}
	var sums map[string]string
	if err := json.Unmarshal(metaData, &sums); err != nil || sums["a.bin"] != Checksum([]byte("weights")) {
		t.Fatalf("meta %s (%v)", metaData, err)
	}
	got, err := ReadChecked(dir, "meta.json", sums, errMissing, errCorrupt, "a.bin", "b.json")
	if err != nil || string(got["a.bin"]) != "weights" || string(got["b.json"]) != `{"x":1}` {
		t.Fatalf("read back %q, %v", got, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.bin"), []byte("weightz"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadChecked(dir, "meta.json", sums, errMissing, errCorrupt, "a.bin"); !errors.Is(err, errCorrupt) {
		t.Errorf("a changed file: %v, want the corrupt error", err)
	}
	if _, err := ReadChecked(dir, "meta.json", sums, errMissing, errCorrupt, "c.bin"); !errors.Is(err, errMissing) {
		t.Errorf("a missing file: %v, want the missing error", err)
	}
}
