package kb_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/shoptest"

	"github.com/parleyhq/parley/nlp/kb"
)

func TestIndexSaveOpen(t *testing.T) {
	ix := shoptest.KBIndex(t)
	path := filepath.Join(t.TempDir(), "kb.index")
	if err := ix.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := kb.OpenIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	a1, p1, t1 := ix.Stats()
	a2, p2, t2 := got.Stats()
	if a1 != a2 || p1 != p2 || t1 != t2 || got.Params() != ix.Params() {
		t.Fatalf("stats %d/%d/%d, want %d/%d/%d", a2, p2, t2, a1, p1, t1)
	}
	validation, _ := shoptest.KBQuestions(t)
	for _, q := range validation {
		want, _ := kb.NewSearcher(ix).Ask(context.Background(), q.Text, 3)
		have, _ := kb.NewSearcher(got).Ask(context.Background(), q.Text, 3)
		if !reflect.DeepEqual(want, have) {
			t.Fatalf("%q: the loaded index answers\n%+v\nthe built one\n%+v", q.Text, have, want)
		}
	}
	// Saving again replaces the file and leaves no temporary file behind.
	if err := got.Save(path); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only the index", len(entries))
	}
}

func TestReadIndexErrors(t *testing.T) {
	var buf bytes.Buffer
	if _, err := shoptest.KBIndex(t).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	flip := bytes.Clone(good)
	flip[len(flip)-10] ^= 0x20
	for _, tc := range []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"other version", bytes.Replace(good, []byte("parley-kb-index 1\n"), []byte("parley-kb-index 99\n"), 1), kb.ErrIndexVersion, "version 99"},
		{"altered byte", flip, kb.ErrIndexCorrupt, "checksum"},
		{"truncated", good[:len(good)/2], kb.ErrIndexCorrupt, "checksum"},
		{"header only", good[:10], kb.ErrIndexCorrupt, "no header"},
		{"empty", nil, kb.ErrIndexCorrupt, "no header"},
		{"not an index", []byte("---\nid: a\n---\n"), kb.ErrIndexCorrupt, "not a knowledge-base index"},
		{"no checksum", []byte("parley-kb-index 1\n{}"), kb.ErrIndexCorrupt, "checksum"},
		{"bad payload", indexWith(t, `{"articles":[],"bm25":{"k1":1,"b":0.5},"doc_len":[],"postings":{}}`), kb.ErrIndexCorrupt, "no passages"},
		{"posting out of range", indexWith(t, `{"articles":[{"id":"a","title":"A","url":"/a","file":"a.md","passages":[{"text":"x","line":5}]}],`+
			`"bm25":{"k1":1.2,"b":0.75},"doc_len":[1],"postings":{"x":[{"d":7,"f":1}]}}`), kb.ErrIndexCorrupt, "out of order or range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kb.ReadIndex(bytes.NewReader(tc.data))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want %v saying %q", err, tc.want, tc.msg)
			}
		})
	}
}

// indexWith returns an index file holding payload with a valid checksum:
// a file that is well-formed but says something impossible.
func indexWith(t *testing.T, payload string) []byte {
	t.Helper()
	return []byte("parley-kb-index 1\nsha256 " + sha256Hex(payload) + "\n" + payload)
}

func TestOpenIndexMissing(t *testing.T) {
	if _, err := kb.OpenIndex(filepath.Join(t.TempDir(), "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v", err)
	}
}

// TestSaveIndexFailureLeavesNothing: when the final rename fails (here the
// target is a folder), Save reports it and leaves no temporary file.
func TestSaveIndexFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "kb.index")
	if err := os.MkdirAll(filepath.Join(target, "keep"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := shoptest.KBIndex(t).Save(target); err == nil {
		t.Fatal("Save over a folder succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "kb.index" || !entries[0].IsDir() {
		t.Errorf("folder holds %v, want only the untouched kb.index folder", entries)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
