// Package static serves embedded files from memory for the widget's pages
// (package web) and the agent console (web/console): regular files only (no
// directory listings), canonical paths only, each with a fixed content type
// and a strong ETag of its content, so that browsers revalidate with
// If-None-Match and get 304 while the binary is the same.
package static

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// Cache policies: NoCache revalidates on every load (cheap with the ETag),
// so a new version shows at once; Asset lets a browser use a file for five
// minutes before that.
const (
	NoCache = "no-cache"
	Asset   = "public, max-age=300"
)

// contentTypes fixes the types of the files Parley ships, so that they do
// not depend on the host's mime.types.
var contentTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".json":  "application/json",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".webp":  "image/webp",
	".mp3":   "audio/mpeg",
	".ogg":   "audio/ogg",
	".wav":   "audio/wav",
	".woff2": "font/woff2",
	".txt":   "text/plain; charset=utf-8",
}

// File is one file held in memory.
type File struct {
	name  string
	data  []byte
	etag  string
	ctype string
	cache string
}

// NewFile holds data to serve as name, with content type ctype, Cache-Control
// cache and an ETag of its content.
func NewFile(name string, data []byte, ctype, cache string) *File {
	sum := sha256.Sum256(data)
	return &File{name: name, data: data, ctype: ctype, cache: cache,
		etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}
}

// ServeHTTP serves f to GET and HEAD (405 with Allow otherwise); a nil f
// answers 404. If-None-Match, Range and HEAD are answered by
// http.ServeContent.
func (f *File) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", f.cache)
	// A zero time leaves Last-Modified out.
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.data))
}

// Files is a set of files served under a path prefix.
type Files struct {
	prefix string           // the URL path the file names follow, such as "/" or "/console/"
	files  map[string]*File // by slash path, without the prefix
}

// Load reads every regular file of fsys into memory, to serve under the
// URL path prefix (ending in "/"); cache gives each file's Cache-Control
// from its extension.
func Load(fsys fs.FS, prefix string, cache func(ext string) string) (*Files, error) {
	s := &Files{prefix: prefix, files: make(map[string]*File)}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		ext := path.Ext(p)
		ctype := contentTypes[ext]
		if ctype == "" {
			ctype = mime.TypeByExtension(ext)
		}
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		s.files[p] = NewFile(p, data, ctype, cache(ext))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load static files: %w", err)
	}
	return s, nil
}

// File returns the file with the slash path name, or nil.
func (s *Files) File(name string) *File { return s.files[name] }

// ServeHTTP serves the file the request path names after the prefix, or
// 404; only canonical paths are served (no "..", "//" or trailing "/").
func (s *Files) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, s.prefix)
	if !ok || name != path.Clean(name) {
		http.NotFound(w, r)
		return
	}
	s.files[name].ServeHTTP(w, r)
}
