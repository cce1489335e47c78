package kb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func article(id, title, body string) string {
	return fmt.Sprintf("---\nid: %s\ntitle: %s\n---\n%s\n", id, title, body)
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadDir(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"b.md":             article("bee", "B", "About bees."),
		"a.md":             article("ant", "A", "About ants."),
		"sub/c.md":         article("cat", "C", "About cats."),
		"notes.txt":        "not an article",
		".drafts/d.md":     "broken, but in a hidden folder",
		"_templates/t.md":  "broken, but in a skipped folder",
		".hidden.md":       "broken, but hidden",
		"sub/.index":       "not markdown",
		"README.markdown":  "other extension",
		"sub/deeper/e.md":  article("eel", "E", "About eels."),
		"sub/deeper/f.txt": "ignored",
	})
	k, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range k.Articles {
		ids = append(ids, a.ID)
	}
	if got := strings.Join(ids, ","); got != "ant,bee,cat,eel" {
		t.Errorf("articles %s, want ant,bee,cat,eel (file-name order)", got)
	}
	if k.Articles[2].File != filepath.Join(dir, "sub", "c.md") {
		t.Errorf("File %q", k.Articles[2].File)
	}
}

func TestLoadDirErrors(t *testing.T) {
	t.Run("duplicate id names both files", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{
			"one.md": article("same", "One", "Text one."),
			"two.md": article("same", "Two", "Text two."),
		})
		_, err := LoadDir(dir)
		if !errors.Is(err, ErrDuplicateID) {
			t.Fatalf("error %v, want ErrDuplicateID", err)
		}
		if !strings.Contains(err.Error(), "one.md") || !strings.Contains(err.Error(), "two.md") {
			t.Errorf("error %q should name both files", err)
		}
	})
	t.Run("every broken file is reported, nothing loaded", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{
			"good.md":  article("good", "Good", "Fine."),
			"empty.md": "",
			"bin.md":   "\x00\x01\x02",
			"nofm.md":  "# Just markdown\n",
		})
		k, err := LoadDir(dir)
		if k != nil {
			t.Error("a KB came back with an error")
		}
		for _, want := range []error{ErrEmpty, ErrBinary, ErrFrontMatter} {
			if !errors.Is(err, want) {
				t.Errorf("error %v lacks %v", err, want)
			}
		}
		for _, name := range []string{"empty.md", "bin.md", "nofm.md"} {
			if !strings.Contains(err.Error(), filepath.Join(dir, name)) {
				t.Errorf("error %q does not name %s", err, name)
			}
		}
	})
	t.Run("huge file is refused before reading", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"ok.md": article("ok", "OK", "Fine.")})
		f, err := os.Create(filepath.Join(dir, "huge.md"))
		if err != nil {
			t.Fatal(err)
		}
		// Sparse: 1 GiB that costs no disk, and would cost 1 GiB of memory
		// if the reader read before checking.
		if err := f.Truncate(1 << 30); err != nil {
			t.Fatal(err)
		}
		f.Close()
		_, err = LoadDir(dir)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "huge.md") {
			t.Errorf("error %v, want ErrTooLarge naming huge.md", err)
		}
	})
	t.Run("no articles", func(t *testing.T) {
		_, err := LoadDir(writeFiles(t, map[string]string{"x.txt": "x"}))
		if !errors.Is(err, ErrNoArticles) {
			t.Errorf("error %v, want ErrNoArticles", err)
		}
	})
	t.Run("not a folder", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"a.md": article("a", "A", "x")})
		if _, err := LoadDir(filepath.Join(dir, "a.md")); err == nil || !strings.Contains(err.Error(), "not a folder") {
			t.Errorf("error %v", err)
		}
		if _, err := LoadDir(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("error %v, want ErrNotExist", err)
		}
	})
}

func TestLoadTooManyArticles(t *testing.T) {
	fsys := fstest.MapFS{}
	for i := range MaxArticles + 1 {
		fsys[fmt.Sprintf("a%05d.md", i)] = &fstest.MapFile{Data: []byte(article(fmt.Sprintf("a%d", i), "T", "x"))}
	}
	if _, err := Load(fsys); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "more than 10000 articles") {
		t.Errorf("error %v, want ErrTooLarge for the article count", err)
	}
}

func TestLoadReportsAtMost20(t *testing.T) {
	fsys := fstest.MapFS{}
	for i := range 30 {
		fsys[fmt.Sprintf("e%02d.md", i)] = &fstest.MapFile{Data: nil}
	}
	_, err := Load(fsys)
	if n := strings.Count(err.Error(), "empty"); n != maxReported {
		t.Errorf("%d errors reported, want %d", n, maxReported)
	}
	if !strings.Contains(err.Error(), "more errors not shown") {
		t.Errorf("error %q does not say more were left out", err)
	}
}
