package web

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

// staticFiles serves the embedded files from memory: regular files only (no
// directory listings), each with a fixed content type and a strong ETag
// from its content, so that browsers revalidate with If-None-Match and get
// 304 while the binary is the same.
type staticFiles struct {
	files map[string]*staticFile // by slash path without the leading "/"
}

type staticFile struct {
	name  string
	data  []byte
	etag  string
	ctype string
	cache string
}

// contentTypes fixes the types of the files the widget ships, so that they
// do not depend on the host's mime.types.
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
	".woff2": "font/woff2",
	".txt":   "text/plain; charset=utf-8",
}

// Cache policies: pages are revalidated on every load (cheap with the
// ETag) so a new version shows at once; scripts, styles and images may be
// used for five minutes before that.
const (
	cachePage  = "no-cache"
	cacheAsset = "public, max-age=300"
)

// loadStatic reads every regular file of fsys into memory.
func loadStatic(fsys fs.FS) (*staticFiles, error) {
	s := &staticFiles{files: make(map[string]*staticFile)}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
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
		cache := cacheAsset
		if ext == ".html" {
			cache = cachePage
		}
		s.files[p] = newStaticFile(p, data, ctype, cache)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load static files: %w", err)
	}
	return s, nil
}

// ServeHTTP serves the file named by the request path, or 404.
func (s *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	if name != path.Clean(name) {
		// Only canonical paths are served: no "..", "//" or trailing "/".
		http.NotFound(w, r)
		return
	}
	serveFile(w, r, s.files[name])
}

// page serves one file whatever the path, for "/".
func (s *staticFiles) page(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveFile(w, r, s.files[name])
	})
}

// newStaticFile holds data to serve as name, with an ETag of its content.
func newStaticFile(name string, data []byte, ctype, cache string) *staticFile {
	sum := sha256.Sum256(data)
	return &staticFile{name: name, data: data, ctype: ctype, cache: cache,
		etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}
}

// serveFile serves f (404 when nil) to GET and HEAD.
func serveFile(w http.ResponseWriter, r *http.Request, f *staticFile) {
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
	// ServeContent answers If-None-Match with 304, and Range and HEAD
	// requests; a zero time leaves Last-Modified out.
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.data))
}
