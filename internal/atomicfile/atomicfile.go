// Package atomicfile writes files that are never seen half-written: the
// content goes to a temporary file in the same folder, is synced, and is
// renamed over the target, so after a crash the target holds the old
// content or the new, never a mix.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// Write writes what fn writes to path, readable by its owner only. On any
// error (fn's included) path is untouched and the temporary file removed.
func Write(path string, fn func(w io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if err := fn(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
