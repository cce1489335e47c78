package kb

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/atomicfile"
)

// IndexVersion is the format version of index files this build writes and
// reads. Any change to the file layout, the tokenizer (Terms) or the
// passage splitter changes it: an index of another version would silently
// score differently, so reading one is ErrIndexVersion.
const IndexVersion = 1

// indexMagic starts every index file, before the version.
const indexMagic = "parley-kb-index"

// maxIndexBytes bounds what ReadIndex reads: 10,000 articles of 256 KiB
// and their postings fit.
const maxIndexBytes int64 = 4 << 30

// indexFile is the JSON payload of an index file.
type indexFile struct {
	Articles []Article            `json:"articles"`
	Params   BM25Params           `json:"bm25"`
	DocLen   []int32              `json:"doc_len"`
	Postings map[string][]posting `json:"postings"`
}

// WriteTo writes the index: a line "parley-kb-index VERSION", a line
// "sha256 HEX" (of the rest), then the articles and postings as JSON.
func (ix *Index) WriteTo(w io.Writer) (int64, error) {
	payload, err := json.Marshal(indexFile{Articles: ix.Articles, Params: ix.bm25.params, DocLen: ix.bm25.docLen, Postings: ix.bm25.postings})
	if err != nil {
		return 0, fmt.Errorf("write index: %w", err)
	}
	sum := sha256.Sum256(payload)
	n, err := fmt.Fprintf(w, "%s %d\nsha256 %s\n", indexMagic, IndexVersion, hex.EncodeToString(sum[:]))
	if err != nil {
		return int64(n), fmt.Errorf("write index: %w", err)
	}
	m, err := w.Write(payload)
	if err != nil {
		return int64(n + m), fmt.Errorf("write index: %w", err)
	}
	return int64(n + m), nil
}

// Save writes the index to path atomically: a reader sees the old file or
// the new one, never half of it.
func (ix *Index) Save(path string) error {
	if err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := ix.WriteTo(w)
		return err
	}); err != nil {
		return fmt.Errorf("save index: %w", err)
	}
	return nil
}

// OpenIndex reads an index file written by Save; see ReadIndex.
func OpenIndex(path string) (*Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	defer f.Close()
	ix, err := ReadIndex(f)
	if err != nil {
		return nil, &FileError{File: path, Err: err}
	}
	return ix, nil
}

// ReadIndex reads an index written by WriteTo. Another format version is
// ErrIndexVersion; a wrong header, checksum or content is ErrIndexCorrupt.
func ReadIndex(r io.Reader) (*Index, error) {
	br := bufio.NewReader(io.LimitReader(r, maxIndexBytes+1))
	head, err := br.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("read index: %w: no header line", ErrIndexCorrupt)
	}
	magic, ver, ok := strings.Cut(strings.TrimSuffix(head, "\n"), " ")
	if !ok || magic != indexMagic {
		return nil, fmt.Errorf("read index: %w: not a knowledge-base index (no %q header)", ErrIndexCorrupt, indexMagic)
	}
	v, err := strconv.Atoi(ver)
	if err != nil {
		return nil, fmt.Errorf("read index: %w: version %q", ErrIndexCorrupt, ver)
	}
	if v != IndexVersion {
		return nil, fmt.Errorf("read index: %w: the file is version %d, this build reads version %d; run \"bot kb index\" again", ErrIndexVersion, v, IndexVersion)
	}
	sumLine, err := br.ReadString('\n')
	want, ok := strings.CutPrefix(strings.TrimSuffix(sumLine, "\n"), "sha256 ")
	if err != nil || !ok {
		return nil, fmt.Errorf("read index: %w: no checksum line", ErrIndexCorrupt)
	}
	payload, err := io.ReadAll(br)
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	if int64(len(payload)) > maxIndexBytes {
		return nil, fmt.Errorf("read index: %w: over %d bytes", ErrIndexCorrupt, maxIndexBytes)
	}
	sum := sha256.Sum256(payload)
	if hex.EncodeToString(sum[:]) != want {
		return nil, fmt.Errorf("read index: %w: checksum mismatch (truncated or altered)", ErrIndexCorrupt)
	}
	var f indexFile
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("read index: %w: %v", ErrIndexCorrupt, err)
	}
	ix := &Index{Articles: f.Articles, bm25: &bm25{params: f.Params, docLen: f.DocLen, postings: f.Postings}}
	if err := ix.validate(); err != nil {
		return nil, fmt.Errorf("read index: %w: %v", ErrIndexCorrupt, err)
	}
	total := 0
	for _, l := range ix.bm25.docLen {
		total += int(l)
	}
	ix.bm25.avgLen = float64(total) / float64(len(ix.bm25.docLen))
	if ix.bm25.postings == nil {
		ix.bm25.postings = map[string][]posting{}
	}
	ix.bm25.prepare()
	return ix, nil
}

// validate checks what a checksum cannot: that a well-formed file written
// by something else still makes sense, so Ask never indexes out of range.
func (ix *Index) validate() error {
	p := ix.bm25.params
	if p.K1 < 0 || p.B < 0 || p.B > 1 {
		return fmt.Errorf("BM25 k1 %g, b %g out of range", p.K1, p.B)
	}
	ids := map[string]bool{}
	for _, a := range ix.Articles {
		if !idPattern.MatchString(a.ID) || ids[a.ID] || a.Title == "" || len(a.Passages) == 0 {
			return fmt.Errorf("article %q is invalid or repeated", a.ID)
		}
		ids[a.ID] = true
	}
	if err := ix.rebuildRefs(); err != nil {
		return err
	}
	for d, l := range ix.bm25.docLen {
		if l < 0 {
			return fmt.Errorf("passage %d has negative length", d)
		}
	}
	for t, ps := range ix.bm25.postings {
		last := int32(-1)
		for _, q := range ps {
			if q.Doc <= last || int(q.Doc) >= len(ix.refs) || q.TF <= 0 || q.TF > ix.bm25.docLen[q.Doc] {
				return fmt.Errorf("postings of %q are out of order or range", t)
			}
			last = q.Doc
		}
	}
	return nil
}
