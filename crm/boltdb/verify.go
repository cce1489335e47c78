package boltdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"

	bolt "go.etcd.io/bbolt"
)

// The structural check reads the file with plain reads (pread), never
// through bbolt's memory map: a page past the end of a truncated file is a
// read error here, where through the map it is a SIGBUS that ends the
// process, and a page of garbage is a fault here, where bbolt may panic on
// it or follow it anywhere. It knows bbolt's file format (version 2, the
// only one bbolt has written since 2014): the page header, the meta page,
// the branch and leaf elements, inline buckets and the freelist page. Every
// length and page id it reads is checked before it is used.

// bbolt's on-disk format. Numbers are in the machine's byte order, as
// bbolt writes them.
const (
	boltMagic   = 0xED0CDAED
	boltVersion = 2

	pageHeaderSize   = 16 // id uint64, flags uint16, count uint16, overflow uint32
	elementSize      = 16 // branch: pos, ksize uint32, pgid uint64; leaf: flags, pos, ksize, vsize uint32
	metaChecksumAt   = 56 // the meta fields before the checksum: magic .. txid
	metaSize         = metaChecksumAt + 8
	inBucketSize     = 16 // root pgid uint64, sequence uint64
	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	metaPageFlag     = 0x04
	freelistPageFlag = 0x10
	bucketLeafFlag   = 0x01
	noFreelist       = ^uint64(0)

	// minPageSize and maxPageSize bound the page sizes bbolt looks for.
	minPageSize = 1 << 10
	maxPageSize = 1 << 24
)

var ne = binary.NativeEndian

// metaPage is one of the two meta pages at the start of the file.
type metaPage struct {
	pageSize uint32
	root     uint64 // the root bucket's page
	freelist uint64 // the freelist's page, or noFreelist
	hwm      uint64 // the high-water mark: pages 0..hwm-1 are in use or free
	txid     uint64
	err      error // why bbolt would not use it; nil: valid
}

// parseMeta reads the meta page in buf (the start of page index, 0 or 1) as
// bbolt's Meta.Validate does: magic, version and checksum.
func parseMeta(buf []byte) metaPage {
	if len(buf) < pageHeaderSize+metaSize {
		return metaPage{err: errors.New("short of a meta page")}
	}
	m := buf[pageHeaderSize : pageHeaderSize+metaSize]
	mp := metaPage{
		pageSize: ne.Uint32(m[8:]),
		root:     ne.Uint64(m[16:]),
		freelist: ne.Uint64(m[32:]),
		hwm:      ne.Uint64(m[40:]),
		txid:     ne.Uint64(m[48:]),
	}
	h := fnv.New64a()
	h.Write(m[:metaChecksumAt])
	switch {
	case ne.Uint32(m[0:]) != boltMagic:
		mp.err = errors.New("not a bbolt meta page (wrong magic number)")
	case ne.Uint32(m[4:]) != boltVersion:
		mp.err = fmt.Errorf("bbolt file format version %d, want %d", ne.Uint32(m[4:]), boltVersion)
	case ne.Uint64(m[metaChecksumAt:]) != h.Sum64():
		mp.err = errors.New("checksum mismatch")
	}
	return mp
}

// layout is what the structural check learned of a file.
type layout struct {
	size     int64 // bytes
	pageSize int
	metas    [2]metaPage
	meta     metaPage // the one bbolt uses: the valid one with the higher txid
	pages    int      // pages read: the freelist and the B+trees
	complete bool     // every page of every bucket was read
	buckets  []string // the top-level buckets, in order
}

// dataSize is the size the meta page names: the bytes the file must hold.
func (l *layout) dataSize() int64 { return int64(l.meta.hwm) * int64(l.pageSize) }

// verifyFile checks the structure of the bbolt file in r (size bytes): the
// meta pages, that the file holds every page below the high-water mark, the
// freelist, and the B+tree of every bucket (each page names itself, has the
// type its parent says, elements inside the page, keys in order, children
// below the high-water mark, no page used twice or both used and free). It
// reads at most maxPages pages of the trees, level by level, so that the
// top of every bucket is checked first; maxPages <= 0 reads them all. It
// returns the faults found (at most maxCheckErrors); the first ones decide
// whether bbolt may touch the file at all.
func verifyFile(r io.ReaderAt, size int64, maxPages int) (*layout, []error) {
	l := &layout{size: size}
	if size == 0 {
		return l, []error{errors.New("the file is empty (0 bytes)")}
	}
	ps, metas, err := readMetas(r, size)
	l.pageSize, l.metas = ps, metas
	if err != nil {
		return l, []error{err}
	}
	// bbolt uses the valid meta page with the higher txid; the other may
	// be invalid after a commit was cut short, and bbolt rewrites it.
	a, b := metas[0], metas[1]
	if b.txid > a.txid {
		a, b = b, a
	}
	if a.err == nil {
		l.meta = a
	} else {
		l.meta = b
	}
	return l, walkLayout(r, l, maxPages)
}

// verifyTx is verifyFile for the tree tx reads, in the file at path: the
// pages it reaches stay as they are while tx is open, whatever commits
// meanwhile. The freelist, which tx does not name, is not checked.
func verifyTx(tx *bolt.Tx, path string, pageSize int) (*layout, []error) {
	f, err := os.Open(path)
	if err != nil {
		return &layout{}, []error{err}
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return &layout{}, []error{err}
	}
	l := &layout{size: info.Size(), pageSize: pageSize, meta: metaPage{
		pageSize: uint32(pageSize), root: uint64(tx.Cursor().Bucket().Root()), freelist: noFreelist,
		hwm: uint64(tx.Size()) / uint64(pageSize), txid: uint64(tx.ID()),
	}}
	return l, walkLayout(f, l, 0)
}

// walkLayout checks that the file holds the pages l.meta names, then reads
// the freelist and the trees.
func walkLayout(r io.ReaderAt, l *layout, maxPages int) []error {
	m, ps, size := l.meta, l.pageSize, l.size
	if int(m.pageSize) != ps {
		return []error{fmt.Errorf("meta page names a page size of %d bytes, the file uses %d", m.pageSize, ps)}
	}
	if m.hwm < 4 {
		return []error{fmt.Errorf("meta page (txid %d) names %d pages, fewer than a new file has", m.txid, m.hwm)}
	}
	if m.hwm > uint64(size)/uint64(ps) { // hwm*ps > size, without overflow
		return []error{fmt.Errorf("the file is %d bytes, shorter than the %d bytes (%d pages of %d) its meta page (txid %d) names: it was truncated",
			size, int64(m.hwm)*int64(ps), m.hwm, ps, m.txid)}
	}
	w := &walker{r: r, l: l, maxPages: maxPages, used: newBitset(m.hwm), free: newBitset(m.hwm)}
	if m.freelist != noFreelist {
		w.readFreelist(m.freelist)
	}
	w.walk(m.root)
	return w.faults
}

// readMetas finds the page size and reads both meta pages. It fails when
// neither is valid.
func readMetas(r io.ReaderAt, size int64) (int, [2]metaPage, error) {
	var metas [2]metaPage
	buf := make([]byte, pageHeaderSize+metaSize)
	read := func(off int64) metaPage {
		if off+int64(len(buf)) > size {
			return metaPage{err: errors.New("beyond the end of the file")}
		}
		if _, err := r.ReadAt(buf, off); err != nil {
			return metaPage{err: fmt.Errorf("read: %w", err)}
		}
		return parseMeta(buf)
	}
	validSize := func(m metaPage) bool {
		return m.err == nil && m.pageSize >= minPageSize && m.pageSize <= maxPageSize && m.pageSize&(m.pageSize-1) == 0
	}
	metas[0] = read(0)
	ps := 0
	if validSize(metas[0]) {
		ps = int(metas[0].pageSize)
	} else {
		// As bbolt does: look for the second meta page at every page
		// size it could have been written with.
		for s := minPageSize; s <= maxPageSize && int64(s) < size; s <<= 1 {
			if m := read(int64(s)); validSize(m) && int(m.pageSize) == s {
				ps = s
				break
			}
		}
	}
	if ps == 0 {
		if metas[0].err == nil {
			metas[0].err = fmt.Errorf("page size %d", metas[0].pageSize)
		}
		metas[1] = metaPage{err: errors.New("not found at any page size")}
		return 0, metas, fmt.Errorf("neither meta page is valid (page 0: %v; page 1: %v)", metas[0].err, metas[1].err)
	}
	metas[1] = read(int64(ps))
	for i, m := range metas {
		if m.err == nil && int(m.pageSize) != ps {
			metas[i].err = fmt.Errorf("page size %d, the other meta page says %d", m.pageSize, ps)
		}
	}
	if metas[0].err != nil && metas[1].err != nil {
		return ps, metas, fmt.Errorf("neither meta page is valid (page 0: %v; page 1: %v)", metas[0].err, metas[1].err)
	}
	return ps, metas, nil
}

// walker reads the freelist and the B+trees.
type walker struct {
	r        io.ReaderAt
	l        *layout
	maxPages int
	used     bitset // pages of the trees and the freelist
	free     bitset // pages the freelist holds
	queue    []treePage
	faults   []error
	buf      []byte // the page being read
}

// treePage is a page of a bucket's B+tree waiting to be read.
type treePage struct {
	id     uint64
	bucket string // "" for the root bucket, which holds the others
	// lo and hi bound its keys (lo <= key < hi; nil: no bound): its
	// parent branch's key for it and the next one. A lookup goes down to
	// the page whose key is the last one not above the key looked for, so
	// a key outside its page's bounds cannot be found.
	lo, hi []byte
}

func (w *walker) failf(format string, args ...any) {
	if len(w.faults) < maxCheckErrors {
		w.faults = append(w.faults, fmt.Errorf(format, args...))
	}
}

// readPage reads page id with its overflow pages, checking that it names
// itself, lies below the high-water mark and is not used twice. It returns
// nil after a fault.
func (w *walker) readPage(id uint64, what string) []byte {
	hwm, ps := w.l.meta.hwm, w.l.pageSize
	if id < 2 || id >= hwm {
		w.failf("%s: page %d is outside the file's pages 2..%d", what, id, hwm-1)
		return nil
	}
	// One read for the page, another for its overflow pages if any; the
	// buffer is reused: a page is done with before the next is read.
	buf := w.buffer(ps)
	if _, err := w.r.ReadAt(buf, int64(id)*int64(ps)); err != nil {
		w.failf("%s: page %d: read: %v", what, id, err)
		return nil
	}
	if got := ne.Uint64(buf); got != id {
		w.failf("%s: page %d holds something else (its header names page %d): overwritten or garbage", what, id, got)
		return nil
	}
	overflow := uint64(ne.Uint32(buf[12:]))
	if overflow >= hwm-id {
		w.failf("%s: page %d runs %d pages past the high-water mark", what, id, id+overflow+1-hwm)
		return nil
	}
	for p := id; p <= id+overflow; p++ {
		switch {
		case w.used.has(p):
			w.failf("%s: page %d is used twice", what, p)
			return nil
		case w.free.has(p):
			w.failf("%s: page %d is used and free", what, p)
			return nil
		}
		w.used.set(p)
	}
	w.l.pages += int(overflow) + 1
	if overflow > 0 {
		first := buf[:ps]
		buf = w.buffer(int(overflow+1) * ps)
		copy(buf, first)
		if _, err := w.r.ReadAt(buf[ps:], int64(id+1)*int64(ps)); err != nil {
			w.failf("%s: page %d: read: %v", what, id, err)
			return nil
		}
	}
	return buf
}

// buffer returns the walker's buffer with n bytes, grown when needed.
func (w *walker) buffer(n int) []byte {
	if cap(w.buf) < n {
		w.buf = make([]byte, n, max(n, 2*cap(w.buf)))
	}
	return w.buf[:n]
}

// readFreelist reads the freelist page and marks the free pages.
func (w *walker) readFreelist(id uint64) {
	buf := w.readPage(id, "freelist")
	if buf == nil {
		return
	}
	if flags := ne.Uint16(buf[8:]); flags != freelistPageFlag {
		w.failf("freelist: page %d is not a freelist page (flags %#x)", id, flags)
		return
	}
	n, at := uint64(ne.Uint16(buf[10:])), uint64(pageHeaderSize)
	if n == 0xFFFF { // more ids than a uint16 counts: the count comes first
		n, at = ne.Uint64(buf[pageHeaderSize:]), pageHeaderSize+8
	}
	if n > (uint64(len(buf))-at)/8 {
		w.failf("freelist: page %d claims %d free pages, more than it can hold", id, n)
		return
	}
	hwm := w.l.meta.hwm
	for i := range n {
		p := ne.Uint64(buf[at+8*i:])
		switch {
		case p < 2 || p >= hwm:
			w.failf("freelist: free page %d is outside the file's pages 2..%d", p, hwm-1)
			return
		case w.used.has(p):
			w.failf("freelist: page %d is free and used", p)
			return
		}
		w.free.set(p)
	}
}

// walk reads the B+trees from the root bucket's page, level by level.
func (w *walker) walk(root uint64) {
	w.queue = append(w.queue, treePage{id: root})
	for len(w.queue) > 0 && len(w.faults) < maxCheckErrors {
		if w.maxPages > 0 && w.l.pages >= w.maxPages {
			return
		}
		p := w.queue[0]
		w.queue = w.queue[1:]
		what := "root bucket"
		if p.bucket != "" {
			what = fmt.Sprintf("bucket %q", p.bucket)
		}
		buf := w.readPage(p.id, what)
		if buf == nil {
			continue
		}
		w.node(buf, p, what)
	}
	w.l.complete = len(w.faults) == 0
}

// node checks one branch or leaf page (id 0: an inline bucket's page,
// inside its parent's value) and queues what it points at.
func (w *walker) node(buf []byte, p treePage, what string) {
	id, bucket := p.id, p.bucket
	flags, count := ne.Uint16(buf[8:]), int(ne.Uint16(buf[10:]))
	switch {
	case flags != branchPageFlag && flags != leafPageFlag:
		w.failf("%s: page %d is neither a branch nor a leaf page (flags %#x)", what, id, flags)
		return
	case flags == branchPageFlag && (count == 0 || id == 0):
		w.failf("%s: page %d is a branch page with %d elements", what, id, count)
		return
	case pageHeaderSize+count*elementSize > len(buf):
		w.failf("%s: page %d claims %d elements, more than it can hold", what, id, count)
		return
	}
	var prev []byte
	for i := range count {
		at := pageHeaderSize + i*elementSize
		e := buf[at : at+elementSize]
		var key, val []byte
		var eflags uint32
		var ok bool
		if flags == branchPageFlag {
			key, ok = span(buf, at, ne.Uint32(e[0:]), ne.Uint32(e[4:]), 0)
		} else {
			eflags = ne.Uint32(e[0:])
			key, ok = span(buf, at, ne.Uint32(e[4:]), ne.Uint32(e[8:]), ne.Uint32(e[12:]))
			if ok {
				val = buf[at+int(ne.Uint32(e[4:]))+len(key):][:ne.Uint32(e[12:])]
			}
		}
		if !ok {
			w.failf("%s: page %d: element %d lies outside the page", what, id, i)
			return
		}
		if i > 0 && bytes.Compare(prev, key) >= 0 {
			w.failf("%s: page %d: keys out of order at element %d", what, id, i)
			return
		}
		if p.lo != nil && bytes.Compare(key, p.lo) < 0 || p.hi != nil && bytes.Compare(key, p.hi) >= 0 {
			w.failf("%s: page %d: element %d lies outside the key range its parent gives the page", what, id, i)
			return
		}
		prev = key
		if flags == branchPageFlag {
			// The child's bounds: this key, and the next one (or the
			// page's own upper bound after the last).
			hi := p.hi
			if i+1 < count {
				n := pageHeaderSize + (i+1)*elementSize
				next, ok := span(buf, n, ne.Uint32(buf[n:]), ne.Uint32(buf[n+4:]), 0)
				if !ok {
					w.failf("%s: page %d: element %d lies outside the page", what, id, i+1)
					return
				}
				hi = bytes.Clone(next)
			}
			w.queue = append(w.queue, treePage{id: ne.Uint64(e[8:]), bucket: bucket, lo: bytes.Clone(key), hi: hi})
			continue
		}
		switch {
		case eflags&^bucketLeafFlag != 0:
			w.failf("%s: page %d: element %d has unknown flags %#x", what, id, i, eflags)
			return
		case eflags == 0 && bucket == "" && id != 0:
			w.failf("root bucket: page %d: key %q is not a bucket", id, key)
			return
		case eflags == 0:
			continue
		case len(val) < inBucketSize:
			w.failf("%s: page %d: bucket %q has a header of %d bytes", what, id, key, len(val))
			return
		}
		name := string(key)
		if bucket != "" {
			name = bucket + "/" + name
		} else {
			w.l.buckets = append(w.l.buckets, name)
		}
		if root := ne.Uint64(val); root != 0 {
			w.queue = append(w.queue, treePage{id: root, bucket: name})
			continue
		}
		inline := val[inBucketSize:]
		if len(inline) < pageHeaderSize {
			w.failf("bucket %q: inline page of %d bytes", name, len(inline))
			return
		}
		if flags := ne.Uint16(inline[8:]); flags != leafPageFlag {
			w.failf("bucket %q: inline page is not a leaf page (flags %#x)", name, flags)
			return
		}
		w.node(inline, treePage{bucket: name}, fmt.Sprintf("bucket %q", name))
	}
}

// span returns the key at pos from the element at offset at (bbolt counts
// pos from the element), checking that the key and the value after it
// (vsize bytes) lie inside buf.
func span(buf []byte, at int, pos, ksize, vsize uint32) ([]byte, bool) {
	start := uint64(at) + uint64(pos)
	end := start + uint64(ksize) + uint64(vsize)
	if end > uint64(len(buf)) {
		return nil, false
	}
	return buf[start : start+uint64(ksize)], true
}

// bitset is a set of page ids below a bound.
type bitset []uint64

func newBitset(n uint64) bitset { return make(bitset, (n+63)/64) }
func (b bitset) set(i uint64)   { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i uint64) bool {
	return i/64 < uint64(len(b)) && b[i/64]&(1<<(i%64)) != 0
}
