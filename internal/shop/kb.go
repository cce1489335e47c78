package shop

import (
	"embed"
	"io/fs"
)

//go:embed kb/*.md
var kbFiles embed.FS

// KB returns the demo shop's help-centre articles (kb/*.md: front matter and
// Markdown, written by the team), for kb.Load. The articles' facts (return
// window, delivery times and prices, payment methods, warranty) agree with
// the responses in domain.yml; change both together. It cannot fail: the
// files are compiled in, and package kb's tests load them.
func KB() fs.FS {
	sub, err := fs.Sub(kbFiles, "kb")
	if err != nil {
		panic(err) // "kb" is a valid, embedded path: unreachable
	}
	return sub
}
