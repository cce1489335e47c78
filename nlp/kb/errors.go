package kb

import (
	"errors"
	"fmt"
)

// Errors that Load, ParseArticle, ReadIndex and Ask return, wrapped in a
// *FileError where a file is to blame; test for them with errors.Is.
var (
	// ErrBinary: a file is not UTF-8 text, or holds NUL bytes.
	ErrBinary = errors.New("binary file (not UTF-8 text)")
	// ErrTooLarge: a file is over MaxFileBytes, or a folder holds more than
	// MaxArticles articles.
	ErrTooLarge = errors.New("too large")
	// ErrEmpty: a file is empty, or its body has no text after the front
	// matter.
	ErrEmpty = errors.New("empty")
	// ErrFrontMatter: the front matter is missing, unterminated, not YAML, or
	// lacks a valid id or title.
	ErrFrontMatter = errors.New("bad front matter")
	// ErrDuplicateID: two files declare the same article id.
	ErrDuplicateID = errors.New("duplicate article id")
	// ErrNoArticles: the folder holds no *.md file.
	ErrNoArticles = errors.New("no articles (*.md files)")
	// ErrIndexVersion: an index file was written by a build with another
	// format version; run "bot kb index" again.
	ErrIndexVersion = errors.New("index format version not supported")
	// ErrIndexCorrupt: an index file is truncated, altered or not an index.
	ErrIndexCorrupt = errors.New("index file corrupt")
	// ErrEmptyQuestion: the question has no words to search for.
	ErrEmptyQuestion = errors.New("empty question")
)

// FileError says which file, and where in it (Line 0: the file as a whole),
// an error is about.
type FileError struct {
	File string
	Line int
	Err  error
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// fileErr returns a *FileError wrapping sentinel with a message.
func fileErr(file string, line int, sentinel error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if msg == "" {
		return &FileError{File: file, Line: line, Err: sentinel}
	}
	return &FileError{File: file, Line: line, Err: fmt.Errorf("%w: %s", sentinel, msg)}
}
