package kb

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// KB is a loaded knowledge base: every article of a folder, in file-name
// order, each with a unique id.
type KB struct {
	Articles []Article
}

// maxReported is how many broken files one Load reports: enough to fix a
// batch at once, few enough to read.
const maxReported = 20

// LoadDir loads every *.md file under dir (sub-folders included, except
// those whose names start with "." or "_"). Errors name files by their path
// under dir; see Load.
func LoadDir(dir string) (*KB, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("load knowledge base: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("load knowledge base: %s is not a folder", dir)
	}
	return load(os.DirFS(dir), dir)
}

// Load loads every *.md file of fsys, as LoadDir does. It returns a KB or an
// error, never part of a folder: every broken file is reported (up to 20,
// joined with errors.Join; test with errors.Is for ErrBinary, ErrTooLarge,
// ErrEmpty, ErrFrontMatter, ErrDuplicateID, ErrNoArticles), each as a
// *FileError with the file and, where it helps, the line.
func Load(fsys fs.FS) (*KB, error) { return load(fsys, "") }

func load(fsys fs.FS, prefix string) (*KB, error) {
	display := func(name string) string {
		if prefix == "" {
			return name
		}
		return filepath.Join(prefix, filepath.FromSlash(name))
	}
	var names []string
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := path.Base(name)
		if d.IsDir() {
			if name != "." && (strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_")) {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(base, ".md") || strings.HasPrefix(base, ".") {
			return nil
		}
		names = append(names, name)
		if len(names) > MaxArticles {
			return fmt.Errorf("%w: more than %d articles", ErrTooLarge, MaxArticles)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load knowledge base: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("load knowledge base %s: %w", orDot(prefix), ErrNoArticles)
	}
	var errs []error
	byID := map[string]string{} // article id -> file that declared it
	kb := &KB{}
	for _, name := range names {
		if len(errs) >= maxReported {
			errs = append(errs, errors.New("more errors not shown"))
			break
		}
		data, err := readLimited(fsys, name)
		if err != nil {
			errs = append(errs, &FileError{File: display(name), Err: err})
			continue
		}
		a, err := ParseArticle(display(name), data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if other, dup := byID[a.ID]; dup {
			errs = append(errs, fileErr(a.File, 0, ErrDuplicateID, "%q is also the id of %s", a.ID, other))
			continue
		}
		byID[a.ID] = a.File
		kb.Articles = append(kb.Articles, a)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("load knowledge base: %w", errors.Join(errs...))
	}
	return kb, nil
}

// readLimited reads a regular file of at most MaxFileBytes, checking the
// size before reading so that a huge file costs nothing.
func readLimited(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if st.Size() > MaxFileBytes {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, st.Size(), MaxFileBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes { // grew since Stat
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, MaxFileBytes)
	}
	return data, nil
}

func orDot(s string) string {
	if s == "" {
		return "."
	}
	return s
}
