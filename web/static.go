package web

import (
	"io/fs"

	"github.com/parleyhq/parley/internal/static"
)

// loadStatic reads the widget's and the demo page's files: pages are
// revalidated on every load so a new version shows at once; scripts,
// styles and images may be used for five minutes before that.
func loadStatic(fsys fs.FS) (*static.Files, error) {
	return static.Load(fsys, "/", func(ext string) string {
		if ext == ".html" {
			return static.NoCache
		}
		return static.Asset
	})
}
