// Package modeldir writes and reads the directories trained models live
// in (the NLU model, the sentence encoder): data files written atomically
// one by one, then the meta file that holds their SHA-256 checksums, and
// read back only when every file matches its checksum. A crash between two
// writes leaves the old meta file, whose checksums then refuse the new
// files instead of mixing two models.
package modeldir

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/parleyhq/parley/internal/atomicfile"
)

// Checksum is the hex SHA-256 of b, as the meta files record it.
func Checksum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Write creates dir if needed and writes files (name: content) into it,
// each atomically, then metaFile with the content meta returns for the
// files' checksums.
func Write(dir string, files map[string][]byte, metaFile string, meta func(checksums map[string]string) ([]byte, error)) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sums := make(map[string]string, len(files))
	for name, data := range files {
		sums[name] = Checksum(data)
	}
	metaData, err := meta(sums)
	if err != nil {
		return err
	}
	names := slices.Sorted(maps.Keys(files))
	all := append(names, metaFile)
	for _, name := range all {
		data := metaData
		if name != metaFile {
			data = files[name]
		}
		if err := atomicfile.Write(filepath.Join(dir, name), func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return err
		}
	}
	return nil
}

// Read returns the content of the file name in dir; a missing file is an
// error wrapping missing.
func Read(dir, name string, missing error) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", missing, name)
	}
	return b, err
}

// ReadChecked reads the named files of dir and checks each against its
// checksum in checksums (read from metaFile): a missing file wraps
// missing, one that does not match wraps corrupt.
func ReadChecked(dir, metaFile string, checksums map[string]string, missing, corrupt error, names ...string) (map[string][]byte, error) {
	files := make(map[string][]byte, len(names))
	for _, name := range names {
		b, err := Read(dir, name, missing)
		if err != nil {
			return nil, err
		}
		if checksums[name] != Checksum(b) {
			return nil, fmt.Errorf("%w: %s does not match its checksum in %s", corrupt, name, metaFile)
		}
		files[name] = b
	}
	return files, nil
}
